#include "raft/errors.h"

#include "absl/strings/string_view.h"

namespace etcd::raft {
namespace {

constexpr absl::string_view kCompacted = "requested index is unavailable due to compaction";
constexpr absl::string_view kSnapOutOfDate = "requested index is older than the existing snapshot";
constexpr absl::string_view kUnavailable = "requested entry at index is unavailable";
constexpr absl::string_view kSnapshotTemporarilyUnavailable = "snapshot is temporarily unavailable";
constexpr absl::string_view kProposalDropped = "raft proposal dropped";
constexpr absl::string_view kStepLocalMsg = "raft: cannot step raft local message";
constexpr absl::string_view kStepPeerNotFound = "raft: cannot step as peer not found";
constexpr absl::string_view kStepInvalidMsg = "raft: cannot step invalid message";

bool Matches(const absl::Status& status, absl::StatusCode code, absl::string_view message) {
  return status.code() == code && status.message() == message;
}

}  // namespace

absl::Status ErrCompacted() { return absl::OutOfRangeError(kCompacted); }
bool IsCompacted(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kOutOfRange, kCompacted);
}

absl::Status ErrSnapOutOfDate() { return absl::FailedPreconditionError(kSnapOutOfDate); }
bool IsSnapOutOfDate(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kFailedPrecondition, kSnapOutOfDate);
}

absl::Status ErrUnavailable() { return absl::NotFoundError(kUnavailable); }
bool IsErrUnavailable(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kNotFound, kUnavailable);
}

absl::Status ErrSnapshotTemporarilyUnavailable() {
  return absl::UnavailableError(kSnapshotTemporarilyUnavailable);
}
bool IsSnapshotTemporarilyUnavailable(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kUnavailable, kSnapshotTemporarilyUnavailable);
}

absl::Status ErrProposalDropped() { return absl::UnavailableError(kProposalDropped); }
bool IsProposalDropped(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kUnavailable, kProposalDropped);
}

absl::Status ErrStepLocalMsg() { return absl::InvalidArgumentError(kStepLocalMsg); }
bool IsStepLocalMsg(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kInvalidArgument, kStepLocalMsg);
}

absl::Status ErrStepPeerNotFound() { return absl::NotFoundError(kStepPeerNotFound); }
bool IsStepPeerNotFound(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kNotFound, kStepPeerNotFound);
}

absl::Status ErrStepInvalidMsg() { return absl::InvalidArgumentError(kStepInvalidMsg); }
bool IsStepInvalidMsg(const absl::Status& status) {
  return Matches(status, absl::StatusCode::kInvalidArgument, kStepInvalidMsg);
}

}  // namespace etcd::raft
