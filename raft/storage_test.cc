#include "raft/storage.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "raft/raft_test_util.h"
#include "raft/util.h"

namespace etcd::raft {
namespace {

using ::etcd::raft::testing::CS;
using ::etcd::raft::testing::Ent;
using ::etcd::raft::testing::Ents;
using ::etcd::raft::testing::Snap;
using ::etcd::raft::testing::StorageWith;

// Storage whose dummy entry is (3, 3) followed by entries 4 and 5.
std::unique_ptr<MemoryStorage> ThreeToFive() { return StorageWith(3, 3, Ents({{4, 4}, {5, 5}})); }

TEST(MemoryStorageTest, NewStorageIsEmpty) {
  MemoryStorage s;
  EXPECT_EQ(*s.FirstIndex(), 1u);
  EXPECT_EQ(*s.LastIndex(), 0u);
  EXPECT_EQ(*s.Term(0), 0u);
  EXPECT_TRUE(IsErrUnavailable(s.Entries(1, 1, kNoLimit).status()));
  absl::StatusOr<InitialStateResult> st = s.InitialState();
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(IsEmptyHardState(st->hard_state));
}

TEST(MemoryStorageTest, Term) {
  struct Case {
    uint64_t i;
    bool compacted;
    bool unavailable;
    uint64_t want;
  };
  for (const Case& c : std::vector<Case>{{2, true, false, 0},
                                         {3, false, false, 3},
                                         {4, false, false, 4},
                                         {5, false, false, 5},
                                         {6, false, true, 0}}) {
    auto s = ThreeToFive();
    absl::StatusOr<uint64_t> t = s->Term(c.i);
    EXPECT_EQ(IsCompacted(t.status()), c.compacted) << c.i;
    EXPECT_EQ(IsErrUnavailable(t.status()), c.unavailable) << c.i;
    if (t.ok()) {
      EXPECT_EQ(*t, c.want) << c.i;
    }
  }
}

TEST(MemoryStorageTest, Entries) {
  auto full = StorageWith(3, 3, Ents({{4, 4}, {5, 5}, {6, 6}}));
  const uint64_t s4 = EntrySize(Ent(4, 4));
  const uint64_t s5 = EntrySize(Ent(5, 5));
  const uint64_t s6 = EntrySize(Ent(6, 6));
  struct Case {
    uint64_t lo, hi, max_size;
    bool compacted;
    std::vector<raftpb::Entry> want;
  };
  std::vector<Case> cases = {
      {2, 6, kNoLimit, true, {}},
      {3, 4, kNoLimit, true, {}},
      {4, 5, kNoLimit, false, Ents({{4, 4}})},
      {4, 6, kNoLimit, false, Ents({{4, 4}, {5, 5}})},
      {4, 7, kNoLimit, false, Ents({{4, 4}, {5, 5}, {6, 6}})},
      // Even with no room at all, one entry is returned.
      {4, 7, 0, false, Ents({{4, 4}})},
      {4, 7, s4 + s5, false, Ents({{4, 4}, {5, 5}})},
      {4, 7, s4 + s5 + s6 / 2, false, Ents({{4, 4}, {5, 5}})},
      {4, 7, s4 + s5 + s6 - 1, false, Ents({{4, 4}, {5, 5}})},
      {4, 7, s4 + s5 + s6, false, Ents({{4, 4}, {5, 5}, {6, 6}})},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    absl::StatusOr<std::vector<raftpb::Entry>> got = full->Entries(c.lo, c.hi, c.max_size);
    EXPECT_EQ(IsCompacted(got.status()), c.compacted) << "#" << i;
    if (got.ok()) {
      EXPECT_EQ(*got, c.want) << "#" << i;
    }
  }
}

TEST(MemoryStorageDeathTest, EntriesBeyondLastIndexAborts) {
  auto s = ThreeToFive();
  EXPECT_DEATH((void)s->Entries(4, 7, kNoLimit), "out of bound lastindex");
}

TEST(MemoryStorageTest, LastIndex) {
  auto s = ThreeToFive();
  EXPECT_EQ(*s->LastIndex(), 5u);
  ASSERT_TRUE(s->Append(Ents({{6, 5}})).ok());
  EXPECT_EQ(*s->LastIndex(), 6u);
}

TEST(MemoryStorageTest, FirstIndex) {
  auto s = ThreeToFive();
  EXPECT_EQ(*s->FirstIndex(), 4u);
  ASSERT_TRUE(s->Compact(4).ok());
  EXPECT_EQ(*s->FirstIndex(), 5u);
}

TEST(MemoryStorageTest, Compact) {
  struct Case {
    uint64_t i;
    bool compacted;
    uint64_t want_index, want_term;
    size_t want_len;  // entries including the dummy one
  };
  for (const Case& c : std::vector<Case>{
           {2, true, 3, 3, 3}, {3, true, 3, 3, 3}, {4, false, 4, 4, 2}, {5, false, 5, 5, 1}}) {
    auto s = ThreeToFive();
    absl::Status st = s->Compact(c.i);
    EXPECT_EQ(IsCompacted(st), c.compacted) << c.i;
    if (!c.compacted) {
      EXPECT_TRUE(st.ok()) << st;
    }
    uint64_t dummy = *s->FirstIndex() - 1;
    EXPECT_EQ(dummy, c.want_index) << c.i;
    EXPECT_EQ(*s->Term(dummy), c.want_term) << c.i;
    EXPECT_EQ(*s->LastIndex() - dummy + 1, c.want_len) << c.i;
  }
}

TEST(MemoryStorageDeathTest, CompactBeyondLastIndexAborts) {
  auto s = ThreeToFive();
  EXPECT_DEATH((void)s->Compact(6), "compact 6 is out of bound lastindex\\(5\\)");
}

TEST(MemoryStorageTest, CreateSnapshot) {
  raftpb::ConfState cs = CS({1, 2, 3});
  for (uint64_t i : {4, 5}) {
    auto s = ThreeToFive();
    absl::StatusOr<raftpb::Snapshot> snap = s->CreateSnapshot(i, &cs, "data");
    ASSERT_TRUE(snap.ok()) << snap.status();
    raftpb::Snapshot want = Snap(i, i);
    want.set_data("data");
    *want.mutable_metadata()->mutable_conf_state() = cs;
    EXPECT_EQ(*snap, want);
    EXPECT_EQ(*s->Snapshot(), want);
    // Creating a snapshot does not compact the log.
    EXPECT_EQ(*s->FirstIndex(), 4u);
  }
}

TEST(MemoryStorageTest, CreateSnapshotOutOfDate) {
  auto s = ThreeToFive();
  ASSERT_TRUE(s->CreateSnapshot(4, nullptr, "").ok());
  EXPECT_TRUE(IsSnapOutOfDate(s->CreateSnapshot(4, nullptr, "").status()));
  EXPECT_TRUE(IsSnapOutOfDate(s->CreateSnapshot(3, nullptr, "").status()));
}

TEST(MemoryStorageTest, CreateSnapshotKeepsConfStateWhenNull) {
  auto s = ThreeToFive();
  raftpb::ConfState cs = CS({1, 2});
  ASSERT_TRUE(s->CreateSnapshot(4, &cs, "a").ok());
  absl::StatusOr<raftpb::Snapshot> snap = s->CreateSnapshot(5, nullptr, "b");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata().conf_state(), cs);
  EXPECT_EQ(snap->data(), "b");
}

TEST(MemoryStorageTest, Append) {
  struct Case {
    std::vector<raftpb::Entry> entries;
    std::vector<raftpb::Entry> want;
  };
  std::vector<Case> cases = {
      // Entirely compacted: ignored.
      {Ents({{1, 1}, {2, 2}}), Ents({{3, 3}, {4, 4}, {5, 5}})},
      {Ents({{3, 3}, {4, 4}, {5, 5}}), Ents({{3, 3}, {4, 4}, {5, 5}})},
      // Conflicting entries replace the tail.
      {Ents({{3, 3}, {4, 6}, {5, 6}}), Ents({{3, 3}, {4, 6}, {5, 6}})},
      {Ents({{3, 3}, {4, 4}, {5, 5}, {6, 5}}), Ents({{3, 3}, {4, 4}, {5, 5}, {6, 5}})},
      // The compacted prefix is skipped; the rest truncates and replaces.
      {Ents({{2, 3}, {3, 3}, {4, 5}}), Ents({{3, 3}, {4, 5}})},
      {Ents({{4, 5}}), Ents({{3, 3}, {4, 5}})},
      // Directly after the last entry.
      {Ents({{6, 5}}), Ents({{3, 3}, {4, 4}, {5, 5}, {6, 5}})},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto s = ThreeToFive();
    ASSERT_TRUE(s->Append(cases[i].entries).ok()) << "#" << i;
    // Read back everything including the dummy entry's term.
    uint64_t first = *s->FirstIndex();
    uint64_t last = *s->LastIndex();
    std::vector<raftpb::Entry> got = {Ent(first - 1, *s->Term(first - 1))};
    if (last >= first) {
      std::vector<raftpb::Entry> rest = *s->Entries(first, last + 1, kNoLimit);
      got.insert(got.end(), rest.begin(), rest.end());
    }
    EXPECT_EQ(got, cases[i].want) << "#" << i;
  }
}

TEST(MemoryStorageDeathTest, AppendWithGapAborts) {
  auto s = ThreeToFive();
  EXPECT_DEATH((void)s->Append(Ents({{7, 5}})), "missing log entry \\[last: 5, append at: 7\\]");
}

TEST(MemoryStorageTest, ApplySnapshot) {
  MemoryStorage s;
  raftpb::Snapshot s4 = Snap(4, 4, {1, 2, 3});
  s4.set_data("data");
  ASSERT_TRUE(s.ApplySnapshot(s4).ok());
  EXPECT_EQ(*s.FirstIndex(), 5u);
  EXPECT_EQ(*s.LastIndex(), 4u);
  EXPECT_EQ(*s.Term(4), 4u);
  EXPECT_EQ(s.InitialState()->conf_state, CS({1, 2, 3}));

  // An older snapshot is refused.
  raftpb::Snapshot s3 = Snap(3, 3, {1, 2, 3});
  EXPECT_TRUE(IsSnapOutOfDate(s.ApplySnapshot(s3)));
  EXPECT_TRUE(IsSnapOutOfDate(s.ApplySnapshot(s4)));
}

TEST(MemoryStorageTest, HardStateRoundTrip) {
  MemoryStorage s;
  raftpb::HardState hs = testing::HS(3, 2, 1);
  ASSERT_TRUE(s.SetHardState(hs).ok());
  EXPECT_EQ(s.InitialState()->hard_state, hs);
}

}  // namespace
}  // namespace etcd::raft
