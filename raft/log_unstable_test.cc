#include "raft/log_unstable.h"

#include <cstdint>
#include <optional>
#include <vector>

#include "gtest/gtest.h"
#include "raft/raft_test_util.h"

namespace etcd::raft {
namespace {

using ::etcd::raft::testing::Ents;
using ::etcd::raft::testing::Snap;

Unstable Make(std::vector<raftpb::Entry> ents, uint64_t offset,
              std::optional<raftpb::Snapshot> snap) {
  return Unstable(std::move(snap), std::move(ents), offset, DiscardLoggerInstance());
}

TEST(UnstableTest, MaybeFirstIndex) {
  // Only a snapshot determines the first index.
  EXPECT_EQ(Make(Ents({{5, 1}}), 5, std::nullopt).MaybeFirstIndex(), std::nullopt);
  EXPECT_EQ(Make({}, 0, std::nullopt).MaybeFirstIndex(), std::nullopt);
  EXPECT_EQ(Make(Ents({{5, 1}}), 5, Snap(4, 1)).MaybeFirstIndex(), 5u);
  EXPECT_EQ(Make({}, 5, Snap(4, 1)).MaybeFirstIndex(), 5u);
}

TEST(UnstableTest, MaybeLastIndex) {
  EXPECT_EQ(Make(Ents({{5, 1}}), 5, std::nullopt).MaybeLastIndex(), 5u);
  EXPECT_EQ(Make(Ents({{5, 1}}), 5, Snap(4, 1)).MaybeLastIndex(), 5u);
  EXPECT_EQ(Make({}, 5, Snap(4, 1)).MaybeLastIndex(), 4u);
  EXPECT_EQ(Make({}, 0, std::nullopt).MaybeLastIndex(), std::nullopt);
}

TEST(UnstableTest, MaybeTerm) {
  struct Case {
    std::vector<raftpb::Entry> ents;
    uint64_t offset;
    std::optional<raftpb::Snapshot> snap;
    uint64_t index;
    std::optional<uint64_t> want;
  };
  std::vector<Case> cases = {
      {Ents({{5, 1}}), 5, std::nullopt, 5, 1},
      {Ents({{5, 1}}), 5, std::nullopt, 6, std::nullopt},
      {Ents({{5, 1}}), 5, std::nullopt, 4, std::nullopt},
      {Ents({{5, 1}}), 5, Snap(4, 1), 5, 1},
      {Ents({{5, 1}}), 5, Snap(4, 1), 6, std::nullopt},
      {Ents({{5, 1}}), 5, Snap(4, 1), 4, 1},  // the snapshot's term
      {Ents({{5, 1}}), 5, Snap(4, 1), 3, std::nullopt},
      {{}, 5, Snap(4, 1), 5, std::nullopt},
      {{}, 5, Snap(4, 1), 4, 1},
      {{}, 0, std::nullopt, 5, std::nullopt},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    EXPECT_EQ(Make(c.ents, c.offset, c.snap).MaybeTerm(c.index), c.want) << "#" << i;
  }
}

TEST(UnstableTest, Restore) {
  Unstable u = Make(Ents({{5, 1}}), 5, Snap(4, 1));
  raftpb::Snapshot s = Snap(6, 2);
  u.Restore(s);
  EXPECT_EQ(u.offset(), 7u);
  EXPECT_TRUE(u.entries().empty());
  ASSERT_TRUE(u.snapshot().has_value());
  EXPECT_EQ(*u.snapshot(), s);
}

TEST(UnstableTest, StableTo) {
  struct Case {
    std::vector<raftpb::Entry> ents;
    uint64_t offset;
    std::optional<raftpb::Snapshot> snap;
    uint64_t index, term;
    uint64_t want_offset;
    size_t want_len;
  };
  std::vector<Case> cases = {
      {{}, 0, std::nullopt, 5, 1, 0, 0},
      {Ents({{5, 1}}), 5, std::nullopt, 5, 1, 6, 0},          // first entry stable
      {Ents({{5, 1}, {6, 1}}), 5, std::nullopt, 5, 1, 6, 1},  // first of two
      {Ents({{6, 2}}), 6, std::nullopt, 6, 1, 6, 1},          // term mismatch
      {Ents({{5, 1}}), 5, std::nullopt, 4, 1, 5, 1},          // older entry
      {Ents({{5, 1}}), 5, std::nullopt, 4, 2, 5, 1},
      {Ents({{5, 1}}), 5, Snap(4, 1), 5, 1, 6, 0},
      {Ents({{5, 1}, {6, 1}}), 5, Snap(4, 1), 5, 1, 6, 1},
      {Ents({{6, 2}}), 6, Snap(5, 1), 6, 1, 6, 1},  // term mismatch
      {Ents({{5, 1}}), 5, Snap(4, 1), 4, 1, 5, 1},  // the snapshot: entries stay
      {Ents({{5, 2}}), 5, Snap(4, 2), 4, 1, 5, 1},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    Unstable u = Make(c.ents, c.offset, c.snap);
    u.StableTo(c.index, c.term);
    EXPECT_EQ(u.offset(), c.want_offset) << "#" << i;
    EXPECT_EQ(u.entries().size(), c.want_len) << "#" << i;
  }
}

TEST(UnstableTest, StableSnapTo) {
  Unstable u = Make({}, 5, Snap(4, 1));
  u.StableSnapTo(3);  // not the held snapshot
  EXPECT_TRUE(u.snapshot().has_value());
  u.StableSnapTo(4);
  EXPECT_FALSE(u.snapshot().has_value());
}

TEST(UnstableTest, TruncateAndAppend) {
  struct Case {
    std::vector<raftpb::Entry> ents;
    uint64_t offset;
    std::vector<raftpb::Entry> append;
    uint64_t want_offset;
    std::vector<raftpb::Entry> want;
  };
  std::vector<Case> cases = {
      // Directly after.
      {Ents({{5, 1}}), 5, Ents({{6, 1}, {7, 1}}), 5, Ents({{5, 1}, {6, 1}, {7, 1}})},
      // Replace everything.
      {Ents({{5, 1}}), 5, Ents({{5, 2}, {6, 2}}), 5, Ents({{5, 2}, {6, 2}})},
      {Ents({{5, 1}}), 5, Ents({{4, 2}, {5, 2}, {6, 2}}), 4, Ents({{4, 2}, {5, 2}, {6, 2}})},
      // Truncate then append.
      {Ents({{5, 1}, {6, 1}, {7, 1}}), 5, Ents({{6, 2}}), 5, Ents({{5, 1}, {6, 2}})},
      {Ents({{5, 1}, {6, 1}, {7, 1}}), 5, Ents({{7, 2}, {8, 2}}), 5,
       Ents({{5, 1}, {6, 1}, {7, 2}, {8, 2}})},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    Unstable u = Make(c.ents, c.offset, std::nullopt);
    u.TruncateAndAppend(c.append);
    EXPECT_EQ(u.offset(), c.want_offset) << "#" << i;
    EXPECT_EQ(u.entries(), c.want) << "#" << i;
  }
}

TEST(UnstableTest, Slice) {
  Unstable u = Make(Ents({{5, 1}, {6, 2}, {7, 3}}), 5, std::nullopt);
  EXPECT_EQ(u.Slice(6, 8), Ents({{6, 2}, {7, 3}}));
  EXPECT_TRUE(u.Slice(5, 5).empty());
}

TEST(UnstableDeathTest, SliceOutOfBoundsAborts) {
  Unstable u = Make(Ents({{5, 1}}), 5, std::nullopt);
  EXPECT_DEATH(u.Slice(4, 6), "unstable.slice\\[4,6\\) out of bound \\[5,6\\]");
  EXPECT_DEATH(u.Slice(6, 5), "invalid unstable.slice 6 > 5");
}

TEST(UnstableDeathTest, TruncateAndAppendWithGapAborts) {
  Unstable u = Make(Ents({{5, 1}}), 5, std::nullopt);
  EXPECT_DEATH(u.TruncateAndAppend(Ents({{8, 1}})), "out of bound");
}

}  // namespace
}  // namespace etcd::raft
