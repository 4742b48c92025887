// RawNode: the primary API of the raft library (etcd's rawnode.go).
//
// A RawNode wraps the raft state machine for one node. The application
// drives it from a single thread: it calls Tick at a fixed interval, feeds
// messages from peers to Step, proposes with Propose, and processes what
// is ready:
//
//   etcd::raft::MemoryStorage storage;
//   etcd::raft::Config c;
//   c.id = 1;
//   c.election_tick = 10;
//   c.heartbeat_tick = 1;
//   c.storage = &storage;
//   c.max_size_per_msg = 1 << 20;
//   c.max_inflight_msgs = 256;
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::raft::RawNode> node,
//                    etcd::raft::RawNode::New(c));
//   RETURN_IF_ERROR(node->Bootstrap({{1}, {2}, {3}}));   // new cluster only
//
//   for (;;) {
//     // on timer: node->Tick();   on message: node->Step(msg);
//     if (!node->HasReady()) continue;
//     etcd::raft::Ready rd = node->GetReady();
//     if (!etcd::raft::IsEmptySnap(rd.snapshot)) storage.ApplySnapshot(rd.snapshot);
//     storage.Append(rd.entries);
//     if (!etcd::raft::IsEmptyHardState(rd.hard_state)) storage.SetHardState(rd.hard_state);
//     Send(rd.messages);
//     for (const raftpb::Entry& e : rd.committed_entries) {
//       // apply; for conf changes: node->ApplyConfChange(cc)
//     }
//     node->Advance(rd);
//   }
//
// Thread-safety: none; use one thread, or the (separate) thread-safe Node.

#ifndef ETCD_RAFT_RAWNODE_H_
#define ETCD_RAFT_RAWNODE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "raft/raft.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/ready.h"
#include "raft/status.h"
#include "raft/tracker/progress.h"

namespace etcd::raft {

// A member of a new cluster, for Bootstrap. `context` is attached to its
// ConfChange entry.
struct Peer {
  uint64_t id = 0;
  std::string context;
};

// The outcome of sending a snapshot, for ReportSnapshot.
enum class SnapshotStatus { kFinish = 1, kFailure = 2 };

// The role of a node visited by WithProgress.
enum class ProgressType { kPeer = 0, kLearner = 1 };

class RawNode {
 public:
  // A node from `config` (see Config). Restarts from the state in
  // config.storage if it holds any. Errors for an invalid config.
  static absl::StatusOr<std::unique_ptr<RawNode>> New(Config config);

  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Starts a new cluster with `peers`: appends one committed ConfChange
  // (AddNode) entry per peer and applies them, as if a leader had committed
  // them. The storage must be empty. The entries appear in the first Ready
  // (to persist) and are not applied again. Errors: no peers, a non-empty
  // storage.
  absl::Status Bootstrap(absl::Span<const Peer> peers);

  // Advances the logical clock by one tick.
  void Tick();

  // Advances the election clock without sending heartbeats or starting an
  // election. For quiesced groups (no traffic): the leader must keep
  // ticking normally or call Campaign when it unquiesces.
  void TickQuiesced();

  // Makes this node campaign to become leader.
  absl::Status Campaign();

  // Proposes `data` to be appended to the log. ErrProposalDropped if it
  // could not be (no leader, forwarding disabled, transfer in progress,
  // uncommitted size limit, ...). Success does not mean it will commit.
  absl::Status Propose(std::string data);

  // Proposes a configuration change (v1 or v2). At most one may be pending;
  // the leader replaces further ones with empty entries.
  absl::Status ProposeConfChange(const raftpb::ConfChange& cc);
  absl::Status ProposeConfChange(const raftpb::ConfChangeV2& cc);

  // Applies a committed conf change to the configuration and returns it.
  // Call it for every conf-change entry in Ready::committed_entries that the
  // application accepts. To reject one, do not apply it (etcd's convention,
  // applying it with node ID 0, is a no-op only outside a joint
  // configuration). Aborts if the change is invalid for the current
  // configuration (as etcd panics): validate changes that may come from
  // untrusted proposers first (CheckConfChange).
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChange& cc);
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChangeV2& cc);

  // OK if ApplyConfChange would accept `cc` now, else the reason it would
  // abort (e.g. "removed all voters"). Changes nothing.
  absl::Status CheckConfChange(const raftpb::ConfChangeV2& cc) const;

  // Feeds a message received from a peer. ErrStepLocalMsg for message types
  // only raft generates, ErrStepPeerNotFound for a response from a node not
  // in the configuration.
  //
  // A hostile or corrupted peer cannot make this abort: ErrStepInvalidMsg
  // refuses (and changes nothing for) a message that no correct peer sends
  // and that would break an invariant of this node, where etcd panics or
  // silently corrupts its log:
  //   - a term on MsgProp or MsgReadIndex, no term on any other type, or a
  //     term above 2^63 (campaigns would overflow it; no cluster gets there);
  //   - a MsgProp without entries, or with a conf change that does not parse;
  //   - a MsgReadIndex without exactly one entry;
  //   - a MsgTransferLeader with this node's term sent to a follower that
  //     knows a leader (it would be forwarded with the term set);
  //   - a MsgApp whose entries are not numbered index+1, index+2, ... or
  //     have term 0, or that matches at an index past this node's last one
  //     (log term 0);
  //   - a MsgHeartbeat committing past this node's last index (correct
  //     leaders never do; etcd panics, suspecting a lost log);
  //   - a MsgSnap, newer than the commit index, with term 0 or with a
  //     ConfState that cannot be restored;
  //   - a MsgAppResp acknowledging an index past this leader's last one.
  // Stale messages (lower term) are never refused: raft ignores them or
  // answers with its term. The reason is logged as a warning. The core
  // (Raft::Step, which local calls such as Propose use) still aborts on
  // broken internal invariants, e.g. a storage that lost entries.
  //
  // The application must still check committed conf changes before applying
  // them: ApplyConfChange aborts on a change the configuration cannot take
  // (e.g. one removing the last voter), and a peer may propose one.
  absl::Status Step(raftpb::Message m);

  // What is ready to be persisted, sent and applied (etcd's Ready()). The
  // caller must process it and call Advance before the next GetReady.
  // With Config::async_storage_writes the storage work comes as local
  // messages in Ready::messages instead (see Config), Advance is not called,
  // and any number of Readies may be out at once.
  Ready GetReady();

  // Whether GetReady would return anything.
  bool HasReady() const;

  // Tells the node that `rd` (from the latest GetReady) was processed. Not
  // with asynchronous storage writes (aborts).
  void Advance(const Ready& rd) { Advance(ReadySummary::Of(rd)); }
  // The same, from the summary of the Ready (for callers that gave the Ready
  // away, like Node).
  void Advance(const ReadySummary& rd);

  // Status including a copy of the progress on a leader (allocates).
  Status GetStatus() const;
  // Status without progress (cheap).
  BasicStatus GetBasicStatus() const;
  // Calls `visitor` for the progress of each node, in ascending ID order
  // (the inflight windows are left out). Does not allocate.
  void WithProgress(const std::function<void(uint64_t id, ProgressType type,
                                             const tracker::Progress& pr)>& visitor) const;

  // Reports that the last message to `id` failed to be sent.
  void ReportUnreachable(uint64_t id);
  // Reports the outcome of the last snapshot sent to `id`.
  void ReportSnapshot(uint64_t id, SnapshotStatus status);
  // Asks the leader to transfer leadership to `transferee`.
  void TransferLeader(uint64_t transferee);
  // Requests a read index; the answer is a ReadState carrying `rctx` in a
  // later Ready (possibly never, e.g. on leader change: retry then).
  void ReadIndex(std::string rctx);

  // The state machine, for tests and harnesses.
  Raft& raft() { return *raft_; }
  const Raft& raft() const { return *raft_; }

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);

  Ready GetReadyAsync();

  std::unique_ptr<Raft> raft_;
  SoftState prev_soft_state_;
  raftpb::HardState prev_hard_state_;
};

}  // namespace etcd::raft

#endif  // ETCD_RAFT_RAWNODE_H_
