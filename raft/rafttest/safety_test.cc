// The safety checks on fabricated histories: for each property of the Raft
// paper, a history that keeps it passes and one that breaks it fails, so a
// randomized run that uses the checks can fail.

#include "raft/rafttest/safety.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace etcd::raft::rafttest {
namespace {

constexpr StateType kLeader = StateType::kLeader;
constexpr StateType kFollower = StateType::kFollower;

// An entry of term `term` at `index` whose content is `data`.
EntryView E(uint64_t index, uint64_t term, const std::string& data = "") {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(data);
  return ViewOf(e);
}

// A node whose log holds entries 1.. with the given terms (data "").
NodeView Node(uint64_t id, StateType state, uint64_t term, uint64_t committed,
              std::initializer_list<uint64_t> terms) {
  NodeView v;
  v.id = id;
  v.state = state;
  v.term = term;
  v.committed = committed;
  uint64_t i = 1;
  for (uint64_t t : terms) v.entries.push_back(E(i++, t));
  return v;
}

bool Fails(const absl::Status& s, const std::string& property) {
  return !s.ok() && absl::StartsWith(s.message(), property);
}

TEST(EntryDigestTest, DependsOnTermTypeAndData) {
  raftpb::Entry a;
  a.set_term(1);
  a.set_data("x");
  raftpb::Entry b = a;
  b.set_index(7);  // the index is not part of the digest
  EXPECT_EQ(EntryDigest(a), EntryDigest(b));
  b.set_term(2);
  EXPECT_NE(EntryDigest(a), EntryDigest(b));
  b = a;
  b.set_type(raftpb::EntryConfChange);
  EXPECT_NE(EntryDigest(a), EntryDigest(b));
  b = a;
  b.set_data("y");
  EXPECT_NE(EntryDigest(a), EntryDigest(b));
}

// §5.2 Election Safety: at most one leader can be elected in a given term.
TEST(ElectionSafetyTest, AcceptsOneLeaderPerTerm) {
  SafetyChecker c;
  EXPECT_TRUE(
      c.CheckElectionSafety({Node(1, kLeader, 2, 0, {}), Node(2, kFollower, 2, 0, {})}).ok());
  // The same leader seen again, and another leader of a later term.
  EXPECT_TRUE(c.CheckElectionSafety({Node(1, kLeader, 2, 0, {})}).ok());
  EXPECT_TRUE(
      c.CheckElectionSafety({Node(1, kFollower, 3, 0, {}), Node(2, kLeader, 3, 0, {})}).ok());
}

TEST(ElectionSafetyTest, CatchesTwoLeadersInOneTerm) {
  SafetyChecker c;
  EXPECT_TRUE(Fails(c.CheckElectionSafety({Node(1, kLeader, 2, 0, {}), Node(2, kLeader, 2, 0, {})}),
                    "election safety"));
}

TEST(ElectionSafetyTest, CatchesTwoLeadersOfOneTermAtDifferentTimes) {
  SafetyChecker c;
  ASSERT_TRUE(
      c.CheckElectionSafety({Node(1, kLeader, 2, 0, {}), Node(2, kFollower, 2, 0, {})}).ok());
  // 1 stepped down; 2 claims term 2 later on.
  EXPECT_TRUE(
      Fails(c.CheckElectionSafety({Node(1, kFollower, 2, 0, {}), Node(2, kLeader, 2, 0, {})}),
            "election safety"));
}

TEST(ElectionSafetyTest, IgnoresNodesThatAreDown) {
  SafetyChecker c;
  NodeView down = Node(2, kLeader, 2, 0, {});
  down.up = false;
  EXPECT_TRUE(c.CheckElectionSafety({Node(1, kLeader, 2, 0, {}), down}).ok());
}

// §5.3 Leader Append-Only: a leader never overwrites or deletes entries in
// its log; it only appends new entries.
TEST(LeaderAppendOnlyTest, AcceptsAppendsAndCompaction) {
  SafetyChecker c;
  EXPECT_TRUE(c.CheckLeaderAppendOnly({Node(1, kLeader, 2, 1, {1, 2})}).ok());
  EXPECT_TRUE(c.CheckLeaderAppendOnly({Node(1, kLeader, 2, 2, {1, 2, 2, 2})}).ok());
  NodeView compacted = Node(1, kLeader, 2, 2, {});
  compacted.snapshot_index = 2;
  compacted.snapshot_term = 2;
  compacted.entries = {E(3, 2), E(4, 2), E(5, 2)};
  EXPECT_TRUE(c.CheckLeaderAppendOnly({compacted}).ok());
}

TEST(LeaderAppendOnlyTest, CatchesOverwrite) {
  SafetyChecker c;
  NodeView before = Node(1, kLeader, 3, 1, {1, 3});
  before.entries[1] = E(2, 3, "a");
  ASSERT_TRUE(c.CheckLeaderAppendOnly({before}).ok());
  NodeView after = before;
  after.entries[1] = E(2, 3, "b");  // same index and term, other data
  EXPECT_TRUE(Fails(c.CheckLeaderAppendOnly({after}), "leader append-only"));
}

TEST(LeaderAppendOnlyTest, CatchesDeletion) {
  SafetyChecker c;
  ASSERT_TRUE(c.CheckLeaderAppendOnly({Node(1, kLeader, 3, 1, {1, 3, 3})}).ok());
  EXPECT_TRUE(
      Fails(c.CheckLeaderAppendOnly({Node(1, kLeader, 3, 1, {1, 3})}), "leader append-only"));
}

TEST(LeaderAppendOnlyTest, AllowsTruncationOnceNoLongerLeader) {
  SafetyChecker c;
  ASSERT_TRUE(c.CheckLeaderAppendOnly({Node(1, kLeader, 3, 1, {1, 3, 3})}).ok());
  // Deposed: a later leader overwrote its uncommitted tail.
  ASSERT_TRUE(c.CheckLeaderAppendOnly({Node(1, kFollower, 4, 1, {1, 4})}).ok());
  EXPECT_TRUE(c.CheckLeaderAppendOnly({Node(1, kLeader, 5, 1, {1, 4, 5})}).ok());
}

// §5.3 Log Matching: if two logs contain an entry with the same index and
// term, then the logs are identical in all entries up through that index.
TEST(LogMatchingTest, AcceptsLogsThatDivergeAfterTheLastCommonEntry) {
  SafetyChecker c;
  EXPECT_TRUE(
      c.CheckLogMatching({Node(1, kLeader, 3, 2, {1, 1, 3, 3}),
                          Node(2, kFollower, 3, 2, {1, 1, 2, 2, 2}), Node(3, kFollower, 3, 0, {})})
          .ok());
}

TEST(LogMatchingTest, CatchesDifferentPrefixBeforeACommonEntry) {
  SafetyChecker c;
  NodeView a = Node(1, kFollower, 3, 0, {1, 1, 3});
  NodeView b = Node(2, kFollower, 3, 0, {1, 1, 3});
  b.entries[1] = E(2, 1, "other");
  EXPECT_TRUE(Fails(c.CheckLogMatching({a, b}), "log matching"));
}

TEST(LogMatchingTest, CatchesDifferentTermsBeforeACommonEntry) {
  SafetyChecker c;
  EXPECT_TRUE(Fails(c.CheckLogMatching(
                        {Node(1, kFollower, 3, 0, {1, 1, 3}), Node(2, kFollower, 3, 0, {1, 2, 3})}),
                    "log matching"));
}

TEST(LogMatchingTest, ComparesOnlyWhatBothLogsHold) {
  SafetyChecker c;
  NodeView a = Node(1, kFollower, 3, 0, {1, 1, 3, 3});
  NodeView b;
  b.id = 2;
  b.snapshot_index = 3;
  b.snapshot_term = 3;
  b.entries = {E(4, 3)};
  EXPECT_TRUE(c.CheckLogMatching({a, b}).ok());
  b.snapshot_term = 2;  // the compacted entry 3 had another term
  EXPECT_TRUE(Fails(c.CheckLogMatching({a, b}), "log matching"));
}

// §5.4 Leader Completeness: if a log entry is committed in a given term,
// then that entry will be present in the logs of the leaders for all
// higher-numbered terms.
TEST(LeaderCompletenessTest, AcceptsLeadersThatHoldCommittedEntries) {
  SafetyChecker c;
  EXPECT_TRUE(c.CheckLeaderCompleteness(
                   {Node(1, kLeader, 2, 3, {1, 2, 2}), Node(2, kFollower, 2, 3, {1, 2, 2})})
                  .ok());
  // A later leader with more entries; a follower still behind.
  EXPECT_TRUE(c.CheckLeaderCompleteness(
                   {Node(2, kLeader, 3, 3, {1, 2, 2, 3}), Node(3, kFollower, 3, 1, {1})})
                  .ok());
  // A stale leader (of an older term) need not hold later commits.
  EXPECT_TRUE(c.CheckLeaderCompleteness({Node(4, kLeader, 1, 0, {1})}).ok());
}

TEST(LeaderCompletenessTest, CatchesALeaderMissingACommittedEntry) {
  SafetyChecker c;
  ASSERT_TRUE(c.CheckLeaderCompleteness({Node(1, kFollower, 2, 3, {1, 2, 2})}).ok());
  EXPECT_TRUE(
      Fails(c.CheckLeaderCompleteness({Node(3, kLeader, 3, 1, {1, 2})}), "leader completeness"));
}

TEST(LeaderCompletenessTest, CatchesALeaderWithAnotherEntryAtACommittedIndex) {
  SafetyChecker c;
  ASSERT_TRUE(c.CheckLeaderCompleteness({Node(1, kFollower, 2, 2, {1, 2})}).ok());
  EXPECT_TRUE(
      Fails(c.CheckLeaderCompleteness({Node(3, kLeader, 3, 1, {1, 3})}), "leader completeness"));
}

TEST(LeaderCompletenessTest, CatchesACommittedEntryThatChanged) {
  SafetyChecker c;
  ASSERT_TRUE(c.CheckLeaderCompleteness({Node(1, kFollower, 2, 2, {1, 2})}).ok());
  EXPECT_TRUE(
      Fails(c.CheckLeaderCompleteness({Node(2, kFollower, 3, 2, {1, 3})}), "leader completeness"));
}

TEST(LeaderCompletenessTest, CatchesACommitIndexPastTheLog) {
  SafetyChecker c;
  EXPECT_TRUE(
      Fails(c.CheckLeaderCompleteness({Node(1, kFollower, 2, 3, {1, 2})}), "leader completeness"));
}

// §5.4.3 State Machine Safety: if a server has applied a log entry at a
// given index to its state machine, no other server will ever apply a
// different log entry for the same index.
TEST(StateMachineSafetyTest, AcceptsTheSameEntriesInTheSameOrder) {
  SafetyChecker c;
  uint64_t s1 = 0;
  uint64_t s2 = 0;
  for (uint64_t i = 1; i <= 3; ++i) {
    EntryView e = E(i, 1, "x" + std::to_string(i));
    s1 = NextStateDigest(s1, i, e.digest);
    ASSERT_TRUE(c.CheckApply(1, e, s1).ok());
  }
  // Node 2 restores a snapshot at 2 and applies 3.
  EntryView e1 = E(1, 1, "x1");
  EntryView e2 = E(2, 1, "x2");
  s2 = NextStateDigest(NextStateDigest(0, 1, e1.digest), 2, e2.digest);
  EXPECT_TRUE(c.CheckRestore(2, 2, s2).ok());
  EntryView e3 = E(3, 1, "x3");
  EXPECT_TRUE(c.CheckApply(2, e3, NextStateDigest(s2, 3, e3.digest)).ok());
}

TEST(StateMachineSafetyTest, CatchesDifferentEntriesAtOneIndex) {
  SafetyChecker c;
  EntryView a = E(1, 1, "a");
  EntryView b = E(1, 1, "b");
  ASSERT_TRUE(c.CheckApply(1, a, NextStateDigest(0, 1, a.digest)).ok());
  EXPECT_TRUE(Fails(c.CheckApply(2, b, NextStateDigest(0, 1, b.digest)), "state machine safety"));
}

TEST(StateMachineSafetyTest, CatchesASkippedEntry) {
  SafetyChecker c;
  EntryView e1 = E(1, 1, "a");
  EntryView e2 = E(2, 1, "b");
  uint64_t s = NextStateDigest(0, 1, e1.digest);
  ASSERT_TRUE(c.CheckApply(1, e1, s).ok());
  ASSERT_TRUE(c.CheckApply(1, e2, NextStateDigest(s, 2, e2.digest)).ok());
  // Node 2 applies entry 2 without entry 1.
  EXPECT_TRUE(Fails(c.CheckApply(2, e2, NextStateDigest(0, 2, e2.digest)), "state machine safety"));
}

TEST(StateMachineSafetyTest, CatchesASnapshotOfAnotherState) {
  SafetyChecker c;
  EntryView e1 = E(1, 1, "a");
  ASSERT_TRUE(c.CheckApply(1, e1, NextStateDigest(0, 1, e1.digest)).ok());
  EXPECT_TRUE(Fails(c.CheckRestore(2, 1, 12345), "state machine safety"));
}

TEST(SafetyCheckerTest, CheckAllRunsEveryViewCheck) {
  SafetyChecker c;
  EXPECT_TRUE(c.CheckAll({Node(1, kLeader, 2, 2, {1, 2}), Node(2, kFollower, 2, 2, {1, 2})}).ok());
  EXPECT_EQ(c.committed_count(), 2u);
  EXPECT_TRUE(Fails(c.CheckAll({Node(1, kLeader, 2, 2, {1, 2}), Node(2, kLeader, 2, 2, {1, 2})}),
                    "election safety"));
  SafetyChecker d;
  EXPECT_TRUE(
      Fails(d.CheckAll({Node(1, kFollower, 2, 0, {1, 1, 2}), Node(2, kFollower, 2, 0, {1, 2, 2})}),
            "log matching"));
}

}  // namespace
}  // namespace etcd::raft::rafttest
