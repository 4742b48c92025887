#include "pkg/wait/future.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace etcd::wait {
namespace {

TEST(FutureTest, NotReadyUntilSet) {
  Promise<std::string> promise;
  Future<std::string> future = promise.future();
  EXPECT_FALSE(future.Ready());
  EXPECT_EQ(future.TryGet(), nullptr);

  const absl::Time start = absl::Now();
  EXPECT_EQ(future.WaitFor(absl::Milliseconds(50)), nullptr);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));

  EXPECT_TRUE(promise.Set("done"));
  ASSERT_TRUE(future.Ready());
  EXPECT_EQ(future.Wait(), "done");
  ASSERT_NE(future.WaitFor(absl::ZeroDuration()), nullptr);
  EXPECT_EQ(*future.WaitFor(absl::ZeroDuration()), "done");
}

TEST(FutureTest, OnlyTheFirstSetCounts) {
  Promise<int> promise;
  EXPECT_TRUE(promise.Set(1));
  EXPECT_FALSE(promise.Set(2));
  const Future<int> future = promise.future();
  EXPECT_EQ(future.Wait(), 1);
}

TEST(FutureTest, WakesEveryWaiterOnOtherThreads) {
  Promise<int> promise;
  std::vector<std::thread> waiters;
  std::vector<int> got(4, 0);
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([future = promise.future(), &out = got[i]] {
      const int* v = future.WaitFor(absl::Seconds(30));
      out = v != nullptr ? *v : -1;
    });
  }
  std::thread setter([promise] { promise.Set(7); });
  setter.join();
  for (std::thread& t : waiters) t.join();
  EXPECT_EQ(got, (std::vector<int>{7, 7, 7, 7}));
}

TEST(FutureTest, MoveOnlyValues) {
  Promise<std::unique_ptr<int>> promise;
  Future<std::unique_ptr<int>> future = promise.future();
  promise.Set(std::make_unique<int>(5));
  ASSERT_NE(future.Wait(), nullptr);
  EXPECT_EQ(*future.Wait(), 5);
}

}  // namespace
}  // namespace etcd::wait
