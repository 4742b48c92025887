#include "lease/lease_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

namespace etcd::lease::internal {
namespace {

struct Item : QueueNode {
  int id = 0;
  absl::Time time;
};

absl::Time T(int64_t s) { return absl::FromUnixSeconds(s); }

TEST(ExpiryQueueTest, OrdersByTimeAndMovesEntries) {
  ExpiryQueue queue;
  Item a, b, c;
  queue.Upsert(&a, T(30));
  queue.Upsert(&b, T(10));
  queue.Upsert(&c, T(20));
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.Top(), &b);
  EXPECT_EQ(queue.TopTime(), T(10));

  queue.Upsert(&b, T(40));  // moved, not duplicated
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.Top(), &c);
  queue.Upsert(&a, T(5));
  EXPECT_EQ(queue.Top(), &a);
  EXPECT_EQ(queue.TimeOf(&b), T(40));

  queue.Remove(&a);
  EXPECT_FALSE(a.queued());
  queue.Remove(&a);  // no-op
  EXPECT_EQ(queue.Top(), &c);
  queue.Clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.Top(), nullptr);
  EXPECT_FALSE(b.queued());
  EXPECT_FALSE(c.queued());
}

// Random upserts and removals against a sorted reference.
TEST(ExpiryQueueTest, MatchesAReference) {
  std::mt19937_64 rng(42);
  constexpr int kItems = 200;
  std::vector<std::unique_ptr<Item>> items;
  for (int i = 0; i < kItems; ++i) {
    items.push_back(std::make_unique<Item>());
    items.back()->id = i;
  }
  ExpiryQueue queue;
  for (int step = 0; step < 20000; ++step) {
    Item* item = items[rng() % kItems].get();
    switch (rng() % 4) {
      case 0:
      case 1:
        item->time = T(static_cast<int64_t>(rng() % 1000));
        queue.Upsert(item, item->time);
        break;
      case 2:
        queue.Remove(item);
        break;
      case 3:
        if (!queue.empty()) {
          Item* top = static_cast<Item*>(queue.Top());
          queue.Remove(top);
        }
        break;
    }
    size_t queued = 0;
    absl::Time min = absl::InfiniteFuture();
    for (const auto& it : items) {
      if (!it->queued()) continue;
      ++queued;
      ASSERT_EQ(queue.TimeOf(it.get()), it->time);
      min = std::min(min, it->time);
    }
    ASSERT_EQ(queue.size(), queued);
    if (queued > 0) {
      ASSERT_EQ(queue.TopTime(), min);
      ASSERT_EQ(static_cast<Item*>(queue.Top())->time, min);
    }
  }
}

}  // namespace
}  // namespace etcd::lease::internal
