#include "pkg/testutil/poll.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace etcd::testutil {
namespace {

TEST(WaitUntilTest, TrueAsSoonAsThePredicateHolds) {
  int calls = 0;
  EXPECT_TRUE(WaitUntil([&] { return ++calls == 3; }, absl::Seconds(30), absl::Milliseconds(1)));
  EXPECT_EQ(calls, 3);
}

TEST(WaitUntilTest, SeesAChangeFromAnotherThread) {
  std::atomic<bool> flag{false};
  std::thread setter([&flag] {
    absl::SleepFor(absl::Milliseconds(20));
    flag = true;
  });
  EXPECT_TRUE(WaitUntil([&flag] { return flag.load(); }, absl::Seconds(30)));
  setter.join();
}

TEST(WaitUntilTest, FalseAfterTheTimeoutHavingCheckedAtTheDeadline) {
  int calls = 0;
  const absl::Time start = absl::Now();
  EXPECT_FALSE(WaitUntil(
      [&] {
        ++calls;
        return false;
      },
      absl::Milliseconds(50), absl::Milliseconds(20)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  // At 0, ~20, ~40 and at the deadline.
  EXPECT_GE(calls, 3);
}

TEST(WaitUntilTest, ZeroTimeoutStillChecksOnce) {
  int calls = 0;
  EXPECT_TRUE(WaitUntil([&] { return ++calls == 1; }, absl::ZeroDuration()));
  EXPECT_FALSE(WaitUntil(
      [&] {
        ++calls;
        return false;
      },
      absl::ZeroDuration()));
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace etcd::testutil
