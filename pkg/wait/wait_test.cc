#include "pkg/wait/wait.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace etcd::wait {
namespace {

TEST(WaitTest, TriggerDeliversToFutureOnce) {
  Wait<std::string> w;
  absl::StatusOr<Future<std::string>> f = w.Register(1);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(w.IsRegistered(1));
  EXPECT_FALSE(f->Ready());

  EXPECT_TRUE(w.Trigger(1, "applied"));
  EXPECT_FALSE(w.IsRegistered(1));
  ASSERT_TRUE(f->Ready());
  EXPECT_EQ(f->Wait(), "applied");

  // The registration is gone: a second trigger changes nothing.
  EXPECT_FALSE(w.Trigger(1, "again"));
  EXPECT_EQ(f->Wait(), "applied");
  EXPECT_EQ(w.PendingCount(), 0u);
}

TEST(WaitTest, DuplicateRegistrationIsAnErrorAndKeepsTheFirst) {
  Wait<int> w;
  absl::StatusOr<Future<int>> first = w.Register(0xabc);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<Future<int>> second = w.Register(0xabc);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(second.status().message(), "wait: duplicate id abc");

  bool called = false;
  absl::Status s = w.Register(0xabc, [&called](int) { called = true; });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);

  EXPECT_TRUE(w.Trigger(0xabc, 9));
  EXPECT_EQ(first->Wait(), 9);
  EXPECT_FALSE(called);
}

TEST(WaitTest, TriggerOfUnknownIdIsANoOp) {
  Wait<int> w;
  ASSERT_TRUE(w.Register(1).ok());
  EXPECT_FALSE(w.Trigger(2, 5));
  EXPECT_TRUE(w.IsRegistered(1));
  EXPECT_FALSE(w.IsRegistered(2));
  EXPECT_EQ(w.PendingCount(), 1u);
}

TEST(WaitTest, WaitWithTimeoutThenCancel) {
  Wait<int> w;
  absl::StatusOr<Future<int>> f = w.Register(3);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->WaitFor(absl::Milliseconds(20)), nullptr);
  EXPECT_TRUE(w.Cancel(3));
  EXPECT_FALSE(w.Cancel(3));
  EXPECT_FALSE(w.IsRegistered(3));
  EXPECT_FALSE(w.Trigger(3, 1));
  EXPECT_FALSE(f->Ready());
  // The ID can be registered again.
  EXPECT_TRUE(w.Register(3).ok());
}

TEST(WaitTest, CallbackRunsOnTriggeringThreadAndMayReenter) {
  Wait<std::unique_ptr<int>> w;
  std::thread::id ran_on;
  int got = 0;
  ASSERT_TRUE(w.Register(10, [&](std::unique_ptr<int> v) {
                 ran_on = std::this_thread::get_id();
                 got = *v;
                 // No lock is held: registering and triggering from here works.
                 ASSERT_TRUE(w.Register(10, [&got](std::unique_ptr<int> v2) { got += *v2; }).ok());
                 w.Trigger(10, std::make_unique<int>(100));
               }).ok());
  std::thread trigger([&w] { EXPECT_TRUE(w.Trigger(10, std::make_unique<int>(1))); });
  const std::thread::id trigger_id = trigger.get_id();
  trigger.join();
  EXPECT_EQ(ran_on, trigger_id);
  EXPECT_EQ(got, 101);
  EXPECT_EQ(w.PendingCount(), 0u);
}

TEST(WaitTest, PendingCallbacksAreDroppedWithTheWait) {
  auto token = std::make_shared<int>(0);
  {
    Wait<int> w;
    ASSERT_TRUE(w.Register(1, [token](int) { *token = 1; }).ok());
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1);
  EXPECT_EQ(*token, 0);
}

TEST(WaitTest, ManyThreadsRegisterAndTrigger) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  Wait<uint64_t> w;
  std::vector<std::vector<Future<uint64_t>>> futures(kThreads);
  std::atomic<int> callbacks{0};

  // Half the registrations are futures, half callbacks; every thread
  // registers its own IDs, then triggers another thread's.
  std::vector<std::thread> registrars;
  for (int t = 0; t < kThreads; ++t) {
    registrars.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const uint64_t id = uint64_t(t) * kPerThread + i;
        if (i % 2 == 0) {
          absl::StatusOr<Future<uint64_t>> f = w.Register(id);
          ASSERT_TRUE(f.ok());
          futures[t].push_back(*std::move(f));
        } else {
          ASSERT_TRUE(w.Register(id, [&callbacks, id](uint64_t v) {
                         EXPECT_EQ(v, id * 3);
                         callbacks.fetch_add(1);
                       }).ok());
        }
      }
    });
  }
  for (std::thread& t : registrars) t.join();
  EXPECT_EQ(w.PendingCount(), size_t{kThreads * kPerThread});

  std::vector<std::thread> triggers;
  for (int t = 0; t < kThreads; ++t) {
    triggers.emplace_back([&, t] {
      const int owner = (t + 1) % kThreads;
      for (int i = kPerThread - 1; i >= 0; --i) {
        const uint64_t id = uint64_t(owner) * kPerThread + i;
        EXPECT_TRUE(w.Trigger(id, id * 3));
      }
    });
  }
  for (std::thread& t : triggers) t.join();

  EXPECT_EQ(w.PendingCount(), 0u);
  EXPECT_EQ(callbacks.load(), kThreads * kPerThread / 2);
  for (int t = 0; t < kThreads; ++t) {
    for (int j = 0; j < static_cast<int>(futures[t].size()); ++j) {
      const uint64_t id = uint64_t(t) * kPerThread + 2 * j;
      const uint64_t* v = futures[t][j].WaitFor(absl::Seconds(10));
      ASSERT_NE(v, nullptr);
      EXPECT_EQ(*v, id * 3);
    }
  }
}

TEST(WaitTest, BlockedWaitersAreWokenByTriggers) {
  Wait<int> w;
  constexpr int kWaiters = 16;
  std::vector<Future<int>> futures;
  for (int i = 0; i < kWaiters; ++i) futures.push_back(w.Register(i).value());
  std::vector<int> got(kWaiters, -1);
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&, i] {
      const int* v = futures[i].WaitFor(absl::Seconds(30));
      got[i] = v != nullptr ? *v : -2;
    });
  }
  for (int i = kWaiters - 1; i >= 0; --i) w.Trigger(i, i * i);
  for (std::thread& t : waiters) t.join();
  for (int i = 0; i < kWaiters; ++i) EXPECT_EQ(got[i], i * i);
}

}  // namespace
}  // namespace etcd::wait
