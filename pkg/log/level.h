// Log levels with the names of etcd's --log-level flag.
//
//   absl::StatusOr<etcd::log::Level> level = etcd::log::ParseLevel("warn");
//   etcd::log::LevelName(etcd::log::Level::kWarn);  // "warn"
//
// Constants and pure functions; thread-safe.

#ifndef ETCD_PKG_LOG_LEVEL_H_
#define ETCD_PKG_LOG_LEVEL_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::log {

// Ordered by severity, as zap orders them.
enum class Level : int8_t {
  kDebug = -1,
  kInfo = 0,
  kWarn = 1,
  kError = 2,
  // Logged like kError; zap panics here only in development mode, which etcd
  // does not use, and neither does this logger.
  kDPanic = 3,
  // Logged, then the process aborts.
  kPanic = 4,
  // Logged, then the process exits with status 1.
  kFatal = 5,
};

// "debug", "info", "warn", "error", "dpanic", "panic", "fatal".
absl::string_view LevelName(Level level);

// The inverse of LevelName (exact, lowercase). Anything else is
// InvalidArgument `unknown level "<name>"`.
absl::StatusOr<Level> ParseLevel(absl::string_view name);

}  // namespace etcd::log

#endif  // ETCD_PKG_LOG_LEVEL_H_
