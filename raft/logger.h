// Logging for the raft library.
//
// Raft reports what it does through a `Logger` (one per raft instance, set in
// `Config::logger`). The messages use etcd's wording, so transcripts of this
// library and of etcd's Go raft can be compared line by line.
//
//   class MyLogger : public etcd::raft::Logger {
//    public:
//     void Log(Level level, absl::string_view message) override {
//       std::cerr << LevelName(level) << " " << message << "\n";
//     }
//   };
//
// Implementations only provide `Log`; the printf-style helpers (`Infof`, ...)
// format with absl::StrFormat and skip the formatting when `Enabled` says the
// level is off. `Panicf` and `Fatalf` log, repeat the message on stderr and
// abort the process: raft calls them only when one of its invariants is
// broken (where etcd panics).
//
// Thread-safety: the loggers defined here are thread-safe. A raft instance
// calls its logger from the thread that drives it.

#ifndef ETCD_RAFT_LOGGER_H_
#define ETCD_RAFT_LOGGER_H_

#include <atomic>
#include <cstdlib>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace etcd::raft {

class Logger {
 public:
  // Severity of a message, lowest first.
  enum class Level { kDebug, kInfo, kWarning, kError, kFatal, kPanic };

  virtual ~Logger() = default;

  // Writes one message (no trailing newline) at `level`.
  virtual void Log(Level level, absl::string_view message) = 0;

  // Whether messages at `level` are written at all; lets callers skip
  // formatting. The default enables every level.
  virtual bool Enabled(Level level) const { return true; }

  template <typename... Args>
  void Debugf(const absl::FormatSpec<Args...>& format, const Args&... args) {
    Logf(Level::kDebug, format, args...);
  }
  template <typename... Args>
  void Infof(const absl::FormatSpec<Args...>& format, const Args&... args) {
    Logf(Level::kInfo, format, args...);
  }
  template <typename... Args>
  void Warningf(const absl::FormatSpec<Args...>& format, const Args&... args) {
    Logf(Level::kWarning, format, args...);
  }
  template <typename... Args>
  void Errorf(const absl::FormatSpec<Args...>& format, const Args&... args) {
    Logf(Level::kError, format, args...);
  }
  // Logs at kFatal and aborts.
  template <typename... Args>
  [[noreturn]] void Fatalf(const absl::FormatSpec<Args...>& format, const Args&... args) {
    Die(Level::kFatal, absl::StrFormat(format, args...));
  }
  // Logs at kPanic and aborts: an invariant of the library does not hold.
  template <typename... Args>
  [[noreturn]] void Panicf(const absl::FormatSpec<Args...>& format, const Args&... args) {
    Die(Level::kPanic, absl::StrFormat(format, args...));
  }

 private:
  // Logs `message`, also writes it to stderr (so that the reason for the
  // abort is visible whatever the logger does), and aborts.
  [[noreturn]] void Die(Level level, const std::string& message);

  template <typename... Args>
  void Logf(Level level, const absl::FormatSpec<Args...>& format, const Args&... args) {
    if (Enabled(level)) Log(level, absl::StrFormat(format, args...));
  }
};

// "DEBUG", "INFO", "WARN", "ERROR", "FATAL" or "PANIC" (etcd's level names).
absl::string_view LevelName(Logger::Level level);

// Writes "raft<date> <time> <LEVEL>: <message>" lines to stderr, like etcd's
// default raft logger. Debug messages are off unless EnableDebug is called.
class StderrLogger : public Logger {
 public:
  void Log(Level level, absl::string_view message) override;
  bool Enabled(Level level) const override;
  void EnableDebug() { debug_enabled_.store(true, std::memory_order_relaxed); }

 private:
  absl::Mutex mu_;  // serializes whole lines
  std::atomic<bool> debug_enabled_{false};
};

// Drops every message (fatal and panic messages still abort).
class DiscardLogger : public Logger {
 public:
  void Log(Level level, absl::string_view message) override {}
  bool Enabled(Level level) const override { return false; }
};

// The logger used when Config::logger is null: a process-wide StderrLogger
// unless SetDefaultLogger replaced it.
Logger* DefaultLogger();

// Replaces the process-wide default logger; `logger` is borrowed and must
// outlive every raft instance created afterwards with no logger of its own.
// Passing null restores the StderrLogger.
void SetDefaultLogger(Logger* logger);

// A process-wide DiscardLogger, handy for tests and benchmarks.
Logger* DiscardLoggerInstance();

}  // namespace etcd::raft

#endif  // ETCD_RAFT_LOGGER_H_
