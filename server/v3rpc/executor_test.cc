#include "server/v3rpc/executor.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/synchronization/notification.h"

namespace etcd::v3rpc {
namespace {

TEST(ExecutorTest, RunsEveryTaskBeforeShutdownReturns) {
  std::atomic<int> ran{0};
  Executor executor(4);
  for (int i = 0; i < 1000; ++i) executor.Schedule([&] { ran.fetch_add(1); });
  executor.Shutdown();
  EXPECT_EQ(ran.load(), 1000);
  executor.Schedule([&] { ran.fetch_add(1); });  // inline after shutdown
  EXPECT_EQ(ran.load(), 1001);
}

TEST(ExecutorTest, BlockedTasksDoNotStopOthers) {
  Executor executor(2);
  absl::Notification release, second_ran;
  executor.Schedule([&] { release.WaitForNotification(); });
  executor.Schedule([&] { second_ran.Notify(); });
  EXPECT_TRUE(second_ran.WaitForNotificationWithTimeout(absl::Seconds(30)));
  release.Notify();
}

}  // namespace
}  // namespace etcd::v3rpc
