#include "raft/logger.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace etcd::raft {

absl::string_view LevelName(Logger::Level level) {
  switch (level) {
    case Logger::Level::kDebug:
      return "DEBUG";
    case Logger::Level::kInfo:
      return "INFO";
    case Logger::Level::kWarning:
      return "WARN";
    case Logger::Level::kError:
      return "ERROR";
    case Logger::Level::kFatal:
      return "FATAL";
    case Logger::Level::kPanic:
      return "PANIC";
  }
  return "UNKNOWN";
}

void Logger::Die(Level level, const std::string& message) {
  Log(level, message);
  std::string line = absl::StrCat(LevelName(level), ": ", message, "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  std::abort();
}

void StderrLogger::Log(Level level, absl::string_view message) {
  if (!Enabled(level)) return;
  std::string line = absl::StrCat(
      "raft", absl::FormatTime("%Y/%m/%d %H:%M:%S ", absl::Now(), absl::LocalTimeZone()),
      LevelName(level), ": ", message, "\n");
  absl::MutexLock lock(&mu_);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

bool StderrLogger::Enabled(Level level) const {
  return level != Level::kDebug || debug_enabled_.load(std::memory_order_relaxed);
}

namespace {

absl::Mutex default_logger_mu(absl::kConstInit);
Logger* default_logger ABSL_GUARDED_BY(default_logger_mu) = nullptr;

Logger* StderrLoggerInstance() {
  static StderrLogger* const logger = new StderrLogger();
  return logger;
}

}  // namespace

Logger* DefaultLogger() {
  absl::MutexLock lock(&default_logger_mu);
  return default_logger != nullptr ? default_logger : StderrLoggerInstance();
}

void SetDefaultLogger(Logger* logger) {
  absl::MutexLock lock(&default_logger_mu);
  default_logger = logger;
}

Logger* DiscardLoggerInstance() {
  static DiscardLogger* const logger = new DiscardLogger();
  return logger;
}

}  // namespace etcd::raft
