#include "raft/log.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "raft/raft_test_util.h"

namespace etcd::raft {
namespace {

using ::etcd::raft::testing::Ent;
using ::etcd::raft::testing::Ents;
using ::etcd::raft::testing::Snap;

Logger* L() { return DiscardLoggerInstance(); }

uint64_t MustTerm(const absl::StatusOr<uint64_t>& t) {
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : 0;
}

TEST(RaftLogTest, FindConflict) {
  std::vector<raftpb::Entry> previous = Ents({{1, 1}, {2, 2}, {3, 3}});
  struct Case {
    std::vector<raftpb::Entry> ents;
    uint64_t want;
  };
  std::vector<Case> cases = {
      // No conflict, empty.
      {{}, 0},
      // No conflict.
      {Ents({{1, 1}, {2, 2}, {3, 3}}), 0},
      {Ents({{2, 2}, {3, 3}}), 0},
      {Ents({{3, 3}}), 0},
      // No conflict, but has new entries.
      {Ents({{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 4}}), 4},
      {Ents({{2, 2}, {3, 3}, {4, 4}, {5, 4}}), 4},
      {Ents({{3, 3}, {4, 4}, {5, 4}}), 4},
      {Ents({{4, 4}, {5, 4}}), 4},
      // Conflicts with existing entries.
      {Ents({{1, 4}, {2, 4}}), 1},
      {Ents({{2, 1}, {3, 4}, {4, 4}}), 2},
      {Ents({{3, 1}, {4, 2}, {5, 4}, {6, 4}}), 3},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    MemoryStorage storage;
    RaftLog log(&storage, L());
    log.Append(previous);
    EXPECT_EQ(log.FindConflict(cases[i].ents), cases[i].want) << "#" << i;
  }
}

TEST(RaftLogTest, IsUpToDate) {
  MemoryStorage storage;
  RaftLog log(&storage, L());
  log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
  uint64_t last = log.LastIndex();
  struct Case {
    uint64_t last_index, term;
    bool want;
  };
  for (const Case& c : std::vector<Case>{
           // Greater term: up to date whatever the index.
           {last - 1, 4, true},
           {last, 4, true},
           {last + 1, 4, true},
           // Smaller term: never.
           {last - 1, 2, false},
           {last, 2, false},
           {last + 1, 2, false},
           // Equal term: by index.
           {last - 1, 3, false},
           {last, 3, true},
           {last + 1, 3, true},
       }) {
    EXPECT_EQ(log.IsUpToDate(c.last_index, c.term), c.want) << c.last_index << "/" << c.term;
  }
}

TEST(RaftLogTest, Append) {
  struct Case {
    std::vector<raftpb::Entry> ents;
    uint64_t want_index;
    std::vector<raftpb::Entry> want_ents;
    uint64_t want_unstable;
  };
  std::vector<Case> cases = {
      {{}, 2, Ents({{1, 1}, {2, 2}}), 3},
      {Ents({{3, 2}}), 3, Ents({{1, 1}, {2, 2}, {3, 2}}), 3},
      // Conflicts with index 1.
      {Ents({{1, 2}}), 1, Ents({{1, 2}}), 1},
      // Conflicts with index 2.
      {Ents({{2, 3}, {3, 3}}), 3, Ents({{1, 1}, {2, 3}, {3, 3}}), 2},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    MemoryStorage storage;
    ASSERT_TRUE(storage.Append(Ents({{1, 1}, {2, 2}})).ok());
    RaftLog log(&storage, L());
    EXPECT_EQ(log.Append(cases[i].ents), cases[i].want_index) << "#" << i;
    absl::StatusOr<std::vector<raftpb::Entry>> got = log.Entries(1, kNoLimit);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, cases[i].want_ents) << "#" << i;
    EXPECT_EQ(log.unstable().offset(), cases[i].want_unstable) << "#" << i;
  }
}

// MaybeAppend returns the last new index if the preceding entry matches,
// truncates conflicting entries, and commits min(committed, last new index)
// without ever lowering the commit index.
TEST(RaftLogTest, MaybeAppend) {
  const uint64_t last_index = 3, last_term = 3, commit = 1;
  struct Case {
    uint64_t log_term, index, committed;
    std::vector<raftpb::Entry> ents;
    std::optional<uint64_t> want_last;
    uint64_t want_commit;
  };
  std::vector<Case> cases = {
      // Not a match: term or index mismatch.
      {last_term - 1, last_index, last_index, Ents({{last_index + 1, 4}}), std::nullopt, commit},
      {last_term, last_index + 1, last_index, Ents({{last_index + 2, 4}}), std::nullopt, commit},
      // A match with the last existing entry.
      {last_term, last_index, last_index, {}, last_index, last_index},
      {last_term, last_index, last_index + 1, {}, last_index, last_index},
      {last_term, last_index, last_index - 1, {}, last_index, last_index - 1},
      {last_term, last_index, 0, {}, last_index, commit},
      {0, 0, last_index, {}, 0, commit},
      {last_term, last_index, last_index, Ents({{last_index + 1, 4}}), last_index + 1, last_index},
      {last_term, last_index, last_index + 1, Ents({{last_index + 1, 4}}), last_index + 1,
       last_index + 1},
      {last_term, last_index, last_index + 2, Ents({{last_index + 1, 4}}), last_index + 1,
       last_index + 1},
      {last_term, last_index, last_index + 2, Ents({{last_index + 1, 4}, {last_index + 2, 4}}),
       last_index + 2, last_index + 2},
      // A match with an entry in the middle.
      {last_term - 1, last_index - 1, last_index, Ents({{last_index, 4}}), last_index, last_index},
      {last_term - 2, last_index - 2, last_index, Ents({{last_index - 1, 4}}), last_index - 1,
       last_index - 1},
      {last_term - 2, last_index - 2, last_index, Ents({{last_index - 1, 4}, {last_index, 4}}),
       last_index, last_index},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    MemoryStorage storage;
    RaftLog log(&storage, L());
    log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
    log.set_committed(commit);
    std::optional<uint64_t> last = log.MaybeAppend(c.index, c.log_term, c.committed, c.ents);
    EXPECT_EQ(last, c.want_last) << "#" << i;
    EXPECT_EQ(log.committed(), c.want_commit) << "#" << i;
    if (last.has_value() && !c.ents.empty()) {
      absl::StatusOr<std::vector<raftpb::Entry>> got =
          log.Slice(log.LastIndex() - c.ents.size() + 1, log.LastIndex() + 1, kNoLimit);
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(*got, c.ents) << "#" << i;
    }
  }
}

TEST(RaftLogDeathTest, MaybeAppendConflictWithCommittedAborts) {
  MemoryStorage storage;
  RaftLog log(&storage, L());
  log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
  log.set_committed(1);
  EXPECT_DEATH(log.MaybeAppend(0, 0, 3, Ents({{1, 4}})),
               "entry 1 conflict with committed entry \\[committed\\(1\\)\\]");
}

// Compacting the storage does not change what the log reports for the
// entries it still holds, nor the unstable part.
TEST(RaftLogTest, CompactionSideEffects) {
  const uint64_t last_index = 1000, unstable_index = 750, last_term = last_index;
  MemoryStorage storage;
  for (uint64_t i = 1; i <= unstable_index; ++i) ASSERT_TRUE(storage.Append({Ent(i, i)}).ok());
  RaftLog log(&storage, L());
  for (uint64_t i = unstable_index; i < last_index; ++i) log.Append({Ent(i + 1, i + 1)});

  ASSERT_TRUE(log.MaybeCommit(last_index, last_term));
  log.AppliedTo(log.committed());

  const uint64_t offset = 500;
  ASSERT_TRUE(storage.Compact(offset).ok());
  EXPECT_EQ(log.LastIndex(), last_index);
  for (uint64_t j = offset; j <= log.LastIndex(); ++j) {
    EXPECT_EQ(MustTerm(log.Term(j)), j);
    EXPECT_TRUE(log.MatchTerm(j, j));
  }
  const std::vector<raftpb::Entry>& unstable = log.UnstableEntries();
  ASSERT_EQ(unstable.size(), 250u);
  EXPECT_EQ(unstable[0].index(), 751u);

  uint64_t prev = log.LastIndex();
  log.Append({Ent(log.LastIndex() + 1, log.LastIndex() + 1)});
  EXPECT_EQ(log.LastIndex(), prev + 1);
  absl::StatusOr<std::vector<raftpb::Entry>> ents = log.Entries(log.LastIndex(), kNoLimit);
  ASSERT_TRUE(ents.ok());
  EXPECT_EQ(ents->size(), 1u);
}

TEST(RaftLogTest, HasNextEntsAndNextEnts) {
  std::vector<raftpb::Entry> ents = Ents({{4, 1}, {5, 1}, {6, 1}});
  struct Case {
    uint64_t applied;
    bool has_next;
    std::vector<raftpb::Entry> want;
  };
  for (const Case& c : std::vector<Case>{{0, true, Ents({{4, 1}, {5, 1}})},
                                         {3, true, Ents({{4, 1}, {5, 1}})},
                                         {4, true, Ents({{5, 1}})},
                                         {5, false, {}}}) {
    MemoryStorage storage;
    ASSERT_TRUE(storage.ApplySnapshot(Snap(3, 1)).ok());
    RaftLog log(&storage, L());
    log.Append(ents);
    log.MaybeCommit(5, 1);
    log.AppliedTo(c.applied);
    EXPECT_EQ(log.HasNextEnts(), c.has_next) << c.applied;
    EXPECT_EQ(log.NextEnts(), c.want) << c.applied;
  }
}

TEST(RaftLogTest, NextEntsRespectsSizeLimit) {
  MemoryStorage storage;
  RaftLog log(&storage, L(), /*max_next_ents_size=*/EntrySize(Ent(1, 1)));
  log.Append(Ents({{1, 1}, {2, 1}, {3, 1}}));
  log.CommitTo(3);
  EXPECT_EQ(log.NextEnts(), Ents({{1, 1}}));
  log.AppliedTo(1);
  EXPECT_EQ(log.NextEnts(), Ents({{2, 1}}));
}

TEST(RaftLogTest, UnstableEntries) {
  std::vector<raftpb::Entry> previous = Ents({{1, 1}, {2, 2}});
  struct Case {
    uint64_t unstable;
    std::vector<raftpb::Entry> want;
  };
  for (const Case& c : std::vector<Case>{{3, {}}, {1, previous}}) {
    MemoryStorage storage;
    ASSERT_TRUE(storage.Append(absl::MakeSpan(previous).subspan(0, c.unstable - 1)).ok());
    RaftLog log(&storage, L());
    log.Append(absl::MakeSpan(previous).subspan(c.unstable - 1));
    std::vector<raftpb::Entry> ents = log.UnstableEntries();
    if (!ents.empty()) log.StableTo(ents.back().index(), ents.back().term());
    EXPECT_EQ(ents, c.want) << c.unstable;
    EXPECT_EQ(log.unstable().offset(), 3u) << c.unstable;
  }
}

TEST(RaftLogTest, CommitTo) {
  for (auto [commit, want] : std::vector<std::pair<uint64_t, uint64_t>>{{3, 3}, {1, 2}}) {
    MemoryStorage storage;
    RaftLog log(&storage, L());
    log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
    log.set_committed(2);
    log.CommitTo(commit);
    EXPECT_EQ(log.committed(), want) << commit;
  }
}

TEST(RaftLogDeathTest, CommitToBeyondLastIndexAborts) {
  MemoryStorage storage;
  RaftLog log(&storage, L());
  log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
  EXPECT_DEATH(log.CommitTo(4), "tocommit\\(4\\) is out of range \\[lastIndex\\(3\\)\\]");
}

TEST(RaftLogDeathTest, AppliedToOutOfRangeAborts) {
  MemoryStorage storage;
  RaftLog log(&storage, L());
  log.Append(Ents({{1, 1}, {2, 2}}));
  log.CommitTo(1);
  EXPECT_DEATH(log.AppliedTo(2), "applied\\(2\\) is out of range");
  log.AppliedTo(1);
  log.AppliedTo(0);  // ignored
  EXPECT_EQ(log.applied(), 1u);
}

TEST(RaftLogDeathTest, AppendBeforeCommittedAborts) {
  MemoryStorage storage;
  RaftLog log(&storage, L());
  log.Append(Ents({{1, 1}, {2, 2}}));
  log.CommitTo(2);
  EXPECT_DEATH(log.Append(Ents({{2, 3}})), "after\\(1\\) is out of range \\[committed\\(2\\)\\]");
}

TEST(RaftLogTest, StableTo) {
  struct Case {
    uint64_t i, t, want_unstable;
  };
  for (const Case& c : std::vector<Case>{{1, 1, 2}, {2, 2, 3}, {2, 1, 1}, {3, 1, 1}}) {
    MemoryStorage storage;
    RaftLog log(&storage, L());
    log.Append(Ents({{1, 1}, {2, 2}}));
    log.StableTo(c.i, c.t);
    EXPECT_EQ(log.unstable().offset(), c.want_unstable) << c.i << "/" << c.t;
  }
}

TEST(RaftLogTest, StableToWithSnap) {
  const uint64_t si = 5, st = 2;
  struct Case {
    uint64_t i, t;
    std::vector<raftpb::Entry> new_ents;
    uint64_t want_unstable;
  };
  std::vector<Case> cases = {
      {si + 1, st, {}, si + 1},
      {si, st, {}, si + 1},
      {si - 1, st, {}, si + 1},
      {si + 1, st + 1, {}, si + 1},
      {si, st + 1, {}, si + 1},
      {si - 1, st + 1, {}, si + 1},
      {si + 1, st, Ents({{si + 1, st}}), si + 2},
      {si, st, Ents({{si + 1, st}}), si + 1},
      {si - 1, st, Ents({{si + 1, st}}), si + 1},
      {si + 1, st + 1, Ents({{si + 1, st}}), si + 1},
      {si, st + 1, Ents({{si + 1, st}}), si + 1},
      {si - 1, st + 1, Ents({{si + 1, st}}), si + 1},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    MemoryStorage storage;
    ASSERT_TRUE(storage.ApplySnapshot(Snap(si, st)).ok());
    RaftLog log(&storage, L());
    log.Append(cases[i].new_ents);
    log.StableTo(cases[i].i, cases[i].t);
    EXPECT_EQ(log.unstable().offset(), cases[i].want_unstable) << "#" << i;
  }
}

TEST(RaftLogTest, Compaction) {
  struct Case {
    uint64_t last_index;
    std::vector<uint64_t> compact;
    std::vector<int> want_left;  // -1: the compaction is refused
  };
  std::vector<Case> cases = {
      {1000, {300, 500, 800, 900}, {700, 500, 200, 100}},
      {1000, {300, 299}, {700, -1}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    MemoryStorage storage;
    for (uint64_t k = 1; k <= c.last_index; ++k) ASSERT_TRUE(storage.Append({Ent(k, 0)}).ok());
    RaftLog log(&storage, L());
    log.MaybeCommit(c.last_index, 0);
    log.AppliedTo(log.committed());
    for (size_t j = 0; j < c.compact.size(); ++j) {
      absl::Status st = storage.Compact(c.compact[j]);
      if (!st.ok()) {
        EXPECT_EQ(c.want_left[j], -1) << "#" << i << "." << j;
        EXPECT_TRUE(IsCompacted(st));
        continue;
      }
      EXPECT_EQ(static_cast<int>(log.AllEntries().size()), c.want_left[j]) << "#" << i << "." << j;
    }
  }
}

TEST(RaftLogDeathTest, CompactionBeyondLastIndexAborts) {
  MemoryStorage storage;
  for (uint64_t k = 1; k <= 10; ++k) ASSERT_TRUE(storage.Append({Ent(k, 0)}).ok());
  EXPECT_DEATH((void)storage.Compact(11), "out of bound");
}

TEST(RaftLogTest, Restore) {
  const uint64_t index = 1000, term = 1000;
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(Snap(index, term)).ok());
  RaftLog log(&storage, L());
  EXPECT_TRUE(log.AllEntries().empty());
  EXPECT_EQ(log.FirstIndex(), index + 1);
  EXPECT_EQ(log.committed(), index);
  EXPECT_EQ(log.unstable().offset(), index + 1);
  EXPECT_EQ(MustTerm(log.Term(index)), term);
}

TEST(RaftLogTest, RestoreUnstableSnapshot) {
  MemoryStorage storage;
  RaftLog log(&storage, L());
  log.Append(Ents({{1, 1}, {2, 1}}));
  log.Restore(Snap(10, 3));
  EXPECT_EQ(log.committed(), 10u);
  EXPECT_EQ(log.FirstIndex(), 11u);
  EXPECT_EQ(log.LastIndex(), 10u);
  EXPECT_EQ(log.LastTerm(), 3u);
  EXPECT_TRUE(log.UnstableEntries().empty());
  ASSERT_TRUE(log.Snapshot().ok());
  EXPECT_EQ(log.Snapshot()->metadata().index(), 10u);
}

TEST(RaftLogTest, IsOutOfBounds) {
  const uint64_t offset = 100, num = 100;
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(Snap(offset, 0)).ok());
  RaftLog log(&storage, L());
  for (uint64_t i = 1; i <= num; ++i) log.Append({Ent(i + offset, 0)});
  const uint64_t first = offset + 1;
  EXPECT_TRUE(IsCompacted(log.MustCheckOutOfBounds(first - 2, first + 1)));
  EXPECT_TRUE(IsCompacted(log.MustCheckOutOfBounds(first - 1, first + 1)));
  EXPECT_TRUE(log.MustCheckOutOfBounds(first, first).ok());
  EXPECT_TRUE(log.MustCheckOutOfBounds(first + num / 2, first + num / 2).ok());
  EXPECT_TRUE(log.MustCheckOutOfBounds(first + num - 1, first + num - 1).ok());
  EXPECT_TRUE(log.MustCheckOutOfBounds(first + num, first + num).ok());
  EXPECT_DEATH((void)log.MustCheckOutOfBounds(first + num, first + num + 1), "out of bound");
  EXPECT_DEATH((void)log.MustCheckOutOfBounds(first + num + 1, first + num + 1), "out of bound");
}

TEST(RaftLogTest, Term) {
  const uint64_t offset = 100, num = 100;
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(Snap(offset, 1)).ok());
  RaftLog log(&storage, L());
  for (uint64_t i = 1; i < num; ++i) log.Append({Ent(offset + i, i)});
  EXPECT_EQ(MustTerm(log.Term(offset - 1)), 0u);
  EXPECT_EQ(MustTerm(log.Term(offset)), 1u);
  EXPECT_EQ(MustTerm(log.Term(offset + num / 2)), num / 2);
  EXPECT_EQ(MustTerm(log.Term(offset + num - 1)), num - 1);
  EXPECT_EQ(MustTerm(log.Term(offset + num)), 0u);
}

TEST(RaftLogTest, TermWithUnstableSnapshot) {
  const uint64_t storage_snap = 100, unstable_snap = storage_snap + 5;
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(Snap(storage_snap, 1)).ok());
  RaftLog log(&storage, L());
  log.Restore(Snap(unstable_snap, 1));
  EXPECT_EQ(MustTerm(log.Term(storage_snap)), 0u);
  EXPECT_EQ(MustTerm(log.Term(storage_snap + 1)), 0u);
  EXPECT_EQ(MustTerm(log.Term(unstable_snap - 1)), 0u);
  EXPECT_EQ(MustTerm(log.Term(unstable_snap)), 1u);
}

TEST(RaftLogTest, Slice) {
  const uint64_t offset = 100, num = 100, last = offset + num, half = offset + num / 2;
  const uint64_t hs = EntrySize(Ent(half, half));
  MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(Snap(offset, 0)).ok());
  for (uint64_t i = 1; i < num / 2; ++i) {
    ASSERT_TRUE(storage.Append({Ent(offset + i, offset + i)}).ok());
  }
  RaftLog log(&storage, L());
  for (uint64_t i = num / 2; i < num; ++i) log.Append({Ent(offset + i, offset + i)});

  struct Case {
    uint64_t from, to, limit;
    std::vector<raftpb::Entry> want;
  };
  std::vector<Case> cases = {
      // Compacted.
      {offset - 1, offset + 1, kNoLimit, {}},
      {offset, offset + 1, kNoLimit, {}},
      // Across storage and unstable, and each alone.
      {half - 1, half + 1, kNoLimit, Ents({{half - 1, half - 1}, {half, half}})},
      {half, half + 1, kNoLimit, Ents({{half, half}})},
      {last - 1, last, kNoLimit, Ents({{last - 1, last - 1}})},
      // Size limits.
      {half - 1, half + 1, 0, Ents({{half - 1, half - 1}})},
      {half - 1, half + 1, hs + 1, Ents({{half - 1, half - 1}})},
      {half - 2, half + 1, hs + 1, Ents({{half - 2, half - 2}})},
      {half - 1, half + 1, hs * 2, Ents({{half - 1, half - 1}, {half, half}})},
      {half - 1, half + 2, hs * 3,
       Ents({{half - 1, half - 1}, {half, half}, {half + 1, half + 1}})},
      {half, half + 2, hs, Ents({{half, half}})},
      {half, half + 2, hs * 2, Ents({{half, half}, {half + 1, half + 1}})},
  };
  for (size_t j = 0; j < cases.size(); ++j) {
    const Case& c = cases[j];
    absl::StatusOr<std::vector<raftpb::Entry>> got = log.Slice(c.from, c.to, c.limit);
    if (c.from <= offset) {
      EXPECT_TRUE(IsCompacted(got.status())) << "#" << j;
      continue;
    }
    ASSERT_TRUE(got.ok()) << "#" << j << " " << got.status();
    EXPECT_EQ(*got, c.want) << "#" << j;
  }
  EXPECT_DEATH((void)log.Slice(last, last + 1, kNoLimit), "out of bound");
}

}  // namespace
}  // namespace etcd::raft
