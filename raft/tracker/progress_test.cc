#include "raft/tracker/progress.h"

#include <gtest/gtest.h>

namespace etcd::raft::tracker {
namespace {

TEST(ProgressTest, String) {
  Inflights ins(1);
  ins.Add(123);
  Progress pr;
  pr.match = 1;
  pr.next = 2;
  pr.state = StateType::kSnapshot;
  pr.pending_snapshot = 123;
  pr.recent_active = false;
  pr.probe_sent = true;
  pr.is_learner = true;
  pr.inflights = ins;
  EXPECT_EQ(
      pr.String(),
      "StateSnapshot match=1 next=2 learner paused pendingSnap=123 inactive inflight=1[full]");
}

TEST(ProgressTest, StringMinimal) {
  Progress pr;
  pr.next = 1;
  pr.recent_active = true;
  pr.inflights = Inflights(256);
  EXPECT_EQ(pr.String(), "StateProbe match=0 next=1");
  pr.BecomeReplicate();
  pr.inflights.Add(1);
  EXPECT_EQ(pr.String(), "StateReplicate match=0 next=1 inflight=1");
}

TEST(ProgressTest, StateNames) {
  EXPECT_STREQ(StateTypeString(StateType::kProbe), "StateProbe");
  EXPECT_STREQ(StateTypeString(StateType::kReplicate), "StateReplicate");
  EXPECT_STREQ(StateTypeString(StateType::kSnapshot), "StateSnapshot");
}

TEST(ProgressTest, IsPaused) {
  struct Case {
    StateType state;
    bool probe_sent;
    bool want;
  } cases[] = {
      {StateType::kProbe, false, false},     {StateType::kProbe, true, true},
      {StateType::kReplicate, false, false}, {StateType::kReplicate, true, false},
      {StateType::kSnapshot, false, true},   {StateType::kSnapshot, true, true},
  };
  for (const Case& c : cases) {
    Progress p;
    p.state = c.state;
    p.probe_sent = c.probe_sent;
    p.inflights = Inflights(256);
    EXPECT_EQ(p.IsPaused(), c.want) << StateTypeString(c.state) << " " << c.probe_sent;
  }
}

TEST(ProgressTest, ReplicateIsPausedWhenWindowFull) {
  Progress p;
  p.inflights = Inflights(2);
  p.BecomeReplicate();
  p.inflights.Add(1);
  EXPECT_FALSE(p.IsPaused());
  p.inflights.Add(2);
  EXPECT_TRUE(p.IsPaused());
  p.inflights.FreeLE(1);
  EXPECT_FALSE(p.IsPaused());
}

// MaybeUpdate and MaybeDecrTo clear probe_sent.
TEST(ProgressTest, Resume) {
  Progress p;
  p.next = 2;
  p.probe_sent = true;
  p.MaybeDecrTo(1, 1);
  EXPECT_FALSE(p.probe_sent);
  p.probe_sent = true;
  p.MaybeUpdate(2);
  EXPECT_FALSE(p.probe_sent);
}

TEST(ProgressTest, BecomeProbe) {
  struct Case {
    StateType state;
    uint64_t pending_snapshot;
    uint64_t want_next;
  } cases[] = {
      {StateType::kReplicate, 0, 2},
      {StateType::kSnapshot, 10, 11},  // snapshot applied
      {StateType::kSnapshot, 0, 2},    // snapshot failed
  };
  for (const Case& c : cases) {
    Progress p;
    p.state = c.state;
    p.match = 1;
    p.next = 5;
    p.pending_snapshot = c.pending_snapshot;
    p.inflights = Inflights(256);
    p.inflights.Add(3);
    p.probe_sent = true;
    p.BecomeProbe();
    EXPECT_EQ(p.state, StateType::kProbe);
    EXPECT_EQ(p.match, 1u);
    EXPECT_EQ(p.next, c.want_next);
    EXPECT_EQ(p.pending_snapshot, 0u);
    EXPECT_FALSE(p.probe_sent);
    EXPECT_EQ(p.inflights.Count(), 0u);
  }
}

TEST(ProgressTest, BecomeReplicate) {
  Progress p;
  p.match = 1;
  p.next = 5;
  p.inflights = Inflights(256);
  p.BecomeReplicate();
  EXPECT_EQ(p.state, StateType::kReplicate);
  EXPECT_EQ(p.match, 1u);
  EXPECT_EQ(p.next, 2u);
}

TEST(ProgressTest, BecomeSnapshot) {
  Progress p;
  p.match = 1;
  p.next = 5;
  p.inflights = Inflights(256);
  p.BecomeSnapshot(10);
  EXPECT_EQ(p.state, StateType::kSnapshot);
  EXPECT_EQ(p.match, 1u);
  EXPECT_EQ(p.pending_snapshot, 10u);
  EXPECT_TRUE(p.IsPaused());
}

TEST(ProgressTest, MaybeUpdate) {
  const uint64_t prev_m = 3, prev_n = 5;
  struct Case {
    uint64_t update;
    uint64_t want_match;
    uint64_t want_next;
    bool want_ok;
  } cases[] = {
      {prev_m - 1, prev_m, prev_n, false},         // match and next stay
      {prev_m, prev_m, prev_n, false},             // next stays
      {prev_m + 1, prev_m + 1, prev_n, true},      // match rises, next stays
      {prev_m + 2, prev_m + 2, prev_n + 1, true},  // both rise
  };
  for (const Case& c : cases) {
    Progress p;
    p.match = prev_m;
    p.next = prev_n;
    EXPECT_EQ(p.MaybeUpdate(c.update), c.want_ok) << c.update;
    EXPECT_EQ(p.match, c.want_match) << c.update;
    EXPECT_EQ(p.next, c.want_next) << c.update;
  }
}

TEST(ProgressTest, OptimisticUpdate) {
  Progress p;
  p.next = 3;
  p.OptimisticUpdate(9);
  EXPECT_EQ(p.next, 10u);
}

TEST(ProgressTest, MaybeDecrTo) {
  struct Case {
    StateType state;
    uint64_t match, next, rejected, last;
    bool want;
    uint64_t want_next;
  } cases[] = {
      // kReplicate, rejected not above match: stale.
      {StateType::kReplicate, 5, 10, 5, 5, false, 10},
      {StateType::kReplicate, 5, 10, 4, 4, false, 10},
      // kReplicate, rejected above match: back to match+1.
      {StateType::kReplicate, 5, 10, 9, 9, true, 6},
      // kProbe, rejected != next-1: stale.
      {StateType::kProbe, 0, 0, 0, 0, false, 0},
      {StateType::kProbe, 0, 10, 5, 5, false, 10},
      // kProbe: next drops to rejected.
      {StateType::kProbe, 0, 10, 9, 9, true, 9},
      {StateType::kProbe, 0, 2, 1, 1, true, 1},
      // ... but not below 1.
      {StateType::kProbe, 0, 1, 0, 0, true, 1},
      // ... and to last+1 if the follower's log is shorter.
      {StateType::kProbe, 0, 10, 9, 2, true, 3},
      {StateType::kProbe, 0, 10, 9, 0, true, 1},
  };
  int i = 0;
  for (const Case& c : cases) {
    Progress p;
    p.state = c.state;
    p.match = c.match;
    p.next = c.next;
    EXPECT_EQ(p.MaybeDecrTo(c.rejected, c.last), c.want) << "case " << i;
    EXPECT_EQ(p.match, c.match) << "case " << i;
    EXPECT_EQ(p.next, c.want_next) << "case " << i;
    ++i;
  }
}

TEST(ProgressMapTest, StringIsSortedByID) {
  ProgressMap m;
  m[3].recent_active = true;
  m[3].next = 7;
  m[1].recent_active = true;
  m[1].is_learner = true;
  EXPECT_EQ(ProgressMapString(m),
            "1: StateProbe match=0 next=0 learner\n"
            "3: StateProbe match=0 next=7\n");
  EXPECT_EQ(ProgressMapString({}), "");
}

}  // namespace
}  // namespace etcd::raft::tracker
