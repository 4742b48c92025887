#include "raft/confchange/raftpb_helpers.h"

#include <gtest/gtest.h>

namespace etcd::raft::confchange {
namespace {

raftpb::ConfState MakeConfState(std::vector<uint64_t> voters, std::vector<uint64_t> learners = {},
                                std::vector<uint64_t> outgoing = {},
                                std::vector<uint64_t> learners_next = {}, bool auto_leave = false) {
  raftpb::ConfState cs;
  for (uint64_t id : voters) cs.add_voters(id);
  for (uint64_t id : learners) cs.add_learners(id);
  for (uint64_t id : outgoing) cs.add_voters_outgoing(id);
  for (uint64_t id : learners_next) cs.add_learners_next(id);
  if (auto_leave) cs.set_auto_leave(true);
  return cs;
}

TEST(AsV2Test, CarriesTypeNodeAndContext) {
  raftpb::ConfChange v1;
  v1.set_type(raftpb::ConfChangeAddLearnerNode);
  v1.set_node_id(7);
  v1.set_context("ctx");
  v1.set_id(99);
  raftpb::ConfChangeV2 v2 = AsV2(v1);
  ASSERT_EQ(v2.changes_size(), 1);
  EXPECT_EQ(v2.changes(0).type(), raftpb::ConfChangeAddLearnerNode);
  EXPECT_EQ(v2.changes(0).node_id(), 7u);
  EXPECT_EQ(v2.context(), "ctx");
  EXPECT_EQ(v2.transition(), raftpb::ConfChangeTransitionAuto);
  bool auto_leave = true;
  EXPECT_FALSE(EnterJoint(v2, &auto_leave));
  EXPECT_FALSE(auto_leave);
  EXPECT_FALSE(LeaveJoint(v2));

  raftpb::ConfChange no_context;
  EXPECT_FALSE(AsV2(no_context).has_context());
}

TEST(EnterJointTest, Transitions) {
  struct Case {
    raftpb::ConfChangeTransition transition;
    int changes;
    bool want_joint;
    bool want_auto_leave;
  } cases[] = {
      {raftpb::ConfChangeTransitionAuto, 0, false, false},
      {raftpb::ConfChangeTransitionAuto, 1, false, false},
      {raftpb::ConfChangeTransitionAuto, 2, true, true},
      {raftpb::ConfChangeTransitionJointImplicit, 0, true, true},
      {raftpb::ConfChangeTransitionJointImplicit, 1, true, true},
      {raftpb::ConfChangeTransitionJointExplicit, 1, true, false},
      {raftpb::ConfChangeTransitionJointExplicit, 3, true, false},
  };
  for (const Case& c : cases) {
    raftpb::ConfChangeV2 cc;
    cc.set_transition(c.transition);
    for (int i = 0; i < c.changes; ++i) cc.add_changes()->set_node_id(i + 1);
    bool auto_leave = !c.want_auto_leave;
    EXPECT_EQ(EnterJoint(cc, &auto_leave), c.want_joint) << cc.ShortDebugString();
    EXPECT_EQ(auto_leave, c.want_auto_leave) << cc.ShortDebugString();
    EXPECT_EQ(EnterJoint(cc, nullptr), c.want_joint);
  }
}

TEST(LeaveJointTest, OnlyTheEmptyChange) {
  raftpb::ConfChangeV2 cc;
  EXPECT_TRUE(LeaveJoint(cc));
  cc.set_context("ignored");
  EXPECT_TRUE(LeaveJoint(cc));
  cc.set_transition(raftpb::ConfChangeTransitionJointExplicit);
  EXPECT_FALSE(LeaveJoint(cc));
  cc.set_transition(raftpb::ConfChangeTransitionAuto);
  cc.add_changes();
  EXPECT_FALSE(LeaveJoint(cc));
}

TEST(ConfChangesStringTest, RoundTrip) {
  absl::StatusOr<std::vector<raftpb::ConfChangeSingle>> ccs =
      ConfChangesFromString("  v1 l2 r3 u4 v18446744073709551615 ");
  ASSERT_TRUE(ccs.ok()) << ccs.status();
  ASSERT_EQ(ccs->size(), 5u);
  EXPECT_EQ((*ccs)[0].type(), raftpb::ConfChangeAddNode);
  EXPECT_EQ((*ccs)[1].type(), raftpb::ConfChangeAddLearnerNode);
  EXPECT_EQ((*ccs)[2].type(), raftpb::ConfChangeRemoveNode);
  EXPECT_EQ((*ccs)[3].type(), raftpb::ConfChangeUpdateNode);
  EXPECT_EQ((*ccs)[4].node_id(), UINT64_MAX);
  EXPECT_EQ(ConfChangesToString(*ccs), "v1 l2 r3 u4 v18446744073709551615");

  raftpb::ConfChangeV2 cc;
  for (const auto& c : *ccs) *cc.add_changes() = c;
  EXPECT_EQ(ConfChangesToString(cc.changes()), "v1 l2 r3 u4 v18446744073709551615");

  ccs = ConfChangesFromString("   ");
  ASSERT_TRUE(ccs.ok());
  EXPECT_TRUE(ccs->empty());
}

TEST(ConfChangesStringTest, Errors) {
  EXPECT_EQ(ConfChangesFromString("v1 x").status().message(), "unknown token x");
  EXPECT_EQ(ConfChangesFromString("x1").status().message(), "unknown input: x1");
  EXPECT_FALSE(ConfChangesFromString("vx").ok());
  EXPECT_FALSE(ConfChangesFromString("v-1").ok());
  EXPECT_FALSE(ConfChangesFromString("v1  v2").ok());  // an empty token
}

TEST(EquivalentTest, IgnoresOrderOnly) {
  EXPECT_TRUE(Equivalent(MakeConfState({1, 2, 3}, {5, 4, 6}, {9, 8, 7}, {10, 20, 15}),
                         MakeConfState({1, 2, 3}, {4, 5, 6}, {7, 9, 8}, {20, 10, 15}))
                  .ok());
  EXPECT_TRUE(Equivalent(MakeConfState({}), raftpb::ConfState()).ok());
  EXPECT_FALSE(Equivalent(MakeConfState({1, 2, 3, 4}), MakeConfState({2, 1, 3})).ok());
  EXPECT_FALSE(Equivalent(MakeConfState({1, 4, 3}), MakeConfState({2, 1, 3})).ok());
  EXPECT_FALSE(Equivalent(MakeConfState({1}, {2}), MakeConfState({1}, {3})).ok());
  EXPECT_FALSE(Equivalent(MakeConfState({}, {}, {}, {}, true), raftpb::ConfState()).ok());
  absl::Status s = Equivalent(MakeConfState({1}), MakeConfState({2}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Voters:[1]"), absl::string_view::npos) << s;
}

TEST(ConfStateStringTest, EtcdFormat) {
  EXPECT_EQ(ConfStateString(MakeConfState({1, 2, 3}, {}, {1}, {}, true)),
            "Voters:[1 2 3] VotersOutgoing:[1] Learners:[] LearnersNext:[] AutoLeave:true");
  EXPECT_EQ(ConfStateString(raftpb::ConfState()),
            "Voters:[] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false");
}

}  // namespace
}  // namespace etcd::raft::confchange
