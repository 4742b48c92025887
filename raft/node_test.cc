// The thread-safe Node (etcd's node_test.go): stepping, proposals and their
// verdicts, read index, conf changes, Ready/Advance, start, restart, stop,
// and a small cluster of Nodes talking through their Readies. Timing: every
// wait has a generous deadline and polls; nothing sleeps for a fixed time.

#include "raft/node.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "raft/errors.h"
#include "raft/raft_test_helpers.h"
#include "raft/util.h"

namespace etcd::raft::testing {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);

Config NodeConfig(uint64_t id, MemoryStorage* s) {
  Config c;
  c.id = id;
  c.election_tick = 10;
  c.heartbeat_tick = 1;
  c.storage = s;
  c.max_size_per_msg = kNoLimit;
  c.max_inflight_msgs = 256;
  c.random_seed = id;
  c.logger = rafttest::TestLogger();
  return c;
}

std::unique_ptr<Node> MustStart(const Config& c, std::vector<Peer> peers) {
  absl::StatusOr<std::unique_ptr<Node>> n = StartNode(c, peers);
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? *std::move(n) : nullptr;
}

std::unique_ptr<Node> MustRestart(const Config& c) {
  absl::StatusOr<std::unique_ptr<Node>> n = RestartNode(c);
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? *std::move(n) : nullptr;
}

// Waits for a Ready, persists it to `s` and advances. Fails the test if none
// comes in time.
std::optional<Ready> NextReady(Node* n, MemoryStorage* s) {
  std::optional<Ready> rd = n->WaitReady(kWait);
  EXPECT_TRUE(rd.has_value()) << "no Ready";
  if (!rd.has_value()) return rd;
  if (!IsEmptySnap(rd->snapshot)) {
    EXPECT_TRUE(s->ApplySnapshot(rd->snapshot).ok());
  }
  EXPECT_TRUE(s->Append(rd->entries).ok());
  if (!IsEmptyHardState(rd->hard_state)) {
    EXPECT_TRUE(s->SetHardState(rd->hard_state).ok());
  }
  n->Advance();
  return rd;
}

// Whether a Ready is pending right now. GetStatus is a barrier: everything
// queued before it has been processed, and a Ready that processing produced
// has been published, once it returns.
bool ReadyPending(Node* n) {
  (void)n->GetStatus();
  std::optional<Ready> rd = n->WaitReady(absl::Now());
  return rd.has_value();
}

// Processes Readies until `pred` holds for one (true) or the deadline.
bool DriveUntil(Node* n, MemoryStorage* s, const std::function<bool(const Ready&)>& pred) {
  const absl::Time deadline = absl::Now() + kWait;
  while (absl::Now() < deadline) {
    std::optional<Ready> rd = n->WaitReady(deadline);
    if (!rd.has_value()) return false;
    EXPECT_TRUE(s->Append(rd->entries).ok());
    if (!IsEmptyHardState(rd->hard_state)) {
      EXPECT_TRUE(s->SetHardState(rd->hard_state).ok());
    }
    for (const raftpb::Entry& e : rd->committed_entries) {
      if (e.type() == raftpb::EntryConfChange) {
        raftpb::ConfChange cc;
        EXPECT_TRUE(cc.ParseFromString(e.data()));
        n->ApplyConfChange(cc);
      } else if (e.type() == raftpb::EntryConfChangeV2) {
        raftpb::ConfChangeV2 cc;
        EXPECT_TRUE(cc.ParseFromString(e.data()));
        n->ApplyConfChange(cc);
      }
    }
    n->Advance();
    if (pred(*rd)) return true;
  }
  return false;
}

// A single-voter node, bootstrapped; Elect makes it leader.
struct SingleNode {
  MemoryStorage storage;
  std::unique_ptr<Node> node;

  explicit SingleNode(std::function<void(Config*)> configure = nullptr) {
    Config c = NodeConfig(1, &storage);
    if (configure) configure(&c);
    node = MustStart(c, {{1}});
    // The bootstrap entries must be applied before the node may campaign.
    EXPECT_TRUE(NextReady(node.get(), &storage).has_value());
  }

  void Elect() {
    ASSERT_TRUE(node->Campaign().ok());
    ASSERT_TRUE(DriveUntil(node.get(), &storage, [](const Ready& rd) {
      return rd.soft_state.has_value() && rd.soft_state->raft_state == StateType::kLeader;
    }));
  }
};

bool HasCommitted(const Ready& rd, const std::string& data) {
  for (const raftpb::Entry& e : rd.committed_entries) {
    if (e.data() == data) return true;
  }
  return false;
}

TEST(NodeTest, StartNeedsPeersAndValidConfig) {
  MemoryStorage s;
  EXPECT_FALSE(StartNode(NodeConfig(1, &s), {}).ok());
  Config bad = NodeConfig(0, &s);
  EXPECT_FALSE(StartNode(bad, {{1}}).ok());
  EXPECT_FALSE(RestartNode(bad).ok());
  Config async = NodeConfig(1, &s);
  async.async_storage_writes = true;
  EXPECT_FALSE(StartNode(async, {{1}}).ok());
}

// etcd's TestNodeStart: the bootstrap Ready, then an election, then a
// proposal that commits at once on a single voter.
TEST(NodeTest, Start) {
  MemoryStorage s;
  std::unique_ptr<Node> n = MustStart(NodeConfig(1, &s), {{1}});
  raftpb::ConfChange cc;
  cc.set_type(raftpb::ConfChangeAddNode);
  cc.set_node_id(1);
  raftpb::Entry cc_entry = Ent(1, 1, MarshalConfChange(cc));
  cc_entry.set_type(raftpb::EntryConfChange);

  std::optional<Ready> rd = NextReady(n.get(), &s);
  ASSERT_TRUE(rd.has_value());
  EXPECT_EQ(rd->hard_state, HS(1, 0, 1));
  EXPECT_EQ(rd->entries, std::vector<raftpb::Entry>{cc_entry});
  EXPECT_EQ(rd->committed_entries, std::vector<raftpb::Entry>{cc_entry});
  EXPECT_TRUE(rd->must_sync);

  ASSERT_TRUE(n->Campaign().ok());
  rd = NextReady(n.get(), &s);
  ASSERT_TRUE(rd.has_value());
  ASSERT_TRUE(rd->soft_state.has_value());
  EXPECT_EQ(rd->soft_state->raft_state, StateType::kLeader);

  ASSERT_TRUE(n->Propose("foo").ok());
  rd = NextReady(n.get(), &s);
  ASSERT_TRUE(rd.has_value());
  EXPECT_EQ(rd->hard_state, HS(2, 1, 3));
  EXPECT_EQ(rd->entries, std::vector<raftpb::Entry>{Ent(3, 2, "foo")});
  EXPECT_EQ(rd->committed_entries, std::vector<raftpb::Entry>{Ent(3, 2, "foo")});
  EXPECT_TRUE(rd->must_sync);
  EXPECT_FALSE(ReadyPending(n.get()));
}

// etcd's TestNodeRestart: committed entries are handed out again, with no
// HardState (nothing changed).
TEST(NodeTest, Restart) {
  MemoryStorage s;
  ASSERT_TRUE(s.SetHardState(HS(1, 0, 1)).ok());
  ASSERT_TRUE(s.Append({Ent(1, 1), Ent(2, 1, "foo")}).ok());
  std::unique_ptr<Node> n = MustRestart(NodeConfig(1, &s));
  std::optional<Ready> rd = n->WaitReady(kWait);
  ASSERT_TRUE(rd.has_value());
  EXPECT_TRUE(IsEmptyHardState(rd->hard_state));
  EXPECT_EQ(rd->committed_entries, std::vector<raftpb::Entry>{Ent(1, 1)});
  EXPECT_TRUE(rd->entries.empty());
  EXPECT_FALSE(rd->must_sync);
  n->Advance();
  EXPECT_FALSE(ReadyPending(n.get()));
}

// etcd's TestNodeRestartFromSnapshot.
TEST(NodeTest, RestartFromSnapshot) {
  MemoryStorage s;
  ASSERT_TRUE(s.SetHardState(HS(1, 0, 3)).ok());
  ASSERT_TRUE(s.ApplySnapshot(SnapWithConf(2, 1, {1, 2})).ok());
  ASSERT_TRUE(s.Append({Ent(3, 1, "foo")}).ok());
  std::unique_ptr<Node> n = MustRestart(NodeConfig(1, &s));
  std::optional<Ready> rd = n->WaitReady(kWait);
  ASSERT_TRUE(rd.has_value());
  EXPECT_TRUE(IsEmptyHardState(rd->hard_state));
  EXPECT_EQ(rd->committed_entries, std::vector<raftpb::Entry>{Ent(3, 1, "foo")});
  EXPECT_FALSE(rd->must_sync);
  n->Advance();
  EXPECT_FALSE(ReadyPending(n.get()));
}

// etcd's TestNodeAdvance: no new Ready until the last one is advanced.
TEST(NodeTest, Advance) {
  MemoryStorage s;
  std::unique_ptr<Node> n = MustStart(NodeConfig(1, &s), {{1}});
  ASSERT_TRUE(NextReady(n.get(), &s).has_value());
  ASSERT_TRUE(n->Campaign().ok());
  std::optional<Ready> rd = n->WaitReady(kWait);  // not advanced
  ASSERT_TRUE(rd.has_value());
  ASSERT_TRUE(n->Propose("foo").ok());
  EXPECT_FALSE(ReadyPending(n.get()));
  ASSERT_TRUE(s.Append(rd->entries).ok());
  n->Advance();
  rd = n->WaitReady(kWait);
  ASSERT_TRUE(rd.has_value());
  EXPECT_TRUE(HasCommitted(*rd, "foo"));
}

// etcd's TestNodePropose.
TEST(NodeTest, ProposeCommits) {
  SingleNode sn;
  sn.Elect();
  ASSERT_TRUE(sn.node->Propose("somedata").ok());
  EXPECT_TRUE(DriveUntil(sn.node.get(), &sn.storage,
                         [](const Ready& rd) { return HasCommitted(rd, "somedata"); }));
}

// Proposals from many threads all commit, in some order.
TEST(NodeTest, ConcurrentProposals) {
  SingleNode sn;
  sn.Elect();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> proposers;
  for (int t = 0; t < kThreads; ++t) {
    proposers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!sn.node->Propose(absl::StrCat(t, "-", i), absl::Now() + kWait).ok()) ++failures;
      }
    });
  }
  int committed = 0;
  EXPECT_TRUE(DriveUntil(sn.node.get(), &sn.storage, [&](const Ready& rd) {
    for (const raftpb::Entry& e : rd.committed_entries) {
      if (!e.data().empty()) ++committed;
    }
    return committed == kThreads * kPerThread;
  }));
  for (std::thread& t : proposers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

// etcd's TestBlockProposal: without a leader a proposal waits (here until
// its deadline); once the node leads it goes through.
TEST(NodeTest, ProposeWaitsForLeader) {
  SingleNode sn;
  absl::Status early = sn.node->Propose("early", absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(early.code(), absl::StatusCode::kDeadlineExceeded) << early;

  absl::Notification proposed;
  absl::Status result;
  std::thread proposer([&] {
    result = sn.node->Propose("somedata", absl::Now() + kWait);
    proposed.Notify();
  });
  ASSERT_TRUE(sn.node->Campaign().ok());
  EXPECT_TRUE(DriveUntil(sn.node.get(), &sn.storage,
                         [](const Ready& rd) { return HasCommitted(rd, "somedata"); }));
  proposer.join();
  EXPECT_TRUE(result.ok()) << result;
}

// etcd's TestNodeProposeWaitDropped: raft's refusal comes back to the
// caller. Here the uncommitted-size limit refuses the second proposal while
// the first one is not yet acknowledged by Advance.
TEST(NodeTest, ProposeReturnsDropped) {
  SingleNode sn([](Config* c) { c->max_uncommitted_entries_size = 10; });
  sn.Elect();
  ASSERT_TRUE(sn.node->Propose("12345678").ok());
  absl::Status s = sn.node->Propose("abcdefgh");
  EXPECT_TRUE(IsProposalDropped(s)) << s;
  // Once the first is committed and applied, there is room again.
  EXPECT_TRUE(DriveUntil(sn.node.get(), &sn.storage,
                         [](const Ready& rd) { return HasCommitted(rd, "12345678"); }));
  EXPECT_TRUE(sn.node->Propose("abcdefgh").ok());
}

// A follower that knows its leader, for the forwarding tests: node 2 of
// (1 2 3), told of leader 1 by a heartbeat.
struct Follower {
  MemoryStorage storage;
  std::unique_ptr<Node> node;

  explicit Follower(bool disable_forwarding) {
    Config c = NodeConfig(2, &storage);
    c.disable_proposal_forwarding = disable_forwarding;
    node = MustStart(c, {{1}, {2}, {3}});
    raftpb::Message hb = Msg(1, 2, raftpb::MsgHeartbeat, 2);
    EXPECT_TRUE(node->Step(hb).ok());
    EXPECT_EQ(node->GetStatus().basic.soft_state.lead, 1u);
  }

  // Collects the messages of the Readies until one satisfies `pred`.
  bool SendsMessage(const std::function<bool(const raftpb::Message&)>& pred) {
    return DriveUntil(node.get(), &storage, [&](const Ready& rd) {
      for (const raftpb::Message& m : rd.messages) {
        if (pred(m)) return true;
      }
      return false;
    });
  }
};

// etcd's TestDisableProposalForwarding, through a Node.
TEST(NodeTest, DisableProposalForwarding) {
  Follower f(/*disable_forwarding=*/true);
  absl::Status s = f.node->Propose("foo", absl::Now() + kWait);
  EXPECT_TRUE(IsProposalDropped(s)) << s;

  Follower g(/*disable_forwarding=*/false);
  ASSERT_TRUE(g.node->Propose("foo", absl::Now() + kWait).ok());
  EXPECT_TRUE(g.SendsMessage([](const raftpb::Message& m) {
    return m.type() == raftpb::MsgProp && m.to() == 1 && m.entries_size() == 1 &&
           m.entries(0).data() == "foo";
  }));
}

// etcd's TestNodeReadIndex: a leader answers with a ReadState.
TEST(NodeTest, ReadIndexOnLeader) {
  SingleNode sn;
  sn.Elect();
  ASSERT_TRUE(sn.node->ReadIndex("somedata").ok());
  EXPECT_TRUE(DriveUntil(sn.node.get(), &sn.storage, [](const Ready& rd) {
    return rd.read_states.size() == 1 && rd.read_states[0].request_ctx == "somedata" &&
           rd.read_states[0].index == 2;
  }));
}

// etcd's TestNodeReadIndexToOldLeader, the follower's part: the request
// goes to the leader.
TEST(NodeTest, ReadIndexOnFollowerGoesToLeader) {
  Follower f(/*disable_forwarding=*/false);
  ASSERT_TRUE(f.node->ReadIndex("ctx").ok());
  EXPECT_TRUE(f.SendsMessage([](const raftpb::Message& m) {
    return m.type() == raftpb::MsgReadIndex && m.to() == 1 && m.entries_size() == 1 &&
           m.entries(0).data() == "ctx";
  }));
}

// etcd's TestNodeStep: local message types from the network are ignored;
// the others reach raft.
TEST(NodeTest, StepIgnoresLocalMessages) {
  MemoryStorage s;
  std::unique_ptr<Node> n = MustStart(NodeConfig(1, &s), {{1}});
  ASSERT_TRUE(n->Step(Msg(1, 1, raftpb::MsgHup)).ok());
  ASSERT_TRUE(n->Step(Msg(1, 1, raftpb::MsgBeat)).ok());
  EXPECT_EQ(n->GetStatus().basic.soft_state.raft_state, StateType::kFollower);
  // A vote request at term 5 reaches raft: the node adopts the term.
  ASSERT_TRUE(n->Step(Msg(2, 1, raftpb::MsgVote, 5)).ok());
  EXPECT_EQ(n->GetStatus().basic.hard_state.term(), 5u);
}

// etcd's TestNodeProposeConfig and TestNodeProposeAddDuplicateNode: conf
// changes commit as conf-change entries and apply; adding a member again is
// harmless.
TEST(NodeTest, ProposeConfChange) {
  SingleNode sn;
  sn.Elect();
  for (uint64_t id : {1, 1, 2}) {
    raftpb::ConfChange cc;
    cc.set_type(raftpb::ConfChangeAddNode);
    cc.set_node_id(id);
    cc.set_context("ctx");
    ASSERT_TRUE(sn.node->ProposeConfChange(cc).ok());
    ASSERT_TRUE(DriveUntil(sn.node.get(), &sn.storage, [&](const Ready& rd) {
      for (const raftpb::Entry& e : rd.committed_entries) {
        if (e.type() == raftpb::EntryConfChange && e.data() == MarshalConfChange(cc)) return true;
      }
      return false;
    }));
  }
  Status st = sn.node->GetStatus();
  EXPECT_TRUE(st.config.voters.IDs().Contains(2));
  EXPECT_EQ(st.progress.size(), 2u);
  // With two voters the leader cannot commit on its own any more.
  ASSERT_TRUE(sn.node->Propose("stuck").ok());
  ASSERT_TRUE(DriveUntil(sn.node.get(), &sn.storage, [](const Ready& rd) {
    EXPECT_FALSE(HasCommitted(rd, "stuck"));
    return !rd.entries.empty() && rd.entries.back().data() == "stuck";
  }));
  st = sn.node->GetStatus();
  EXPECT_LT(st.basic.hard_state.commit(), st.progress.at(1).match);
}

// etcd's TestNodeProposeAddLearnerNode.
TEST(NodeTest, ApplyConfChangeAddsLearner) {
  SingleNode sn;
  sn.Elect();
  raftpb::ConfChange cc;
  cc.set_type(raftpb::ConfChangeAddLearnerNode);
  cc.set_node_id(2);
  raftpb::ConfState cs = sn.node->ApplyConfChange(cc);
  EXPECT_EQ(cs, CS({1}, {2}));
  // V2 change: promote it.
  raftpb::ConfChangeV2 v2;
  raftpb::ConfChangeSingle* c = v2.add_changes();
  c->set_type(raftpb::ConfChangeAddNode);
  c->set_node_id(2);
  cs = sn.node->ApplyConfChange(v2);
  EXPECT_EQ(cs, CS({1, 2}, {}));
}

// etcd's TestNodeTick: ticks drive the election timer; a single voter
// elects itself after an election timeout.
TEST(NodeTest, TicksElect) {
  SingleNode sn;
  const absl::Time deadline = absl::Now() + kWait;
  while (sn.node->GetStatus().basic.soft_state.raft_state != StateType::kLeader) {
    ASSERT_LT(absl::Now(), deadline);
    sn.node->Tick();
  }
}

// etcd's TestNodeStop: after Stop everything fails or returns empty.
TEST(NodeTest, Stop) {
  SingleNode sn;
  sn.Elect();
  absl::Notification waiting;
  std::optional<Ready> late;
  std::thread reader([&] {
    waiting.Notify();
    late = sn.node->WaitReady(absl::Now() + kWait);
  });
  waiting.WaitForNotification();
  sn.node->Stop();
  reader.join();
  EXPECT_FALSE(late.has_value());
  EXPECT_TRUE(IsStopped(sn.node->Propose("foo")));
  EXPECT_TRUE(IsStopped(sn.node->Campaign()));
  EXPECT_TRUE(IsStopped(sn.node->Step(Msg(2, 1, raftpb::MsgApp, 1))));
  EXPECT_TRUE(IsStopped(sn.node->ReadIndex("x")));
  EXPECT_EQ(sn.node->GetStatus().basic.id, 0u);
  EXPECT_EQ(sn.node->ApplyConfChange(raftpb::ConfChange()), raftpb::ConfState());
  sn.node->Tick();
  sn.node->Advance();
  sn.node->Stop();  // idempotent
}

// A proposal waiting for a leader when the node stops gets ErrStopped.
TEST(NodeTest, StopReleasesWaitingProposal) {
  SingleNode sn;
  absl::Status result;
  std::thread proposer([&] { result = sn.node->Propose("foo", absl::Now() + kWait); });
  // Wait until the proposal is queued: it waits for a leader that never
  // comes.
  const absl::Time deadline = absl::Now() + kWait;
  while (sn.node->NumWaitingProposalsForTesting() == 0) ASSERT_LT(absl::Now(), deadline);
  sn.node->Stop();
  proposer.join();
  EXPECT_TRUE(IsStopped(result)) << result;
}

// etcd's TestCommitPagination: MaxCommittedSizePerReady splits the committed
// entries over several Readies.
TEST(NodeTest, CommitPagination) {
  SingleNode sn([](Config* c) { c->max_committed_size_per_ready = 2048; });
  sn.Elect();
  // Hold a Ready back so that the next proposals all commit before the
  // next Ready is made.
  ASSERT_TRUE(sn.node->Propose("first").ok());
  std::optional<Ready> held = sn.node->WaitReady(kWait);
  ASSERT_TRUE(held.has_value());
  ASSERT_TRUE(sn.storage.Append(held->entries).ok());
  const std::string blob(1000, 'a');
  for (int i = 0; i < 3; ++i) {
    std::string data = blob;
    data[0] = static_cast<char>('0' + i);
    ASSERT_TRUE(sn.node->Propose(data).ok());
  }
  EXPECT_EQ(sn.node->GetStatus().basic.hard_state.commit(), 6u);  // all committed
  sn.node->Advance();
  std::vector<size_t> per_ready;
  int total = 0;
  ASSERT_TRUE(DriveUntil(sn.node.get(), &sn.storage, [&](const Ready& rd) {
    if (!rd.committed_entries.empty()) per_ready.push_back(rd.committed_entries.size());
    for (const raftpb::Entry& e : rd.committed_entries) total += e.data().size() == 1000;
    return total == 3;
  }));
  for (size_t n : per_ready) EXPECT_LE(n, 2u);
}

// ReportUnreachable and ReportSnapshot reach the leader's progress tracking:
// node 1 leads (1 2) with node 2 simulated by hand.
TEST(NodeTest, ReportUnreachableAndSnapshot) {
  MemoryStorage s;
  std::unique_ptr<Node> n = MustStart(NodeConfig(1, &s), {{1}, {2}});
  ASSERT_TRUE(NextReady(n.get(), &s).has_value());
  ASSERT_TRUE(n->Campaign().ok());
  raftpb::Message vote = Msg(2, 1, raftpb::MsgVoteResp, 2);
  ASSERT_TRUE(n->Step(vote).ok());
  ASSERT_EQ(n->GetStatus().basic.soft_state.raft_state, StateType::kLeader);
  // Node 2 acknowledges the leader's entry: replicate state.
  raftpb::Message ack = Msg(2, 1, raftpb::MsgAppResp, 2);
  ack.set_index(3);
  ASSERT_TRUE(n->Step(ack).ok());
  EXPECT_EQ(n->GetStatus().progress.at(2).state, tracker::StateType::kReplicate);
  n->ReportUnreachable(2);
  EXPECT_EQ(n->GetStatus().progress.at(2).state, tracker::StateType::kProbe);

  // Persist everything, compact it away and make node 2 need it: the leader
  // sends a snapshot.
  while (*s.LastIndex() < 3) ASSERT_TRUE(NextReady(n.get(), &s).has_value());
  ASSERT_TRUE(s.CreateSnapshot(3, nullptr, "").ok());
  ASSERT_TRUE(s.Compact(3).ok());
  raftpb::Message reject = Msg(2, 1, raftpb::MsgAppResp, 2);
  reject.set_index(3);
  reject.set_reject(true);
  reject.set_rejecthint(0);
  ASSERT_TRUE(n->Step(reject).ok());
  EXPECT_EQ(n->GetStatus().progress.at(2).state, tracker::StateType::kSnapshot);
  n->ReportSnapshot(2, SnapshotStatus::kFailure);
  EXPECT_EQ(n->GetStatus().progress.at(2).state, tracker::StateType::kProbe);
}

// --- A cluster of Nodes ---

// Three Nodes, each with a driver thread that persists, applies, sends its
// messages to the others (through Step) and advances.
class Cluster {
 public:
  explicit Cluster(int n) {
    std::vector<Peer> peers;
    for (int i = 1; i <= n; ++i) peers.push_back({static_cast<uint64_t>(i)});
    for (int i = 1; i <= n; ++i) {
      auto m = std::make_unique<Member>();
      m->node = MustStart(NodeConfig(i, &m->storage), peers);
      members_.push_back(std::move(m));
    }
    for (auto& m : members_) {
      Member* mp = m.get();
      mp->driver = std::thread([this, mp] { Drive(mp); });
    }
  }

  ~Cluster() {
    for (auto& m : members_) m->node->Stop();
    for (auto& m : members_) m->driver.join();
  }

  Node* node(uint64_t id) { return members_[id - 1]->node.get(); }

  // The leader all nodes agree on, or 0.
  uint64_t Leader() {
    uint64_t lead = kNone;
    for (auto& m : members_) {
      uint64_t l = m->node->GetStatus().basic.soft_state.lead;
      if (l == kNone || (lead != kNone && l != lead)) return kNone;
      lead = l;
    }
    return lead;
  }

  // Ticks every node until `pred` holds; false at the deadline.
  bool TickUntil(const std::function<bool()>& pred) {
    const absl::Time deadline = absl::Now() + kWait;
    while (!pred()) {
      if (absl::Now() > deadline) return false;
      for (auto& m : members_) m->node->Tick();
      absl::SleepFor(absl::Milliseconds(1));  // pacing for the ticks, not a wait
    }
    return true;
  }

  std::vector<std::string> Applied(uint64_t id) {
    absl::MutexLock l(&members_[id - 1]->mu);
    return members_[id - 1]->applied;
  }

 private:
  struct Member {
    MemoryStorage storage;
    std::unique_ptr<Node> node;
    std::thread driver;
    absl::Mutex mu;
    std::vector<std::string> applied ABSL_GUARDED_BY(mu);
  };

  void Drive(Member* m) {
    while (std::optional<Ready> rd = m->node->WaitReady(absl::InfiniteFuture())) {
      if (!IsEmptySnap(rd->snapshot)) (void)m->storage.ApplySnapshot(rd->snapshot);
      (void)m->storage.Append(rd->entries);
      if (!IsEmptyHardState(rd->hard_state)) (void)m->storage.SetHardState(rd->hard_state);
      for (raftpb::Message& msg : rd->messages) {
        // Best effort, like a network: a stopped or busy peer loses it.
        (void)node(msg.to())->Step(std::move(msg), absl::Now() + absl::Milliseconds(100));
      }
      for (const raftpb::Entry& e : rd->committed_entries) {
        if (e.type() == raftpb::EntryConfChange) {
          raftpb::ConfChange cc;
          if (cc.ParseFromString(e.data())) m->node->ApplyConfChange(cc);
        } else if (!e.data().empty()) {
          absl::MutexLock l(&m->mu);
          m->applied.push_back(e.data());
        }
      }
      m->node->Advance();
    }
  }

  std::vector<std::unique_ptr<Member>> members_;
};

TEST(NodeClusterTest, ElectsReplicatesAndTransfersLeadership) {
  Cluster c(3);
  ASSERT_TRUE(c.TickUntil([&] { return c.Leader() != kNone; }));
  const uint64_t lead = c.Leader();
  const uint64_t follower = lead % 3 + 1;

  // A proposal on a follower is forwarded and applied everywhere.
  ASSERT_TRUE(c.node(follower)->Propose("x", absl::Now() + kWait).ok());
  ASSERT_TRUE(c.TickUntil([&] {
    for (uint64_t id = 1; id <= 3; ++id) {
      if (c.Applied(id) != std::vector<std::string>{"x"}) return false;
    }
    return true;
  }));

  c.node(lead)->TransferLeadership(lead, follower);
  ASSERT_TRUE(c.TickUntil([&] { return c.Leader() == follower; }));
  ASSERT_TRUE(c.node(lead)->Propose("y", absl::Now() + kWait).ok());
  ASSERT_TRUE(c.TickUntil([&] {
    for (uint64_t id = 1; id <= 3; ++id) {
      if (c.Applied(id) != std::vector<std::string>{"x", "y"}) return false;
    }
    return true;
  }));
}

}  // namespace
}  // namespace etcd::raft::testing
