// A leveled, structured logger with the output etcd's zap logger produces.
//
//   etcd::log::LoggerOptions options;
//   options.level = etcd::log::ParseLevel(flag_log_level).value();
//   std::unique_ptr<etcd::log::Logger> logger =
//       etcd::log::Logger::Open(options, {"stderr"}).value();
//   logger->Info("ready to serve client requests",
//                {{"address", "127.0.0.1:2379"}, {"count", 3}});
//   // {"level":"info","ts":"2026-11-23T19:00:00.123Z","caller":"embed/serve.cc:88",
//   //  "msg":"ready to serve client requests","address":"127.0.0.1:2379","count":3}
//
//   etcd::log::Warn("slow fdatasync", {{"took", took}});  // the default logger
//
// Each entry becomes one line, built in a local buffer and handed to every
// sink in one call; sinks lock per line, so concurrent entries never
// interleave. Entries below the logger's level cost one atomic load: the
// fields are only views (see field.h) and are not encoded. Panic-level
// entries abort the process after they are written, fatal ones exit it with
// status 1, whatever the level.
//
// Logger is thread-safe. The default logger (JSON, info, stderr) can be
// replaced at any time; a replaced logger stays alive until exit, since
// other threads may still be using it.

#ifndef ETCD_PKG_LOG_LOG_H_
#define ETCD_PKG_LOG_LOG_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "pkg/log/field.h"
#include "pkg/log/level.h"
#include "pkg/log/sink.h"

namespace etcd::log {

// Where a logging call is in the source; the default argument of the
// logging functions captures the caller's file and line.
class SourceLocation {
 public:
  static constexpr SourceLocation Current(const char* file = __builtin_FILE(),
                                          int line = __builtin_LINE()) {
    return SourceLocation(file, line);
  }
  constexpr SourceLocation(const char* file, int line) : file_(file), line_(line) {}

  constexpr const char* file() const { return file_; }
  constexpr int line() const { return line_; }

 private:
  const char* file_;
  int line_;
};

enum class Encoding {
  kJson,     // etcd's default.
  kConsole,  // "ts\tlevel\tcaller\tmsg\t{fields}".
};

// "json" or "console" (zap's encoder names).
absl::StatusOr<Encoding> ParseEncoding(absl::string_view name);

struct LoggerOptions {
  // Entries below this level are dropped; changeable later with SetLevel.
  Level level = Level::kInfo;
  Encoding encoding = Encoding::kJson;
  // Adds the "caller" field (zap's short form, "dir/file.cc:line").
  bool add_caller = true;
  // The zone timestamps are written in.
  absl::TimeZone time_zone = absl::LocalTimeZone();
  // The time of each entry; absl::Now() when empty. Tests inject a fixed one.
  std::function<absl::Time()> clock;
};

class Logger {
 public:
  // Writes to every sink of `sinks` (none: everything is dropped).
  Logger(LoggerOptions options, std::vector<std::shared_ptr<Sink>> sinks);

  // Writes to etcd --log-outputs values (see OpenOutputs in sink.h).
  static absl::StatusOr<std::unique_ptr<Logger>> Open(LoggerOptions options,
                                                      absl::Span<const std::string> outputs);

  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void Debug(absl::string_view message, Fields fields = {},
             SourceLocation caller = SourceLocation::Current()) {
    Log(Level::kDebug, message, fields, caller);
  }
  void Info(absl::string_view message, Fields fields = {},
            SourceLocation caller = SourceLocation::Current()) {
    Log(Level::kInfo, message, fields, caller);
  }
  void Warn(absl::string_view message, Fields fields = {},
            SourceLocation caller = SourceLocation::Current()) {
    Log(Level::kWarn, message, fields, caller);
  }
  void Error(absl::string_view message, Fields fields = {},
             SourceLocation caller = SourceLocation::Current()) {
    Log(Level::kError, message, fields, caller);
  }
  void DPanic(absl::string_view message, Fields fields = {},
              SourceLocation caller = SourceLocation::Current()) {
    Log(Level::kDPanic, message, fields, caller);
  }
  [[noreturn]] void Panic(absl::string_view message, Fields fields = {},
                          SourceLocation caller = SourceLocation::Current());
  [[noreturn]] void Fatal(absl::string_view message, Fields fields = {},
                          SourceLocation caller = SourceLocation::Current());

  // Writes the entry if `level` is enabled; for kPanic and kFatal, then
  // terminates the process.
  void Log(Level level, absl::string_view message, Fields fields = {},
           SourceLocation caller = SourceLocation::Current());

  bool Enabled(Level level) const { return level >= this->level(); }
  Level level() const { return level_->load(std::memory_order_relaxed); }
  // Also changes the level of loggers made by With() from this one, and of
  // the one this was made from.
  void SetLevel(Level level) { level_->store(level, std::memory_order_relaxed); }

  // A logger that writes `fields` (encoded now) before each entry's own
  // fields, to the same sinks, with the same options and the same level.
  std::unique_ptr<Logger> With(Fields fields) const;

  // Syncs every sink; returns the first error.
  absl::Status Sync();

 private:
  Logger(const Logger& parent, std::string context);

  void Write(Level level, absl::string_view message, Fields fields, SourceLocation caller);

  const LoggerOptions options_;
  const std::vector<std::shared_ptr<Sink>> sinks_;
  // Shared with loggers made by With().
  const std::shared_ptr<std::atomic<Level>> level_;
  // Encoded `"key":value` pairs from With(); empty for none.
  const std::string context_;
};

// The process-wide logger: JSON at info level to stderr until replaced.
Logger& Default();
// Makes `logger` the default; the previous one is kept alive until exit.
void SetDefault(std::unique_ptr<Logger> logger);

// Logging through Default().
inline void Debug(absl::string_view message, Fields fields = {},
                  SourceLocation caller = SourceLocation::Current()) {
  Default().Log(Level::kDebug, message, fields, caller);
}
inline void Info(absl::string_view message, Fields fields = {},
                 SourceLocation caller = SourceLocation::Current()) {
  Default().Log(Level::kInfo, message, fields, caller);
}
inline void Warn(absl::string_view message, Fields fields = {},
                 SourceLocation caller = SourceLocation::Current()) {
  Default().Log(Level::kWarn, message, fields, caller);
}
inline void Error(absl::string_view message, Fields fields = {},
                  SourceLocation caller = SourceLocation::Current()) {
  Default().Log(Level::kError, message, fields, caller);
}
[[noreturn]] inline void Panic(absl::string_view message, Fields fields = {},
                               SourceLocation caller = SourceLocation::Current()) {
  Default().Panic(message, fields, caller);
}
[[noreturn]] inline void Fatal(absl::string_view message, Fields fields = {},
                               SourceLocation caller = SourceLocation::Current()) {
  Default().Fatal(message, fields, caller);
}

}  // namespace etcd::log

#endif  // ETCD_PKG_LOG_LOG_H_
