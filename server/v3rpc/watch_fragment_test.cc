#include "server/v3rpc/watch_fragment.h"

#include <gtest/gtest.h>

#include <string>

namespace etcd::v3rpc {
namespace {

etcdserverpb::WatchResponse WithEvents(int n, size_t value_size) {
  etcdserverpb::WatchResponse response;
  response.set_watch_id(7);
  response.mutable_header()->set_revision(99);
  for (int i = 0; i < n; ++i) {
    auto* event = response.add_events();
    event->mutable_kv()->set_key("k" + std::to_string(i));
    event->mutable_kv()->set_value(std::string(value_size, 'v'));
  }
  return response;
}

TEST(WatchFragmentTest, SmallOrSingleEventResponsesAreNotSplit) {
  EXPECT_EQ(FragmentWatchResponse(WithEvents(3, 10), 1024).size(), 1u);
  auto single = FragmentWatchResponse(WithEvents(1, 5000), 1024);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_FALSE(single[0].fragment());
}

TEST(WatchFragmentTest, SplitsKeepingOrderAndMarksAllButLast) {
  auto parts = FragmentWatchResponse(WithEvents(10, 400), 1024);
  ASSERT_GT(parts.size(), 1u);
  int next = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].fragment(), i + 1 < parts.size());
    EXPECT_EQ(parts[i].watch_id(), 7);
    EXPECT_EQ(parts[i].header().revision(), 99);
    EXPECT_GE(parts[i].events_size(), 1);
    if (parts[i].events_size() > 1) {
      EXPECT_LT(parts[i].ByteSizeLong(), 1024u);
    }
    for (const auto& event : parts[i].events()) {
      EXPECT_EQ(event.kv().key(), "k" + std::to_string(next++));
    }
  }
  EXPECT_EQ(next, 10);
}

}  // namespace
}  // namespace etcd::v3rpc
