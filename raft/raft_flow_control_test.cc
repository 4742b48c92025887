// Flow control of appends in the replicate state (etcd's
// raft_flow_control_test.go).

#include <cstdint>

#include "gtest/gtest.h"
#include "raft/raft.h"
#include "raft/raft_test_helpers.h"

namespace etcd::raft::testing {
namespace {

// A leader of {1, 2} replicating to 2.
std::unique_ptr<RaftPeer> ReplicatingLeader() {
  auto p = NewTestRaft(1, {1, 2}, 5, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  r->prs().progress[2].BecomeReplicate();
  return p;
}

// Appends stop once the inflight window is full.
TEST(RaftFlowControlTest, MsgAppFlowControlFull) {
  auto p = ReplicatingLeader();
  Raft* r = p->raft();
  const tracker::Progress& pr2 = r->prs().progress[2];
  for (size_t i = 0; i < r->prs().max_inflight; ++i) {
    (void)r->Step(Prop(1, "somedata"));
    ASSERT_EQ(r->ReadMessages().size(), 1u) << i;
  }
  EXPECT_TRUE(pr2.inflights.Full());
  for (int i = 0; i < 10; ++i) {
    (void)r->Step(Prop(1, "somedata"));
    EXPECT_TRUE(r->ReadMessages().empty()) << i;
  }
}

// Acknowledgements free the window from the front; stale ones do nothing.
TEST(RaftFlowControlTest, MsgAppFlowControlMoveForward) {
  auto p = ReplicatingLeader();
  Raft* r = p->raft();
  const tracker::Progress& pr2 = r->prs().progress[2];
  for (size_t i = 0; i < r->prs().max_inflight; ++i) {
    (void)r->Step(Prop(1, "somedata"));
    r->ReadMessages();
  }
  // 1 is the empty entry, 2 the first proposal, ...
  for (uint64_t tt = 2; tt < r->prs().max_inflight; ++tt) {
    raftpb::Message ack = Msg(2, 1, raftpb::MsgAppResp);
    ack.set_index(tt);
    (void)r->Step(ack);
    r->ReadMessages();
    // One slot frees: one append.
    (void)r->Step(Prop(1, "somedata"));
    ASSERT_EQ(r->ReadMessages().size(), 1u) << tt;
    ASSERT_TRUE(pr2.inflights.Full()) << tt;
    // Stale acks free nothing.
    for (uint64_t i = 0; i < tt; ++i) {
      ack.set_index(i);
      (void)r->Step(ack);
      ASSERT_TRUE(pr2.inflights.Full()) << tt << "/" << i;
    }
  }
}

// A heartbeat response frees one slot of a full window.
TEST(RaftFlowControlTest, MsgAppFlowControlRecvHeartbeat) {
  auto p = ReplicatingLeader();
  Raft* r = p->raft();
  const tracker::Progress& pr2 = r->prs().progress[2];
  for (size_t i = 0; i < r->prs().max_inflight; ++i) {
    (void)r->Step(Prop(1, "somedata"));
    r->ReadMessages();
  }
  for (int tt = 1; tt < 5; ++tt) {
    ASSERT_TRUE(pr2.inflights.Full()) << tt;
    // Only the first response frees a slot.
    for (int i = 0; i < tt; ++i) {
      (void)r->Step(Msg(2, 1, raftpb::MsgHeartbeatResp));
      r->ReadMessages();
      ASSERT_FALSE(pr2.inflights.Full()) << tt << "." << i;
    }
    (void)r->Step(Prop(1, "somedata"));
    ASSERT_EQ(r->ReadMessages().size(), 1u) << tt;
    for (int i = 0; i < 10; ++i) {
      (void)r->Step(Prop(1, "somedata"));
      ASSERT_TRUE(r->ReadMessages().empty()) << tt << "." << i;
    }
    (void)r->Step(Msg(2, 1, raftpb::MsgHeartbeatResp));
    r->ReadMessages();
  }
}

// MaxSizePerMsg bounds the entries of each append (but one entry always
// fits).
TEST(RaftFlowControlTest, MaxSizePerMsg) {
  auto storage = std::make_unique<MemoryStorage>();
  Config c = NewTestConfig(1, {1, 2}, 5, 1, storage.get());
  const uint64_t entry_size = EntrySize(DataEnt(10, 1, std::string(100, 'x')));
  c.max_size_per_msg = 2 * entry_size;
  auto p = rafttest::NewRaftPeer(c, std::move(storage));
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  r->ReadMessages();
  // Let 2 fall behind by several entries, then probe it.
  r->prs().progress[2].BecomeProbe();
  r->prs().progress[2].probe_sent = true;
  for (int i = 0; i < 6; ++i) (void)r->Step(Prop(1, std::string(100, 'x')));
  EXPECT_TRUE(r->ReadMessages().empty());
  raftpb::Message ack = Msg(2, 1, raftpb::MsgAppResp);
  ack.set_index(1);
  (void)r->Step(ack);
  std::vector<raftpb::Message> msgs = r->ReadMessages();
  ASSERT_FALSE(msgs.empty());
  size_t total = 0;
  for (const raftpb::Message& m : msgs) {
    EXPECT_EQ(m.type(), raftpb::MsgApp);
    uint64_t size = 0;
    for (const raftpb::Entry& e : m.entries()) size += EntrySize(e);
    EXPECT_LE(size, c.max_size_per_msg);
    EXPECT_GE(m.entries_size(), 1);
    total += m.entries_size();
  }
  EXPECT_EQ(total, 6u);
  EXPECT_EQ(msgs.size(), 3u);
}

}  // namespace
}  // namespace etcd::raft::testing
