#include "pkg/log/level.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace etcd::log {
namespace {

constexpr Level kLevels[] = {Level::kDebug,  Level::kInfo,  Level::kWarn, Level::kError,
                             Level::kDPanic, Level::kPanic, Level::kFatal};

}  // namespace

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kDPanic:
      return "dpanic";
    case Level::kPanic:
      return "panic";
    case Level::kFatal:
      return "fatal";
  }
  return "unknown";
}

absl::StatusOr<Level> ParseLevel(absl::string_view name) {
  for (Level level : kLevels) {
    if (LevelName(level) == name) return level;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown level \"", name, "\""));
}

}  // namespace etcd::log
