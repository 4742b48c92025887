#include "raft/rafttest/network.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace etcd::raft::rafttest {
namespace {

TEST(NetworkTest, ElectsALeader) {
  Network nt(NewPeers(3));
  nt.Send(Hup(1));
  EXPECT_EQ(nt.raft(1)->state(), StateType::kLeader);
  EXPECT_EQ(nt.raft(2)->lead(), 1u);
  EXPECT_EQ(nt.raft(3)->lead(), 1u);
}

TEST(NetworkTest, IsolateAndRecover) {
  Network nt(NewPeers(3));
  nt.Send(Hup(1));
  nt.Isolate(3);
  nt.Send(Prop(1, "x"));
  EXPECT_EQ(nt.raft(2)->raft_log().LastIndex(), 2u);
  EXPECT_EQ(nt.raft(3)->raft_log().LastIndex(), 1u);
  nt.Recover();
  nt.Send(Prop(1, "y"));
  EXPECT_EQ(nt.raft(3)->raft_log().LastIndex(), 3u);
}

TEST(NetworkTest, CutIgnoreAndHook) {
  Network nt(NewPeers(3));
  nt.Cut(1, 2);
  nt.Cut(1, 3);
  nt.Send(Hup(1));
  EXPECT_EQ(nt.raft(1)->state(), StateType::kCandidate);

  Network nt2(NewPeers(3));
  nt2.Ignore(raftpb::MsgVote);
  nt2.Send(Hup(1));
  EXPECT_EQ(nt2.raft(1)->state(), StateType::kCandidate);

  Network nt3(NewPeers(3));
  int seen = 0;
  nt3.SetMsgHook([&seen](const raftpb::Message& m) {
    ++seen;
    return m.type() != raftpb::MsgVoteResp;
  });
  nt3.Send(Hup(1));
  EXPECT_EQ(nt3.raft(1)->state(), StateType::kCandidate);
  EXPECT_GE(seen, 4);
}

TEST(NetworkTest, DropIsReproducible) {
  auto run = [] {
    Network nt(NewPeers(3));
    nt.Drop(1, 2, 0.5);
    nt.Drop(1, 3, 0.5);
    nt.Send(Hup(1));
    for (int i = 0; i < 20; ++i) nt.Send(Prop(1, "x"));
    return std::vector<uint64_t>{nt.raft(2)->raft_log().LastIndex(),
                                 nt.raft(3)->raft_log().LastIndex()};
  };
  EXPECT_EQ(run(), run());
}

TEST(NetworkTest, BlackHoleAndPrebuiltPeers) {
  Network nt(Peers(nullptr, BlackHolePeer(), EntsWithConfig(nullptr, {1, 1})));
  EXPECT_EQ(nt.raft(2), nullptr);
  Raft* r3 = nt.raft(3);
  ASSERT_NE(r3, nullptr);
  // Renumbered and given the network's voters.
  EXPECT_EQ(r3->id(), 3u);
  EXPECT_EQ(r3->prs().VoterNodes(), std::vector<uint64_t>({1, 2, 3}));
  EXPECT_EQ(r3->raft_log().LastIndex(), 2u);
}

}  // namespace
}  // namespace etcd::raft::rafttest
