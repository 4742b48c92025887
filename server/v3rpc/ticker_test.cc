#include "server/v3rpc/ticker.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/time/clock.h"

namespace etcd::v3rpc {
namespace {

TEST(TickerTest, CallsUntilCallbackDeclines) {
  Ticker ticker(absl::Milliseconds(5));
  std::atomic<int> kept{0}, dropped{0};
  ticker.Add([&] {
    kept.fetch_add(1);
    return true;
  });
  ticker.Add([&] {
    dropped.fetch_add(1);
    return false;
  });
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (kept.load() < 5 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  ticker.Stop();
  EXPECT_GE(kept.load(), 5);
  EXPECT_EQ(dropped.load(), 1);
  int after = kept.load();
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(kept.load(), after);  // nothing runs after Stop
}

}  // namespace
}  // namespace etcd::v3rpc
