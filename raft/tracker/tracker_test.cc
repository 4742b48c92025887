#include "raft/tracker/tracker.h"

#include <gtest/gtest.h>

#include <vector>

namespace etcd::raft::tracker {
namespace {

using quorum::MajorityConfig;
using quorum::VoteResult;

// A tracker with the given voters (incoming, outgoing) and learners, each
// with a fresh active Progress.
ProgressTracker MakeTracker(MajorityConfig incoming, MajorityConfig outgoing = {},
                            MajorityConfig learners = {}) {
  ProgressTracker t(10);
  t.config.voters = quorum::JointConfig(std::move(incoming), std::move(outgoing));
  t.config.learners = std::move(learners);
  for (uint64_t id : t.config.voters.IDs()) t.progress[id].inflights = Inflights(10);
  for (uint64_t id : t.config.learners) {
    t.progress[id].inflights = Inflights(10);
    t.progress[id].is_learner = true;
  }
  for (auto& [id, pr] : t.progress) pr.recent_active = true;
  return t;
}

TEST(ConfigTest, String) {
  Config c;
  EXPECT_EQ(c.String(), "voters=()");
  c.voters = quorum::JointConfig(MajorityConfig{1, 2, 3});
  EXPECT_EQ(c.String(), "voters=(1 2 3)");
  c.voters.outgoing() = MajorityConfig{1, 2, 4};
  c.learners = MajorityConfig{5};
  c.learners_next = MajorityConfig{4};
  c.auto_leave = true;
  EXPECT_EQ(c.String(), "voters=(1 2 3)&&(1 2 4) learners=(5) learners_next=(4) autoleave");
  Config copy = c;
  EXPECT_EQ(copy, c);
  copy.learners.Insert(9);
  EXPECT_NE(copy, c);
}

TEST(ProgressTrackerTest, ConfState) {
  ProgressTracker t = MakeTracker({3, 1, 2}, {1, 2, 4, 6}, {5});
  t.config.learners_next = MajorityConfig{4};
  t.config.auto_leave = true;
  raftpb::ConfState cs = t.ConfState();
  EXPECT_EQ(std::vector<uint64_t>(cs.voters().begin(), cs.voters().end()),
            (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(std::vector<uint64_t>(cs.voters_outgoing().begin(), cs.voters_outgoing().end()),
            (std::vector<uint64_t>{1, 2, 4, 6}));
  EXPECT_EQ(std::vector<uint64_t>(cs.learners().begin(), cs.learners().end()),
            (std::vector<uint64_t>{5}));
  EXPECT_EQ(std::vector<uint64_t>(cs.learners_next().begin(), cs.learners_next().end()),
            (std::vector<uint64_t>{4}));
  EXPECT_TRUE(cs.auto_leave());

  raftpb::ConfState empty = ProgressTracker(10).ConfState();
  EXPECT_EQ(empty.voters_size(), 0);
  EXPECT_TRUE(empty.has_auto_leave());
  EXPECT_FALSE(empty.auto_leave());
}

TEST(ProgressTrackerTest, IsSingleton) {
  EXPECT_TRUE(MakeTracker({1}).IsSingleton());
  EXPECT_FALSE(MakeTracker({1, 2}).IsSingleton());
  EXPECT_FALSE(MakeTracker({1}, {2}).IsSingleton());
  EXPECT_FALSE(ProgressTracker(10).IsSingleton());
}

TEST(ProgressTrackerTest, CommittedUsesMatchOfVoters) {
  ProgressTracker t = MakeTracker({1, 2, 3}, {}, {4});
  t.progress[1].match = 10;
  t.progress[2].match = 7;
  t.progress[3].match = 5;
  t.progress[4].match = 100;  // a learner does not count
  EXPECT_EQ(t.Committed(), 7u);

  // Joint: the outgoing half (3 4') holds it back.
  ProgressTracker j = MakeTracker({1, 2}, {3, 5});
  j.progress[1].match = 10;
  j.progress[2].match = 10;
  j.progress[3].match = 4;
  j.progress[5].match = 2;
  EXPECT_EQ(j.Committed(), 2u);
}

TEST(ProgressTrackerTest, VisitInIDOrder) {
  ProgressTracker t = MakeTracker({9, 3, 7, 1, 12, 4, 8, 2, 11});
  std::vector<uint64_t> seen;
  t.Visit([&](uint64_t id, Progress& pr) {
    seen.push_back(id);
    pr.match = id;
  });
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4, 7, 8, 9, 11, 12}));
  EXPECT_EQ(t.progress[12].match, 12u);
}

TEST(ProgressTrackerTest, QuorumActive) {
  ProgressTracker t = MakeTracker({1, 2, 3}, {}, {4});
  EXPECT_TRUE(t.QuorumActive());
  t.progress[2].recent_active = false;
  EXPECT_TRUE(t.QuorumActive());
  t.progress[3].recent_active = false;
  EXPECT_FALSE(t.QuorumActive());
  // An active learner does not help.
  t.progress[4].recent_active = true;
  EXPECT_FALSE(t.QuorumActive());
}

TEST(ProgressTrackerTest, VoterAndLearnerNodes) {
  ProgressTracker t = MakeTracker({3, 1}, {1, 5}, {7, 6});
  EXPECT_EQ(t.VoterNodes(), (std::vector<uint64_t>{1, 3, 5}));
  EXPECT_EQ(t.LearnerNodes(), (std::vector<uint64_t>{6, 7}));
  EXPECT_TRUE(MakeTracker({1}).LearnerNodes().empty());
}

TEST(ProgressTrackerTest, VotesAndTally) {
  ProgressTracker t = MakeTracker({1, 2, 3}, {}, {4});
  VoteTally tally = t.TallyVotes();
  EXPECT_EQ(tally.result, VoteResult::kVotePending);

  t.RecordVote(1, true);
  t.RecordVote(1, false);  // ignored: first vote counts
  t.RecordVote(4, true);   // a learner's vote counts nowhere
  t.RecordVote(9, false);  // nor does a stranger's
  tally = t.TallyVotes();
  EXPECT_EQ(tally.granted, 1);
  EXPECT_EQ(tally.rejected, 0);
  EXPECT_EQ(tally.result, VoteResult::kVotePending);

  t.RecordVote(2, false);
  t.RecordVote(3, false);
  tally = t.TallyVotes();
  EXPECT_EQ(tally.granted, 1);
  EXPECT_EQ(tally.rejected, 2);
  EXPECT_EQ(tally.result, VoteResult::kVoteLost);

  t.ResetVotes();
  t.RecordVote(2, true);
  t.RecordVote(3, true);
  tally = t.TallyVotes();
  EXPECT_EQ(tally.granted, 2);
  EXPECT_EQ(tally.result, VoteResult::kVoteWon);
}

TEST(ProgressTrackerTest, JointElectionNeedsBothHalves) {
  ProgressTracker t = MakeTracker({1, 2, 3}, {3, 4, 5});
  t.RecordVote(1, true);
  t.RecordVote(2, true);
  EXPECT_EQ(t.TallyVotes().result, VoteResult::kVotePending);
  t.RecordVote(4, false);
  t.RecordVote(5, false);
  EXPECT_EQ(t.TallyVotes().result, VoteResult::kVoteLost);
}

}  // namespace
}  // namespace etcd::raft::tracker
