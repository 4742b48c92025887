// Sending snapshots and the leader's bookkeeping of them (etcd's
// raft_snap_test.go).

#include <cstdint>

#include "gtest/gtest.h"
#include "raft/raft.h"
#include "raft/raft_test_helpers.h"

namespace etcd::raft::testing {
namespace {

// A leader whose log was restored from a snapshot at (11, 11) with voters
// 1 and 2.
std::unique_ptr<RaftPeer> LeaderFromSnapshot(std::vector<uint64_t> peers) {
  auto p = NewTestRaft(1, std::move(peers), 10, 1);
  Raft* sm = p->raft();
  EXPECT_TRUE(sm->Restore(SnapWithConf(11, 11, {1, 2})));
  sm->BecomeCandidate();
  sm->BecomeLeader();
  return p;
}

TEST(RaftSnapTest, SendingSnapshotSetPendingSnapshot) {
  auto p = LeaderFromSnapshot({1});
  Raft* sm = p->raft();
  // 2 needs entries before the first index: a snapshot.
  sm->prs().progress[2].next = sm->raft_log().FirstIndex();
  raftpb::Message m = Msg(2, 1, raftpb::MsgAppResp);
  m.set_index(sm->prs().progress[2].next - 1);
  m.set_reject(true);
  (void)sm->Step(m);
  EXPECT_EQ(sm->prs().progress[2].pending_snapshot, 11u);
  EXPECT_EQ(sm->prs().progress[2].state, tracker::StateType::kSnapshot);
}

TEST(RaftSnapTest, PendingSnapshotPauseReplication) {
  auto p = LeaderFromSnapshot({1, 2});
  Raft* sm = p->raft();
  sm->prs().progress[2].BecomeSnapshot(11);
  (void)sm->Step(Prop(1, "somedata"));
  EXPECT_TRUE(sm->ReadMessages().empty());
}

TEST(RaftSnapTest, SnapshotFailure) {
  auto p = LeaderFromSnapshot({1, 2});
  Raft* sm = p->raft();
  sm->prs().progress[2].next = 1;
  sm->prs().progress[2].BecomeSnapshot(11);
  raftpb::Message m = Msg(2, 1, raftpb::MsgSnapStatus);
  m.set_reject(true);
  (void)sm->Step(m);
  const tracker::Progress& pr = sm->prs().progress[2];
  EXPECT_EQ(pr.pending_snapshot, 0u);
  EXPECT_EQ(pr.next, 1u);
  EXPECT_TRUE(pr.probe_sent);
  EXPECT_EQ(pr.state, tracker::StateType::kProbe);
}

TEST(RaftSnapTest, SnapshotSucceed) {
  auto p = LeaderFromSnapshot({1, 2});
  Raft* sm = p->raft();
  sm->prs().progress[2].next = 1;
  sm->prs().progress[2].BecomeSnapshot(11);
  (void)sm->Step(Msg(2, 1, raftpb::MsgSnapStatus));
  const tracker::Progress& pr = sm->prs().progress[2];
  EXPECT_EQ(pr.pending_snapshot, 0u);
  EXPECT_EQ(pr.next, 12u);
  EXPECT_TRUE(pr.probe_sent);
}

// An append response past the snapshot ends the snapshot state: the
// follower is replicated to again right away.
TEST(RaftSnapTest, SnapshotAbort) {
  auto p = LeaderFromSnapshot({1, 2});
  Raft* sm = p->raft();
  sm->prs().progress[2].next = 1;
  sm->prs().progress[2].BecomeSnapshot(11);
  raftpb::Message m = Msg(2, 1, raftpb::MsgAppResp);
  m.set_index(11);
  (void)sm->Step(m);
  const tracker::Progress& pr = sm->prs().progress[2];
  EXPECT_EQ(pr.pending_snapshot, 0u);
  // The empty entry of the leader's term (index 12) is in flight.
  EXPECT_EQ(pr.next, 13u);
  EXPECT_EQ(pr.inflights.Count(), 1u);
}

// A snapshot that is not ready yet is retried later.
class UnavailableSnapshotStorage : public MemoryStorage {
 public:
  absl::StatusOr<raftpb::Snapshot> Snapshot() override {
    if (unavailable) return ErrSnapshotTemporarilyUnavailable();
    return MemoryStorage::Snapshot();
  }
  bool unavailable = true;
};

TEST(RaftSnapTest, SnapshotTemporarilyUnavailable) {
  auto storage = std::make_unique<UnavailableSnapshotStorage>();
  UnavailableSnapshotStorage* s = storage.get();
  ASSERT_TRUE(s->ApplySnapshot(SnapWithConf(11, 11, {1, 2})).ok());
  Config c = NewTestConfig(1, {}, 10, 1, s);
  auto p = rafttest::NewRaftPeer(c, std::move(storage));
  Raft* sm = p->raft();
  sm->BecomeCandidate();
  sm->BecomeLeader();
  sm->ReadMessages();
  sm->prs().progress[2].next = 5;  // compacted
  sm->prs().progress[2].recent_active = true;
  sm->SendAppend(2);
  EXPECT_TRUE(sm->ReadMessages().empty());
  EXPECT_EQ(sm->prs().progress[2].state, tracker::StateType::kProbe);

  s->unavailable = false;
  sm->SendAppend(2);
  std::vector<raftpb::Message> msgs = sm->ReadMessages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type(), raftpb::MsgSnap);
  EXPECT_EQ(msgs[0].snapshot().metadata().index(), 11u);
}

}  // namespace
}  // namespace etcd::raft::testing
