#include "api/rpctypes/rpctypes.h"

#include "absl/container/flat_hash_map.h"

namespace etcd::rpctypes {
namespace {

constexpr const EtcdError* kAllErrors[] = {
    &kErrEmptyKey,
    &kErrKeyNotFound,
    &kErrValueProvided,
    &kErrLeaseProvided,
    &kErrTooManyOps,
    &kErrDuplicateKey,
    &kErrMemberBadURLs,
    &kErrRequestTooLarge,
    &kErrUserEmpty,
    &kErrRoleEmpty,
    &kErrAuthFailed,
    &kErrInvalidAuthMgmt,
    &kErrAuthOldRevision,
    &kErrInvalidDowngradeTargetVersion,
    &kErrCompacted,
    &kErrFutureRev,
    &kErrLeaseTTLTooLarge,
    &kErrNoSpace,
    &kErrRequestTooManyRequests,
    &kErrLeaseNotFound,
    &kErrMemberNotFound,
    &kErrLeaseExist,
    &kErrMemberExist,
    &kErrPeerURLExist,
    &kErrMemberNotEnoughStarted,
    &kErrMemberNotLearner,
    &kErrLearnerNotReady,
    &kErrTooManyLearners,
    &kErrClusterIdMismatch,
    &kErrRootUserNotExist,
    &kErrRootRoleNotExist,
    &kErrUserAlreadyExist,
    &kErrUserNotFound,
    &kErrRoleAlreadyExist,
    &kErrRoleNotFound,
    &kErrRoleNotGranted,
    &kErrPermissionNotGranted,
    &kErrAuthNotEnabled,
    &kErrNotLeader,
    &kErrBadLeaderTransferee,
    &kErrDowngradeInProcess,
    &kErrNoInflightDowngrade,
    &kErrPermissionDenied,
    &kErrInvalidAuthToken,
    &kErrCorrupt,
    &kErrNoLeader,
    &kErrLeaderChanged,
    &kErrNotCapable,
    &kErrStopped,
    &kErrTimeout,
    &kErrTimeoutDueToLeaderFail,
    &kErrTimeoutDueToConnectionLost,
    &kErrTimeoutWaitAppliedIndex,
    &kErrUnhealthy,
    &kErrNotSupportedForLearner,
    &kErrWatchCanceled,
    &kErrCanceled,
    &kErrDeadlineExceeded,
};

using MessageIndex = absl::flat_hash_map<absl::string_view, const EtcdError*>;

const MessageIndex& ByMessage() {
  static const MessageIndex* index = [] {
    auto* built = new MessageIndex;
    for (const EtcdError* error : kAllErrors) built->emplace(error->message(), error);
    return built;
  }();
  return *index;
}

}  // namespace

absl::Span<const EtcdError* const> AllErrors() { return kAllErrors; }

absl::Status ToStatus(const EtcdError& error) {
  return absl::Status(error.code(), error.message());
}

const EtcdError* ErrorFromMessage(absl::string_view message) {
  const MessageIndex& index = ByMessage();
  auto it = index.find(message);
  return it == index.end() ? nullptr : it->second;
}

absl::Status FromServerStatus(const absl::Status& status) {
  const EtcdError* error = ErrorFromMessage(status.message());
  if (error == nullptr) return status;
  return ToStatus(*error);
}

}  // namespace etcd::rpctypes
