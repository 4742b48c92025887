#include "raft/tracker/inflights.h"

#include <gtest/gtest.h>

namespace etcd::raft::tracker {
namespace {

using Buffer = std::vector<uint64_t>;

TEST(InflightsTest, AddWithoutRotation) {
  Inflights in(10);
  for (uint64_t i = 0; i < 5; ++i) in.Add(i);
  EXPECT_EQ(in.start(), 0u);
  EXPECT_EQ(in.Count(), 5u);
  EXPECT_FALSE(in.Full());
  // The buffer grew by doubling: 1, 2, 4, 8.
  EXPECT_EQ(in.buffer(), (Buffer{0, 1, 2, 3, 4, 0, 0, 0}));
  for (uint64_t i = 5; i < 10; ++i) in.Add(i);
  EXPECT_EQ(in.Count(), 10u);
  EXPECT_TRUE(in.Full());
  // Capped at the window size.
  EXPECT_EQ(in.buffer(), (Buffer{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(InflightsTest, AddWithRotation) {
  Inflights in(10);
  for (uint64_t i = 0; i < 10; ++i) in.Add(100 + i);
  in.FreeLE(104);  // start moves to slot 5
  EXPECT_EQ(in.start(), 5u);
  EXPECT_EQ(in.Count(), 5u);
  for (uint64_t i = 0; i < 5; ++i) in.Add(200 + i);  // wraps into slots 0..4
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.buffer(), (Buffer{200, 201, 202, 203, 204, 105, 106, 107, 108, 109}));
}

TEST(InflightsTest, FreeLE) {
  Inflights in(10);
  for (uint64_t i = 0; i < 10; ++i) in.Add(i);

  in.FreeLE(4);
  EXPECT_EQ(in.start(), 5u);
  EXPECT_EQ(in.Count(), 5u);

  in.FreeLE(8);
  EXPECT_EQ(in.start(), 9u);
  EXPECT_EQ(in.Count(), 1u);

  // Rotating: 10..14 go to slots 0..4.
  for (uint64_t i = 10; i < 15; ++i) in.Add(i);
  in.FreeLE(12);
  EXPECT_EQ(in.start(), 3u);
  EXPECT_EQ(in.Count(), 2u);
  EXPECT_EQ(in.buffer(), (Buffer{10, 11, 12, 13, 14, 5, 6, 7, 8, 9}));

  // Emptying the window resets start.
  in.FreeLE(14);
  EXPECT_EQ(in.start(), 0u);
  EXPECT_EQ(in.Count(), 0u);
}

TEST(InflightsTest, FreeLEIgnoresIndexesBelowTheWindow) {
  Inflights in(4);
  in.Add(5);
  in.Add(7);
  in.FreeLE(4);
  EXPECT_EQ(in.Count(), 2u);
  in.FreeLE(6);
  EXPECT_EQ(in.Count(), 1u);
  EXPECT_EQ(in.start(), 1u);
  // Freeing an empty window is a no-op.
  Inflights empty(4);
  empty.FreeLE(100);
  empty.FreeFirstOne();
  EXPECT_EQ(empty.Count(), 0u);
}

TEST(InflightsTest, FreeFirstOne) {
  Inflights in(10);
  for (uint64_t i = 0; i < 10; ++i) in.Add(i);
  in.FreeFirstOne();
  EXPECT_EQ(in.start(), 1u);
  EXPECT_EQ(in.Count(), 9u);
  EXPECT_FALSE(in.Full());
}

TEST(InflightsTest, ResetAndCopy) {
  Inflights in(3);
  in.Add(1);
  in.Add(2);
  in.Add(3);
  Inflights copy = in;
  in.Reset();
  EXPECT_EQ(in.Count(), 0u);
  EXPECT_EQ(in.start(), 0u);
  EXPECT_FALSE(in.Full());
  // The copy shares nothing.
  EXPECT_TRUE(copy.Full());
  EXPECT_NE(in, copy);
}

TEST(InflightsTest, ZeroSizeWindowIsFull) { EXPECT_TRUE(Inflights(0).Full()); }

TEST(InflightsDeathTest, AddToFullWindowAborts) {
  Inflights in(1);
  in.Add(1);
  EXPECT_DEATH(in.Add(2), "full inflights");
}

}  // namespace
}  // namespace etcd::raft::tracker
