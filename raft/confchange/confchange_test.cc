#include "raft/confchange/confchange.h"

#include <gtest/gtest.h>

#include <vector>

#include "raft/confchange/raftpb_helpers.h"

namespace etcd::raft::confchange {
namespace {

std::vector<raftpb::ConfChangeSingle> CCs(const char* s) {
  absl::StatusOr<std::vector<raftpb::ConfChangeSingle>> ccs = ConfChangesFromString(s);
  EXPECT_TRUE(ccs.ok()) << ccs.status();
  return ccs.ok() ? *ccs : std::vector<raftpb::ConfChangeSingle>{};
}

// Applies `r` to `tr`, failing the test on error.
void Adopt(tracker::ProgressTracker& tr, absl::StatusOr<ChangeResult> r) {
  ASSERT_TRUE(r.ok()) << r.status();
  tr.config = std::move(r->config);
  tr.progress = std::move(r->progress);
}

std::string ErrorOf(const absl::StatusOr<ChangeResult>& r) {
  return r.ok() ? "ok" : std::string(r.status().message());
}

TEST(ChangerTest, SimpleAddsVoterWithFreshProgress) {
  tracker::ProgressTracker tr(7);
  Adopt(tr, Changer(tr, 5).Simple(CCs("v1")));
  EXPECT_EQ(tr.config.String(), "voters=(1)");
  const tracker::Progress& pr = tr.progress.at(1);
  EXPECT_EQ(pr.next, 5u);
  EXPECT_EQ(pr.match, 0u);
  EXPECT_TRUE(pr.recent_active);
  EXPECT_FALSE(pr.is_learner);
  EXPECT_EQ(pr.inflights.size(), 7u);
  EXPECT_EQ(pr.state, tracker::StateType::kProbe);
}

TEST(ChangerTest, DoesNotModifyTheTracker) {
  tracker::ProgressTracker tr(10);
  Adopt(tr, Changer(tr, 1).Simple(CCs("v1")));
  tracker::ProgressTracker before = tr;
  absl::StatusOr<ChangeResult> r = Changer(tr, 2).EnterJoint(true, CCs("v2 v3 l1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(tr.config, before.config);
  EXPECT_EQ(tr.progress, before.progress);
  EXPECT_EQ(r->config.String(), "voters=(2 3)&&(1) learners_next=(1) autoleave");
}

TEST(ChangerTest, ErrorTextsAreEtcds) {
  tracker::ProgressTracker tr(10);
  EXPECT_EQ(ErrorOf(Changer(tr, 0).LeaveJoint()), "can't leave a non-joint config");
  EXPECT_EQ(ErrorOf(Changer(tr, 0).EnterJoint(false, CCs("v1"))),
            "can't make a zero-voter config joint");
  EXPECT_EQ(ErrorOf(Changer(tr, 0).Simple(CCs("l1"))), "removed all voters");
  Adopt(tr, Changer(tr, 0).Simple(CCs("v1")));
  EXPECT_EQ(ErrorOf(Changer(tr, 0).Simple(CCs("v2 v3"))),
            "more than one voter changed without entering joint config");
  EXPECT_EQ(ErrorOf(Changer(tr, 0).Simple(CCs("r1"))), "removed all voters");
  Adopt(tr, Changer(tr, 0).EnterJoint(false, CCs("v2")));
  EXPECT_EQ(ErrorOf(Changer(tr, 0).EnterJoint(false, CCs(""))), "config is already joint");
  EXPECT_EQ(ErrorOf(Changer(tr, 0).Simple(CCs("v5"))),
            "can't apply simple config change in joint config");

  absl::StatusOr<ChangeResult> r = Changer(tr, 0).LeaveJoint();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->config.String(), "voters=(1 2)");
}

TEST(ChangerTest, StatusCodes) {
  tracker::ProgressTracker tr(10);
  EXPECT_EQ(Changer(tr, 0).LeaveJoint().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Changer(tr, 0).Simple(CCs("l1")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ChangerTest, ZeroNodeIDIsSkipped) {
  tracker::ProgressTracker tr(10);
  Adopt(tr, Changer(tr, 0).Simple(CCs("v1 r0 v0 l0")));
  EXPECT_EQ(tr.config.String(), "voters=(1)");
  EXPECT_EQ(tr.progress.size(), 1u);
}

TEST(ChangerTest, DemotionThroughJointKeepsProgress) {
  tracker::ProgressTracker tr(10);
  Adopt(tr, Changer(tr, 0).Simple(CCs("v1")));
  Adopt(tr, Changer(tr, 1).Simple(CCs("v2")));
  tr.progress[1].match = 42;
  Adopt(tr, Changer(tr, 2).EnterJoint(false, CCs("v3 l1")));
  EXPECT_EQ(tr.config.String(), "voters=(2 3)&&(1 2) learners_next=(1)");
  EXPECT_FALSE(tr.progress.at(1).is_learner);
  Adopt(tr, Changer(tr, 3).LeaveJoint());
  EXPECT_EQ(tr.config.String(), "voters=(2 3) learners=(1)");
  EXPECT_TRUE(tr.progress.at(1).is_learner);
  EXPECT_EQ(tr.progress.at(1).match, 42u);
}

TEST(ChangerTest, LeaveJointDropsNodesOnlyInOutgoing) {
  tracker::ProgressTracker tr(10);
  Adopt(tr, Changer(tr, 0).Simple(CCs("v1")));
  Adopt(tr, Changer(tr, 0).Simple(CCs("v2")));
  Adopt(tr, Changer(tr, 0).EnterJoint(true, CCs("r2 v3")));
  EXPECT_EQ(tr.progress.size(), 3u);  // 2 is still an outgoing voter
  Adopt(tr, Changer(tr, 0).LeaveJoint());
  EXPECT_EQ(tr.config.String(), "voters=(1 3)");
  EXPECT_EQ(tr.progress.count(2), 0u);
  EXPECT_FALSE(tr.config.auto_leave);
}

TEST(ChangerTest, AcceptsRepeatedField) {
  tracker::ProgressTracker tr(10);
  raftpb::ConfChangeV2 cc;
  raftpb::ConfChangeSingle* c = cc.add_changes();
  c->set_type(raftpb::ConfChangeAddNode);
  c->set_node_id(4);
  Adopt(tr, Changer(tr, 0).Simple(cc.changes()));
  c->set_node_id(5);
  Adopt(tr, Changer(tr, 0).EnterJoint(false, cc.changes()));
  EXPECT_EQ(tr.config.String(), "voters=(4 5)&&(4)");
}

TEST(ChangerTest, BrokenInputInvariantIsInternalError) {
  tracker::ProgressTracker tr(10);
  tr.config.voters.incoming() = quorum::MajorityConfig{1};
  absl::StatusOr<ChangeResult> r = Changer(tr, 0).Simple(CCs("v2"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(r.status().message(), "no progress for 1");

  tr.progress[1].inflights = tracker::Inflights(10);
  tr.config.learners = quorum::MajorityConfig{1};
  tr.progress[1].is_learner = true;
  EXPECT_EQ(ErrorOf(Changer(tr, 0).Simple(CCs("v2"))), "1 is in Learners and Voters[0]");
}

TEST(DescribeTest, NamesTypesAndIDs) {
  EXPECT_EQ(Describe(CCs("v1 l2 r3 u4")),
            "ConfChangeAddNode(1) ConfChangeAddLearnerNode(2) ConfChangeRemoveNode(3) "
            "ConfChangeUpdateNode(4)");
  EXPECT_EQ(Describe({}), "");
}

}  // namespace
}  // namespace etcd::raft::confchange
