// The simulated cluster: its Ready loop, each network fault, crashes,
// restarts, snapshots and membership changes.

#include "raft/rafttest/sim.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace etcd::raft::rafttest {
namespace {

SimOptions Quiet(size_t nodes) {
  SimOptions o;
  o.nodes = nodes;
  o.faults = false;
  o.reorder = false;
  return o;
}

// Elects node 1 with a fault-free network.
void ElectOne(Sim& sim) {
  ASSERT_TRUE(sim.Campaign(1).ok());
  ASSERT_TRUE(sim.DeliverAll());
  ASSERT_EQ(sim.Leader(), 1u) << sim.DebugString();
}

void ExpectSafe(Sim& sim, SafetyChecker& checker) {
  EXPECT_TRUE(sim.status().ok()) << sim.status();
  EXPECT_TRUE(checker.CheckAll(sim.Views()).ok());
  EXPECT_TRUE(sim.CheckLogs().ok()) << sim.CheckLogs();
}

TEST(SimTest, BootstrapsElectsAndReplicates) {
  SafetyChecker checker;
  Sim sim(Quiet(3), &checker);
  for (uint64_t id = 1; id <= 3; ++id) {
    EXPECT_EQ(sim.applied(id), 3u);  // the bootstrap conf changes
    EXPECT_EQ(sim.conf_state(id).voters_size(), 3);
  }
  ElectOne(sim);
  ASSERT_TRUE(sim.Propose(1, "a").ok());
  ASSERT_TRUE(sim.Propose(2, "b").ok());  // forwarded
  ASSERT_TRUE(sim.DeliverAll());
  sim.TickAll();  // a heartbeat carries the last commit index
  ASSERT_TRUE(sim.DeliverAll());
  EXPECT_EQ(sim.applied(1), 6u);
  for (uint64_t id = 2; id <= 3; ++id) {
    EXPECT_EQ(sim.applied(id), sim.applied(1));
    EXPECT_EQ(sim.state_digest(id), sim.state_digest(1));
  }
  ExpectSafe(sim, checker);
}

TEST(SimTest, DropRateOneLosesEverything) {
  SimOptions o = Quiet(3);
  o.faults = true;
  o.drop_rate = 1;
  Sim sim(o, nullptr);
  ASSERT_TRUE(sim.Campaign(1).ok());
  EXPECT_TRUE(sim.in_flight().empty());
  EXPECT_EQ(sim.node(1)->raft().state(), StateType::kCandidate);
}

TEST(SimTest, DuplicateRateOneSendsEverythingTwice) {
  SimOptions o = Quiet(3);
  o.faults = true;
  o.duplicate_rate = 1;
  Sim sim(o, nullptr);
  ASSERT_TRUE(sim.Campaign(1).ok());
  ASSERT_EQ(sim.in_flight().size(), 4u);
  EXPECT_EQ(sim.in_flight()[0].msg.to(), sim.in_flight()[1].msg.to());
  ASSERT_TRUE(sim.DeliverAll());
  EXPECT_EQ(sim.Leader(), 1u);
}

TEST(SimTest, DelayHoldsMessagesForSomeSteps) {
  SimOptions o = Quiet(3);
  o.faults = true;
  o.delay_rate = 1;
  o.max_delay = 5;
  Sim sim(o, nullptr);
  ASSERT_TRUE(sim.Campaign(1).ok());
  ASSERT_EQ(sim.in_flight().size(), 2u);
  uint64_t sent = sim.now();
  for (const InFlight& f : sim.in_flight()) {
    EXPECT_GT(f.deliver_at, sent);
    EXPECT_LE(f.deliver_at, sent + 5);
  }
  uint64_t first = std::min(sim.in_flight()[0].deliver_at, sim.in_flight()[1].deliver_at);
  while (sim.now() + 1 < first) EXPECT_FALSE(sim.Deliver());
  EXPECT_TRUE(sim.Deliver());
}

TEST(SimTest, WithoutReorderingDeliversOldestFirst) {
  Sim sim(Quiet(3), nullptr);
  ASSERT_TRUE(sim.Campaign(1).ok());
  ASSERT_EQ(sim.in_flight().size(), 2u);
  uint64_t second = sim.in_flight()[1].msg.to();
  ASSERT_TRUE(sim.Deliver());
  // The vote answer is queued after the remaining request.
  EXPECT_EQ(sim.in_flight()[0].msg.to(), second);
  EXPECT_EQ(sim.in_flight()[0].msg.type(), raftpb::MsgVote);
}

TEST(SimTest, ReorderingDeliversInAnotherOrder) {
  // Over a few seeds, some run must deliver the second vote request first.
  bool reordered = false;
  for (uint64_t seed = 1; seed <= 16 && !reordered; ++seed) {
    SimOptions o = Quiet(3);
    o.seed = seed;
    o.reorder = true;
    Sim sim(o, nullptr);
    ASSERT_TRUE(sim.Campaign(1).ok());
    uint64_t first = sim.in_flight()[0].msg.to();
    ASSERT_TRUE(sim.Deliver());
    reordered = sim.in_flight()[0].msg.to() == first;
  }
  EXPECT_TRUE(reordered);
}

TEST(SimTest, PartitionCutsLinksBetweenGroups) {
  SafetyChecker checker;
  Sim sim(Quiet(3), &checker);
  sim.Partition({{1}, {2, 3}});
  ASSERT_TRUE(sim.Campaign(1).ok());
  ASSERT_TRUE(sim.DeliverAll());
  EXPECT_EQ(sim.Leader(), 0u);
  ASSERT_TRUE(sim.Campaign(2).ok());
  ASSERT_TRUE(sim.DeliverAll());
  EXPECT_EQ(sim.Leader(), 2u);
  sim.Heal();
  ASSERT_TRUE(sim.Propose(2, "x").ok());
  ASSERT_TRUE(sim.DeliverAll());
  sim.TickAll();
  ASSERT_TRUE(sim.DeliverAll());
  EXPECT_EQ(sim.applied(1), sim.applied(2));
  ExpectSafe(sim, checker);
}

TEST(SimTest, IsolateCutsOneNode) {
  Sim sim(Quiet(3), nullptr);
  ElectOne(sim);
  sim.Isolate(1);
  ASSERT_TRUE(sim.Propose(1, "lost").ok());
  EXPECT_FALSE(sim.in_flight().empty());
  ASSERT_TRUE(sim.DeliverAll());
  EXPECT_EQ(sim.applied(2), 4u);  // bootstrap + the leader's empty entry
}

TEST(SimTest, CrashBeforePersistLosesTheReady) {
  SafetyChecker checker;
  SimOptions o = Quiet(3);
  o.early_send = EarlySend::kNever;
  Sim sim(o, &checker);
  ElectOne(sim);
  uint64_t last = sim.Views()[0].LastIndex();
  sim.CrashDuringReady(1, CrashPoint::kBeforePersist);
  EXPECT_TRUE(sim.Propose(1, "lost").ok());
  EXPECT_FALSE(sim.IsUp(1));
  EXPECT_TRUE(sim.in_flight().empty());  // nothing was sent
  EXPECT_EQ(sim.Views()[0].LastIndex(), last);
  sim.Restart(1);
  ASSERT_TRUE(sim.IsUp(1));
  EXPECT_EQ(sim.node(1)->raft().raft_log().LastIndex(), last);
  EXPECT_EQ(sim.node(1)->raft().state(), StateType::kFollower);
  ExpectSafe(sim, checker);
}

TEST(SimTest, CrashAfterPersistKeepsEntriesButSendsNothing) {
  SafetyChecker checker;
  SimOptions o = Quiet(3);
  o.early_send = EarlySend::kNever;
  Sim sim(o, &checker);
  ElectOne(sim);
  uint64_t last = sim.Views()[0].LastIndex();
  sim.CrashDuringReady(1, CrashPoint::kAfterPersist);
  EXPECT_TRUE(sim.Propose(1, "kept").ok());
  EXPECT_TRUE(sim.in_flight().empty());
  EXPECT_EQ(sim.Views()[0].LastIndex(), last + 1);
  ExpectSafe(sim, checker);
}

TEST(SimTest, LeaderSendsEarlyUnlessItCommitsUnpersistedEntries) {
  SimOptions o = Quiet(3);
  o.early_send = EarlySend::kSafe;
  Sim sim(o, nullptr);
  ElectOne(sim);
  sim.CrashDuringReady(1, CrashPoint::kBeforePersist);
  EXPECT_TRUE(sim.Propose(1, "sent").ok());
  EXPECT_EQ(sim.in_flight().size(), 2u);  // sent before the crash
  EXPECT_FALSE(sim.IsUp(1));

  // A single voter commits its entry at once: kSafe persists first.
  SimOptions one = Quiet(1);
  one.early_send = EarlySend::kSafe;
  Sim single(one, nullptr);
  ElectOne(single);
  uint64_t learner = single.AddNode();
  raftpb::ConfChange cc;
  cc.set_type(raftpb::ConfChangeAddLearnerNode);
  cc.set_node_id(learner);
  ASSERT_TRUE(single.ProposeConfChange(1, cc).ok());
  ASSERT_TRUE(single.DeliverAll());
  single.TickAll();
  ASSERT_TRUE(single.DeliverAll());
  ASSERT_EQ(single.applied(learner), single.applied(1));
  single.CrashDuringReady(1, CrashPoint::kBeforePersist);
  EXPECT_TRUE(single.Propose(1, "held").ok());
  EXPECT_TRUE(single.in_flight().empty());
}

TEST(SimTest, RestartResumesFromTheSnapshot) {
  SafetyChecker checker;
  SimOptions o = Quiet(3);
  o.snapshot_interval = 4;
  o.compaction_margin = 1;
  Sim sim(o, &checker);
  ElectOne(sim);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(sim.Propose(1, "v" + std::to_string(i)).ok());
  ASSERT_TRUE(sim.DeliverAll());
  sim.TickAll();
  ASSERT_TRUE(sim.DeliverAll());
  uint64_t applied = sim.applied(2);
  ASSERT_GE(applied, 24u);
  EXPECT_GT(sim.Views()[1].snapshot_index, 0u);  // compacted
  sim.Crash(2);
  sim.Restart(2);
  // The state machine came back from the snapshot and replayed the rest.
  EXPECT_EQ(sim.applied(2), applied);
  EXPECT_EQ(sim.state_digest(2), sim.state_digest(1));
  ExpectSafe(sim, checker);
}

TEST(SimTest, LaggingFollowerCatchesUpBySnapshot) {
  SafetyChecker checker;
  SimOptions o = Quiet(3);
  o.snapshot_interval = 4;
  o.compaction_margin = 0;
  Sim sim(o, &checker);
  ElectOne(sim);
  sim.Crash(3);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(sim.Propose(1, "v" + std::to_string(i)).ok());
  ASSERT_TRUE(sim.DeliverAll());
  sim.Restart(3);
  for (int i = 0; i < 5; ++i) {
    sim.TickAll();
    ASSERT_TRUE(sim.DeliverAll());
  }
  EXPECT_EQ(sim.applied(3), sim.applied(1));
  EXPECT_EQ(sim.state_digest(3), sim.state_digest(1));
  ExpectSafe(sim, checker);
}

TEST(SimTest, AddPromoteAndRemoveNodes) {
  SafetyChecker checker;
  Sim sim(Quiet(3), &checker);
  ElectOne(sim);
  auto settle = [&sim] {
    for (int i = 0; i < 3; ++i) {
      sim.TickAll();
      ASSERT_TRUE(sim.DeliverAll());
    }
  };
  uint64_t id = sim.AddNode();
  raftpb::ConfChangeV2 add;
  raftpb::ConfChangeSingle* c = add.add_changes();
  c->set_type(raftpb::ConfChangeAddLearnerNode);
  c->set_node_id(id);
  ASSERT_TRUE(sim.ProposeConfChange(1, add).ok());
  settle();
  EXPECT_EQ(sim.conf_state(id).learners_size(), 1);
  EXPECT_EQ(sim.applied(id), sim.applied(1));

  // Joint: promote the learner and remove voter 3; leaves automatically.
  raftpb::ConfChangeV2 swap;
  swap.set_transition(raftpb::ConfChangeTransitionJointImplicit);
  c = swap.add_changes();
  c->set_type(raftpb::ConfChangeAddNode);
  c->set_node_id(id);
  c = swap.add_changes();
  c->set_type(raftpb::ConfChangeRemoveNode);
  c->set_node_id(3);
  ASSERT_TRUE(sim.ProposeConfChange(1, swap).ok());
  settle();
  raftpb::ConfState cs = sim.conf_state(1);
  EXPECT_EQ(cs.voters_size(), 3);
  EXPECT_EQ(cs.voters_outgoing_size(), 0);
  EXPECT_TRUE(sim.IsRemoved(3));
  EXPECT_EQ(sim.NodeIds(), (std::vector<uint64_t>{1, 2, id}));
  ASSERT_TRUE(sim.Propose(1, "after").ok());
  settle();
  EXPECT_EQ(sim.applied(id), sim.applied(1));
  ExpectSafe(sim, checker);
}

TEST(SimTest, InvalidConfChangesAreRejectedNotApplied) {
  SafetyChecker checker;
  Sim sim(Quiet(1), &checker);
  ElectOne(sim);
  raftpb::ConfChange remove_last;
  remove_last.set_type(raftpb::ConfChangeRemoveNode);
  remove_last.set_node_id(1);
  ASSERT_TRUE(sim.ProposeConfChange(1, remove_last).ok());
  ASSERT_TRUE(sim.DeliverAll());
  EXPECT_EQ(sim.conf_state(1).voters_size(), 1);
  EXPECT_TRUE(sim.IsUp(1));
  ExpectSafe(sim, checker);
}

TEST(SimTest, SnapshotsAreReportedToTheSender) {
  SafetyChecker checker;
  SimOptions o = Quiet(3);
  o.snapshot_interval = 2;
  o.compaction_margin = 0;
  Sim sim(o, &checker);
  ElectOne(sim);
  sim.Isolate(3);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(sim.Propose(1, "v").ok());
  ASSERT_TRUE(sim.DeliverAll());
  sim.TickAll();  // 1 probes 3 and needs a snapshot, which is dropped
  ASSERT_TRUE(sim.DeliverAll());
  sim.Heal();
  for (int i = 0; i < 5; ++i) {
    sim.TickAll();
    ASSERT_TRUE(sim.DeliverAll());
  }
  // The failure report put 3 back to probing, so the retry went through.
  EXPECT_EQ(sim.applied(3), sim.applied(1));
  ExpectSafe(sim, checker);
}

TEST(SimTest, SameSeedSameRun) {
  auto run = [](uint64_t seed) {
    SimOptions o;
    o.seed = seed;
    o.nodes = 3;
    o.drop_rate = 0.2;
    o.delay_rate = 0.3;
    Sim sim(o, nullptr);
    for (int i = 0; i < 500; ++i) {
      switch (sim.Rand(3)) {
        case 0:
          sim.Tick(1 + sim.Rand(3));
          break;
        case 1:
          sim.Deliver();
          break;
        default:
          (void)sim.Propose(1 + sim.Rand(3), "x");
      }
    }
    return sim.DebugString();
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

}  // namespace
}  // namespace etcd::raft::rafttest
