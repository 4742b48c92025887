// The raft library's sentinel errors and their predicates.
//
// etcd's raft compares errors by identity (`err == ErrCompacted`); here each
// one is an absl::Status with a fixed code and etcd's message, made by a
// factory and recognised by a predicate:
//
//   absl::StatusOr<uint64_t> term = storage->Term(i);
//   if (!term.ok() && etcd::raft::IsCompacted(term.status())) { ... }
//
// A Storage implementation must return these exact statuses (use the
// factories) for raft to recognise them. All functions are thread-safe.

#ifndef ETCD_RAFT_ERRORS_H_
#define ETCD_RAFT_ERRORS_H_

#include "absl/status/status.h"

namespace etcd::raft {

// Storage: the requested index is older than the first index (compacted).
// kOutOfRange, "requested index is unavailable due to compaction".
absl::Status ErrCompacted();
bool IsCompacted(const absl::Status& status);

// Storage: the snapshot given is older than the one already held.
// kFailedPrecondition, "requested index is older than the existing snapshot".
absl::Status ErrSnapOutOfDate();
bool IsSnapOutOfDate(const absl::Status& status);

// Storage: the requested index is beyond the last one.
// kNotFound, "requested entry at index is unavailable". (The predicate is not
// named IsUnavailable, which absl already uses for the status code.)
absl::Status ErrUnavailable();
bool IsErrUnavailable(const absl::Status& status);

// Storage: a snapshot is being produced and is not ready yet; raft retries
// later. kUnavailable, "snapshot is temporarily unavailable".
absl::Status ErrSnapshotTemporarilyUnavailable();
bool IsSnapshotTemporarilyUnavailable(const absl::Status& status);

// A proposal was ignored (no leader, forwarding disabled, leader transfer in
// progress, uncommitted size limit, ...). kUnavailable, "raft proposal dropped".
absl::Status ErrProposalDropped();
bool IsProposalDropped(const absl::Status& status);

// RawNode::Step was given a message type that only raft itself generates.
// kInvalidArgument, "raft: cannot step raft local message".
absl::Status ErrStepLocalMsg();
bool IsStepLocalMsg(const absl::Status& status);

// RawNode::Step was given a response from a node that is not in the
// configuration. kNotFound, "raft: cannot step as peer not found".
absl::Status ErrStepPeerNotFound();
bool IsStepPeerNotFound(const absl::Status& status);

// RawNode::Step was given a malformed message that no correct peer sends and
// that the state machine cannot take without breaking an invariant (see
// RawNode::Step). kInvalidArgument, "raft: cannot step invalid message".
// (Not in etcd, which panics on some of these.)
absl::Status ErrStepInvalidMsg();
bool IsStepInvalidMsg(const absl::Status& status);

}  // namespace etcd::raft

#endif  // ETCD_RAFT_ERRORS_H_
