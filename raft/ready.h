// The output of a raft instance: what the application must persist, send and
// apply, gathered in a `Ready` by RawNode::Ready.
//
//   while (node.HasReady()) {
//     etcd::raft::Ready rd = node.Ready();
//     storage.Append(rd.entries);          // persist first
//     if (!etcd::raft::IsEmptyHardState(rd.hard_state)) storage.SetHardState(rd.hard_state);
//     Send(rd.messages);                   // then talk to peers
//     Apply(rd.committed_entries);         // then apply
//     node.Advance(rd);
//   }
//
// These are plain values; they are not thread-safe to mutate concurrently.

#ifndef ETCD_RAFT_READY_H_
#define ETCD_RAFT_READY_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "raft/raftpb/raft.pb.h"

namespace etcd::raft {

// Placeholder node ID: no leader, no vote.
inline constexpr uint64_t kNone = 0;

// The role of a node.
enum class StateType : uint8_t {
  kFollower = 0,
  kCandidate = 1,
  kLeader = 2,
  kPreCandidate = 3,
};

// "StateFollower", "StateCandidate", "StateLeader" or "StatePreCandidate".
absl::string_view StateTypeName(StateType state);
std::ostream& operator<<(std::ostream& os, StateType state);

// Volatile state, never persisted: the known leader and this node's role.
struct SoftState {
  uint64_t lead = kNone;
  StateType raft_state = StateType::kFollower;

  friend bool operator==(const SoftState& a, const SoftState& b) {
    return a.lead == b.lead && a.raft_state == b.raft_state;
  }
  friend bool operator!=(const SoftState& a, const SoftState& b) { return !(a == b); }
};

// The answer to a ReadIndex request: once the application has applied up to
// `index`, a read issued with `request_ctx` is linearizable.
struct ReadState {
  uint64_t index = 0;
  std::string request_ctx;

  friend bool operator==(const ReadState& a, const ReadState& b) {
    return a.index == b.index && a.request_ctx == b.request_ctx;
  }
};

// Everything that is ready to be persisted, sent or applied. The application
// must (1) write `entries`, `hard_state` and `snapshot` to stable storage,
// (2) send `messages` (a leader may send before its own write completes;
// followers only after), (3) apply `snapshot` and `committed_entries`, calling
// RawNode::ApplyConfChange for conf-change entries, then (4) call Advance.
struct Ready {
  // Set only when the leader or role changed since the previous Ready.
  std::optional<SoftState> soft_state;

  // The state to persist; empty (all zero) when unchanged.
  raftpb::HardState hard_state;

  // Answers to ReadIndex requests, in request order.
  std::vector<ReadState> read_states;

  // Entries to append to stable storage before sending messages.
  std::vector<raftpb::Entry> entries;

  // A snapshot to persist; IsEmptySnap when there is none.
  raftpb::Snapshot snapshot;

  // Committed entries to apply to the state machine (already persisted).
  std::vector<raftpb::Entry> committed_entries;

  // Messages to send once `entries` are persisted (see above). A MsgSnap must
  // be followed by RawNode::ReportSnapshot.
  std::vector<raftpb::Message> messages;

  // Whether `hard_state` and `entries` must be written synchronously (fsync):
  // true when there are entries or the term or vote changed.
  bool must_sync = false;

  // Whether anything at all is set.
  bool ContainsUpdates() const;

  // The index the application will have applied once it has processed this
  // Ready (the last committed entry, else the snapshot); 0 if nothing.
  uint64_t AppliedCursor() const;
};

// The parts of a Ready that Advance needs, for callers that hand the Ready
// itself to someone else (the thread-safe Node gives it to the application
// and advances the RawNode later with this).
struct ReadySummary {
  // Ready::AppliedCursor().
  uint64_t applied_cursor = 0;
  // The payload bytes (PayloadSize) of Ready::committed_entries.
  uint64_t committed_payload = 0;
  // Index and term of the last of Ready::entries; 0 when there are none.
  uint64_t last_entry_index = 0;
  uint64_t last_entry_term = 0;
  // The index of Ready::snapshot; 0 when there is none.
  uint64_t snapshot_index = 0;
  // Ready::hard_state.
  raftpb::HardState hard_state;

  static ReadySummary Of(const Ready& rd);
};

// Whether `state` is all zero.
bool IsEmptyHardState(const raftpb::HardState& state);
bool IsHardStateEqual(const raftpb::HardState& a, const raftpb::HardState& b);

// Whether `snapshot` is empty (its index is zero).
bool IsEmptySnap(const raftpb::Snapshot& snapshot);

// Whether a HardState `state` following `prev` and `num_entries` new entries
// need a synchronous write (term, vote and log are the persistent state).
bool MustSync(const raftpb::HardState& state, const raftpb::HardState& prev, size_t num_entries);

}  // namespace etcd::raft

#endif  // ETCD_RAFT_READY_H_
