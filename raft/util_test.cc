#include "raft/util.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raft/raft_test_util.h"

namespace etcd::raft {
namespace {

using ::etcd::raft::testing::Ent;

raftpb::Entry ConfChangeEntry(uint64_t term, uint64_t index, const raftpb::ConfChangeV2& cc) {
  raftpb::Entry e = Ent(index, term);
  e.set_type(raftpb::EntryConfChangeV2);
  e.set_data(MarshalConfChange(cc));
  return e;
}

TEST(UtilTest, DescribeEntry) {
  raftpb::Entry e = Ent(3, 1, "hello\nworld");
  EXPECT_EQ(DescribeEntry(e, nullptr), "1/3 EntryNormal \"hello\\nworld\"");
  EXPECT_EQ(DescribeEntry(Ent(3, 1), nullptr), "1/3 EntryNormal \"\"");
  EXPECT_EQ(DescribeEntry(e, [](absl::string_view d) { return "<" + std::string(d) + ">"; }),
            "1/3 EntryNormal <hello\nworld>");

  raftpb::ConfChangeV2 cc;
  for (auto [type, id] : std::vector<std::pair<raftpb::ConfChangeType, uint64_t>>{
           {raftpb::ConfChangeAddNode, 2},
           {raftpb::ConfChangeAddLearnerNode, 3},
           {raftpb::ConfChangeRemoveNode, 4},
           {raftpb::ConfChangeUpdateNode, 5}}) {
    auto* c = cc.add_changes();
    c->set_type(type);
    c->set_node_id(id);
  }
  EXPECT_EQ(DescribeEntry(ConfChangeEntry(1, 4, cc), nullptr), "1/4 EntryConfChangeV2 v2 l3 r4 u5");
  // The empty change has nothing after the type.
  EXPECT_EQ(DescribeEntry(ConfChangeEntry(1, 5, raftpb::ConfChangeV2()), nullptr),
            "1/5 EntryConfChangeV2");

  raftpb::ConfChange v1;
  v1.set_type(raftpb::ConfChangeAddNode);
  v1.set_node_id(7);
  raftpb::Entry e1 = Ent(1, 1);
  e1.set_type(raftpb::EntryConfChange);
  e1.set_data(MarshalConfChange(v1));
  EXPECT_EQ(DescribeEntry(e1, nullptr), "1/1 EntryConfChange v7");
}

TEST(UtilTest, GoQuote) {
  EXPECT_EQ(GoQuote(""), "\"\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote(std::string("\x00\x01\x7f\t", 4)), "\"\\x00\\x01\\x7f\\t\"");
  EXPECT_EQ(GoQuote("\xff"), "\"\\xff\"");
  EXPECT_EQ(GoQuote("h\xc3\xa9"), "\"h\xc3\xa9\"");  // valid UTF-8 is kept
}

TEST(UtilTest, DescribeMessage) {
  raftpb::Message m;
  m.set_from(1);
  m.set_to(2);
  m.set_type(raftpb::MsgApp);
  m.set_term(1);
  m.set_logterm(1);
  m.set_index(2);
  m.set_commit(2);
  *m.add_entries() = Ent(3, 1);
  EXPECT_EQ(DescribeMessage(m, nullptr),
            "1->2 MsgApp Term:1 Log:1/2 Commit:2 Entries:[1/3 EntryNormal \"\"]");

  raftpb::Message r;
  r.set_from(26);
  r.set_to(1);
  r.set_type(raftpb::MsgAppResp);
  r.set_term(1);
  r.set_index(3);
  r.set_reject(true);
  r.set_rejecthint(0);
  EXPECT_EQ(DescribeMessage(r, nullptr), "1a->1 MsgAppResp Term:1 Log:0/3 Rejected (Hint: 0)");

  raftpb::Message s;
  s.set_from(1);
  s.set_to(2);
  s.set_type(raftpb::MsgSnap);
  s.set_term(1);
  raftpb::SnapshotMetadata* meta = s.mutable_snapshot()->mutable_metadata();
  meta->set_index(4);
  meta->set_term(1);
  for (uint64_t v : {1, 2, 3}) meta->mutable_conf_state()->add_voters(v);
  meta->mutable_conf_state()->add_voters_outgoing(1);
  meta->mutable_conf_state()->set_auto_leave(true);
  EXPECT_EQ(DescribeMessage(s, nullptr),
            "1->2 MsgSnap Term:1 Log:0/0 Snapshot: Index:4 Term:1 ConfState:Voters:[1 2 3] "
            "VotersOutgoing:[1] Learners:[] LearnersNext:[] AutoLeave:true");
}

TEST(UtilTest, DescribeReady) {
  Ready empty;
  EXPECT_EQ(DescribeReady(empty, nullptr), "<empty Ready>");

  Ready rd;
  rd.soft_state = SoftState{1, StateType::kLeader};
  rd.hard_state = testing::HS(1, 1, 4);
  rd.read_states = {ReadState{10, "ab"}};
  rd.entries = {Ent(3, 1)};
  rd.committed_entries = {Ent(3, 1)};
  raftpb::Message m;
  m.set_from(1);
  m.set_to(2);
  m.set_type(raftpb::MsgHeartbeat);
  m.set_term(1);
  rd.messages = {m};
  rd.must_sync = true;
  EXPECT_EQ(DescribeReady(rd, nullptr),
            "Ready MustSync=true:\n"
            "Lead:1 State:StateLeader\n"
            "HardState Term:1 Vote:1 Commit:4\n"
            "ReadStates [{10 [97 98]}]\n"
            "Entries:\n"
            "1/3 EntryNormal \"\"\n"
            "CommittedEntries:\n"
            "1/3 EntryNormal \"\"\n"
            "Messages:\n"
            "1->2 MsgHeartbeat Term:1 Log:0/0\n");

  EXPECT_EQ(DescribeHardState(testing::HS(2, 0, 5)), "Term:2 Commit:5");
}

TEST(UtilTest, MessageClasses) {
  for (raftpb::MessageType t : {raftpb::MsgHup, raftpb::MsgBeat, raftpb::MsgUnreachable,
                                raftpb::MsgSnapStatus, raftpb::MsgCheckQuorum}) {
    EXPECT_TRUE(IsLocalMsg(t)) << MessageTypeName(t);
  }
  for (raftpb::MessageType t : {raftpb::MsgProp, raftpb::MsgApp, raftpb::MsgVote,
                                raftpb::MsgTransferLeader, raftpb::MsgReadIndex}) {
    EXPECT_FALSE(IsLocalMsg(t)) << MessageTypeName(t);
  }
  for (raftpb::MessageType t : {raftpb::MsgAppResp, raftpb::MsgVoteResp, raftpb::MsgHeartbeatResp,
                                raftpb::MsgUnreachable, raftpb::MsgPreVoteResp}) {
    EXPECT_TRUE(IsResponseMsg(t)) << MessageTypeName(t);
  }
  EXPECT_FALSE(IsResponseMsg(raftpb::MsgReadIndexResp));
  EXPECT_EQ(VoteRespMsgType(raftpb::MsgVote), raftpb::MsgVoteResp);
  EXPECT_EQ(VoteRespMsgType(raftpb::MsgPreVote), raftpb::MsgPreVoteResp);
  EXPECT_DEATH(VoteRespMsgType(raftpb::MsgApp), "not a vote message: MsgApp");
  EXPECT_EQ(MessageTypeName(static_cast<raftpb::MessageType>(99)), "99");
}

TEST(UtilTest, SizesAndLimit) {
  raftpb::Entry e = Ent(1, 1);
  // Type, term and index are always counted (gogoproto's non-nullable
  // fields); data only when set.
  EXPECT_EQ(EntrySize(e), 6u);
  e.set_data("");
  EXPECT_EQ(EntrySize(e), 8u);
  e.set_data("abc");
  EXPECT_EQ(EntrySize(e), 11u);
  EXPECT_EQ(PayloadSize(e), 3u);
  EXPECT_EQ(EntrySize(Ent(300, 1)), 7u);

  std::vector<raftpb::Entry> ents = {Ent(1, 1), Ent(2, 1), Ent(3, 1)};
  std::vector<raftpb::Entry> copy = ents;
  LimitSize(&copy, 0);
  EXPECT_EQ(copy.size(), 1u);
  copy = ents;
  LimitSize(&copy, 12);
  EXPECT_EQ(copy.size(), 2u);
  copy = ents;
  LimitSize(&copy, kNoLimit);
  EXPECT_EQ(copy.size(), 3u);
}

TEST(UtilTest, MarshalConfChangeMatchesEtcdEncoding) {
  // gogoproto writes every non-nullable field: ID, Type, NodeID.
  raftpb::ConfChange cc;
  cc.set_node_id(2);
  EXPECT_EQ(MarshalConfChange(cc), std::string("\x08\x00\x10\x00\x18\x02", 6));
  // Transition, and each change's type and node.
  raftpb::ConfChangeV2 v2;
  auto* c = v2.add_changes();
  c->set_node_id(3);
  EXPECT_EQ(MarshalConfChange(v2), std::string("\x08\x00\x12\x04\x08\x00\x10\x03", 8));
}

TEST(UtilTest, GoFormatConfChanges) {
  raftpb::ConfChangeV2 v2;
  for (uint64_t id : {4, 5}) {
    auto* c = v2.add_changes();
    c->set_type(raftpb::ConfChangeAddNode);
    c->set_node_id(id);
  }
  EXPECT_EQ(GoFormat(v2),
            "{ConfChangeTransitionAuto [{ConfChangeAddNode 4 []} {ConfChangeAddNode 5 []}] [] []}");
  EXPECT_EQ(GoFormat(raftpb::ConfChangeV2()), "{ConfChangeTransitionAuto [] [] []}");
  raftpb::ConfChange v1;
  v1.set_type(raftpb::ConfChangeRemoveNode);
  v1.set_node_id(2);
  v1.set_context("hi");
  EXPECT_EQ(GoFormat(v1), "{0 ConfChangeRemoveNode 2 [104 105] []}");
}

}  // namespace
}  // namespace etcd::raft
