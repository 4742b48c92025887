// Behaviour of the raft state machine (etcd's raft_test.go): elections,
// PreVote, CheckQuorum, replication and flow control, commit rules, ReadIndex,
// snapshots, conf changes, learners, leader transfer, proposal limits.

#include "raft/raft.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raft/errors.h"
#include "raft/raft_test_helpers.h"

namespace etcd::raft::testing {
namespace {

constexpr tracker::StateType kProbe = tracker::StateType::kProbe;
constexpr tracker::StateType kReplicate = tracker::StateType::kReplicate;
constexpr tracker::StateType kSnapshot = tracker::StateType::kSnapshot;

constexpr StateType kFollower = StateType::kFollower;
constexpr StateType kCandidate = StateType::kCandidate;
constexpr StateType kPreCandidate = StateType::kPreCandidate;
constexpr StateType kLeader = StateType::kLeader;

// --- Progress and flow control -------------------------------------------

TEST(RaftTest, ProgressLeader) {
  auto p = NewTestRaft(1, {1, 2}, 5, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  r->prs().progress[2].BecomeReplicate();
  // The leader's own progress follows its log.
  for (int i = 0; i < 5; ++i) {
    const tracker::Progress& pr = r->prs().progress[1];
    EXPECT_EQ(pr.state, kReplicate);
    EXPECT_EQ(pr.match, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(pr.next, pr.match + 1);
    ASSERT_TRUE(r->Step(Prop(1, "foo")).ok());
  }
}

TEST(RaftTest, ProgressResumeByHeartbeatResp) {
  auto p = NewTestRaft(1, {1, 2}, 5, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  r->prs().progress[2].probe_sent = true;
  (void)r->Step(Msg(1, 1, raftpb::MsgBeat));
  EXPECT_TRUE(r->prs().progress[2].probe_sent);
  r->prs().progress[2].BecomeReplicate();
  (void)r->Step(Msg(2, 1, raftpb::MsgHeartbeatResp));
  EXPECT_FALSE(r->prs().progress[2].probe_sent);
}

TEST(RaftTest, ProgressPaused) {
  auto p = NewTestRaft(1, {1, 2}, 5, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  for (int i = 0; i < 3; ++i) (void)r->Step(Prop(1, "somedata"));
  // A probing follower gets one append until it answers.
  EXPECT_EQ(r->ReadMessages().size(), 1u);
}

TEST(RaftTest, ProgressFlowControl) {
  auto storage = std::make_unique<MemoryStorage>();
  Config c = NewTestConfig(1, {1, 2}, 5, 1, storage.get());
  c.max_inflight_msgs = 3;
  c.max_size_per_msg = 2048;
  auto p = rafttest::NewRaftPeer(c, std::move(storage));
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  r->ReadMessages();

  // While 2 is probed, propose a bunch of entries.
  r->prs().progress[2].BecomeProbe();
  std::string blob(1000, 'a');
  for (int i = 0; i < 10; ++i) (void)r->Step(Prop(1, blob));

  std::vector<raftpb::Message> ms = r->ReadMessages();
  // The empty entry of the election and the first proposal; probing sends
  // only one message.
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].type(), raftpb::MsgApp);
  ASSERT_EQ(ms[0].entries_size(), 2);
  EXPECT_EQ(ms[0].entries(0).data().size(), 0u);
  EXPECT_EQ(ms[0].entries(1).data().size(), 1000u);

  // Acked: replicate, with several messages in flight at once.
  raftpb::Message ack = Msg(2, 1, raftpb::MsgAppResp);
  ack.set_index(ms[0].entries(1).index());
  (void)r->Step(ack);
  ms = r->ReadMessages();
  ASSERT_EQ(ms.size(), 3u);
  for (const raftpb::Message& m : ms) {
    EXPECT_EQ(m.type(), raftpb::MsgApp);
    EXPECT_EQ(m.entries_size(), 2);
  }

  // Ack all three: the last two messages (three entries) go out.
  ack.set_index(ms[2].entries(1).index());
  (void)r->Step(ack);
  ms = r->ReadMessages();
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].type(), raftpb::MsgApp);
  EXPECT_EQ(ms[1].type(), raftpb::MsgApp);
  EXPECT_EQ(ms[0].entries_size(), 2);
  EXPECT_EQ(ms[1].entries_size(), 1);
}

TEST(RaftTest, UncommittedEntryLimit) {
  // Many entries, so that a size accounting error would show.
  const int max_entries = 1024;
  raftpb::Entry test_entry;
  test_entry.set_data("testdata");
  const uint64_t max_entry_size = max_entries * PayloadSize(test_entry);

  auto storage = std::make_unique<MemoryStorage>();
  Config c = NewTestConfig(1, {1, 2, 3}, 5, 1, storage.get());
  c.max_uncommitted_entries_size = max_entry_size;
  c.max_inflight_msgs = 2 * 1024;  // no interference
  auto p = rafttest::NewRaftPeer(c, std::move(storage));
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  ASSERT_EQ(r->uncommitted_size(), 0u);

  const size_t num_followers = 2;
  r->prs().progress[2].BecomeReplicate();
  r->prs().progress[3].BecomeReplicate();
  r->set_uncommitted_size(0);

  raftpb::Message prop = MsgWithEnts(1, 1, raftpb::MsgProp, 0, {test_entry});
  std::vector<raftpb::Entry> prop_ents;
  for (int i = 0; i < max_entries; ++i) {
    ASSERT_TRUE(r->Step(prop).ok()) << i;
    prop_ents.push_back(test_entry);
  }
  // Over the limit.
  EXPECT_TRUE(IsProposalDropped(r->Step(prop)));

  // As if everything had been committed.
  EXPECT_EQ(r->ReadMessages().size(), max_entries * num_followers);
  r->ReduceUncommittedSizeForTesting(prop_ents);
  EXPECT_EQ(r->uncommitted_size(), 0u);

  // One large proposal is accepted while nothing is uncommitted, even though
  // it exceeds the limit.
  std::vector<raftpb::Entry> large(2 * max_entries, test_entry);
  ASSERT_TRUE(r->Step(MsgWithEnts(1, 1, raftpb::MsgProp, 0, large)).ok());
  // But nothing more.
  EXPECT_TRUE(IsProposalDropped(r->Step(prop)));
  EXPECT_EQ(r->ReadMessages().size(), num_followers);
  r->ReduceUncommittedSizeForTesting(large);
  EXPECT_EQ(r->uncommitted_size(), 0u);
}

// --- Elections ------------------------------------------------------------

void TestLeaderElection(bool pre_vote) {
  rafttest::ConfigFunc cfg = pre_vote ? rafttest::ConfigFunc(PreVoteConfig) : nullptr;
  // With PreVote, a failed election leaves the node a pre-candidate at the
  // same term.
  StateType cand_state = pre_vote ? kPreCandidate : kCandidate;
  uint64_t cand_term = pre_vote ? 0 : 1;
  struct Case {
    std::unique_ptr<Network> nt;
    StateType state;
    uint64_t term;
  };
  std::vector<Case> cases;
  cases.push_back({std::make_unique<Network>(cfg, Peers(nullptr, nullptr, nullptr)), kLeader, 1});
  cases.push_back(
      {std::make_unique<Network>(cfg, Peers(nullptr, nullptr, BlackHolePeer())), kLeader, 1});
  cases.push_back({std::make_unique<Network>(cfg, Peers(nullptr, BlackHolePeer(), BlackHolePeer())),
                   cand_state, cand_term});
  cases.push_back(
      {std::make_unique<Network>(cfg, Peers(nullptr, BlackHolePeer(), BlackHolePeer(), nullptr)),
       cand_state, cand_term});
  cases.push_back({std::make_unique<Network>(
                       cfg, Peers(nullptr, BlackHolePeer(), BlackHolePeer(), nullptr, nullptr)),
                   kLeader, 1});
  // Three logs further along than 1's, in the same term: rejections come
  // back instead of the votes being ignored.
  cases.push_back({std::make_unique<Network>(
                       cfg, Peers(nullptr, EntsWithConfig(cfg, {1}), EntsWithConfig(cfg, {1}),
                                  EntsWithConfig(cfg, {1, 1}), nullptr)),
                   kFollower, 1});
  for (size_t i = 0; i < cases.size(); ++i) {
    cases[i].nt->Send(Hup(1));
    Raft* sm = cases[i].nt->raft(1);
    EXPECT_EQ(sm->state(), cases[i].state) << "pre_vote=" << pre_vote << " #" << i;
    EXPECT_EQ(sm->term(), cases[i].term) << "pre_vote=" << pre_vote << " #" << i;
  }
}

TEST(RaftTest, LeaderElection) { TestLeaderElection(false); }
TEST(RaftTest, LeaderElectionPreVote) { TestLeaderElection(true); }

// A learner does not start an election when its timeout elapses.
TEST(RaftTest, LearnerElectionTimeout) {
  auto n2 = NewTestLearnerRaft(2, {1}, {2}, 10, 1);
  Raft* r = n2->raft();
  r->BecomeFollower(1, kNone);
  r->set_randomized_election_timeout(r->election_timeout());
  TickN(r, r->election_timeout());
  EXPECT_EQ(r->state(), kFollower);
}

// A learner campaigns only once promoted.
TEST(RaftTest, LearnerPromotion) {
  auto p1 = NewTestLearnerRaft(1, {1}, {2}, 10, 1);
  auto p2 = NewTestLearnerRaft(2, {1}, {2}, 10, 1);
  Raft* n1 = p1->raft();
  Raft* n2 = p2->raft();
  n1->BecomeFollower(1, kNone);
  n2->BecomeFollower(1, kNone);
  Network nt(Peers(std::move(p1), std::move(p2)));
  EXPECT_NE(n1->state(), kLeader);

  // 1 becomes leader.
  n1->set_randomized_election_timeout(n1->election_timeout());
  TickN(n1, n1->election_timeout());
  EXPECT_EQ(n1->state(), kLeader);
  EXPECT_EQ(n2->state(), kFollower);

  nt.Send(rafttest::Beat(1));
  n1->ApplyConfChange(CC(raftpb::ConfChangeAddNode, 2));
  n2->ApplyConfChange(CC(raftpb::ConfChangeAddNode, 2));
  EXPECT_FALSE(n2->is_learner());

  // 2 campaigns and wins.
  n2->set_randomized_election_timeout(n2->election_timeout());
  TickN(n2, n2->election_timeout());
  nt.Send(rafttest::Beat(2));
  EXPECT_EQ(n1->state(), kFollower);
  EXPECT_EQ(n2->state(), kLeader);
}

// A learner votes when asked (it may have been promoted without knowing).
TEST(RaftTest, LearnerCanVote) {
  auto p2 = NewTestLearnerRaft(2, {1}, {2}, 10, 1);
  Raft* n2 = p2->raft();
  n2->BecomeFollower(1, kNone);
  raftpb::Message m = Msg(1, 2, raftpb::MsgVote, 2);
  m.set_logterm(11);
  m.set_index(11);
  (void)n2->Step(m);
  ASSERT_EQ(n2->msgs().size(), 1u);
  EXPECT_EQ(n2->msgs()[0].type(), raftpb::MsgVoteResp);
  EXPECT_FALSE(n2->msgs()[0].reject());
}

void TestLeaderCycle(bool pre_vote) {
  rafttest::ConfigFunc cfg = pre_vote ? rafttest::ConfigFunc(PreVoteConfig) : nullptr;
  Network n(cfg, Peers(nullptr, nullptr, nullptr));
  for (uint64_t campaigner = 1; campaigner <= 3; ++campaigner) {
    n.Send(Hup(campaigner));
    for (uint64_t id = 1; id <= 3; ++id) {
      Raft* sm = n.raft(id);
      EXPECT_EQ(sm->state(), id == campaigner ? kLeader : kFollower)
          << "pre_vote=" << pre_vote << " campaigner " << campaigner << " node " << id;
    }
  }
}

TEST(RaftTest, LeaderCycle) { TestLeaderCycle(false); }
TEST(RaftTest, LeaderCyclePreVote) { TestLeaderCycle(true); }

// A new leader without the highest-term entries overwrites them.
void TestLeaderElectionOverwriteNewerLogs(bool pre_vote) {
  rafttest::ConfigFunc cfg = pre_vote ? rafttest::ConfigFunc(PreVoteConfig) : nullptr;
  // 1 won term 1 and replicated an entry to 2 only; 3 won term 2, wrote an
  // entry and died; 4 and 5 voted for 3 in term 2.
  Network n(cfg, Peers(EntsWithConfig(cfg, {1}), EntsWithConfig(cfg, {1}), EntsWithConfig(cfg, {2}),
                       VotedWithConfig(cfg, 3, 2), VotedWithConfig(cfg, 3, 2)));
  // 1 loses (a quorum knows term 2) but learns term 2.
  n.Send(Hup(1));
  Raft* sm1 = n.raft(1);
  EXPECT_EQ(sm1->state(), kFollower);
  EXPECT_EQ(sm1->term(), 2u);
  // And wins the next one.
  n.Send(Hup(1));
  EXPECT_EQ(sm1->state(), kLeader);
  EXPECT_EQ(sm1->term(), 3u);
  for (uint64_t id = 1; id <= 5; ++id) {
    std::vector<raftpb::Entry> ents = n.raft(id)->raft_log().AllEntries();
    ASSERT_EQ(ents.size(), 2u) << id;
    EXPECT_EQ(ents[0].term(), 1u) << id;
    EXPECT_EQ(ents[1].term(), 3u) << id;
  }
}

TEST(RaftTest, LeaderElectionOverwriteNewerLogs) { TestLeaderElectionOverwriteNewerLogs(false); }
TEST(RaftTest, LeaderElectionOverwriteNewerLogsPreVote) {
  TestLeaderElectionOverwriteNewerLogs(true);
}

void TestVoteFromAnyState(raftpb::MessageType vt) {
  for (StateType st : {kFollower, kCandidate, kLeader, kPreCandidate}) {
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
    Raft* r = p->raft();
    r->set_term(1);
    switch (st) {
      case kFollower:
        r->BecomeFollower(r->term(), 3);
        break;
      case kPreCandidate:
        r->BecomePreCandidate();
        break;
      case kCandidate:
        r->BecomeCandidate();
        break;
      case kLeader:
        r->BecomeCandidate();
        r->BecomeLeader();
        break;
    }
    uint64_t orig_term = r->term();
    uint64_t new_term = r->term() + 1;
    raftpb::Message m = Msg(2, 1, vt, new_term);
    m.set_logterm(new_term);
    m.set_index(42);
    EXPECT_TRUE(r->Step(m).ok());
    ASSERT_EQ(r->msgs().size(), 1u) << MessageTypeName(vt) << " " << st;
    EXPECT_EQ(r->msgs()[0].type(), VoteRespMsgType(vt));
    EXPECT_FALSE(r->msgs()[0].reject());
    if (vt == raftpb::MsgVote) {
      // A real vote resets state and term.
      EXPECT_EQ(r->state(), kFollower) << st;
      EXPECT_EQ(r->term(), new_term) << st;
      EXPECT_EQ(r->vote(), 2u) << st;
    } else {
      // A pre-vote changes nothing.
      EXPECT_EQ(r->state(), st);
      EXPECT_EQ(r->term(), orig_term);
      EXPECT_TRUE(r->vote() == kNone || r->vote() == 1) << r->vote();
    }
  }
}

TEST(RaftTest, VoteFromAnyState) { TestVoteFromAnyState(raftpb::MsgVote); }
TEST(RaftTest, PreVoteFromAnyState) { TestVoteFromAnyState(raftpb::MsgPreVote); }

TEST(RaftTest, DuelingCandidates) {
  auto a = NewTestRaft(1, {1, 2, 3}, 10, 1);
  auto b = NewTestRaft(2, {1, 2, 3}, 10, 1);
  auto c = NewTestRaft(3, {1, 2, 3}, 10, 1);
  Network nt(Peers(std::move(a), std::move(b), std::move(c)));
  nt.Cut(1, 3);
  nt.Send(Hup(1));
  nt.Send(Hup(3));
  // 1 wins with votes from 1 and 2.
  EXPECT_EQ(nt.raft(1)->state(), kLeader);
  // 3 gets its own vote and a rejection from 2.
  EXPECT_EQ(nt.raft(3)->state(), kCandidate);

  nt.Recover();
  // 3 campaigns at a higher term and disrupts 1, but loses: its log is
  // shorter.
  nt.Send(Hup(3));
  std::string want = LogString(1, 0, {Ent(1, 1)});
  struct Case {
    uint64_t id;
    StateType state;
    uint64_t term;
    std::string log;
  };
  for (const Case& c : std::vector<Case>{{1, kFollower, 2, want},
                                         {2, kFollower, 2, want},
                                         {3, kFollower, 2, LogString(0, 0, {})}}) {
    Raft* sm = nt.raft(c.id);
    EXPECT_EQ(sm->state(), c.state) << c.id;
    EXPECT_EQ(sm->term(), c.term) << c.id;
    EXPECT_EQ(Ltoa(sm->raft_log()), c.log) << c.id;
  }
}

TEST(RaftTest, DuelingPreCandidates) {
  Network nt(PreVoteConfig, Peers(nullptr, nullptr, nullptr));
  nt.Cut(1, 3);
  nt.Send(Hup(1));
  nt.Send(Hup(3));
  EXPECT_EQ(nt.raft(1)->state(), kLeader);
  // 3's pre-vote is rejected: back to follower.
  EXPECT_EQ(nt.raft(3)->state(), kFollower);

  nt.Recover();
  // With PreVote, 3 does not disrupt the leader.
  nt.Send(Hup(3));
  std::string want = LogString(1, 0, {Ent(1, 1)});
  struct Case {
    uint64_t id;
    StateType state;
    uint64_t term;
    std::string log;
  };
  for (const Case& c : std::vector<Case>{{1, kLeader, 1, want},
                                         {2, kFollower, 1, want},
                                         {3, kFollower, 1, LogString(0, 0, {})}}) {
    Raft* sm = nt.raft(c.id);
    EXPECT_EQ(sm->state(), c.state) << c.id;
    EXPECT_EQ(sm->term(), c.term) << c.id;
    EXPECT_EQ(Ltoa(sm->raft_log()), c.log) << c.id;
  }
}

TEST(RaftTest, CandidateConcede) {
  Network tt(rafttest::NewPeers(3));
  tt.Isolate(1);
  tt.Send(Hup(1));
  tt.Send(Hup(3));
  // Heal the partition; 3 is leader and brings 1 back to follower.
  tt.Recover();
  tt.Send(rafttest::Beat(3));
  std::string data = "force follower";
  tt.Send(Prop(3, data));
  tt.Send(rafttest::Beat(3));

  Raft* a = tt.raft(1);
  EXPECT_EQ(a->state(), kFollower);
  EXPECT_EQ(a->term(), 1u);
  std::string want = LogString(2, 0, {Ent(1, 1), DataEnt(2, 1, data)});
  for (uint64_t id = 1; id <= 3; ++id) EXPECT_EQ(Ltoa(tt.raft(id)->raft_log()), want) << id;
}

TEST(RaftTest, SingleNodeCandidate) {
  Network tt(rafttest::NewPeers(1));
  tt.Send(Hup(1));
  EXPECT_EQ(tt.raft(1)->state(), kLeader);
}

TEST(RaftTest, SingleNodePreCandidate) {
  Network tt(PreVoteConfig, rafttest::NewPeers(1));
  tt.Send(Hup(1));
  EXPECT_EQ(tt.raft(1)->state(), kLeader);
}

TEST(RaftTest, OldMessages) {
  Network tt(rafttest::NewPeers(3));
  // 1 becomes leader at term 3.
  tt.Send(Hup(1));
  tt.Send(Hup(2));
  tt.Send(Hup(1));
  // An old leader's append is ignored.
  tt.Send(MsgWithEnts(2, 1, raftpb::MsgApp, 2, {Ent(3, 2)}));
  tt.Send(Prop(1, "somedata"));
  std::string want = LogString(4, 0, {Ent(1, 1), Ent(2, 2), Ent(3, 3), DataEnt(4, 3, "somedata")});
  for (uint64_t id = 1; id <= 3; ++id) EXPECT_EQ(Ltoa(tt.raft(id)->raft_log()), want) << id;
}

TEST(RaftTest, Proposal) {
  struct Case {
    std::function<std::unique_ptr<Network>()> make;
    bool success;
  };
  std::vector<Case> cases = {
      {[] { return std::make_unique<Network>(rafttest::NewPeers(3)); }, true},
      {[] { return std::make_unique<Network>(Peers(nullptr, nullptr, BlackHolePeer())); }, true},
      {[] { return std::make_unique<Network>(Peers(nullptr, BlackHolePeer(), BlackHolePeer())); },
       false},
      {[] {
         return std::make_unique<Network>(
             Peers(nullptr, BlackHolePeer(), BlackHolePeer(), nullptr));
       },
       false},
      {[] {
         return std::make_unique<Network>(
             Peers(nullptr, BlackHolePeer(), BlackHolePeer(), nullptr, nullptr));
       },
       true},
  };
  for (size_t j = 0; j < cases.size(); ++j) {
    std::unique_ptr<Network> tt = cases[j].make();
    tt->Send(Hup(1));
    tt->Send(Prop(1, "somedata"));
    std::string want = cases[j].success ? LogString(2, 0, {Ent(1, 1), DataEnt(2, 1, "somedata")})
                                        : LogString(0, 0, {});
    for (uint64_t id = 1; id <= tt->size(); ++id) {
      if (Raft* sm = tt->raft(id)) {
        EXPECT_EQ(Ltoa(sm->raft_log()), want) << j << "/" << id;
      }
    }
    EXPECT_EQ(tt->raft(1)->term(), 1u) << j;
  }
}

TEST(RaftTest, ProposalByProxy) {
  for (int with_black_hole = 0; with_black_hole < 2; ++with_black_hole) {
    Network tt(with_black_hole ? Peers(nullptr, nullptr, BlackHolePeer()) : rafttest::NewPeers(3));
    tt.Send(Hup(1));
    // Proposed to a follower, forwarded to the leader.
    tt.Send(Prop(2, "somedata"));
    std::string want = LogString(2, 0, {Ent(1, 1), DataEnt(2, 1, "somedata")});
    for (uint64_t id = 1; id <= 3; ++id) {
      if (Raft* sm = tt.raft(id)) {
        EXPECT_EQ(Ltoa(sm->raft_log()), want) << id;
      }
    }
    EXPECT_EQ(tt.raft(1)->term(), 1u);
  }
}

TEST(RaftTest, ProposalDroppedWithoutLeaderOrForwarding) {
  auto p = NewTestRaft(1, {1, 2}, 10, 1);
  EXPECT_TRUE(IsProposalDropped(p->raft()->Step(Prop(1, "x"))));

  auto storage = std::make_unique<MemoryStorage>();
  Config c = NewTestConfig(2, {1, 2}, 10, 1, storage.get());
  c.disable_proposal_forwarding = true;
  auto q = rafttest::NewRaftPeer(c, std::move(storage));
  q->raft()->BecomeFollower(1, 1);
  EXPECT_TRUE(IsProposalDropped(q->raft()->Step(Prop(2, "x"))));
  EXPECT_TRUE(q->raft()->msgs().empty());

  // Forwarding on: the proposal goes to the leader, without a term.
  auto f = NewTestRaft(2, {1, 2}, 10, 1);
  f->raft()->BecomeFollower(1, 1);
  EXPECT_TRUE(f->raft()->Step(Prop(2, "x")).ok());
  ASSERT_EQ(f->raft()->msgs().size(), 1u);
  EXPECT_EQ(f->raft()->msgs()[0].to(), 1u);
  EXPECT_EQ(f->raft()->msgs()[0].type(), raftpb::MsgProp);
  EXPECT_EQ(f->raft()->msgs()[0].term(), 0u);
}

// --- Commit rules -----------------------------------------------------------

TEST(RaftTest, LogReplication) {
  struct Case {
    std::vector<raftpb::Message> msgs;
    uint64_t want_committed;
  };
  std::vector<Case> cases = {
      {{Prop(1, "somedata")}, 2},
      {{Prop(1, "somedata"), Msg(1, 2, raftpb::MsgHup), Prop(2, "somedata")}, 4},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Network tt(rafttest::NewPeers(3));
    tt.Send(Hup(1));
    for (const raftpb::Message& m : cases[i].msgs) tt.Send(m);
    for (uint64_t id = 1; id <= 3; ++id) {
      Raft* sm = tt.raft(id);
      EXPECT_EQ(sm->raft_log().committed(), cases[i].want_committed) << i << "/" << id;
      std::vector<raftpb::Entry> ents;
      for (const raftpb::Entry& e : NextEnts(sm, tt.storage(id))) {
        if (e.has_data()) ents.push_back(e);
      }
      size_t k = 0;
      for (const raftpb::Message& m : cases[i].msgs) {
        if (m.type() != raftpb::MsgProp) continue;
        ASSERT_LT(k, ents.size());
        EXPECT_EQ(ents[k++].data(), m.entries(0).data());
      }
    }
  }
}

TEST(RaftTest, LearnerLogReplication) {
  auto p1 = NewTestLearnerRaft(1, {1}, {2}, 10, 1);
  auto p2 = NewTestLearnerRaft(2, {1}, {2}, 10, 1);
  Raft* n1 = p1->raft();
  Raft* n2 = p2->raft();
  Network nt(Peers(std::move(p1), std::move(p2)));
  n1->BecomeFollower(1, kNone);
  n2->BecomeFollower(1, kNone);
  n1->set_randomized_election_timeout(n1->election_timeout());
  TickN(n1, n1->election_timeout());
  nt.Send(rafttest::Beat(1));

  EXPECT_EQ(n1->state(), kLeader);
  EXPECT_TRUE(n2->is_learner());

  uint64_t next_committed = n1->raft_log().committed() + 1;
  nt.Send(Prop(1, "somedata"));
  // The leader commits alone; the learner follows.
  EXPECT_EQ(n1->raft_log().committed(), next_committed);
  EXPECT_EQ(n2->raft_log().committed(), n1->raft_log().committed());
  EXPECT_EQ(n1->prs().progress[2].match, n2->raft_log().committed());
}

TEST(RaftTest, SingleNodeCommit) {
  Network tt(rafttest::NewPeers(1));
  tt.Send(Hup(1));
  tt.Send(Prop(1, "some data"));
  tt.Send(Prop(1, "some data"));
  EXPECT_EQ(tt.raft(1)->raft_log().committed(), 3u);
}

// Entries of an older term are not committed by counting replicas.
TEST(RaftTest, CannotCommitWithoutNewTermEntry) {
  Network tt(rafttest::NewPeers(5));
  tt.Send(Hup(1));
  // 1 cannot reach 3, 4, 5.
  tt.Cut(1, 3);
  tt.Cut(1, 4);
  tt.Cut(1, 5);
  tt.Send(Prop(1, "some data"));
  tt.Send(Prop(1, "some data"));
  EXPECT_EQ(tt.raft(1)->raft_log().committed(), 1u);

  tt.Recover();
  // No appends: the new leader's empty entry cannot commit.
  tt.Ignore(raftpb::MsgApp);
  tt.Send(Hup(2));
  Raft* sm = tt.raft(2);
  EXPECT_EQ(sm->raft_log().committed(), 1u);

  tt.Recover();
  tt.Send(rafttest::Beat(2));
  // An entry of the current term commits everything before it.
  tt.Send(Prop(2, "some data"));
  EXPECT_EQ(sm->raft_log().committed(), 5u);
}

TEST(RaftTest, CommitWithoutNewTermEntry) {
  Network tt(rafttest::NewPeers(5));
  tt.Send(Hup(1));
  tt.Cut(1, 3);
  tt.Cut(1, 4);
  tt.Cut(1, 5);
  tt.Send(Prop(1, "some data"));
  tt.Send(Prop(1, "some data"));
  Raft* sm = tt.raft(1);
  EXPECT_EQ(sm->raft_log().committed(), 1u);
  tt.Recover();
  // The new leader's empty entry commits the old ones with it.
  tt.Send(Hup(2));
  EXPECT_EQ(sm->raft_log().committed(), 4u);
}

TEST(RaftTest, Commit) {
  struct Case {
    std::vector<uint64_t> matches;
    std::vector<raftpb::Entry> logs;
    uint64_t term;
    uint64_t want;
  };
  std::vector<Case> cases = {
      // single
      {{1}, Ents({{1, 1}}), 1, 1},
      {{1}, Ents({{1, 1}}), 2, 0},
      {{2}, Ents({{1, 1}, {2, 2}}), 2, 2},
      {{1}, Ents({{1, 2}}), 2, 1},
      // odd
      {{2, 1, 1}, Ents({{1, 1}, {2, 2}}), 1, 1},
      {{2, 1, 1}, Ents({{1, 1}, {2, 1}}), 2, 0},
      {{2, 1, 2}, Ents({{1, 1}, {2, 2}}), 2, 2},
      {{2, 1, 2}, Ents({{1, 1}, {2, 1}}), 2, 0},
      // even
      {{2, 1, 1, 1}, Ents({{1, 1}, {2, 2}}), 1, 1},
      {{2, 1, 1, 1}, Ents({{1, 1}, {2, 1}}), 2, 0},
      {{2, 1, 1, 2}, Ents({{1, 1}, {2, 2}}), 1, 1},
      {{2, 1, 1, 2}, Ents({{1, 1}, {2, 1}}), 2, 0},
      {{2, 1, 2, 2}, Ents({{1, 1}, {2, 2}}), 2, 2},
      {{2, 1, 2, 2}, Ents({{1, 1}, {2, 1}}), 2, 0},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    auto storage = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(storage->Append(c.logs).ok());
    ASSERT_TRUE(storage->SetHardState(HS(c.term, 0, 0)).ok());
    auto p = NewTestRaft(1, {1}, 10, 2, std::move(storage));
    Raft* sm = p->raft();
    for (size_t j = 0; j < c.matches.size(); ++j) {
      uint64_t id = j + 1;
      if (id > 1) sm->ApplyConfChange(CC(raftpb::ConfChangeAddNode, id));
      tracker::Progress& pr = sm->prs().progress[id];
      pr.match = c.matches[j];
      pr.next = c.matches[j] + 1;
    }
    sm->MaybeCommit();
    EXPECT_EQ(sm->raft_log().committed(), c.want) << "#" << i;
  }
}

// The randomized timeout is uniform in [T, 2T).
TEST(RaftTest, PastElectionTimeout) {
  struct Case {
    int elapse;
    double probability;
    bool round;
  };
  for (const Case& c : std::vector<Case>{{5, 0, false},
                                         {10, 0.1, true},
                                         {13, 0.4, true},
                                         {15, 0.6, true},
                                         {18, 0.9, true},
                                         {20, 1, false}}) {
    auto p = NewTestRaft(1, {1}, 10, 1);
    Raft* sm = p->raft();
    sm->set_election_elapsed(c.elapse);
    int n = 0;
    for (int j = 0; j < 10000; ++j) {
      sm->ResetRandomizedElectionTimeout();
      if (sm->PastElectionTimeout()) ++n;
    }
    double got = n / 10000.0;
    if (c.round) got = std::floor(got * 10 + 0.5) / 10.0;
    EXPECT_EQ(got, c.probability) << c.elapse;
  }
}

TEST(RaftTest, RandomizedElectionTimeoutIsSeedable) {
  auto draw = [](uint64_t seed) {
    auto storage = std::make_unique<MemoryStorage>();
    Config c = NewTestConfig(1, {1}, 10, 1, storage.get());
    c.random_seed = seed;
    auto p = rafttest::NewRaftPeer(c, std::move(storage));
    std::vector<int> out;
    for (int i = 0; i < 20; ++i) {
      p->raft()->ResetRandomizedElectionTimeout();
      out.push_back(p->raft()->randomized_election_timeout());
      EXPECT_GE(out.back(), 10);
      EXPECT_LT(out.back(), 20);
    }
    return out;
  };
  EXPECT_EQ(draw(42), draw(42));
  EXPECT_NE(draw(42), draw(43));
}

// Messages from an older term do not reach the role's step function.
TEST(RaftTest, StepIgnoreOldTermMsg) {
  auto p = NewTestRaft(1, {1}, 10, 1);
  Raft* sm = p->raft();
  sm->set_term(2);
  raftpb::Message m = MsgWithEnts(2, 1, raftpb::MsgApp, 1, {Ent(1, 1)});
  (void)sm->Step(m);
  EXPECT_EQ(sm->raft_log().LastIndex(), 0u);
  EXPECT_EQ(sm->lead(), kNone);
  EXPECT_TRUE(sm->msgs().empty());
}

// Log matching and append rules of the paper's AppendEntries.
TEST(RaftTest, HandleMsgApp) {
  auto app = [](uint64_t term, uint64_t log_term, uint64_t index, uint64_t commit,
                std::vector<raftpb::Entry> ents) {
    raftpb::Message m = MsgWithEnts(0, 0, raftpb::MsgApp, term, std::move(ents));
    m.set_logterm(log_term);
    m.set_index(index);
    m.set_commit(commit);
    return m;
  };
  struct Case {
    raftpb::Message m;
    uint64_t want_index, want_commit;
    bool want_reject;
  };
  std::vector<Case> cases = {
      // Reject if the log has no entry matching the previous one.
      {app(2, 3, 2, 3, {}), 2, 0, true},  // term mismatch
      {app(2, 3, 3, 3, {}), 2, 0, true},  // missing
      // Delete conflicting entries, append new ones.
      {app(2, 1, 1, 1, {}), 2, 1, false},
      {app(2, 0, 0, 1, Ents({{1, 2}})), 1, 1, false},
      {app(2, 2, 2, 3, Ents({{3, 2}, {4, 2}})), 4, 3, false},
      {app(2, 2, 2, 4, Ents({{3, 2}})), 3, 3, false},
      {app(2, 1, 1, 4, Ents({{2, 2}})), 2, 2, false},
      // Commit up to min(leader commit, last new entry).
      {app(1, 1, 1, 3, {}), 2, 1, false},
      {app(1, 1, 1, 3, Ents({{2, 2}})), 2, 2, false},
      {app(2, 2, 2, 3, {}), 2, 2, false},
      {app(2, 2, 2, 4, {}), 2, 2, false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto storage = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(storage->Append(Ents({{1, 1}, {2, 2}})).ok());
    auto p = NewTestRaft(1, {1}, 10, 1, std::move(storage));
    Raft* sm = p->raft();
    sm->BecomeFollower(2, kNone);
    sm->HandleAppendEntries(cases[i].m);
    EXPECT_EQ(sm->raft_log().LastIndex(), cases[i].want_index) << "#" << i;
    EXPECT_EQ(sm->raft_log().committed(), cases[i].want_commit) << "#" << i;
    std::vector<raftpb::Message> msgs = sm->ReadMessages();
    ASSERT_EQ(msgs.size(), 1u) << "#" << i;
    EXPECT_EQ(msgs[0].reject(), cases[i].want_reject) << "#" << i;
  }
}

TEST(RaftTest, HandleHeartbeat) {
  const uint64_t commit = 2;
  for (auto [msg_commit, want] :
       std::vector<std::pair<uint64_t, uint64_t>>{{commit + 1, commit + 1}, {commit - 1, commit}}) {
    auto storage = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(storage->Append(Ents({{1, 1}, {2, 2}, {3, 3}})).ok());
    auto p = NewTestRaft(1, {1, 2}, 5, 1, std::move(storage));
    Raft* sm = p->raft();
    sm->BecomeFollower(2, 2);
    sm->raft_log().CommitTo(commit);
    raftpb::Message m = Msg(2, 1, raftpb::MsgHeartbeat, 2);
    m.set_commit(msg_commit);
    sm->HandleHeartbeat(m);
    // Never decreases.
    EXPECT_EQ(sm->raft_log().committed(), want);
    std::vector<raftpb::Message> msgs = sm->ReadMessages();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].type(), raftpb::MsgHeartbeatResp);
  }
}

// A heartbeat response from a lagging follower triggers an append.
TEST(RaftTest, HandleHeartbeatResp) {
  auto storage = std::make_unique<MemoryStorage>();
  ASSERT_TRUE(storage->Append(Ents({{1, 1}, {2, 2}, {3, 3}})).ok());
  auto p = NewTestRaft(1, {1, 2}, 5, 1, std::move(storage));
  Raft* sm = p->raft();
  sm->BecomeCandidate();
  sm->BecomeLeader();
  sm->raft_log().CommitTo(sm->raft_log().LastIndex());

  (void)sm->Step(Msg(2, 0, raftpb::MsgHeartbeatResp));
  std::vector<raftpb::Message> msgs = sm->ReadMessages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type(), raftpb::MsgApp);

  (void)sm->Step(Msg(2, 0, raftpb::MsgHeartbeatResp));
  msgs = sm->ReadMessages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type(), raftpb::MsgApp);

  // Caught up: heartbeat responses no longer cause appends.
  raftpb::Message ack = Msg(2, 0, raftpb::MsgAppResp);
  ack.set_index(msgs[0].index() + msgs[0].entries_size());
  (void)sm->Step(ack);
  sm->ReadMessages();
  (void)sm->Step(Msg(2, 0, raftpb::MsgHeartbeatResp));
  EXPECT_TRUE(sm->ReadMessages().empty());
}

TEST(RaftTest, MsgAppRespWaitReset) {
  auto p = NewTestRaft(1, {1, 2, 3}, 5, 1);
  Raft* sm = p->raft();
  sm->BecomeCandidate();
  sm->BecomeLeader();
  sm->BcastAppend();
  sm->ReadMessages();

  // 2 acks the first entry, which commits it.
  raftpb::Message ack = Msg(2, 0, raftpb::MsgAppResp);
  ack.set_index(1);
  (void)sm->Step(ack);
  ASSERT_EQ(sm->raft_log().committed(), 1u);
  sm->ReadMessages();

  // A new proposal only goes to 2: 3 is still probed and waiting.
  (void)sm->Step(EmptyProp(1));
  std::vector<raftpb::Message> msgs = sm->ReadMessages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type(), raftpb::MsgApp);
  EXPECT_EQ(msgs[0].to(), 2u);
  ASSERT_EQ(msgs[0].entries_size(), 1);
  EXPECT_EQ(msgs[0].entries(0).index(), 2u);

  // 3 acks: it gets entry 2.
  ack.set_from(3);
  (void)sm->Step(ack);
  msgs = sm->ReadMessages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type(), raftpb::MsgApp);
  EXPECT_EQ(msgs[0].to(), 3u);
  ASSERT_EQ(msgs[0].entries_size(), 1);
  EXPECT_EQ(msgs[0].entries(0).index(), 2u);
}

void TestRecvMsgVote(raftpb::MessageType type) {
  struct Case {
    StateType state;
    uint64_t index, log_term, vote_for;
    bool reject;
  };
  std::vector<Case> cases = {
      {kFollower, 0, 0, kNone, true},  {kFollower, 0, 1, kNone, true},
      {kFollower, 0, 2, kNone, true},  {kFollower, 0, 3, kNone, false},
      {kFollower, 1, 0, kNone, true},  {kFollower, 1, 1, kNone, true},
      {kFollower, 1, 2, kNone, true},  {kFollower, 1, 3, kNone, false},
      {kFollower, 2, 0, kNone, true},  {kFollower, 2, 1, kNone, true},
      {kFollower, 2, 2, kNone, false}, {kFollower, 2, 3, kNone, false},
      {kFollower, 3, 0, kNone, true},  {kFollower, 3, 1, kNone, true},
      {kFollower, 3, 2, kNone, false}, {kFollower, 3, 3, kNone, false},
      {kFollower, 3, 2, 2, false},     {kFollower, 3, 2, 1, true},
      {kLeader, 3, 3, 1, true},        {kPreCandidate, 3, 3, 1, true},
      {kCandidate, 3, 3, 1, true},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    auto p = NewTestRaft(1, {1}, 10, 1);
    Raft* sm = p->raft();
    sm->SetStateForTesting(c.state);
    sm->set_vote(c.vote_for);
    MemoryStorage log_storage;
    ASSERT_TRUE(log_storage.Append(Ents({{1, 2}, {2, 2}})).ok());
    sm->set_raft_log(std::make_unique<RaftLog>(&log_storage, sm->logger()));
    // Same term on both sides: only the logs and the earlier vote matter.
    uint64_t term = std::max(sm->raft_log().LastTerm(), c.log_term);
    sm->set_term(term);
    raftpb::Message m = Msg(2, 0, type, term);
    m.set_index(c.index);
    m.set_logterm(c.log_term);
    (void)sm->Step(m);
    std::vector<raftpb::Message> msgs = sm->ReadMessages();
    ASSERT_EQ(msgs.size(), 1u) << "#" << i;
    EXPECT_EQ(msgs[0].type(), VoteRespMsgType(type)) << "#" << i;
    EXPECT_EQ(msgs[0].reject(), c.reject) << "#" << i;
    sm->set_raft_log(nullptr);
  }
}

TEST(RaftTest, RecvMsgVote) { TestRecvMsgVote(raftpb::MsgVote); }
TEST(RaftTest, RecvMsgPreVote) { TestRecvMsgVote(raftpb::MsgPreVote); }

TEST(RaftTest, StateTransition) {
  struct Case {
    StateType from, to;
    bool allow;
    uint64_t term, lead;
  };
  std::vector<Case> cases = {
      {kFollower, kFollower, true, 1, kNone},      {kFollower, kPreCandidate, true, 0, kNone},
      {kFollower, kCandidate, true, 1, kNone},     {kFollower, kLeader, false, 0, kNone},
      {kPreCandidate, kFollower, true, 0, kNone},  {kPreCandidate, kPreCandidate, true, 0, kNone},
      {kPreCandidate, kCandidate, true, 1, kNone}, {kPreCandidate, kLeader, true, 0, 1},
      {kCandidate, kFollower, true, 0, kNone},     {kCandidate, kPreCandidate, true, 0, kNone},
      {kCandidate, kCandidate, true, 1, kNone},    {kCandidate, kLeader, true, 0, 1},
      {kLeader, kFollower, true, 1, kNone},        {kLeader, kPreCandidate, false, 0, kNone},
      {kLeader, kCandidate, false, 1, kNone},      {kLeader, kLeader, true, 0, 1},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    auto transition = [&c](Raft* sm) {
      sm->SetStateForTesting(c.from);
      switch (c.to) {
        case kFollower:
          sm->BecomeFollower(c.term, c.lead);
          break;
        case kPreCandidate:
          sm->BecomePreCandidate();
          break;
        case kCandidate:
          sm->BecomeCandidate();
          break;
        case kLeader:
          sm->BecomeLeader();
          break;
      }
    };
    auto p = NewTestRaft(1, {1}, 10, 1);
    Raft* sm = p->raft();
    if (!c.allow) {
      EXPECT_DEATH(transition(sm), "invalid transition") << "#" << i;
      continue;
    }
    transition(sm);
    EXPECT_EQ(sm->term(), c.term) << "#" << i;
    EXPECT_EQ(sm->lead(), c.lead) << "#" << i;
  }
}

TEST(RaftTest, AllServerStepdown) {
  struct Case {
    StateType state, want_state;
    uint64_t want_term, want_index;
  };
  const uint64_t tterm = 3;
  for (const Case& c : std::vector<Case>{{kFollower, kFollower, 3, 0},
                                         {kPreCandidate, kFollower, 3, 0},
                                         {kCandidate, kFollower, 3, 0},
                                         {kLeader, kFollower, 3, 1}}) {
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
    Raft* sm = p->raft();
    switch (c.state) {
      case kFollower:
        sm->BecomeFollower(1, kNone);
        break;
      case kPreCandidate:
        sm->BecomePreCandidate();
        break;
      case kCandidate:
        sm->BecomeCandidate();
        break;
      case kLeader:
        sm->BecomeCandidate();
        sm->BecomeLeader();
        break;
    }
    for (raftpb::MessageType t : {raftpb::MsgVote, raftpb::MsgApp}) {
      raftpb::Message m = Msg(2, 0, t, tterm);
      m.set_logterm(tterm);
      (void)sm->Step(m);
      EXPECT_EQ(sm->state(), c.want_state) << c.state << " " << MessageTypeName(t);
      EXPECT_EQ(sm->term(), c.want_term);
      EXPECT_EQ(sm->raft_log().LastIndex(), c.want_index);
      EXPECT_EQ(sm->raft_log().AllEntries().size(), c.want_index);
      // A leader's messages make it the leader; a vote request does not.
      EXPECT_EQ(sm->lead(), t == raftpb::MsgVote ? kNone : 2u);
    }
  }
}

void TestCandidateResetTerm(raftpb::MessageType mt) {
  auto pa = NewTestRaft(1, {1, 2, 3}, 10, 1);
  auto pb_ = NewTestRaft(2, {1, 2, 3}, 10, 1);
  auto pc = NewTestRaft(3, {1, 2, 3}, 10, 1);
  Raft* a = pa->raft();
  Raft* b = pb_->raft();
  Raft* c = pc->raft();
  Network nt(Peers(std::move(pa), std::move(pb_), std::move(pc)));
  nt.Send(Hup(1));
  EXPECT_EQ(a->state(), kLeader);
  EXPECT_EQ(b->state(), kFollower);
  EXPECT_EQ(c->state(), kFollower);

  // Isolate 3 and raise the term of the rest.
  nt.Isolate(3);
  nt.Send(Hup(2));
  nt.Send(Hup(1));
  EXPECT_EQ(a->state(), kLeader);
  EXPECT_EQ(b->state(), kFollower);

  // 3 times out and campaigns alone.
  c->ResetRandomizedElectionTimeout();
  TickN(c, c->randomized_election_timeout());
  EXPECT_EQ(c->state(), kCandidate);

  nt.Recover();
  // The leader's message turns the candidate back into a follower of its
  // term.
  nt.Send(Msg(1, 3, mt, a->term()));
  EXPECT_EQ(c->state(), kFollower);
  EXPECT_EQ(a->term(), c->term());
}

TEST(RaftTest, CandidateResetTermMsgHeartbeat) { TestCandidateResetTerm(raftpb::MsgHeartbeat); }
TEST(RaftTest, CandidateResetTermMsgApp) { TestCandidateResetTerm(raftpb::MsgApp); }

// --- CheckQuorum ------------------------------------------------------------

TEST(RaftTest, LeaderStepdownWhenQuorumActive) {
  auto p = NewTestRaft(1, {1, 2, 3}, 5, 1);
  Raft* sm = p->raft();
  sm->set_check_quorum(true);
  sm->BecomeCandidate();
  sm->BecomeLeader();
  for (int i = 0; i < sm->election_timeout() + 1; ++i) {
    (void)sm->Step(Msg(2, 0, raftpb::MsgHeartbeatResp, sm->term()));
    sm->Tick();
  }
  EXPECT_EQ(sm->state(), kLeader);
}

TEST(RaftTest, LeaderStepdownWhenQuorumLost) {
  auto p = NewTestRaft(1, {1, 2, 3}, 5, 1);
  Raft* sm = p->raft();
  sm->set_check_quorum(true);
  sm->BecomeCandidate();
  sm->BecomeLeader();
  TickN(sm, sm->election_timeout() + 1);
  EXPECT_EQ(sm->state(), kFollower);
}

// Makes three check-quorum rafts in a network; returns them.
struct Trio {
  std::unique_ptr<Network> nt;
  Raft* a;
  Raft* b;
  Raft* c;
};

Trio MakeTrio(bool check_quorum, bool pre_vote = false, bool follow_term1 = false) {
  auto pa = NewTestRaft(1, {1, 2, 3}, 10, 1);
  auto pb_ = NewTestRaft(2, {1, 2, 3}, 10, 1);
  auto pc = NewTestRaft(3, {1, 2, 3}, 10, 1);
  Trio t{nullptr, pa->raft(), pb_->raft(), pc->raft()};
  for (Raft* r : {t.a, t.b, t.c}) {
    r->set_check_quorum(check_quorum);
    r->set_pre_vote(pre_vote);
    if (follow_term1) r->BecomeFollower(1, kNone);
  }
  t.nt = std::make_unique<Network>(Peers(std::move(pa), std::move(pb_), std::move(pc)));
  return t;
}

TEST(RaftTest, LeaderSupersedingWithCheckQuorum) {
  Trio t = MakeTrio(true);
  t.b->set_randomized_election_timeout(t.b->election_timeout() + 1);
  TickN(t.b, t.b->election_timeout());
  t.nt->Send(Hup(1));
  EXPECT_EQ(t.a->state(), kLeader);
  EXPECT_EQ(t.c->state(), kFollower);

  t.nt->Send(Hup(3));
  // 2 rejects: it heard from the leader within the election timeout.
  EXPECT_EQ(t.c->state(), kCandidate);

  // Once 2's timeout elapsed, it votes.
  TickN(t.b, t.b->election_timeout());
  t.nt->Send(Hup(3));
  EXPECT_EQ(t.c->state(), kLeader);
}

TEST(RaftTest, LeaderElectionWithCheckQuorum) {
  Trio t = MakeTrio(true);
  t.a->set_randomized_election_timeout(t.a->election_timeout() + 1);
  t.b->set_randomized_election_timeout(t.b->election_timeout() + 2);
  // Right after creation, votes are granted whatever the timeouts.
  t.nt->Send(Hup(1));
  EXPECT_EQ(t.a->state(), kLeader);
  EXPECT_EQ(t.c->state(), kFollower);

  // The transitions re-drew the timeouts; set them again.
  t.a->set_randomized_election_timeout(t.a->election_timeout() + 1);
  t.b->set_randomized_election_timeout(t.b->election_timeout() + 2);
  TickN(t.a, t.a->election_timeout());
  TickN(t.b, t.b->election_timeout());
  t.nt->Send(Hup(3));
  EXPECT_EQ(t.a->state(), kFollower);
  EXPECT_EQ(t.c->state(), kLeader);
}

// A candidate with a higher term can disrupt a leader that still holds its
// lease, which then adopts the candidate's term.
TEST(RaftTest, FreeStuckCandidateWithCheckQuorum) {
  Trio t = MakeTrio(true);
  t.b->set_randomized_election_timeout(t.b->election_timeout() + 1);
  TickN(t.b, t.b->election_timeout());
  t.nt->Send(Hup(1));

  t.nt->Isolate(1);
  t.nt->Send(Hup(3));
  EXPECT_EQ(t.b->state(), kFollower);
  EXPECT_EQ(t.c->state(), kCandidate);
  EXPECT_EQ(t.c->term(), t.b->term() + 1);

  t.nt->Send(Hup(3));
  EXPECT_EQ(t.b->state(), kFollower);
  EXPECT_EQ(t.c->state(), kCandidate);
  EXPECT_EQ(t.c->term(), t.b->term() + 2);

  t.nt->Recover();
  t.nt->Send(Msg(1, 3, raftpb::MsgHeartbeat, t.a->term()));
  // The stuck candidate's answer makes the leader step down.
  EXPECT_EQ(t.a->state(), kFollower);
  EXPECT_EQ(t.c->term(), t.a->term());

  t.nt->Send(Hup(3));
  EXPECT_EQ(t.c->state(), kLeader);
}

TEST(RaftTest, NonPromotableVoterWithCheckQuorum) {
  auto pa = NewTestRaft(1, {1, 2}, 10, 1);
  auto pb_ = NewTestRaft(2, {1}, 10, 1);
  Raft* a = pa->raft();
  Raft* b = pb_->raft();
  a->set_check_quorum(true);
  b->set_check_quorum(true);
  Network nt(Peers(std::move(pa), std::move(pb_)));
  b->set_randomized_election_timeout(b->election_timeout() + 1);
  // The network re-added 2 to b's configuration; remove it again.
  b->ApplyConfChange(CC(raftpb::ConfChangeRemoveNode, 2));
  ASSERT_FALSE(b->Promotable());

  TickN(b, b->election_timeout());
  nt.Send(Hup(1));
  EXPECT_EQ(a->state(), kLeader);
  EXPECT_EQ(b->state(), kFollower);
  EXPECT_EQ(b->lead(), 1u);
}

// An isolated follower's election with a higher term forces the leader down
// once its late heartbeat is answered.
TEST(RaftTest, DisruptiveFollower) {
  Trio t = MakeTrio(true, false, true);
  t.nt->Send(Hup(1));
  ASSERT_EQ(t.a->state(), kLeader);
  ASSERT_EQ(t.b->state(), kFollower);
  ASSERT_EQ(t.c->state(), kFollower);

  // 3's timeout elapses before the leader's messages arrive.
  t.c->set_randomized_election_timeout(t.c->election_timeout() + 2);
  TickN(t.c, t.c->randomized_election_timeout() - 1);
  t.c->Tick();
  ASSERT_EQ(t.a->state(), kLeader);
  ASSERT_EQ(t.b->state(), kFollower);
  ASSERT_EQ(t.c->state(), kCandidate);
  ASSERT_EQ(t.a->term(), 2u);
  ASSERT_EQ(t.b->term(), 2u);
  ASSERT_EQ(t.c->term(), 3u);

  // The late heartbeat reaches 3, whose answer carries term 3.
  t.nt->Send(Msg(1, 3, raftpb::MsgHeartbeat, t.a->term()));
  EXPECT_EQ(t.a->state(), kFollower);
  EXPECT_EQ(t.b->state(), kFollower);
  EXPECT_EQ(t.c->state(), kCandidate);
  EXPECT_EQ(t.a->term(), 3u);
  EXPECT_EQ(t.b->term(), 2u);
  EXPECT_EQ(t.c->term(), 3u);
}

// With PreVote the isolated follower cannot disrupt the leader.
TEST(RaftTest, DisruptiveFollowerPreVote) {
  Trio t = MakeTrio(true, false, true);
  t.nt->Send(Hup(1));
  ASSERT_EQ(t.a->state(), kLeader);

  t.nt->Isolate(3);
  for (int i = 0; i < 3; ++i) t.nt->Send(Prop(1, "somedata"));
  for (Raft* r : {t.a, t.b, t.c}) r->set_pre_vote(true);
  t.nt->Recover();
  t.nt->Send(Hup(3));
  EXPECT_EQ(t.a->state(), kLeader);
  EXPECT_EQ(t.b->state(), kFollower);
  EXPECT_EQ(t.c->state(), kPreCandidate);
  EXPECT_EQ(t.a->term(), 2u);
  EXPECT_EQ(t.b->term(), 2u);
  EXPECT_EQ(t.c->term(), 2u);

  t.nt->Send(Msg(1, 3, raftpb::MsgHeartbeat, t.a->term()));
  EXPECT_EQ(t.a->state(), kLeader);
}

// --- ReadIndex --------------------------------------------------------------

void CheckReadIndex(Network* nt,
                    const std::vector<std::tuple<Raft*, int, uint64_t, std::string>>& cases) {
  for (size_t i = 0; i < cases.size(); ++i) {
    auto [r, proposals, want_index, ctx] = cases[i];
    for (int j = 0; j < proposals; ++j) nt->Send(EmptyProp(1));
    nt->Send(MsgWithEnts(r->id(), r->id(), raftpb::MsgReadIndex, 0, {DataEnt(0, 0, ctx)}));
    ASSERT_FALSE(r->read_states().empty()) << "#" << i;
    EXPECT_EQ(r->read_states()[0].index, want_index) << "#" << i;
    EXPECT_EQ(r->read_states()[0].request_ctx, ctx) << "#" << i;
    r->read_states().clear();
  }
}

TEST(RaftTest, ReadOnlyOptionSafe) {
  Trio t = MakeTrio(false);
  t.b->set_randomized_election_timeout(t.b->election_timeout() + 1);
  TickN(t.b, t.b->election_timeout());
  t.nt->Send(Hup(1));
  ASSERT_EQ(t.a->state(), kLeader);
  CheckReadIndex(t.nt.get(), {{t.a, 10, 11, "ctx1"},
                              {t.b, 10, 21, "ctx2"},
                              {t.c, 10, 31, "ctx3"},
                              {t.a, 10, 41, "ctx4"},
                              {t.b, 10, 51, "ctx5"},
                              {t.c, 10, 61, "ctx6"}});
}

TEST(RaftTest, ReadOnlyWithLearner) {
  auto pa = NewTestLearnerRaft(1, {1}, {2}, 10, 1);
  auto pb_ = NewTestLearnerRaft(2, {1}, {2}, 10, 1);
  Raft* a = pa->raft();
  Raft* b = pb_->raft();
  Network nt(Peers(std::move(pa), std::move(pb_)));
  b->set_randomized_election_timeout(b->election_timeout() + 1);
  TickN(b, b->election_timeout());
  nt.Send(Hup(1));
  ASSERT_EQ(a->state(), kLeader);
  CheckReadIndex(
      &nt, {{a, 10, 11, "ctx1"}, {b, 10, 21, "ctx2"}, {a, 10, 31, "ctx3"}, {b, 10, 41, "ctx4"}});
}

TEST(RaftTest, ReadOnlyOptionLease) {
  Trio t = MakeTrio(true);
  for (Raft* r : {t.a, t.b, t.c}) r->set_read_only_option(ReadOnlyOption::kLeaseBased);
  t.b->set_randomized_election_timeout(t.b->election_timeout() + 1);
  TickN(t.b, t.b->election_timeout());
  t.nt->Send(Hup(1));
  ASSERT_EQ(t.a->state(), kLeader);
  CheckReadIndex(t.nt.get(), {{t.a, 10, 11, "ctx1"},
                              {t.b, 10, 21, "ctx2"},
                              {t.c, 10, 31, "ctx3"},
                              {t.a, 10, 41, "ctx4"},
                              {t.b, 10, 51, "ctx5"},
                              {t.c, 10, 61, "ctx6"}});
}

TEST(RaftTest, ReadOnlyFreesMemory) {
  auto p = NewTestRaft(1, {1, 2}, 5, 1);
  Raft* sm = p->raft();
  sm->BecomeCandidate();
  sm->BecomeLeader();
  sm->raft_log().CommitTo(sm->raft_log().LastIndex());

  // The leader confirms its authority with a heartbeat carrying the
  // request's context (thesis 6.4, step 2).
  (void)sm->Step(MsgWithEnts(2, 0, raftpb::MsgReadIndex, 0, {DataEnt(0, 0, "ctx")}));
  std::vector<raftpb::Message> msgs = sm->ReadMessages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type(), raftpb::MsgHeartbeat);
  EXPECT_EQ(msgs[0].context(), "ctx");
  EXPECT_EQ(sm->read_only().queue_size(), 1u);
  EXPECT_EQ(sm->read_only().pending_count(), 1u);

  // A quorum acknowledged it (step 3): the request is answered and freed.
  raftpb::Message resp = Msg(2, 0, raftpb::MsgHeartbeatResp);
  resp.set_context("ctx");
  (void)sm->Step(resp);
  EXPECT_EQ(sm->read_only().queue_size(), 0u);
  EXPECT_EQ(sm->read_only().pending_count(), 0u);
  // The answer goes to the requester (next to an append for the lagging
  // follower).
  msgs = sm->ReadMessages();
  int answers = 0;
  for (const raftpb::Message& m : msgs) {
    if (m.type() != raftpb::MsgReadIndexResp) continue;
    ++answers;
    EXPECT_EQ(m.to(), 2u);
    EXPECT_EQ(m.index(), sm->raft_log().committed());
    ASSERT_EQ(m.entries_size(), 1);
    EXPECT_EQ(m.entries(0).data(), "ctx");
  }
  EXPECT_EQ(answers, 1);
}

// A new leader answers read requests only after committing an entry of its
// term.
TEST(RaftTest, ReadOnlyForNewLeader) {
  struct NodeConfig {
    uint64_t id, committed, applied, compact_index;
  };
  std::vector<std::unique_ptr<rafttest::StateMachine>> peers;
  for (const NodeConfig& c : std::vector<NodeConfig>{{1, 1, 1, 0}, {2, 2, 2, 2}, {3, 2, 2, 2}}) {
    auto storage = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(storage->Append(Ents({{1, 1}, {2, 1}})).ok());
    ASSERT_TRUE(storage->SetHardState(HS(1, 0, c.committed)).ok());
    if (c.compact_index != 0) {
      ASSERT_TRUE(storage->Compact(c.compact_index).ok());
    }
    Config cfg = NewTestConfig(c.id, {1, 2, 3}, 10, 1, storage.get());
    cfg.applied = c.applied;
    peers.push_back(rafttest::NewRaftPeer(cfg, std::move(storage)));
  }
  Network nt(std::move(peers));
  // 1 becomes leader but cannot commit an entry of its term.
  nt.Ignore(raftpb::MsgApp);
  nt.Send(Hup(1));
  Raft* sm = nt.raft(1);
  ASSERT_EQ(sm->state(), kLeader);

  // The read is held back.
  const uint64_t want_index = 4;
  nt.Send(MsgWithEnts(1, 1, raftpb::MsgReadIndex, 0, {DataEnt(0, 0, "ctx")}));
  EXPECT_TRUE(sm->read_states().empty());
  EXPECT_EQ(sm->pending_read_index_messages().size(), 1u);

  nt.Recover();
  TickN(sm, sm->heartbeat_timeout());
  nt.Send(EmptyProp(1));
  ASSERT_EQ(sm->raft_log().committed(), 4u);
  EXPECT_EQ(sm->raft_log().ZeroTermOnErrCompacted(sm->raft_log().Term(4)), sm->term());

  // Committing released the postponed read.
  ASSERT_EQ(sm->read_states().size(), 1u);
  EXPECT_EQ(sm->read_states()[0].index, want_index);
  EXPECT_EQ(sm->read_states()[0].request_ctx, "ctx");

  // And new reads are served right away.
  nt.Send(MsgWithEnts(1, 1, raftpb::MsgReadIndex, 0, {DataEnt(0, 0, "ctx")}));
  ASSERT_EQ(sm->read_states().size(), 2u);
  EXPECT_EQ(sm->read_states()[1].index, want_index);
}

TEST(RaftTest, ReadIndexOnFollowerWithoutLeaderIsDropped) {
  auto p = NewTestRaft(2, {1, 2}, 10, 1);
  (void)p->raft()->Step(MsgWithEnts(2, 2, raftpb::MsgReadIndex, 0, {DataEnt(0, 0, "ctx")}));
  EXPECT_TRUE(p->raft()->msgs().empty());
  EXPECT_TRUE(p->raft()->read_states().empty());
}

// --- Replication details ---------------------------------------------------

TEST(RaftTest, LeaderAppResp) {
  // Initial progress: match 0, next 3.
  struct Case {
    uint64_t index;
    bool reject;
    uint64_t want_match, want_next;
    size_t want_msgs;
    uint64_t want_index, want_committed;
  };
  for (const Case& c : std::vector<Case>{
           {3, true, 0, 3, 0, 0, 0},   // stale: no reply
           {2, true, 0, 2, 1, 1, 0},   // rejected: lower next and probe
           {2, false, 2, 4, 2, 2, 2},  // accepted: commit and broadcast
           {0, false, 0, 3, 0, 0, 0},  // heartbeat-like: ignored
       }) {
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
    Raft* sm = p->raft();
    MemoryStorage log_storage;
    ASSERT_TRUE(log_storage.Append(Ents({{1, 0}, {2, 1}})).ok());
    sm->set_raft_log(std::make_unique<RaftLog>(&log_storage, sm->logger()));
    sm->BecomeCandidate();
    sm->BecomeLeader();
    sm->ReadMessages();
    raftpb::Message m = Msg(2, 0, raftpb::MsgAppResp, sm->term());
    m.set_index(c.index);
    m.set_reject(c.reject);
    m.set_rejecthint(c.index);
    (void)sm->Step(m);
    const tracker::Progress& pr = sm->prs().progress[2];
    EXPECT_EQ(pr.match, c.want_match) << c.index << c.reject;
    EXPECT_EQ(pr.next, c.want_next) << c.index << c.reject;
    std::vector<raftpb::Message> msgs = sm->ReadMessages();
    EXPECT_EQ(msgs.size(), c.want_msgs);
    for (const raftpb::Message& msg : msgs) {
      EXPECT_EQ(msg.index(), c.want_index);
      EXPECT_EQ(msg.commit(), c.want_committed);
    }
    sm->set_raft_log(nullptr);
  }
}

// A heartbeat carries no log position and a commit index capped at each
// follower's match.
TEST(RaftTest, BcastBeat) {
  const uint64_t offset = 1000;
  auto storage = std::make_unique<MemoryStorage>();
  ASSERT_TRUE(storage->ApplySnapshot(SnapWithConf(offset, 1, {1, 2, 3})).ok());
  auto p = NewTestRaft(1, {}, 10, 1, std::move(storage));
  Raft* sm = p->raft();
  sm->set_term(1);
  sm->BecomeCandidate();
  sm->BecomeLeader();
  for (int i = 0; i < 10; ++i) MustAppendEntry(sm, {Ent(i + 1, 0)});
  // A slow follower and one that is up to date.
  sm->prs().progress[2].match = 5;
  sm->prs().progress[2].next = 6;
  sm->prs().progress[3].match = sm->raft_log().LastIndex();
  sm->prs().progress[3].next = sm->raft_log().LastIndex() + 1;

  (void)sm->Step(Msg(0, 0, raftpb::MsgBeat));
  std::vector<raftpb::Message> msgs = sm->ReadMessages();
  ASSERT_EQ(msgs.size(), 2u);
  std::map<uint64_t, uint64_t> want_commit = {
      {2, std::min(sm->raft_log().committed(), sm->prs().progress[2].match)},
      {3, std::min(sm->raft_log().committed(), sm->prs().progress[3].match)},
  };
  for (const raftpb::Message& m : msgs) {
    EXPECT_EQ(m.type(), raftpb::MsgHeartbeat);
    EXPECT_EQ(m.index(), 0u);
    EXPECT_EQ(m.logterm(), 0u);
    ASSERT_TRUE(want_commit.count(m.to()) > 0) << m.to();
    EXPECT_EQ(m.commit(), want_commit[m.to()]);
    want_commit.erase(m.to());
    EXPECT_EQ(m.entries_size(), 0);
  }
}

TEST(RaftTest, RecvMsgBeat) {
  for (auto [state, want] :
       std::vector<std::pair<StateType, size_t>>{{kLeader, 2}, {kCandidate, 0}, {kFollower, 0}}) {
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
    Raft* sm = p->raft();
    MemoryStorage log_storage;
    ASSERT_TRUE(log_storage.Append(Ents({{1, 0}, {2, 1}})).ok());
    sm->set_raft_log(std::make_unique<RaftLog>(&log_storage, sm->logger()));
    sm->set_term(1);
    sm->SetStateForTesting(state);
    (void)sm->Step(Msg(1, 1, raftpb::MsgBeat));
    std::vector<raftpb::Message> msgs = sm->ReadMessages();
    EXPECT_EQ(msgs.size(), want) << state;
    for (const raftpb::Message& m : msgs) EXPECT_EQ(m.type(), raftpb::MsgHeartbeat);
    sm->set_raft_log(nullptr);
  }
}

TEST(RaftTest, LeaderIncreaseNext) {
  std::vector<raftpb::Entry> previous = Ents({{1, 1}, {2, 1}, {3, 1}});
  // Replicate: next advances optimistically (previous + empty + proposal + 1).
  // Probe: it does not.
  for (auto [state, next, want] : std::vector<std::tuple<tracker::StateType, uint64_t, uint64_t>>{
           {kReplicate, 2, previous.size() + 1 + 1 + 1}, {kProbe, 2, 2}}) {
    auto p = NewTestRaft(1, {1, 2}, 10, 1);
    Raft* sm = p->raft();
    sm->raft_log().Append(previous);
    sm->BecomeCandidate();
    sm->BecomeLeader();
    sm->prs().progress[2].state = state;
    sm->prs().progress[2].next = next;
    (void)sm->Step(Prop(1, "somedata"));
    EXPECT_EQ(sm->prs().progress[2].next, want);
  }
}

TEST(RaftTest, SendAppendForProgressProbe) {
  auto p = NewTestRaft(1, {1, 2}, 10, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  r->ReadMessages();
  r->prs().progress[2].BecomeProbe();

  // Each round is a heartbeat interval.
  for (int i = 0; i < 3; ++i) {
    if (i == 0) {
      // Only the first append goes out; then the follower is paused until a
      // heartbeat response.
      MustAppendEntry(r, {DataEnt(0, 0, "somedata")});
      r->SendAppend(2);
      std::vector<raftpb::Message> msg = r->ReadMessages();
      ASSERT_EQ(msg.size(), 1u);
      EXPECT_EQ(msg[0].index(), 0u);
    }
    EXPECT_TRUE(r->prs().progress[2].probe_sent);
    for (int j = 0; j < 10; ++j) {
      MustAppendEntry(r, {DataEnt(0, 0, "somedata")});
      r->SendAppend(2);
      EXPECT_TRUE(r->ReadMessages().empty());
    }
    // A heartbeat.
    for (int j = 0; j < r->heartbeat_timeout(); ++j) (void)r->Step(Msg(1, 1, raftpb::MsgBeat));
    EXPECT_TRUE(r->prs().progress[2].probe_sent);
    std::vector<raftpb::Message> msg = r->ReadMessages();
    ASSERT_EQ(msg.size(), 1u);
    EXPECT_EQ(msg[0].type(), raftpb::MsgHeartbeat);
  }
  // A heartbeat response lets one more append through.
  (void)r->Step(Msg(2, 1, raftpb::MsgHeartbeatResp));
  std::vector<raftpb::Message> msg = r->ReadMessages();
  ASSERT_EQ(msg.size(), 1u);
  EXPECT_EQ(msg[0].index(), 0u);
  EXPECT_TRUE(r->prs().progress[2].probe_sent);
}

TEST(RaftTest, SendAppendForProgressReplicate) {
  auto p = NewTestRaft(1, {1, 2}, 10, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  r->ReadMessages();
  r->prs().progress[2].BecomeReplicate();
  for (int i = 0; i < 10; ++i) {
    MustAppendEntry(r, {DataEnt(0, 0, "somedata")});
    r->SendAppend(2);
    EXPECT_EQ(r->ReadMessages().size(), 1u);
  }
}

TEST(RaftTest, SendAppendForProgressSnapshot) {
  auto p = NewTestRaft(1, {1, 2}, 10, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  r->ReadMessages();
  r->prs().progress[2].BecomeSnapshot(10);
  for (int i = 0; i < 10; ++i) {
    MustAppendEntry(r, {DataEnt(0, 0, "somedata")});
    r->SendAppend(2);
    EXPECT_TRUE(r->ReadMessages().empty());
  }
}

TEST(RaftTest, RecvMsgUnreachable) {
  auto storage = std::make_unique<MemoryStorage>();
  ASSERT_TRUE(storage->Append(Ents({{1, 1}, {2, 1}, {3, 1}})).ok());
  auto p = NewTestRaft(1, {1, 2}, 10, 1, std::move(storage));
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  r->ReadMessages();
  tracker::Progress& pr = r->prs().progress[2];
  pr.match = 3;
  pr.BecomeReplicate();
  pr.OptimisticUpdate(5);
  (void)r->Step(Msg(2, 1, raftpb::MsgUnreachable));
  EXPECT_EQ(pr.state, kProbe);
  EXPECT_EQ(pr.next, pr.match + 1);
}

// --- Snapshots ----------------------------------------------------------------

TEST(RaftTest, Restore) {
  raftpb::Snapshot s = SnapWithConf(11, 11, {1, 2, 3});
  auto p = NewTestRaft(1, {1, 2}, 10, 1);
  Raft* sm = p->raft();
  ASSERT_TRUE(sm->Restore(s));
  EXPECT_EQ(sm->raft_log().LastIndex(), 11u);
  EXPECT_EQ(*sm->raft_log().Term(11), 11u);
  EXPECT_EQ(sm->prs().VoterNodes(), std::vector<uint64_t>({1, 2, 3}));
  // The same snapshot again is obsolete.
  EXPECT_FALSE(sm->Restore(s));
}

TEST(RaftTest, RestoreWithLearner) {
  raftpb::Snapshot s = SnapWithConf(11, 11, {1, 2}, {3});
  auto p = NewTestLearnerRaft(3, {1, 2}, {3}, 8, 2);
  Raft* sm = p->raft();
  ASSERT_TRUE(sm->Restore(s));
  EXPECT_EQ(sm->raft_log().LastIndex(), 11u);
  EXPECT_EQ(*sm->raft_log().Term(11), 11u);
  EXPECT_EQ(sm->prs().VoterNodes(), std::vector<uint64_t>({1, 2}));
  EXPECT_EQ(sm->prs().LearnerNodes(), std::vector<uint64_t>({3}));
  EXPECT_FALSE(sm->prs().progress[1].is_learner);
  EXPECT_FALSE(sm->prs().progress[2].is_learner);
  EXPECT_TRUE(sm->prs().progress[3].is_learner);
  EXPECT_FALSE(sm->Restore(s));
}

// A voter may learn from a snapshot that it is now a learner (the snapshot
// may compress its removal and re-addition as a learner).
TEST(RaftTest, RestoreVoterToLearner) {
  auto p = NewTestRaft(3, {1, 2, 3}, 10, 1);
  Raft* sm = p->raft();
  EXPECT_FALSE(sm->is_learner());
  EXPECT_TRUE(sm->Restore(SnapWithConf(11, 11, {1, 2}, {3})));
  EXPECT_TRUE(sm->is_learner());
}

TEST(RaftTest, RestoreLearnerPromotion) {
  auto p = NewTestLearnerRaft(3, {1, 2}, {3}, 10, 1);
  Raft* sm = p->raft();
  EXPECT_TRUE(sm->is_learner());
  EXPECT_TRUE(sm->Restore(SnapWithConf(11, 11, {1, 2, 3})));
  EXPECT_FALSE(sm->is_learner());
}

TEST(RaftTest, RestoreRefusesSnapshotWithoutSelf) {
  auto p = NewTestRaft(3, {1, 2, 3}, 10, 1);
  EXPECT_FALSE(p->raft()->Restore(SnapWithConf(11, 11, {1, 2})));
  EXPECT_EQ(p->raft()->raft_log().LastIndex(), 0u);
}

TEST(RaftTest, LearnerReceiveSnapshot) {
  raftpb::Snapshot s = SnapWithConf(11, 11, {1}, {2});
  auto p1 = NewTestLearnerRaft(1, {1}, {2}, 10, 1);
  auto p2 = NewTestLearnerRaft(2, {1}, {2}, 10, 1);
  Raft* n1 = p1->raft();
  Raft* n2 = p2->raft();
  ASSERT_TRUE(n1->Restore(s));
  n1->raft_log().AppliedTo(n1->raft_log().committed());
  Network nt(Peers(std::move(p1), std::move(p2)));
  n1->set_randomized_election_timeout(n1->election_timeout());
  TickN(n1, n1->election_timeout());
  nt.Send(rafttest::Beat(1));
  EXPECT_EQ(n2->raft_log().committed(), n1->raft_log().committed());
}

TEST(RaftTest, RestoreIgnoreSnapshot) {
  const uint64_t commit = 1;
  auto p = NewTestRaft(1, {1, 2}, 10, 1);
  Raft* sm = p->raft();
  sm->raft_log().Append(Ents({{1, 1}, {2, 1}, {3, 1}}));
  sm->raft_log().CommitTo(commit);

  raftpb::Snapshot s = SnapWithConf(commit, 1, {1, 2});
  EXPECT_FALSE(sm->Restore(s));
  EXPECT_EQ(sm->raft_log().committed(), commit);

  // A snapshot of an entry we have only fast-forwards the commit index.
  s.mutable_metadata()->set_index(commit + 1);
  EXPECT_FALSE(sm->Restore(s));
  EXPECT_EQ(sm->raft_log().committed(), commit + 1);
}

TEST(RaftTest, ProvideSnap) {
  auto p = NewTestRaft(1, {1}, 10, 1);
  Raft* sm = p->raft();
  ASSERT_TRUE(sm->Restore(SnapWithConf(11, 11, {1, 2})));
  sm->BecomeCandidate();
  sm->BecomeLeader();
  // 2 needs entries the leader no longer has.
  sm->prs().progress[2].next = sm->raft_log().FirstIndex();
  raftpb::Message m = Msg(2, 1, raftpb::MsgAppResp);
  m.set_index(sm->prs().progress[2].next - 1);
  m.set_reject(true);
  (void)sm->Step(m);
  std::vector<raftpb::Message> msgs = sm->ReadMessages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type(), raftpb::MsgSnap);
  EXPECT_EQ(sm->prs().progress[2].state, kSnapshot);
}

TEST(RaftTest, IgnoreProvidingSnap) {
  auto p = NewTestRaft(1, {1}, 10, 1);
  Raft* sm = p->raft();
  ASSERT_TRUE(sm->Restore(SnapWithConf(11, 11, {1, 2})));
  sm->BecomeCandidate();
  sm->BecomeLeader();
  // 2 needs a snapshot but is not recently active: none is sent.
  sm->prs().progress[2].next = sm->raft_log().FirstIndex() - 1;
  sm->prs().progress[2].recent_active = false;
  (void)sm->Step(Prop(1, "somedata"));
  EXPECT_TRUE(sm->ReadMessages().empty());
}

TEST(RaftTest, RestoreFromSnapMsg) {
  raftpb::Message m = Msg(1, 0, raftpb::MsgSnap, 2);
  *m.mutable_snapshot() = SnapWithConf(11, 11, {1, 2});
  auto p = NewTestRaft(2, {1, 2}, 10, 1);
  Raft* sm = p->raft();
  (void)sm->Step(m);
  EXPECT_EQ(sm->lead(), 1u);
  EXPECT_EQ(sm->raft_log().committed(), 11u);
  std::vector<raftpb::Message> msgs = sm->ReadMessages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type(), raftpb::MsgAppResp);
  EXPECT_EQ(msgs[0].index(), 11u);
}

TEST(RaftTest, SlowNodeRestore) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Isolate(3);
  for (int j = 0; j <= 100; ++j) nt.Send(EmptyProp(1));
  Raft* lead = nt.raft(1);
  NextEnts(lead, nt.storage(1));
  raftpb::ConfState cs;
  for (uint64_t v : lead->prs().VoterNodes()) cs.add_voters(v);
  ASSERT_TRUE(nt.storage(1)->CreateSnapshot(lead->raft_log().applied(), &cs, "").ok());
  ASSERT_TRUE(nt.storage(1)->Compact(lead->raft_log().applied()).ok());

  nt.Recover();
  // Heartbeats until the leader knows 3 is active again.
  for (int i = 0; i < 100 && !lead->prs().progress[3].recent_active; ++i) {
    nt.Send(rafttest::Beat(1));
  }
  ASSERT_TRUE(lead->prs().progress[3].recent_active);
  // Triggers a snapshot.
  nt.Send(EmptyProp(1));
  Raft* follower = nt.raft(3);
  // Triggers a commit.
  nt.Send(EmptyProp(1));
  EXPECT_EQ(follower->raft_log().committed(), lead->raft_log().committed());
}

// --- Configuration changes ---------------------------------------------------

raftpb::Entry ConfChangeEntry(raftpb::EntryType type = raftpb::EntryConfChange) {
  raftpb::Entry e;
  e.set_type(type);
  return e;
}

TEST(RaftTest, StepConfig) {
  auto p = NewTestRaft(1, {1, 2}, 10, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  uint64_t index = r->raft_log().LastIndex();
  (void)r->Step(MsgWithEnts(1, 1, raftpb::MsgProp, 0, {ConfChangeEntry()}));
  EXPECT_EQ(r->raft_log().LastIndex(), index + 1);
  EXPECT_EQ(r->pending_conf_index(), index + 1);
}

// A second conf change while one is pending becomes an empty entry.
TEST(RaftTest, StepIgnoreConfig) {
  auto p = NewTestRaft(1, {1, 2}, 10, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  (void)r->Step(MsgWithEnts(1, 1, raftpb::MsgProp, 0, {ConfChangeEntry()}));
  uint64_t index = r->raft_log().LastIndex();
  uint64_t pending = r->pending_conf_index();
  (void)r->Step(MsgWithEnts(1, 1, raftpb::MsgProp, 0, {ConfChangeEntry()}));
  absl::StatusOr<std::vector<raftpb::Entry>> ents = r->raft_log().Entries(index + 1, kNoLimit);
  ASSERT_TRUE(ents.ok());
  raftpb::Entry want = Ent(3, 1);
  want.set_type(raftpb::EntryNormal);
  EXPECT_EQ(*ents, std::vector<raftpb::Entry>({want}));
  EXPECT_FALSE((*ents)[0].has_data());
  EXPECT_EQ(r->pending_conf_index(), pending);
}

// A new leader refuses conf changes until its whole log is applied.
TEST(RaftTest, NewLeaderPendingConfig) {
  for (auto [add_entry, want] : std::vector<std::pair<bool, uint64_t>>{{false, 0}, {true, 1}}) {
    auto p = NewTestRaft(1, {1, 2}, 10, 1);
    Raft* r = p->raft();
    if (add_entry) MustAppendEntry(r, {Ent(0, 0)});
    r->BecomeCandidate();
    r->BecomeLeader();
    EXPECT_EQ(r->pending_conf_index(), want);
  }
}

TEST(RaftTest, AddNode) {
  auto p = NewTestRaft(1, {1}, 10, 1);
  p->raft()->ApplyConfChange(CC(raftpb::ConfChangeAddNode, 2));
  EXPECT_EQ(p->raft()->prs().VoterNodes(), std::vector<uint64_t>({1, 2}));
}

TEST(RaftTest, AddLearner) {
  auto p = NewTestRaft(1, {1}, 10, 1);
  Raft* r = p->raft();
  r->ApplyConfChange(CC(raftpb::ConfChangeAddLearnerNode, 2));
  EXPECT_FALSE(r->is_learner());
  EXPECT_EQ(r->prs().LearnerNodes(), std::vector<uint64_t>({2}));
  EXPECT_TRUE(r->prs().progress[2].is_learner);

  // Promote 2.
  r->ApplyConfChange(CC(raftpb::ConfChangeAddNode, 2));
  EXPECT_FALSE(r->prs().progress[2].is_learner);

  // Demote 1 (ourselves).
  r->ApplyConfChange(CC(raftpb::ConfChangeAddLearnerNode, 1));
  EXPECT_TRUE(r->prs().progress[1].is_learner);
  EXPECT_TRUE(r->is_learner());

  // And promote it again.
  r->ApplyConfChange(CC(raftpb::ConfChangeAddNode, 1));
  EXPECT_FALSE(r->prs().progress[1].is_learner);
  EXPECT_FALSE(r->is_learner());
}

// Adding a node does not make the leader step down at once with CheckQuorum.
TEST(RaftTest, AddNodeCheckQuorum) {
  auto p = NewTestRaft(1, {1}, 10, 1);
  Raft* r = p->raft();
  r->set_check_quorum(true);
  r->BecomeCandidate();
  r->BecomeLeader();
  TickN(r, r->election_timeout() - 1);
  r->ApplyConfChange(CC(raftpb::ConfChangeAddNode, 2));
  // This tick reaches the election timeout and checks the quorum: the new
  // node counts as active.
  r->Tick();
  EXPECT_EQ(r->state(), kLeader);
  // Another timeout without hearing from 2.
  TickN(r, r->election_timeout());
  EXPECT_EQ(r->state(), kFollower);
}

TEST(RaftTest, RemoveNode) {
  auto p = NewTestRaft(1, {1, 2}, 10, 1);
  Raft* r = p->raft();
  r->ApplyConfChange(CC(raftpb::ConfChangeRemoveNode, 2));
  EXPECT_EQ(r->prs().VoterNodes(), std::vector<uint64_t>({1}));
  // Removing the last voter is invalid.
  EXPECT_DEATH(r->ApplyConfChange(CC(raftpb::ConfChangeRemoveNode, 1)), "removed all voters");
}

TEST(RaftTest, RemoveLearner) {
  auto p = NewTestLearnerRaft(1, {1}, {2}, 10, 1);
  Raft* r = p->raft();
  r->ApplyConfChange(CC(raftpb::ConfChangeRemoveNode, 2));
  EXPECT_EQ(r->prs().VoterNodes(), std::vector<uint64_t>({1}));
  EXPECT_TRUE(r->prs().LearnerNodes().empty());
  EXPECT_DEATH(r->ApplyConfChange(CC(raftpb::ConfChangeRemoveNode, 1)), "removed all voters");
}

TEST(RaftTest, Promotable) {
  for (auto [peers, want] : std::vector<std::pair<std::vector<uint64_t>, bool>>{
           {{1}, true}, {{1, 2, 3}, true}, {{}, false}, {{2, 3}, false}}) {
    auto p = NewTestRaft(1, peers, 5, 1);
    EXPECT_EQ(p->raft()->Promotable(), want) << peers.size();
  }
}

TEST(RaftTest, RaftNodes) {
  for (std::vector<uint64_t> ids : {std::vector<uint64_t>{1, 2, 3}, {3, 2, 1}}) {
    auto p = NewTestRaft(1, ids, 10, 1);
    EXPECT_EQ(p->raft()->prs().VoterNodes(), std::vector<uint64_t>({1, 2, 3}));
  }
}

void TestCampaignWhileLeader(bool pre_vote) {
  auto storage = std::make_unique<MemoryStorage>();
  Config c = NewTestConfig(1, {1}, 5, 1, storage.get());
  c.pre_vote = pre_vote;
  auto p = rafttest::NewRaftPeer(c, std::move(storage));
  Raft* r = p->raft();
  EXPECT_EQ(r->state(), kFollower);
  (void)r->Step(Hup(1));
  EXPECT_EQ(r->state(), kLeader);
  uint64_t term = r->term();
  (void)r->Step(Hup(1));
  EXPECT_EQ(r->state(), kLeader);
  EXPECT_EQ(r->term(), term);
}

TEST(RaftTest, CampaignWhileLeader) { TestCampaignWhileLeader(false); }
TEST(RaftTest, PreCampaignWhileLeader) { TestCampaignWhileLeader(true); }

// Pending entries commit when a conf change lowers the quorum.
TEST(RaftTest, CommitAfterRemoveNode) {
  auto p = NewTestRaft(1, {1, 2}, 5, 1);
  Raft* r = p->raft();
  MemoryStorage* s = p->storage();
  r->BecomeCandidate();
  r->BecomeLeader();

  raftpb::ConfChange cc;
  cc.set_type(raftpb::ConfChangeRemoveNode);
  cc.set_node_id(2);
  raftpb::Entry cce = ConfChangeEntry();
  cce.set_data(MarshalConfChange(cc));
  (void)r->Step(MsgWithEnts(0, 0, raftpb::MsgProp, 0, {cce}));
  EXPECT_TRUE(NextEnts(r, s).empty());
  uint64_t cc_index = r->raft_log().LastIndex();

  // Another proposal while the change is pending.
  (void)r->Step(MsgWithEnts(0, 0, raftpb::MsgProp, 0, {DataEnt(0, 0, "hello")}));

  // 2 acks the conf change: it commits.
  raftpb::Message ack = Msg(2, 0, raftpb::MsgAppResp);
  ack.set_index(cc_index);
  (void)r->Step(ack);
  std::vector<raftpb::Entry> ents = NextEnts(r, s);
  ASSERT_EQ(ents.size(), 2u);
  EXPECT_EQ(ents[0].type(), raftpb::EntryNormal);
  EXPECT_FALSE(ents[0].has_data());
  EXPECT_EQ(ents[1].type(), raftpb::EntryConfChange);

  // Applying it lowers the quorum to 1: the pending proposal commits.
  r->ApplyConfChange(AsV2(cc));
  ents = NextEnts(r, s);
  ASSERT_EQ(ents.size(), 1u);
  EXPECT_EQ(ents[0].type(), raftpb::EntryNormal);
  EXPECT_EQ(ents[0].data(), "hello");
}

// Leader refuses conf changes that don't fit the joint state.
TEST(RaftTest, ConfChangeV2RefusalRules) {
  auto p = NewTestRaft(1, {1, 2}, 10, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  // Everything applied, so nothing is pending.
  r->raft_log().CommitTo(r->raft_log().LastIndex());
  r->raft_log().AppliedTo(r->raft_log().committed());

  // An empty (leave-joint) change outside of a joint config is refused.
  raftpb::Entry leave = ConfChangeEntry(raftpb::EntryConfChangeV2);
  leave.set_data(MarshalConfChange(raftpb::ConfChangeV2()));
  ASSERT_TRUE(r->Step(MsgWithEnts(1, 1, raftpb::MsgProp, 0, {leave})).ok());
  absl::StatusOr<std::vector<raftpb::Entry>> ents =
      r->raft_log().Entries(r->raft_log().LastIndex(), kNoLimit);
  ASSERT_TRUE(ents.ok());
  EXPECT_EQ((*ents)[0].type(), raftpb::EntryNormal);
  EXPECT_EQ(r->pending_conf_index(), 0u);

  // Enter a joint config; a further change is refused until it is left.
  raftpb::ConfChangeV2 joint;
  joint.set_transition(raftpb::ConfChangeTransitionJointExplicit);
  auto* ch = joint.add_changes();
  ch->set_type(raftpb::ConfChangeAddNode);
  ch->set_node_id(3);
  r->ApplyConfChange(joint);
  ASSERT_FALSE(r->prs().config.voters.outgoing().empty());
  raftpb::Entry add = ConfChangeEntry(raftpb::EntryConfChangeV2);
  raftpb::ConfChangeV2 add4;
  auto* ch4 = add4.add_changes();
  ch4->set_type(raftpb::ConfChangeAddNode);
  ch4->set_node_id(4);
  add.set_data(MarshalConfChange(add4));
  ASSERT_TRUE(r->Step(MsgWithEnts(1, 1, raftpb::MsgProp, 0, {add})).ok());
  ents = r->raft_log().Entries(r->raft_log().LastIndex(), kNoLimit);
  EXPECT_EQ((*ents)[0].type(), raftpb::EntryNormal);

  // Leaving is accepted.
  ASSERT_TRUE(r->Step(MsgWithEnts(1, 1, raftpb::MsgProp, 0, {leave})).ok());
  ents = r->raft_log().Entries(r->raft_log().LastIndex(), kNoLimit);
  EXPECT_EQ((*ents)[0].type(), raftpb::EntryConfChangeV2);
  EXPECT_EQ(r->pending_conf_index(), r->raft_log().LastIndex());
}

// With auto-leave, the leader proposes leaving the joint config once the
// change is applied.
TEST(RaftTest, AutoLeaveJointConfig) {
  auto p = NewTestRaft(1, {1}, 10, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  raftpb::ConfChangeV2 cc;
  for (uint64_t id : {2, 3}) {
    auto* ch = cc.add_changes();
    ch->set_type(raftpb::ConfChangeAddNode);
    ch->set_node_id(id);
  }
  raftpb::Entry e = ConfChangeEntry(raftpb::EntryConfChangeV2);
  e.set_data(MarshalConfChange(cc));
  ASSERT_TRUE(r->Step(MsgWithEnts(1, 1, raftpb::MsgProp, 0, {e})).ok());
  // Alone, 1 commits it; apply.
  Ready rd;
  rd.entries = r->raft_log().UnstableEntries();
  rd.committed_entries = r->raft_log().NextEnts();
  ASSERT_EQ(rd.committed_entries.size(), 2u);
  (void)p->storage()->Append(rd.entries);
  raftpb::ConfState cs = r->ApplyConfChange(cc);
  EXPECT_TRUE(cs.auto_leave());
  EXPECT_EQ(cs.voters_outgoing_size(), 1);
  uint64_t last = r->raft_log().LastIndex();
  r->Advance(rd);
  // The empty ConfChangeV2 that leaves the joint config was appended.
  ASSERT_EQ(r->raft_log().LastIndex(), last + 1);
  std::vector<raftpb::Entry> ents = *r->raft_log().Entries(last + 1, kNoLimit);
  EXPECT_EQ(ents[0].type(), raftpb::EntryConfChangeV2);
  raftpb::ConfChangeV2 leave;
  ASSERT_TRUE(leave.ParseFromString(ents[0].data()));
  EXPECT_TRUE(LeaveJoint(leave));
  // Encoded as etcd does (the transition field is written).
  EXPECT_EQ(ents[0].data(), std::string("\x08\x00", 2));
}

// --- Leader transfer --------------------------------------------------------

void CheckLeaderTransferState(Raft* r, StateType state, uint64_t lead) {
  EXPECT_EQ(r->state(), state);
  EXPECT_EQ(r->lead(), lead);
  EXPECT_EQ(r->lead_transferee(), kNone);
}

TEST(RaftTest, LeaderTransferToUpToDateNode) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  Raft* lead = nt.raft(1);
  ASSERT_EQ(lead->lead(), 1u);
  // Transfer to 2.
  nt.Send(Msg(2, 1, raftpb::MsgTransferLeader));
  CheckLeaderTransferState(lead, kFollower, 2);
  // After some replication, back to 1.
  nt.Send(EmptyProp(1));
  nt.Send(Msg(1, 2, raftpb::MsgTransferLeader));
  CheckLeaderTransferState(lead, kLeader, 1);
}

// The transfer request may go to the follower (forwarded to the leader).
TEST(RaftTest, LeaderTransferToUpToDateNodeFromFollower) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  Raft* lead = nt.raft(1);
  nt.Send(Msg(2, 2, raftpb::MsgTransferLeader));
  CheckLeaderTransferState(lead, kFollower, 2);
  nt.Send(EmptyProp(1));
  nt.Send(Msg(1, 1, raftpb::MsgTransferLeader));
  CheckLeaderTransferState(lead, kLeader, 1);
}

// Transfer works while the leader holds its lease.
TEST(RaftTest, LeaderTransferWithCheckQuorum) {
  Network nt(rafttest::NewPeers(3));
  for (uint64_t i = 1; i <= 3; ++i) {
    Raft* r = nt.raft(i);
    r->set_check_quorum(true);
    r->set_randomized_election_timeout(r->election_timeout() + i);
  }
  Raft* f = nt.raft(2);
  TickN(f, f->election_timeout());
  nt.Send(Hup(1));
  Raft* lead = nt.raft(1);
  ASSERT_EQ(lead->lead(), 1u);
  nt.Send(Msg(2, 1, raftpb::MsgTransferLeader));
  CheckLeaderTransferState(lead, kFollower, 2);
  nt.Send(EmptyProp(1));
  nt.Send(Msg(1, 2, raftpb::MsgTransferLeader));
  CheckLeaderTransferState(lead, kLeader, 1);
}

TEST(RaftTest, LeaderTransferToSlowFollower) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Isolate(3);
  nt.Send(EmptyProp(1));
  nt.Recover();
  Raft* lead = nt.raft(1);
  ASSERT_EQ(lead->prs().progress[3].match, 1u);
  // 3 lacks entries: it is caught up first.
  nt.Send(Msg(3, 1, raftpb::MsgTransferLeader));
  CheckLeaderTransferState(lead, kFollower, 3);
}

TEST(RaftTest, LeaderTransferAfterSnapshot) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Isolate(3);
  nt.Send(EmptyProp(1));
  Raft* lead = nt.raft(1);
  NextEnts(lead, nt.storage(1));
  raftpb::ConfState cs;
  for (uint64_t v : lead->prs().VoterNodes()) cs.add_voters(v);
  ASSERT_TRUE(nt.storage(1)->CreateSnapshot(lead->raft_log().applied(), &cs, "").ok());
  ASSERT_TRUE(nt.storage(1)->Compact(lead->raft_log().applied()).ok());
  nt.Recover();
  ASSERT_EQ(lead->prs().progress[3].match, 1u);

  // 3 needs a snapshot first.
  nt.Send(Msg(3, 1, raftpb::MsgTransferLeader));
  // A heartbeat response triggers the snapshot.
  nt.Send(Msg(3, 1, raftpb::MsgHeartbeatResp));
  CheckLeaderTransferState(lead, kFollower, 3);
}

TEST(RaftTest, LeaderTransferToSelf) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Send(Msg(1, 1, raftpb::MsgTransferLeader));
  CheckLeaderTransferState(nt.raft(1), kLeader, 1);
}

TEST(RaftTest, LeaderTransferToNonExistingNode) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Send(Msg(4, 1, raftpb::MsgTransferLeader));
  CheckLeaderTransferState(nt.raft(1), kLeader, 1);
}

TEST(RaftTest, LeaderTransferTimeout) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Isolate(3);
  Raft* lead = nt.raft(1);
  nt.Send(Msg(3, 1, raftpb::MsgTransferLeader));
  ASSERT_EQ(lead->lead_transferee(), 3u);
  TickN(lead, lead->heartbeat_timeout());
  ASSERT_EQ(lead->lead_transferee(), 3u);
  // Aborted after an election timeout.
  TickN(lead, lead->election_timeout() - lead->heartbeat_timeout());
  CheckLeaderTransferState(lead, kLeader, 1);
}

TEST(RaftTest, LeaderTransferIgnoreProposal) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Isolate(3);
  Raft* lead = nt.raft(1);
  nt.Send(Msg(3, 1, raftpb::MsgTransferLeader));
  ASSERT_EQ(lead->lead_transferee(), 3u);
  nt.Send(EmptyProp(1));
  EXPECT_TRUE(IsProposalDropped(lead->Step(EmptyProp(1))));
  EXPECT_EQ(lead->prs().progress[1].match, 1u);
}

TEST(RaftTest, LeaderTransferReceiveHigherTermVote) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Isolate(3);
  Raft* lead = nt.raft(1);
  nt.Send(Msg(3, 1, raftpb::MsgTransferLeader));
  ASSERT_EQ(lead->lead_transferee(), 3u);
  raftpb::Message hup = Msg(2, 2, raftpb::MsgHup, 2);
  hup.set_index(1);
  nt.Send(hup);
  CheckLeaderTransferState(lead, kFollower, 2);
}

TEST(RaftTest, LeaderTransferRemoveNode) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Ignore(raftpb::MsgTimeoutNow);
  Raft* lead = nt.raft(1);
  nt.Send(Msg(3, 1, raftpb::MsgTransferLeader));
  ASSERT_EQ(lead->lead_transferee(), 3u);
  // Removing the transferee aborts the transfer.
  lead->ApplyConfChange(CC(raftpb::ConfChangeRemoveNode, 3));
  CheckLeaderTransferState(lead, kLeader, 1);
}

TEST(RaftTest, LeaderTransferBack) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Isolate(3);
  Raft* lead = nt.raft(1);
  nt.Send(Msg(3, 1, raftpb::MsgTransferLeader));
  ASSERT_EQ(lead->lead_transferee(), 3u);
  nt.Send(Msg(1, 1, raftpb::MsgTransferLeader));
  CheckLeaderTransferState(lead, kLeader, 1);
}

TEST(RaftTest, LeaderTransferSecondTransferToAnotherNode) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Isolate(3);
  Raft* lead = nt.raft(1);
  nt.Send(Msg(3, 1, raftpb::MsgTransferLeader));
  ASSERT_EQ(lead->lead_transferee(), 3u);
  nt.Send(Msg(2, 1, raftpb::MsgTransferLeader));
  CheckLeaderTransferState(lead, kFollower, 2);
}

// A repeated request does not extend the pending transfer's timeout.
TEST(RaftTest, LeaderTransferSecondTransferToSameNode) {
  Network nt(rafttest::NewPeers(3));
  nt.Send(Hup(1));
  nt.Isolate(3);
  Raft* lead = nt.raft(1);
  nt.Send(Msg(3, 1, raftpb::MsgTransferLeader));
  ASSERT_EQ(lead->lead_transferee(), 3u);
  TickN(lead, lead->heartbeat_timeout());
  nt.Send(Msg(3, 1, raftpb::MsgTransferLeader));
  TickN(lead, lead->election_timeout() - lead->heartbeat_timeout());
  CheckLeaderTransferState(lead, kLeader, 1);
}

// MsgTimeoutNow to a node that is not a member does nothing.
TEST(RaftTest, TransferNonMember) {
  auto p = NewTestRaft(1, {2, 3, 4}, 5, 1);
  Raft* r = p->raft();
  (void)r->Step(Msg(2, 1, raftpb::MsgTimeoutNow));
  (void)r->Step(Msg(2, 1, raftpb::MsgVoteResp));
  (void)r->Step(Msg(3, 1, raftpb::MsgVoteResp));
  EXPECT_EQ(r->state(), kFollower);
}

// --- PreVote ----------------------------------------------------------------

// A node that fell behind can rejoin as the leader is partitioned away.
TEST(RaftTest, NodeWithSmallerTermCanCompleteElection) {
  Trio t = MakeTrio(false, true, true);
  Network& nt = *t.nt;
  nt.Cut(1, 3);
  nt.Cut(2, 3);
  nt.Send(Hup(1));
  EXPECT_EQ(t.a->state(), kLeader);
  EXPECT_EQ(t.b->state(), kFollower);

  nt.Send(Hup(3));
  EXPECT_EQ(t.c->state(), kPreCandidate);

  nt.Send(Hup(2));
  EXPECT_EQ(t.a->term(), 3u);
  EXPECT_EQ(t.b->term(), 3u);
  EXPECT_EQ(t.c->term(), 1u);
  EXPECT_EQ(t.a->state(), kFollower);
  EXPECT_EQ(t.b->state(), kLeader);
  EXPECT_EQ(t.c->state(), kPreCandidate);

  // Bring back 3 and kill 2.
  nt.Recover();
  nt.Cut(2, 1);
  nt.Cut(2, 3);
  nt.Send(Hup(3));
  nt.Send(Hup(1));
  EXPECT_TRUE(t.a->state() == kLeader || t.c->state() == kLeader);
}

TEST(RaftTest, PreVoteWithSplitVote) {
  Trio t = MakeTrio(false, true, true);
  Network& nt = *t.nt;
  nt.Send(Hup(1));
  // The leader goes down; 2 and 3 split the vote.
  nt.Isolate(1);
  nt.Send(std::vector<raftpb::Message>{Hup(2), Hup(3)});
  EXPECT_EQ(t.b->term(), 3u);
  EXPECT_EQ(t.c->term(), 3u);
  EXPECT_EQ(t.b->state(), kCandidate);
  EXPECT_EQ(t.c->state(), kCandidate);
  // 2 times out first and wins.
  nt.Send(Hup(2));
  EXPECT_EQ(t.b->term(), 4u);
  EXPECT_EQ(t.c->term(), 4u);
  EXPECT_EQ(t.b->state(), kLeader);
  EXPECT_EQ(t.c->state(), kFollower);
}

TEST(RaftTest, PreVoteWithCheckQuorum) {
  Trio t = MakeTrio(true, true, true);
  Network& nt = *t.nt;
  nt.Send(Hup(1));
  nt.Isolate(1);
  ASSERT_EQ(t.a->state(), kLeader);
  ASSERT_EQ(t.b->state(), kFollower);
  ASSERT_EQ(t.c->state(), kFollower);
  // 2 ignores 3's pre-vote (lease), then 2 campaigns and wins.
  nt.Send(Hup(3));
  nt.Send(Hup(2));
  EXPECT_TRUE(t.b->state() == kLeader || t.c->state() == kFollower);
}

TEST(RaftTest, LearnerCampaign) {
  auto p1 = NewTestRaft(1, {1}, 10, 1);
  auto p2 = NewTestRaft(2, {1}, 10, 1);
  Raft* n1 = p1->raft();
  Raft* n2 = p2->raft();
  n1->ApplyConfChange(CC(raftpb::ConfChangeAddLearnerNode, 2));
  n2->ApplyConfChange(CC(raftpb::ConfChangeAddLearnerNode, 2));
  Network nt(Peers(std::move(p1), std::move(p2)));
  nt.Send(Hup(2));
  ASSERT_TRUE(n2->is_learner());
  EXPECT_EQ(n2->state(), kFollower);

  nt.Send(Hup(1));
  ASSERT_EQ(n1->state(), kLeader);
  ASSERT_EQ(n1->lead(), 1u);
  // A learner ignores MsgTimeoutNow.
  nt.Send(Msg(1, 2, raftpb::MsgTimeoutNow));
  EXPECT_EQ(n2->state(), kFollower);
}

// A rolling upgrade to PreVote: n1 leads at term 2, n2 follows, n3 (no
// PreVote yet) was partitioned and reached term 4 with a shorter log.
Trio PreVoteMigrationCluster() {
  Trio t = MakeTrio(false, false, true);
  t.a->set_pre_vote(true);
  t.b->set_pre_vote(true);
  Network& nt = *t.nt;
  nt.Send(Hup(1));
  nt.Isolate(3);
  nt.Send(Prop(1, "some data"));
  nt.Send(Hup(3));
  nt.Send(Hup(3));
  EXPECT_EQ(t.a->state(), kLeader);
  EXPECT_EQ(t.b->state(), kFollower);
  EXPECT_EQ(t.c->state(), kCandidate);
  EXPECT_EQ(t.a->term(), 2u);
  EXPECT_EQ(t.b->term(), 2u);
  EXPECT_EQ(t.c->term(), 4u);
  t.c->set_pre_vote(true);
  nt.Recover();
  return t;
}

TEST(RaftTest, PreVoteMigrationCanCompleteElection) {
  Trio t = PreVoteMigrationCluster();
  Network& nt = *t.nt;
  nt.Isolate(1);
  nt.Send(Hup(3));
  nt.Send(Hup(2));
  EXPECT_EQ(t.b->state(), kFollower);
  EXPECT_EQ(t.c->state(), kPreCandidate);
  nt.Send(Hup(3));
  nt.Send(Hup(2));
  EXPECT_TRUE(t.b->state() == kLeader || t.c->state() == kFollower);
}

TEST(RaftTest, PreVoteMigrationWithFreeStuckPreCandidate) {
  Trio t = PreVoteMigrationCluster();
  Network& nt = *t.nt;
  nt.Send(Hup(3));
  EXPECT_EQ(t.a->state(), kLeader);
  EXPECT_EQ(t.b->state(), kFollower);
  EXPECT_EQ(t.c->state(), kPreCandidate);
  nt.Send(Hup(3));
  EXPECT_EQ(t.a->state(), kLeader);
  EXPECT_EQ(t.b->state(), kFollower);
  EXPECT_EQ(t.c->state(), kPreCandidate);
  // The leader's heartbeat is answered with a higher term: the leader steps
  // down, freeing the stuck pre-candidate.
  nt.Send(Msg(1, 3, raftpb::MsgHeartbeat, t.a->term()));
  EXPECT_EQ(t.a->state(), kFollower);
  EXPECT_EQ(t.c->term(), t.a->term());
}

// --- Config validation -------------------------------------------------------

TEST(RaftTest, ConfigValidation) {
  MemoryStorage storage;
  auto base = [&storage] {
    Config c;
    c.id = 1;
    c.election_tick = 10;
    c.heartbeat_tick = 1;
    c.storage = &storage;
    c.max_inflight_msgs = 256;
    return c;
  };
  struct Case {
    std::function<void(Config*)> mutate;
    std::string error;
  };
  std::vector<Case> cases = {
      {[](Config* c) { c->id = 0; }, "cannot use none as id"},
      {[](Config* c) { c->heartbeat_tick = 0; }, "heartbeat tick must be greater than 0"},
      {[](Config* c) { c->election_tick = 1; },
       "election tick must be greater than heartbeat tick"},
      {[](Config* c) { c->storage = nullptr; }, "storage cannot be nil"},
      {[](Config* c) { c->max_inflight_msgs = 0; }, "max inflight messages must be greater than 0"},
      {[](Config* c) { c->read_only_option = ReadOnlyOption::kLeaseBased; },
       "CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased"},
  };
  for (const Case& c : cases) {
    Config cfg = base();
    c.mutate(&cfg);
    absl::StatusOr<std::unique_ptr<Raft>> r = Raft::New(cfg);
    ASSERT_FALSE(r.ok()) << c.error;
    EXPECT_EQ(r.status().message(), c.error);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  }
  // Defaults are filled in.
  Config cfg = base();
  cfg.max_size_per_msg = 1024;
  ASSERT_TRUE(cfg.Validate().ok());
  EXPECT_EQ(cfg.max_uncommitted_entries_size, kNoLimit);
  EXPECT_EQ(cfg.max_committed_size_per_ready, 1024u);
  EXPECT_EQ(cfg.logger, DefaultLogger());
}

}  // namespace
}  // namespace etcd::raft::testing
