#include "pkg/wait/wait_time.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace etcd::wait {
namespace {

TEST(WaitTimeTest, ReleasedWhenDeadlineReached) {
  WaitTime wt;
  Future<uint64_t> f = wt.Wait(5);
  EXPECT_FALSE(f.Ready());
  EXPECT_EQ(wt.PendingCount(), 1u);

  wt.Trigger(4);
  EXPECT_FALSE(f.Ready());
  EXPECT_EQ(f.WaitFor(absl::Milliseconds(10)), nullptr);

  wt.Trigger(5);
  ASSERT_TRUE(f.Ready());
  EXPECT_EQ(f.Wait(), 5u);
  EXPECT_EQ(wt.PendingCount(), 0u);
}

TEST(WaitTimeTest, LaterTriggerReleasesEveryEarlierDeadline) {
  WaitTime wt;
  Future<uint64_t> f3 = wt.Wait(3);
  Future<uint64_t> f7 = wt.Wait(7);
  Future<uint64_t> f7b = wt.Wait(7);
  Future<uint64_t> f9 = wt.Wait(9);
  wt.Trigger(8);
  EXPECT_EQ(f3.Wait(), 8u);  // The value is the deadline reached.
  EXPECT_EQ(f7.Wait(), 8u);
  EXPECT_EQ(f7b.Wait(), 8u);
  EXPECT_FALSE(f9.Ready());
  EXPECT_EQ(wt.PendingCount(), 1u);
}

TEST(WaitTimeTest, AlreadyReachedIsImmediate) {
  WaitTime wt;
  EXPECT_EQ(wt.LastTriggered(), 0u);
  EXPECT_TRUE(wt.Wait(0).Ready());  // 0 is reached from the start.
  wt.Trigger(10);
  Future<uint64_t> f = wt.Wait(10);
  ASSERT_TRUE(f.Ready());
  EXPECT_EQ(f.Wait(), 10u);
  EXPECT_TRUE(wt.Wait(2).Ready());
  EXPECT_FALSE(wt.Wait(11).Ready());
}

TEST(WaitTimeTest, LowerTriggerDoesNotMoveTheMarkBack) {
  WaitTime wt;
  wt.Trigger(10);
  wt.Trigger(3);
  EXPECT_EQ(wt.LastTriggered(), 10u);
  EXPECT_TRUE(wt.Wait(9).Ready());
}

TEST(WaitTimeTest, CallbacksInDeadlineOrderOnTriggeringThread) {
  WaitTime wt;
  std::vector<uint64_t> order;
  for (uint64_t d : {4, 2, 3, 2}) {
    wt.Wait(d, [&order, d](uint64_t reached) {
      EXPECT_EQ(reached, 6u);
      order.push_back(d);
    });
  }
  wt.Trigger(6);
  EXPECT_EQ(order, (std::vector<uint64_t>{2, 2, 3, 4}));

  // Already reached: runs right away on the caller's thread.
  bool ran = false;
  wt.Wait(1, [&ran](uint64_t reached) { ran = reached == 6; });
  EXPECT_TRUE(ran);
}

TEST(WaitTimeTest, CallbackMayWaitAgain) {
  WaitTime wt;
  uint64_t second = 0;
  wt.Wait(1, [&](uint64_t) { wt.Wait(2, [&second](uint64_t r) { second = r; }); });
  wt.Trigger(1);
  EXPECT_EQ(second, 0u);
  wt.Trigger(2);
  EXPECT_EQ(second, 2u);
}

TEST(WaitTimeTest, ConcurrentWaitersAndAnAdvancingTrigger) {
  constexpr int kWaiters = 8;
  constexpr int kWaitsEach = 500;
  constexpr uint64_t kLast = 2000;
  WaitTime wt;
  std::atomic<int> released{0};
  std::vector<std::thread> waiters;
  for (int t = 0; t < kWaiters; ++t) {
    waiters.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::uniform_int_distribution<uint64_t> pick(1, kLast);
      for (int i = 0; i < kWaitsEach; ++i) {
        const uint64_t deadline = pick(rng);
        if (i % 2 == 0) {
          const Future<uint64_t> reached = wt.Wait(deadline);
          const uint64_t* r = reached.WaitFor(absl::Seconds(30));
          ASSERT_NE(r, nullptr);
          EXPECT_GE(*r, deadline);
          released.fetch_add(1);
        } else {
          wt.Wait(deadline, [&released, deadline](uint64_t r) {
            EXPECT_GE(r, deadline);
            released.fetch_add(1);
          });
        }
      }
    });
  }
  std::thread applier([&] {
    for (uint64_t index = 1; index <= kLast; ++index) wt.Trigger(index);
  });
  applier.join();
  for (std::thread& t : waiters) t.join();
  EXPECT_EQ(released.load(), kWaiters * kWaitsEach);
  EXPECT_EQ(wt.PendingCount(), 0u);
}

}  // namespace
}  // namespace etcd::wait
