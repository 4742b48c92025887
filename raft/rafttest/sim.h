// A simulated cluster of RawNodes on a faulty in-memory network, for
// randomized safety tests, fuzzing and benchmarks.
//
//   rafttest::SimOptions options;
//   options.seed = 42;
//   options.nodes = 5;
//   rafttest::SafetyChecker checker;
//   rafttest::Sim sim(options, &checker);
//   sim.Campaign(1);
//   while (sim.Deliver()) {}                  // one message per step
//   (void)sim.Propose(sim.Leader(), "x");
//   sim.Partition({{1, 2}, {3, 4, 5}});       // cut the links between groups
//   sim.Crash(3);                             // unstable state is lost
//   sim.Restart(3);                           // from its MemoryStorage
//   ASSERT_TRUE(checker.CheckAll(sim.Views()).ok());
//   ASSERT_TRUE(sim.status().ok());
//
// Each node is a RawNode driven the way the README asks an application to:
// after every action that touched it, it processes its Readies one by one:
// persist the snapshot, entries and HardState into its MemoryStorage (the
// durable state, which survives a crash), send the messages (a leader may
// send before persisting, see EarlySend), apply the snapshot and committed
// entries to a replicated state machine (a digest chain over the applied
// entries, see safety.h) calling ApplyConfChange for conf changes (after
// checking them, rejecting invalid ones and ones that add a removed ID
// again, as etcd's server does), then
// Advance. Nodes snapshot their state machine every few applied entries and
// compact their logs. A node that applied another's removal neither sends
// to it nor accepts its messages (as etcd's transport); a removed node is
// shut down once every remaining member applied its removal. (Stopping it
// sooner, e.g. once it applied its own removal as etcd's server does, can
// leave members that did not apply it yet without the votes of their
// configuration, or unaware that the removal committed.)
//
// The network holds messages until delivered. With faults on, each message
// sent is dropped, duplicated, or delayed (held for 1..max_delay steps) with
// the configured probabilities; Deliver picks a random deliverable message
// when reordering. Partitions drop messages across groups at delivery time.
// A MsgSnap is always reported to its sender (ReportSnapshot), as a
// transport would; messages to unreachable nodes are reported with
// ReportUnreachable.
//
// Every choice comes from one generator seeded by SimOptions::seed, so a run
// is reproducible from its seed and its sequence of actions. Each action is
// one step of the clock that delays are measured in.
//
// The Sim checks the application contract raft must keep (committed entries
// are persisted and contiguous, the HardState's commit is within the log,
// honest messages are never refused as invalid) and feeds every apply and
// snapshot restore to the SafetyChecker; the first failure is status().
//
// Not thread-safe. Test-only.

#ifndef ETCD_RAFT_RAFTTEST_SIM_H_
#define ETCD_RAFT_RAFTTEST_SIM_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "raft/logger.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/rafttest/safety.h"
#include "raft/rawnode.h"
#include "raft/storage.h"

namespace etcd::raft::rafttest {

// When a leader sends a Ready's messages relative to persisting it.
enum class EarlySend {
  // Every node persists first.
  kNever,
  // A leader sends first (Raft thesis 10.2.1, etcd's server), unless the
  // Ready commits entries the leader has not persisted yet: with a single
  // voter, the leader commits its own entries at once, and followers (then
  // learners) must not learn of a commit the leader could lose in a crash.
  kSafe,
  // A leader always sends first (etcd 3.4's server). Unsafe with a single
  // voter, for the reason above; for demonstrating the checker.
  kAlways,
};

// Where a crash armed with CrashDuringReady happens while the node handles
// its next Ready.
enum class CrashPoint {
  kBeforePersist,  // nothing of the Ready persisted (a leader may have sent)
  kAfterPersist,   // persisted, messages not sent (unless sent early)
  kAfterSend,      // persisted and sent, not applied nor advanced
};

struct SimOptions {
  uint64_t seed = 1;
  // Initial voters, IDs 1..nodes.
  size_t nodes = 3;

  // Passed to each node's Config.
  int election_tick = 10;
  int heartbeat_tick = 1;
  bool pre_vote = false;
  bool check_quorum = false;
  uint64_t max_size_per_msg = 4096;
  uint64_t max_committed_size_per_ready = 0;
  uint64_t max_uncommitted_entries_size = 0;
  int max_inflight_msgs = 16;
  bool disable_proposal_forwarding = false;
  // Null means TestLogger() (discards unless RAFT_TEST_LOG is set).
  Logger* logger = nullptr;

  // Random faults, applied to each message sent while faults are on.
  bool faults = true;
  double drop_rate = 0.02;
  double duplicate_rate = 0.02;
  double delay_rate = 0.1;
  int max_delay = 10;
  // Deliver picks a random deliverable message instead of the oldest.
  bool reorder = true;

  EarlySend early_send = EarlySend::kSafe;

  // A node snapshots its state machine after this many newly applied
  // entries (0: never) and compacts its log, keeping compaction_margin
  // entries before the snapshot's index.
  uint64_t snapshot_interval = 16;
  uint64_t compaction_margin = 4;
};

// A message on the wire.
struct InFlight {
  raftpb::Message msg;
  // The first step at which it may be delivered.
  uint64_t deliver_at = 0;
};

class Sim {
 public:
  // Nodes 1..options.nodes, bootstrapped as the voters of a new cluster.
  // `checker`, if not null, is borrowed (it must outlive the Sim) and is
  // given every apply and snapshot restore.
  Sim(const SimOptions& options, SafetyChecker* checker);
  ~Sim();

  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;

  // --- Actions: one step each. Nodes that are down, removed or unknown
  // --- are skipped (proposals to them fail with FailedPrecondition).

  void Tick(uint64_t id);
  // Ticks every node that is up, once.
  void TickAll();
  // Delivers one message whose delay is over; false if there is none.
  bool Deliver();
  // Delivers until nothing is in flight (advancing the clock past delays);
  // false if messages remain after `max_steps` steps.
  bool DeliverAll(int max_steps = 100000);

  absl::Status Campaign(uint64_t id);
  absl::Status Propose(uint64_t id, std::string data);
  absl::Status ProposeConfChange(uint64_t id, const raftpb::ConfChangeV2& cc);
  absl::Status ProposeConfChange(uint64_t id, const raftpb::ConfChange& cc);
  void TransferLeader(uint64_t id, uint64_t transferee);

  // Stops the node at once: its RawNode (with all unpersisted state) and its
  // state machine are lost, its MemoryStorage is kept.
  void Crash(uint64_t id);
  // Crashes the node at `point` of the next Ready it handles.
  void CrashDuringReady(uint64_t id, CrashPoint point);
  // Disarms the crashes CrashDuringReady armed.
  void CancelCrashes();
  // Starts a crashed node again from its storage (config.applied is its
  // snapshot's index; the state machine restarts from the snapshot).
  void Restart(uint64_t id);
  // A new node with a fresh ID and an empty storage, to be added by a conf
  // change (etcd's joining member). Returns its ID.
  uint64_t AddNode();
  // Snapshots the node's state machine at its applied index and compacts.
  void Snapshot(uint64_t id);

  // Drops messages between nodes of different groups (a node in no group is
  // alone) from now on, including those in flight.
  void Partition(const std::vector<std::vector<uint64_t>>& groups);
  void Isolate(uint64_t id);
  // Removes all partitions.
  void Heal();
  void set_faults(bool on) { options_.faults = on; }
  void set_reorder(bool on) { options_.reorder = on; }

  // Runs `op` on the node's RawNode (e.g. ReadIndex, ReportUnreachable)
  // and processes its Readies; op's status (FailedPrecondition if the node
  // is not up).
  absl::Status Do(uint64_t id, const std::function<absl::Status(RawNode&)>& op);

  // --- For fuzzing: direct control of the network. These are steps too.

  // Steps `m` into node m.to() as if it came from the network and processes
  // the node's Readies; the status of RawNode::Step (FailedPrecondition if
  // the node is not up).
  absl::Status StepRaw(raftpb::Message m);
  // The messages in flight, oldest first.
  const std::vector<InFlight>& in_flight() const { return queue_; }
  // Delivers, drops or duplicates the k-th message in flight (ignoring its
  // delay); false if there is no such message.
  bool DeliverAt(size_t k);
  bool DropAt(size_t k);
  bool DuplicateAt(size_t k);

  // --- Observation.

  // Every node that was not removed, by ID.
  std::vector<NodeView> Views() const;
  std::vector<uint64_t> NodeIds() const;
  bool Exists(uint64_t id) const;
  bool IsUp(uint64_t id) const;
  bool IsRemoved(uint64_t id) const;
  // Null if the node is down, removed or unknown.
  RawNode* node(uint64_t id);
  MemoryStorage* storage(uint64_t id);
  // The node's state machine: last applied index, state digest, and
  // configuration.
  uint64_t applied(uint64_t id) const;
  uint64_t state_digest(uint64_t id) const;
  raftpb::ConfState conf_state(uint64_t id) const;
  // The leader with the highest term among nodes that are up, or 0.
  uint64_t Leader() const;
  uint64_t now() const { return now_; }
  // The first contract or safety violation seen while handling Readies.
  const absl::Status& status() const { return status_; }
  // Compares each node's log as the checks see it with its storage and its
  // RawNode's log; an error names the first difference.
  absl::Status CheckLogs() const;
  // One line per node: role, term, commit, applied, log bounds.
  std::string DebugString() const;

  // Called with every entry a node applies (after ApplyConfChange).
  void set_apply_hook(std::function<void(uint64_t id, const raftpb::Entry&)> hook) {
    apply_hook_ = std::move(hook);
  }
  // When false, a refused message (ErrStepInvalidMsg) is not a violation;
  // for fuzzing with hostile messages.
  void set_honest(bool honest) { honest_ = honest; }
  // Replaces the checker (null: none); borrowed.
  void set_checker(SafetyChecker* checker) { checker_ = checker; }

  // A number in [0, n) (0 if n is 0) from the run's generator.
  uint64_t Rand(uint64_t n);
  // True with probability p.
  bool Chance(double p);

 private:
  struct Node;
  struct Report {
    uint64_t reporter;
    uint64_t incarnation;
    uint64_t about;
    bool snapshot;  // ReportSnapshot, else ReportUnreachable
    SnapshotStatus status;
  };

  Node* Find(uint64_t id);
  const Node* Find(uint64_t id) const;
  Node* FindUp(uint64_t id);
  Config MakeConfig(const Node& n) const;
  void StartNode(Node& n);

  void BeginStep();
  // Handles the node's Readies until it has none (or it crashes).
  void ProcessReady(Node& n);
  void Persist(Node& n, const Ready& rd);
  void Apply(Node& n, const Ready& rd);
  void ApplyConfChangeEntry(Node& n, const raftpb::Entry& e);
  // Records the members of `before` that n's configuration no longer has.
  void NoteRemovals(Node& n, const std::set<uint64_t>& before);
  void SnapshotNode(Node& n);
  void DoCrash(Node& n);
  void Remove(uint64_t id);

  void Send(Node& from, std::vector<raftpb::Message> msgs);
  void Enqueue(raftpb::Message m);
  bool Connected(uint64_t from, uint64_t to) const;
  void DeliverMessage(raftpb::Message m);
  void Drop(const raftpb::Message& m, bool unreachable);
  void FlushReports();
  void Fail(absl::Status s);

  SimOptions options_;
  SafetyChecker* checker_;
  uint64_t rand_state_;
  uint64_t now_ = 0;
  uint64_t next_id_;
  bool honest_ = true;
  std::map<uint64_t, std::unique_ptr<Node>> nodes_;
  std::vector<InFlight> queue_;
  // Partition group of each node; nodes in different groups are cut off.
  std::map<uint64_t, int> group_;
  bool partitioned_ = false;
  std::vector<Report> reports_;
  // Nodes removed from the configuration, not yet stopped, with the members
  // that must apply their removal first.
  std::map<uint64_t, std::set<uint64_t>> removals_;
  std::function<void(uint64_t, const raftpb::Entry&)> apply_hook_;
  absl::Status status_;
};

// The snapshot data of the simulated state machine: applied index, state
// digest and the IDs removed from the configuration, 8 bytes each.
std::string EncodeSimSnapshot(uint64_t applied, uint64_t state, const std::set<uint64_t>& removed);
bool DecodeSimSnapshot(const std::string& data, uint64_t* applied, uint64_t* state,
                       std::set<uint64_t>* removed);

}  // namespace etcd::raft::rafttest

#endif  // ETCD_RAFT_RAFTTEST_SIM_H_
