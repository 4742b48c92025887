#include "pkg/log/level.h"

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace etcd::log {
namespace {

TEST(LevelTest, NamesRoundTrip) {
  for (const char* name : {"debug", "info", "warn", "error", "dpanic", "panic", "fatal"}) {
    absl::StatusOr<Level> level = ParseLevel(name);
    ASSERT_TRUE(level.ok()) << name;
    EXPECT_EQ(LevelName(*level), name);
  }
}

TEST(LevelTest, OrderedBySeverity) {
  EXPECT_LT(ParseLevel("debug").value(), ParseLevel("info").value());
  EXPECT_LT(ParseLevel("info").value(), ParseLevel("warn").value());
  EXPECT_LT(ParseLevel("warn").value(), ParseLevel("error").value());
  EXPECT_LT(ParseLevel("error").value(), ParseLevel("dpanic").value());
  EXPECT_LT(ParseLevel("dpanic").value(), ParseLevel("panic").value());
  EXPECT_LT(ParseLevel("panic").value(), ParseLevel("fatal").value());
}

TEST(LevelTest, UnknownNames) {
  for (const char* name : {"", "INFO", "warning", "trace", " info"}) {
    absl::StatusOr<Level> level = ParseLevel(name);
    ASSERT_FALSE(level.ok()) << name;
    EXPECT_EQ(level.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(level.status().message(), absl::StrCat("unknown level \"", name, "\""));
  }
}

}  // namespace
}  // namespace etcd::log
