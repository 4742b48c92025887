// Node: a thread-safe raft node with a Ready queue (etcd's node.go).
//
// A Node wraps a RawNode for applications that want to call it from several
// threads. The application ticks it, feeds it messages from peers,
// proposes, and processes the Readies it produces, one at a time:
//
//   etcd::raft::MemoryStorage storage;
//   etcd::raft::Config c;
//   c.id = 1;
//   c.election_tick = 10;
//   c.heartbeat_tick = 1;
//   c.storage = &storage;
//   c.max_size_per_msg = 1 << 20;
//   c.max_inflight_msgs = 256;
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::raft::Node> node,
//                    etcd::raft::StartNode(c, {{1}, {2}, {3}}));
//
//   // Timer thread:    node->Tick();
//   // Network thread:  node->Step(msg);
//   // Client threads:  absl::Status s = node->Propose(data, deadline);
//   // The driver thread:
//   while (std::optional<etcd::raft::Ready> rd = node->WaitReady(absl::InfiniteFuture())) {
//     storage.Append(rd->entries);   // plus hard state and snapshot
//     Send(rd->messages);
//     for (const raftpb::Entry& e : rd->committed_entries) {
//       // apply; for conf changes: node->ApplyConfChange(cc)
//     }
//     node->Advance();
//   }
//   node->Stop();   // also done by the destructor; WaitReady then returns nullopt
//
// How it works: one internal thread runs the node's loop, like etcd's run
// goroutine. Inputs that need no answer (Tick, Step, Campaign, ReadIndex,
// TransferLeadership, the reports) are queued for it and the call returns
// at once; it feeds them to raft, follows leader changes and prepares the
// next Ready. Calls that return raft's answer (Propose, ProposeConfChange,
// ApplyConfChange, GetStatus) and Advance do their work on the calling
// thread, under the same lock that the loop holds while it works, so that a
// proposal costs no hand-off between threads (which would cost more than
// the step itself). The RawNode is only ever touched with that lock held.
//
// Blocking: Propose and ProposeConfChange return raft's verdict (OK or
// ErrProposalDropped); while no leader is known they wait for one. Step,
// Campaign and ReadIndex wait only while the inbox is full. All of them give
// up at their deadline (DeadlineExceeded) and fail with ErrStopped once the
// node is stopped.
//
// Thread-safety: all methods are thread-safe. Readies are handed out one at
// a time: the next one comes only after Advance. The Config's logger is
// called from the node's thread and from proposing threads.

#ifndef ETCD_RAFT_NODE_H_
#define ETCD_RAFT_NODE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "raft/raft.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/rawnode.h"
#include "raft/ready.h"
#include "raft/status.h"

namespace etcd::raft {

// A Node was stopped. kCancelled, "raft: stopped".
absl::Status ErrStopped();
bool IsStopped(const absl::Status& status);

class Node {
 public:
  // How many messages and ticks may wait in the inbox; Step waits while it
  // is full, Tick drops ticks beyond it (with a warning).
  static constexpr size_t kMaxPendingMessages = 4096;
  static constexpr int kMaxPendingTicks = 128;

  ~Node();  // Stop()s the node.
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Advances the logical clock by one tick (asynchronously).
  void Tick();

  // Makes the node campaign (a MsgHup).
  absl::Status Campaign(absl::Time deadline = absl::InfiniteFuture());

  // Proposes `data` to be appended to the log and waits until raft has taken
  // it. While no leader is known the proposal waits for one. Returns
  // ErrProposalDropped if raft refused it (forwarding disabled on a
  // follower, leader transfer in progress, size limit), DeadlineExceeded,
  // or ErrStopped. OK does not mean it will commit.
  absl::Status Propose(std::string data, absl::Time deadline = absl::InfiniteFuture());

  // Proposes a configuration change, like Propose. The application applies
  // it with ApplyConfChange once it is committed.
  absl::Status ProposeConfChange(const raftpb::ConfChange& cc,
                                 absl::Time deadline = absl::InfiniteFuture());
  absl::Status ProposeConfChange(const raftpb::ConfChangeV2& cc,
                                 absl::Time deadline = absl::InfiniteFuture());

  // Hands a message from a peer to raft. Local message types (MsgHup,
  // MsgBeat, ...) are ignored; a proposal (MsgProp) is treated like Propose.
  // Responses from nodes outside the configuration are dropped by the node.
  absl::Status Step(raftpb::Message m, absl::Time deadline = absl::InfiniteFuture());

  // Waits for the next Ready and returns it; nullopt at the deadline or once
  // the node is stopped. The application must process it (see ready.h) and
  // call Advance before another one is handed out.
  std::optional<Ready> WaitReady(absl::Time deadline);
  std::optional<Ready> WaitReady(absl::Duration timeout) {
    return WaitReady(absl::Now() + timeout);
  }

  // Tells the node that the last Ready was processed; the next one may be
  // prepared right away. Ignored if no Ready is out.
  void Advance();

  // Applies a committed configuration change and returns the new
  // configuration (an empty one if the node is stopped). Call it for every
  // conf-change entry of Ready::committed_entries, before Advance.
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChange& cc);
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChangeV2& cc);

  // Asks `lead` (this node, if it is the leader) to transfer leadership to
  // `transferee`.
  void TransferLeadership(uint64_t lead, uint64_t transferee);

  // Requests a read index; the answer comes as a ReadState carrying `rctx`
  // in a later Ready (possibly never, e.g. on a leader change).
  absl::Status ReadIndex(std::string rctx, absl::Time deadline = absl::InfiniteFuture());

  // The node's status once the inputs queued before the call are processed
  // (an empty one if the node is stopped).
  Status GetStatus();

  // Reports that the last message to `id` could not be delivered.
  void ReportUnreachable(uint64_t id);
  // Reports the outcome of sending a snapshot to `id`.
  void ReportSnapshot(uint64_t id, SnapshotStatus status);

  // Stops the internal thread and waits for it. Pending and later calls
  // fail with ErrStopped. Idempotent.
  void Stop();

  // The number of callers waiting for a leader to propose.
  int NumWaitingProposalsForTesting() {
    absl::MutexLock l(&mu_);
    return waiting_proposals_;
  }

 private:
  friend absl::StatusOr<std::unique_ptr<Node>> StartNode(Config config,
                                                         absl::Span<const Peer> peers);
  friend absl::StatusOr<std::unique_ptr<Node>> RestartNode(Config config);

  explicit Node(std::unique_ptr<RawNode> rn);

  // The internal thread.
  void Run();
  bool HasWorkLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Follows leader changes and prepares the next Ready if the application
  // may have one; called after every change to raft.
  void AfterRaftChangedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues `m` for the node thread, waiting while the inbox is full.
  absl::Status Enqueue(raftpb::Message m, absl::Time deadline);
  // Steps a proposal on the calling thread once a leader is known.
  absl::Status ProposeMessage(raftpb::Message m, absl::Time deadline);

  const uint64_t id_;
  Logger* const logger_;

  absl::Mutex mu_;
  std::unique_ptr<RawNode> rn_ ABSL_GUARDED_BY(mu_);
  // Signalled (with mu_ held) when: the inbox gains work; a Ready is
  // prepared (or the node stops); proposals may go ahead; the loop drained
  // the inbox (room for messages, and GetStatus may look).
  absl::CondVar work_cv_;
  absl::CondVar ready_cv_;
  absl::CondVar leader_cv_;
  absl::CondVar room_cv_;
  absl::CondVar drained_cv_;

  // The inbox of the node thread.
  std::vector<raftpb::Message> received_ ABSL_GUARDED_BY(mu_);
  int ticks_ ABSL_GUARDED_BY(mu_) = 0;
  // Inputs queued so far, and how many of them the loop has taken (it
  // processes what it takes before releasing mu_).
  uint64_t queued_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t processed_seq_ ABSL_GUARDED_BY(mu_) = 0;

  // Whether proposals are stepped: a leader is known and this node was not
  // removed (etcd's propc != nil). Otherwise they wait.
  bool accept_proposals_ ABSL_GUARDED_BY(mu_) = false;
  int waiting_proposals_ ABSL_GUARDED_BY(mu_) = 0;
  // The leader the loop last saw.
  uint64_t lead_ ABSL_GUARDED_BY(mu_) = 0;

  // The Ready prepared for the application and not taken yet; whether one
  // is out (taken, or prepared) and not advanced; what Advance needs.
  std::optional<Ready> ready_ ABSL_GUARDED_BY(mu_);
  bool awaiting_advance_ ABSL_GUARDED_BY(mu_) = false;
  ReadySummary pending_ ABSL_GUARDED_BY(mu_);

  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // The node thread has exited: nothing will be processed any more.
  bool done_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;
  absl::Mutex join_mu_;  // serializes Stop's join
};

// Starts a node for a new cluster of `peers` (RawNode::New and Bootstrap).
// Errors for an invalid config, no peers, or a non-empty storage. Node does
// not support Config::async_storage_writes (an error); use RawNode for it.
absl::StatusOr<std::unique_ptr<Node>> StartNode(Config config, absl::Span<const Peer> peers);

// Restarts a node from the state in config.storage (which should hold a
// HardState, and the log or a snapshot). Errors for an invalid config.
absl::StatusOr<std::unique_ptr<Node>> RestartNode(Config config);

}  // namespace etcd::raft

#endif  // ETCD_RAFT_NODE_H_
