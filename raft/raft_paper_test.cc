// The Raft paper's claims (https://raft.github.io/raft.pdf), one test each
// (etcd's raft_paper_test.go): each test sets up a state, steps messages and
// checks the messages sent and the resulting state.

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "raft/raft.h"
#include "raft/raft_test_helpers.h"

namespace etcd::raft::testing {
namespace {

constexpr StateType kFollower = StateType::kFollower;
constexpr StateType kCandidate = StateType::kCandidate;
constexpr StateType kLeader = StateType::kLeader;

std::vector<raftpb::Message> Sorted(std::vector<raftpb::Message> msgs) {
  std::stable_sort(
      msgs.begin(), msgs.end(),
      [](const raftpb::Message& a, const raftpb::Message& b) { return a.to() < b.to(); });
  return msgs;
}

raftpb::Message AcceptAndReply(const raftpb::Message& m) {
  EXPECT_EQ(m.type(), raftpb::MsgApp);
  raftpb::Message r = Msg(m.to(), m.from(), raftpb::MsgAppResp, m.term());
  r.set_index(m.index() + m.entries_size());
  return r;
}

// Makes the leader's empty entry committed and applied.
void CommitNoopEntry(Raft* r, MemoryStorage* s) {
  ASSERT_EQ(r->state(), kLeader);
  r->BcastAppend();
  for (const raftpb::Message& m : r->ReadMessages()) {
    ASSERT_TRUE(m.type() == raftpb::MsgApp && m.entries_size() == 1 && !m.entries(0).has_data())
        << "not a message to append the empty entry";
    (void)r->Step(AcceptAndReply(m));
  }
  r->ReadMessages();
  (void)s->Append(r->raft_log().UnstableEntries());
  r->raft_log().AppliedTo(r->raft_log().committed());
  r->raft_log().StableTo(r->raft_log().LastIndex(), r->raft_log().LastTerm());
}

void BecomeState(Raft* r, StateType state) {
  switch (state) {
    case kFollower:
      r->BecomeFollower(1, 2);
      break;
    case kCandidate:
      r->BecomeCandidate();
      break;
    case kLeader:
      r->BecomeCandidate();
      r->BecomeLeader();
      break;
    default:
      break;
  }
}

// §5.1: a server that sees a larger term updates its term; a candidate or
// leader reverts to follower.
TEST(RaftPaperTest, UpdateTermFromMessage) {
  for (StateType state : {kFollower, kCandidate, kLeader}) {
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
    Raft* r = p->raft();
    BecomeState(r, state);
    (void)r->Step(Msg(0, 0, raftpb::MsgApp, 2));
    EXPECT_EQ(r->term(), 2u) << state;
    EXPECT_EQ(r->state(), kFollower) << state;
  }
}

// §5.1: a request with a stale term is rejected (ignored).
TEST(RaftPaperTest, RejectStaleTermMessage) {
  auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
  Raft* r = p->raft();
  r->LoadState(HS(2, 0, 0));
  (void)r->Step(MsgWithEnts(2, 1, raftpb::MsgApp, r->term() - 1, {Ent(1, 1)}));
  EXPECT_EQ(r->raft_log().LastIndex(), 0u);
  EXPECT_EQ(r->lead(), kNone);
  EXPECT_EQ(r->term(), 2u);
}

// §5.2: servers start as followers.
TEST(RaftPaperTest, StartAsFollower) {
  auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
  EXPECT_EQ(p->raft()->state(), kFollower);
}

// §5.2: a leader sends heartbeats to maintain its authority.
TEST(RaftPaperTest, LeaderBcastBeat) {
  const int hi = 1;
  auto p = NewTestRaft(1, {1, 2, 3}, 10, hi);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  for (int i = 0; i < 10; ++i) MustAppendEntry(r, {Ent(i + 1, 0)});
  TickN(r, hi);
  std::vector<raftpb::Message> want = {Msg(1, 2, raftpb::MsgHeartbeat, 1),
                                       Msg(1, 3, raftpb::MsgHeartbeat, 1)};
  EXPECT_EQ(Sorted(r->ReadMessages()), want);
}

// §5.2: without communication over an election timeout, a follower (or a
// candidate) starts an election: new term, votes for itself, requests votes.
TEST(RaftPaperTest, NonleaderStartElection) {
  const int et = 10;
  for (StateType state : {kFollower, kCandidate}) {
    auto p = NewTestRaft(1, {1, 2, 3}, et, 1);
    Raft* r = p->raft();
    BecomeState(r, state);
    TickN(r, 2 * et - 1);
    EXPECT_EQ(r->term(), 2u) << state;
    EXPECT_EQ(r->state(), kCandidate) << state;
    EXPECT_TRUE(r->prs().votes[r->id()]) << state;
    std::vector<raftpb::Message> want = {Msg(1, 2, raftpb::MsgVote, 2),
                                         Msg(1, 3, raftpb::MsgVote, 2)};
    EXPECT_EQ(Sorted(r->ReadMessages()), want) << state;
  }
}

// §5.2: a candidate wins with a majority of votes, loses on a majority of
// rejections, and otherwise stays a candidate.
TEST(RaftPaperTest, LeaderElectionInOneRoundRPC) {
  struct Case {
    size_t size;
    std::map<uint64_t, bool> votes;
    StateType state;
  };
  std::vector<Case> cases = {
      {1, {}, kLeader},
      {3, {{2, true}, {3, true}}, kLeader},
      {3, {{2, true}}, kLeader},
      {5, {{2, true}, {3, true}, {4, true}, {5, true}}, kLeader},
      {5, {{2, true}, {3, true}, {4, true}}, kLeader},
      {5, {{2, true}, {3, true}}, kLeader},
      {3, {{2, false}, {3, false}}, kFollower},
      {5, {{2, false}, {3, false}, {4, false}, {5, false}}, kFollower},
      {5, {{2, true}, {3, false}, {4, false}, {5, false}}, kFollower},
      {3, {}, kCandidate},
      {5, {{2, true}}, kCandidate},
      {5, {{2, false}, {3, false}}, kCandidate},
      {5, {}, kCandidate},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto p = NewTestRaft(1, rafttest::IdsBySize(cases[i].size), 10, 1);
    Raft* r = p->raft();
    (void)r->Step(Hup(1));
    for (const auto& [id, vote] : cases[i].votes) {
      raftpb::Message m = Msg(id, 1, raftpb::MsgVoteResp, r->term());
      m.set_reject(!vote);
      (void)r->Step(m);
    }
    EXPECT_EQ(r->state(), cases[i].state) << "#" << i;
    EXPECT_EQ(r->term(), 1u) << "#" << i;
  }
}

// §5.2: a server votes for at most one candidate per term, first come.
TEST(RaftPaperTest, FollowerVote) {
  struct Case {
    uint64_t vote, nvote;
    bool reject;
  };
  for (const Case& c : std::vector<Case>{{kNone, 1, false},
                                         {kNone, 2, false},
                                         {1, 1, false},
                                         {2, 2, false},
                                         {1, 2, true},
                                         {2, 1, true}}) {
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
    Raft* r = p->raft();
    r->LoadState(HS(1, c.vote, 0));
    (void)r->Step(Msg(c.nvote, 1, raftpb::MsgVote, 1));
    raftpb::Message want = Msg(1, c.nvote, raftpb::MsgVoteResp, 1);
    want.set_reject(c.reject);
    EXPECT_EQ(r->ReadMessages(), std::vector<raftpb::Message>({want})) << c.vote << "/" << c.nvote;
  }
}

// §5.2: a candidate that hears from a leader with a term at least as large
// as its own becomes a follower.
TEST(RaftPaperTest, CandidateFallback) {
  for (uint64_t term : {1, 2}) {
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
    Raft* r = p->raft();
    (void)r->Step(Hup(1));
    ASSERT_EQ(r->state(), kCandidate);
    (void)r->Step(Msg(2, 1, raftpb::MsgApp, term));
    EXPECT_EQ(r->state(), kFollower);
    EXPECT_EQ(r->term(), term);
  }
}

// §5.2: election timeouts are chosen randomly in a fixed interval.
TEST(RaftPaperTest, NonleaderElectionTimeoutRandomized) {
  const int et = 10;
  for (StateType state : {kFollower, kCandidate}) {
    auto p = NewTestRaft(1, {1, 2, 3}, et, 1);
    Raft* r = p->raft();
    std::set<int> timeouts;
    for (int round = 0; round < 50 * et; ++round) {
      if (state == kFollower) {
        r->BecomeFollower(r->term() + 1, 2);
      } else {
        r->BecomeCandidate();
      }
      int time = 0;
      while (r->ReadMessages().empty()) {
        r->Tick();
        ++time;
      }
      timeouts.insert(time);
    }
    for (int d = et + 1; d < 2 * et; ++d) {
      EXPECT_TRUE(timeouts.count(d) > 0) << "timeout in " << d << " ticks should happen";
    }
    for (int d : timeouts) {
      EXPECT_GE(d, et);
      EXPECT_LE(d, 2 * et);
    }
  }
}

// §5.2: randomized timeouts make it unlikely that several servers time out
// together.
TEST(RaftPaperTest, NonleadersElectionTimeoutNonconflict) {
  const int et = 10;
  const size_t size = 5;
  for (StateType state : {kFollower, kCandidate}) {
    std::vector<std::unique_ptr<rafttest::RaftPeer>> rs;
    std::vector<uint64_t> ids = rafttest::IdsBySize(size);
    for (uint64_t id : ids) rs.push_back(NewTestRaft(id, ids, et, 1));
    int conflicts = 0;
    for (int round = 0; round < 1000; ++round) {
      for (auto& p : rs) {
        if (state == kFollower) {
          p->raft()->BecomeFollower(p->raft()->term() + 1, kNone);
        } else {
          p->raft()->BecomeCandidate();
        }
      }
      int timeouts = 0;
      while (timeouts == 0) {
        for (auto& p : rs) {
          p->raft()->Tick();
          if (!p->raft()->ReadMessages().empty()) ++timeouts;
        }
      }
      if (timeouts > 1) ++conflicts;
    }
    EXPECT_LE(conflicts / 1000.0, 0.3) << state;
  }
}

// §5.3: the leader appends a proposal to its log and sends it to everyone.
TEST(RaftPaperTest, LeaderStartReplication) {
  auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  CommitNoopEntry(r, p->storage());
  uint64_t li = r->raft_log().LastIndex();

  (void)r->Step(Prop(1, "some data"));
  EXPECT_EQ(r->raft_log().LastIndex(), li + 1);
  EXPECT_EQ(r->raft_log().committed(), li);
  std::vector<raftpb::Entry> wents = {DataEnt(li + 1, 1, "some data")};
  std::vector<raftpb::Message> want;
  for (uint64_t to : {2, 3}) {
    raftpb::Message m = MsgWithEnts(1, to, raftpb::MsgApp, 1, wents);
    m.set_index(li);
    m.set_logterm(1);
    m.set_commit(li);
    want.push_back(m);
  }
  EXPECT_EQ(Sorted(r->ReadMessages()), want);
  EXPECT_EQ(r->raft_log().UnstableEntries(), wents);
}

// §5.3: once replicated on a majority an entry is committed, and the
// leader tells the followers.
TEST(RaftPaperTest, LeaderCommitEntry) {
  auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
  Raft* r = p->raft();
  r->BecomeCandidate();
  r->BecomeLeader();
  CommitNoopEntry(r, p->storage());
  uint64_t li = r->raft_log().LastIndex();
  (void)r->Step(Prop(1, "some data"));
  for (const raftpb::Message& m : r->ReadMessages()) (void)r->Step(AcceptAndReply(m));

  EXPECT_EQ(r->raft_log().committed(), li + 1);
  EXPECT_EQ(r->raft_log().NextEnts(),
            std::vector<raftpb::Entry>({DataEnt(li + 1, 1, "some data")}));
  std::vector<raftpb::Message> msgs = Sorted(r->ReadMessages());
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i].to(), i + 2);
    EXPECT_EQ(msgs[i].type(), raftpb::MsgApp);
    EXPECT_EQ(msgs[i].commit(), li + 1);
  }
}

// §5.3: an entry is committed once a majority stored it.
TEST(RaftPaperTest, LeaderAcknowledgeCommit) {
  struct Case {
    size_t size;
    std::set<uint64_t> acceptors;
    bool ack;
  };
  for (const Case& c : std::vector<Case>{{1, {}, true},
                                         {3, {}, false},
                                         {3, {2}, true},
                                         {3, {2, 3}, true},
                                         {5, {}, false},
                                         {5, {2}, false},
                                         {5, {2, 3}, true},
                                         {5, {2, 3, 4}, true},
                                         {5, {2, 3, 4, 5}, true}}) {
    auto p = NewTestRaft(1, rafttest::IdsBySize(c.size), 10, 1);
    Raft* r = p->raft();
    r->BecomeCandidate();
    r->BecomeLeader();
    CommitNoopEntry(r, p->storage());
    uint64_t li = r->raft_log().LastIndex();
    (void)r->Step(Prop(1, "some data"));
    for (const raftpb::Message& m : r->ReadMessages()) {
      if (c.acceptors.count(m.to()) > 0) (void)r->Step(AcceptAndReply(m));
    }
    EXPECT_EQ(r->raft_log().committed() > li, c.ack) << c.size << "/" << c.acceptors.size();
  }
}

// §5.3: committing an entry commits all preceding ones, including those of
// previous leaders.
TEST(RaftPaperTest, LeaderCommitPrecedingEntries) {
  for (std::vector<raftpb::Entry> tt :
       {std::vector<raftpb::Entry>{}, Ents({{1, 2}}), Ents({{1, 1}, {2, 2}}), Ents({{1, 1}})}) {
    auto storage = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(storage->Append(tt).ok());
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1, std::move(storage));
    Raft* r = p->raft();
    r->LoadState(HS(2, 0, 0));
    r->BecomeCandidate();
    r->BecomeLeader();
    (void)r->Step(Prop(1, "some data"));
    for (const raftpb::Message& m : r->ReadMessages()) (void)r->Step(AcceptAndReply(m));
    uint64_t li = tt.size();
    std::vector<raftpb::Entry> want = tt;
    want.push_back(Ent(li + 1, 3));
    want.push_back(DataEnt(li + 2, 3, "some data"));
    EXPECT_EQ(r->raft_log().NextEnts(), want) << tt.size();
  }
}

// §5.3: a follower applies entries once it learns they are committed.
TEST(RaftPaperTest, FollowerCommitEntry) {
  struct Case {
    std::vector<raftpb::Entry> ents;
    uint64_t commit;
  };
  std::vector<Case> cases = {
      {{DataEnt(1, 1, "some data")}, 1},
      {{DataEnt(1, 1, "some data"), DataEnt(2, 1, "some data2")}, 2},
      {{DataEnt(1, 1, "some data2"), DataEnt(2, 1, "some data")}, 2},
      {{DataEnt(1, 1, "some data"), DataEnt(2, 1, "some data2")}, 1},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
    Raft* r = p->raft();
    r->BecomeFollower(1, 2);
    raftpb::Message m = MsgWithEnts(2, 1, raftpb::MsgApp, 1, cases[i].ents);
    m.set_commit(cases[i].commit);
    (void)r->Step(m);
    EXPECT_EQ(r->raft_log().committed(), cases[i].commit) << "#" << i;
    std::vector<raftpb::Entry> want(cases[i].ents.begin(), cases[i].ents.begin() + cases[i].commit);
    EXPECT_EQ(r->raft_log().NextEnts(), want) << "#" << i;
  }
}

// §5.3: a follower rejects an append whose preceding entry it does not
// have, hinting its last index.
TEST(RaftPaperTest, FollowerCheckMsgApp) {
  std::vector<raftpb::Entry> ents = Ents({{1, 1}, {2, 2}});
  struct Case {
    uint64_t term, index, want_index;
    bool reject;
    uint64_t hint;
  };
  for (const Case& c : std::vector<Case>{{0, 0, 1, false, 0},
                                         {1, 1, 1, false, 0},
                                         {2, 2, 2, false, 0},
                                         {1, 2, 2, true, 2},
                                         {3, 3, 3, true, 2}}) {
    auto storage = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(storage->Append(ents).ok());
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1, std::move(storage));
    Raft* r = p->raft();
    r->LoadState(HS(0, 0, 1));
    r->BecomeFollower(2, 2);
    raftpb::Message m = Msg(2, 1, raftpb::MsgApp, 2);
    m.set_logterm(c.term);
    m.set_index(c.index);
    (void)r->Step(m);
    raftpb::Message want = Msg(1, 2, raftpb::MsgAppResp, 2);
    want.set_index(c.want_index);
    want.set_reject(c.reject);
    want.set_rejecthint(c.hint);
    EXPECT_EQ(r->ReadMessages(), std::vector<raftpb::Message>({want})) << c.term << "/" << c.index;
  }
}

// §5.3: a follower deletes conflicting entries and appends new ones.
TEST(RaftPaperTest, FollowerAppendEntries) {
  struct Case {
    uint64_t index, term;
    std::vector<raftpb::Entry> ents, want, want_unstable;
  };
  std::vector<Case> cases = {
      {2, 2, Ents({{3, 3}}), Ents({{1, 1}, {2, 2}, {3, 3}}), Ents({{3, 3}})},
      {1, 1, Ents({{2, 3}, {3, 4}}), Ents({{1, 1}, {2, 3}, {3, 4}}), Ents({{2, 3}, {3, 4}})},
      {0, 0, Ents({{1, 1}}), Ents({{1, 1}, {2, 2}}), {}},
      {0, 0, Ents({{1, 3}}), Ents({{1, 3}}), Ents({{1, 3}})},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    auto storage = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(storage->Append(Ents({{1, 1}, {2, 2}})).ok());
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1, std::move(storage));
    Raft* r = p->raft();
    r->BecomeFollower(2, 2);
    raftpb::Message m = MsgWithEnts(2, 1, raftpb::MsgApp, 2, c.ents);
    m.set_logterm(c.term);
    m.set_index(c.index);
    (void)r->Step(m);
    EXPECT_EQ(r->raft_log().AllEntries(), c.want) << "#" << i;
    EXPECT_EQ(r->raft_log().UnstableEntries(), c.want_unstable) << "#" << i;
  }
}

// §5.3: the leader brings followers' logs in line with its own, whatever
// they hold.
TEST(RaftPaperTest, LeaderSyncFollowerLog) {
  std::vector<raftpb::Entry> ents = Ents(
      {{0, 0}, {1, 1}, {2, 1}, {3, 1}, {4, 4}, {5, 4}, {6, 5}, {7, 5}, {8, 6}, {9, 6}, {10, 6}});
  const uint64_t term = 8;
  std::vector<std::vector<raftpb::Entry>> cases = {
      Ents({{0, 0}, {1, 1}, {2, 1}, {3, 1}, {4, 4}, {5, 4}, {6, 5}, {7, 5}, {8, 6}, {9, 6}}),
      Ents({{0, 0}, {1, 1}, {2, 1}, {3, 1}, {4, 4}}),
      Ents({{0, 0},
            {1, 1},
            {2, 1},
            {3, 1},
            {4, 4},
            {5, 4},
            {6, 5},
            {7, 5},
            {8, 6},
            {9, 6},
            {10, 6},
            {11, 6}}),
      Ents({{0, 0},
            {1, 1},
            {2, 1},
            {3, 1},
            {4, 4},
            {5, 4},
            {6, 5},
            {7, 5},
            {8, 6},
            {9, 6},
            {10, 6},
            {11, 7},
            {12, 7}}),
      Ents({{0, 0}, {1, 1}, {2, 1}, {3, 1}, {4, 4}, {5, 4}, {6, 4}, {7, 4}}),
      Ents({{0, 0},
            {1, 1},
            {2, 1},
            {3, 1},
            {4, 2},
            {5, 2},
            {6, 2},
            {7, 3},
            {8, 3},
            {9, 3},
            {10, 3},
            {11, 3}}),
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto lead_storage = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(lead_storage->Append(ents).ok());
    auto lp = NewTestRaft(1, {1, 2, 3}, 10, 1, std::move(lead_storage));
    Raft* lead = lp->raft();
    lead->LoadState(HS(term, 0, lead->raft_log().LastIndex()));
    auto follower_storage = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(follower_storage->Append(cases[i]).ok());
    auto fp = NewTestRaft(2, {1, 2, 3}, 10, 1, std::move(follower_storage));
    Raft* follower = fp->raft();
    follower->LoadState(HS(term - 1, 0, 0));
    Network n(Peers(std::move(lp), std::move(fp), BlackHolePeer()));
    n.Send(Hup(1));
    // The black hole's vote.
    n.Send(Msg(3, 1, raftpb::MsgVoteResp, term + 1));
    n.Send(EmptyProp(1));
    EXPECT_EQ(Ltoa(lead->raft_log()), Ltoa(follower->raft_log())) << "#" << i;
  }
}

// §5.4.1: a candidate's vote request carries its last log index and term.
TEST(RaftPaperTest, VoteRequest) {
  struct Case {
    std::vector<raftpb::Entry> ents;
    uint64_t want_term;
  };
  for (const Case& c : std::vector<Case>{{Ents({{1, 1}}), 2}, {Ents({{1, 1}, {2, 2}}), 3}}) {
    auto p = NewTestRaft(1, {1, 2, 3}, 10, 1);
    Raft* r = p->raft();
    (void)r->Step(MsgWithEnts(2, 1, raftpb::MsgApp, c.want_term - 1, c.ents));
    r->ReadMessages();
    TickN(r, r->election_timeout() * 2 - 1);
    std::vector<raftpb::Message> msgs = Sorted(r->ReadMessages());
    ASSERT_EQ(msgs.size(), 2u);
    for (size_t i = 0; i < msgs.size(); ++i) {
      EXPECT_EQ(msgs[i].type(), raftpb::MsgVote);
      EXPECT_EQ(msgs[i].to(), i + 2);
      EXPECT_EQ(msgs[i].term(), c.want_term);
      EXPECT_EQ(msgs[i].index(), c.ents.back().index());
      EXPECT_EQ(msgs[i].logterm(), c.ents.back().term());
    }
  }
}

// §5.4.1: a voter denies its vote to a candidate whose log is less up to
// date than its own.
TEST(RaftPaperTest, Voter) {
  struct Case {
    std::vector<raftpb::Entry> ents;
    uint64_t log_term, index;
    bool reject;
  };
  std::vector<Case> cases = {
      // Same log term.
      {Ents({{1, 1}}), 1, 1, false},
      {Ents({{1, 1}}), 1, 2, false},
      {Ents({{1, 1}, {2, 1}}), 1, 1, true},
      // Candidate's log term is higher.
      {Ents({{1, 1}}), 2, 1, false},
      {Ents({{1, 1}}), 2, 2, false},
      {Ents({{1, 1}, {2, 1}}), 2, 1, false},
      // Voter's log term is higher.
      {Ents({{1, 2}}), 1, 1, true},
      {Ents({{1, 2}}), 1, 2, true},
      {Ents({{1, 2}, {2, 1}}), 1, 1, true},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto storage = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(storage->Append(cases[i].ents).ok());
    auto p = NewTestRaft(1, {1, 2}, 10, 1, std::move(storage));
    Raft* r = p->raft();
    raftpb::Message m = Msg(2, 1, raftpb::MsgVote, 3);
    m.set_logterm(cases[i].log_term);
    m.set_index(cases[i].index);
    (void)r->Step(m);
    std::vector<raftpb::Message> msgs = r->ReadMessages();
    ASSERT_EQ(msgs.size(), 1u) << "#" << i;
    EXPECT_EQ(msgs[0].type(), raftpb::MsgVoteResp) << "#" << i;
    EXPECT_EQ(msgs[0].reject(), cases[i].reject) << "#" << i;
  }
}

// §5.4.2: only entries of the leader's current term are committed by
// counting replicas.
TEST(RaftPaperTest, LeaderOnlyCommitsLogFromCurrentTerm) {
  for (auto [index, want] : std::vector<std::pair<uint64_t, uint64_t>>{{1, 0}, {2, 0}, {3, 3}}) {
    auto storage = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(storage->Append(Ents({{1, 1}, {2, 2}})).ok());
    auto p = NewTestRaft(1, {1, 2}, 10, 1, std::move(storage));
    Raft* r = p->raft();
    r->LoadState(HS(2, 0, 0));
    r->BecomeCandidate();
    r->BecomeLeader();
    r->ReadMessages();
    (void)r->Step(EmptyProp(1));
    raftpb::Message m = Msg(2, 1, raftpb::MsgAppResp, r->term());
    m.set_index(index);
    (void)r->Step(m);
    EXPECT_EQ(r->raft_log().committed(), want) << index;
  }
}

// Election safety: at most one leader per term, under random message loss.
TEST(RaftPaperTest, ElectionSafetyUnderMessageLoss) {
  for (int round = 0; round < 20; ++round) {
    Network nt(rafttest::NewPeers(5));
    for (uint64_t from = 1; from <= 5; ++from) {
      for (uint64_t to = 1; to <= 5; ++to) {
        if (from != to) nt.Drop(from, to, 0.3);
      }
    }
    std::map<uint64_t, uint64_t> leader_of_term;
    for (int step = 0; step < 30; ++step) {
      uint64_t id = 1 + (round + step * 3) % 5;
      nt.Send(Hup(id));
      nt.Send(Prop(id, "x"));
      for (uint64_t n = 1; n <= 5; ++n) {
        Raft* r = nt.raft(n);
        if (r->state() != kLeader) continue;
        auto [it, inserted] = leader_of_term.emplace(r->term(), n);
        EXPECT_EQ(it->second, n) << "two leaders in term " << r->term();
      }
    }
  }
}

}  // namespace
}  // namespace etcd::raft::testing
