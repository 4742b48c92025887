// RawNode::Step and messages no correct peer sends: each one that would make
// the node abort or corrupt its log is refused with ErrStepInvalidMsg and
// changes nothing; look-alike messages that correct peers do send still go
// through. (raft_fuzz covers the same ground with arbitrary messages.)

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raft/errors.h"
#include "raft/raft_test_helpers.h"
#include "raft/rawnode.h"
#include "raft/util.h"

namespace etcd::raft::testing {
namespace {

// Node 2 of {1, 2, 3}: a follower of 1 in term 2 whose log holds entries
// 1..5 of term 1, committed up to 3.
class HostileStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(storage_.Append(EntsWithTerms({1, 1, 1, 1, 1})).ok());
    ASSERT_TRUE(storage_.SetHardState(HS(2, 0, 3)).ok());
    absl::StatusOr<std::unique_ptr<RawNode>> rn =
        RawNode::New(NewTestConfig(2, {1, 2, 3}, 10, 1, &storage_));
    ASSERT_TRUE(rn.ok()) << rn.status();
    rn_ = *std::move(rn);
    raftpb::Message hb = Msg(1, 2, raftpb::MsgHeartbeat, 2);
    hb.set_commit(3);
    ASSERT_TRUE(rn_->Step(hb).ok());
    ASSERT_EQ(rn_->raft().lead(), 1u);
    rn_->raft().ReadMessages();
  }

  // Steps `m` and expects it refused with nothing changed.
  void ExpectRefused(raftpb::Message m, const std::string& what) {
    const Raft& r = rn_->raft();
    uint64_t term = r.term();
    uint64_t lead = r.lead();
    uint64_t committed = r.raft_log().committed();
    uint64_t last = r.raft_log().LastIndex();
    absl::Status s = rn_->Step(std::move(m));
    EXPECT_TRUE(IsStepInvalidMsg(s)) << what << ": " << s;
    EXPECT_EQ(r.term(), term) << what;
    EXPECT_EQ(r.lead(), lead) << what;
    EXPECT_EQ(r.raft_log().committed(), committed) << what;
    EXPECT_EQ(r.raft_log().LastIndex(), last) << what;
    EXPECT_TRUE(rn_->raft().ReadMessages().empty()) << what;
  }

  void ExpectStepped(raftpb::Message m, const std::string& what) {
    absl::Status s = rn_->Step(std::move(m));
    EXPECT_FALSE(IsStepInvalidMsg(s)) << what << ": " << s;
  }

  static raftpb::Message App(uint64_t term, uint64_t index, uint64_t logterm,
                             std::vector<raftpb::Entry> ents, uint64_t commit = 0) {
    raftpb::Message m = Msg(1, 2, raftpb::MsgApp, term);
    m.set_index(index);
    m.set_logterm(logterm);
    m.set_commit(commit);
    for (raftpb::Entry& e : ents) *m.add_entries() = std::move(e);
    return m;
  }

  MemoryStorage storage_;
  std::unique_ptr<RawNode> rn_;
};

TEST_F(HostileStepTest, TermRules) {
  ExpectRefused(Msg(1, 2, raftpb::MsgApp, 0), "MsgApp without a term");
  ExpectRefused(Msg(1, 2, raftpb::MsgVote, 0), "MsgVote without a term");
  ExpectRefused(Msg(1, 2, raftpb::MsgHeartbeat, 0), "MsgHeartbeat without a term");
  raftpb::Message prop = Msg(1, 2, raftpb::MsgProp, 2);
  prop.add_entries()->set_data("x");
  ExpectRefused(prop, "MsgProp with a term");
  raftpb::Message read = Msg(1, 2, raftpb::MsgReadIndex, 2);
  read.add_entries()->set_data("ctx");
  ExpectRefused(read, "MsgReadIndex with a term");
  ExpectRefused(Msg(1, 2, raftpb::MsgHeartbeat, std::numeric_limits<uint64_t>::max()),
                "a term that overflows");
}

TEST_F(HostileStepTest, Requests) {
  ExpectRefused(Msg(3, 2, raftpb::MsgProp), "an empty proposal");
  raftpb::Message bad_cc = Msg(3, 2, raftpb::MsgProp);
  raftpb::Entry* e = bad_cc.add_entries();
  e->set_type(raftpb::EntryConfChangeV2);
  e->set_data("\xff\xff\xff");
  ExpectRefused(bad_cc, "a conf change that does not parse");
  ExpectRefused(Msg(3, 2, raftpb::MsgReadIndex), "a read request without its context");
  ExpectRefused(Msg(3, 2, raftpb::MsgTransferLeader, 2), "a transfer a follower would forward");

  raftpb::Message prop = Msg(3, 2, raftpb::MsgProp);
  prop.add_entries()->set_data("x");
  ExpectStepped(prop, "a forwarded proposal");
  EXPECT_EQ(rn_->raft().ReadMessages().size(), 1u);  // forwarded to 1
}

TEST_F(HostileStepTest, Appends) {
  ExpectRefused(App(2, 5, 1, {Ent(7, 2)}), "entries not numbered from index+1");
  ExpectRefused(App(2, 5, 1, {Ent(6, 2), Ent(8, 2)}), "a gap between entries");
  ExpectRefused(App(2, 5, 1, {Ent(6, 0), Ent(7, 2)}), "an entry without a term");
  ExpectRefused(App(2, std::numeric_limits<uint64_t>::max(), 0, {Ent(0, 2)}),
                "indexes that overflow");
  ExpectRefused(App(2, 9, 0, {}, 9), "a log term 0 past the last index");
}

TEST_F(HostileStepTest, CorrectAppendsGoThrough) {
  // Overwriting the uncommitted tail, appending, a probe that does not
  // match, an old message below the commit index.
  ExpectStepped(App(2, 3, 1, {Ent(4, 2), Ent(5, 2), Ent(6, 2)}, 5), "a new tail");
  EXPECT_EQ(rn_->raft().raft_log().LastIndex(), 6u);
  EXPECT_EQ(rn_->raft().raft_log().committed(), 5u);
  ExpectStepped(App(2, 9, 2, {}), "a probe past the end");
  ExpectStepped(App(2, 1, 1, {Ent(2, 1)}), "a delayed append below the commit index");
  // Below the commit index nothing is overwritten: raft answers with it.
  ExpectStepped(App(2, 1, 1, {Ent(2, 9)}), "a conflicting append below the commit index");
  EXPECT_EQ(rn_->raft().raft_log().Term(2).value(), 1u);
  // A stale leader's conflicting append is answered, not refused.
  ExpectStepped(App(1, 1, 1, {Ent(2, 7)}), "an append of an older term");
}

TEST_F(HostileStepTest, Heartbeats) {
  raftpb::Message hb = Msg(1, 2, raftpb::MsgHeartbeat, 2);
  hb.set_commit(6);
  ExpectRefused(hb, "a commit past the last index");
  hb.set_commit(5);
  ExpectStepped(hb, "a commit within the log");
  EXPECT_EQ(rn_->raft().raft_log().committed(), 5u);
}

TEST_F(HostileStepTest, Snapshots) {
  raftpb::Message snap = Msg(1, 2, raftpb::MsgSnap, 2);
  *snap.mutable_snapshot() = Snap(10, 0, {1, 2, 3});
  ExpectRefused(snap, "a snapshot without a term");
  *snap.mutable_snapshot() = Snap(10, 2, {1, 2});
  snap.mutable_snapshot()->mutable_metadata()->mutable_conf_state()->add_learners(2);
  ExpectRefused(snap, "a node both voter and learner");
  *snap.mutable_snapshot() = Snap(10, 2, {1, 2, 3});
  ExpectStepped(snap, "a valid snapshot");
  EXPECT_EQ(rn_->raft().raft_log().committed(), 10u);
}

TEST_F(HostileStepTest, AcknowledgementsPastTheLeadersLog) {
  // Make node 2 the leader of term 3.
  ASSERT_TRUE(rn_->Campaign().ok());
  ExpectStepped(Msg(1, 2, raftpb::MsgVoteResp, 3), "a granted vote");
  ASSERT_EQ(rn_->raft().state(), StateType::kLeader);
  rn_->raft().ReadMessages();
  raftpb::Message ack = Msg(1, 2, raftpb::MsgAppResp, 3);
  ack.set_index(rn_->raft().raft_log().LastIndex() + 1);
  ExpectRefused(ack, "an acknowledgement past the leader's log");
  ack.set_index(rn_->raft().raft_log().LastIndex());
  ExpectStepped(ack, "an acknowledgement of the leader's log");
}

TEST(RawNodeCheckConfChangeTest, TellsWhatApplyConfChangeWouldRefuse) {
  MemoryStorage s;
  absl::StatusOr<std::unique_ptr<RawNode>> rn = RawNode::New(NewTestConfig(1, {1}, 10, 1, &s));
  ASSERT_TRUE(rn.ok());
  raftpb::ConfChange remove;
  remove.set_type(raftpb::ConfChangeRemoveNode);
  remove.set_node_id(1);
  EXPECT_FALSE((*rn)->CheckConfChange(AsV2(remove)).ok());  // no voters left
  raftpb::ConfChange add;
  add.set_type(raftpb::ConfChangeAddNode);
  add.set_node_id(2);
  EXPECT_TRUE((*rn)->CheckConfChange(AsV2(add)).ok());
  EXPECT_FALSE((*rn)->CheckConfChange(raftpb::ConfChangeV2()).ok());  // not joint
  // Checking changed nothing.
  EXPECT_EQ((*rn)->raft().prs().VoterNodes(), (std::vector<uint64_t>{1}));
}

}  // namespace
}  // namespace etcd::raft::testing
