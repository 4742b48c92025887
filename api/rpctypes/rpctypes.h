// The errors an etcd v3 server returns, and the gRPC metadata keys etcd's
// clients and servers agree on.
//
//   // Server: refuse a read below the compacted revision.
//   return etcd::rpctypes::ToStatus(etcd::rpctypes::kErrCompacted);
//
//   // Client: recognise what the server said.
//   if (etcd::rpctypes::IsCompacted(status)) { ... }
//   if (const etcd::rpctypes::EtcdError* e =
//           etcd::rpctypes::ErrorFromMessage(status.message())) { ... }
//
// Each error is a gRPC status code and an exact message, the same pair etcd
// sends (etcd's api/v3rpc/rpctypes ErrGRPC* values). Clients of every language
// recognise errors by the message text, so the messages must never change.
//
// Codes are absl::StatusCode, whose numbers are gRPC's status codes, so this
// header stays free of gRPC. The server turns an error into a gRPC status with
//   grpc::Status(static_cast<grpc::StatusCode>(e.code()), std::string(e.message()))
// and a client turns a received grpc::Status into absl::Status the same way.
//
// Everything here is a constant or a pure function, and thread-safe.

#ifndef ETCD_API_RPCTYPES_RPCTYPES_H_
#define ETCD_API_RPCTYPES_RPCTYPES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace etcd::rpctypes {

// One server error: a status code and the message etcd uses for it.
class EtcdError {
 public:
  constexpr EtcdError(absl::string_view name, absl::StatusCode code, absl::string_view message)
      : name_(name), code_(code), message_(message) {}

  // etcd's name for the error without its ErrGRPC prefix, e.g. "Compacted";
  // for logs and tests only, never sent.
  constexpr absl::string_view name() const { return name_; }
  constexpr absl::StatusCode code() const { return code_; }
  // The exact text sent to clients, e.g.
  // "etcdserver: mvcc: required revision has been compacted".
  constexpr absl::string_view message() const { return message_; }

  // Whether `status` is this error. Like etcd's clients, this compares the
  // message only: the message identifies the error, whatever code carried it.
  bool Matches(const absl::Status& status) const { return status.message() == message_; }

  friend constexpr bool operator==(const EtcdError& a, const EtcdError& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }
  friend constexpr bool operator!=(const EtcdError& a, const EtcdError& b) { return !(a == b); }

 private:
  absl::string_view name_;
  absl::StatusCode code_;
  absl::string_view message_;
};

// --- InvalidArgument --------------------------------------------------------
inline constexpr EtcdError kErrEmptyKey{"EmptyKey", absl::StatusCode::kInvalidArgument,
                                        "etcdserver: key is not provided"};
inline constexpr EtcdError kErrKeyNotFound{"KeyNotFound", absl::StatusCode::kInvalidArgument,
                                           "etcdserver: key not found"};
inline constexpr EtcdError kErrValueProvided{"ValueProvided", absl::StatusCode::kInvalidArgument,
                                             "etcdserver: value is provided"};
inline constexpr EtcdError kErrLeaseProvided{"LeaseProvided", absl::StatusCode::kInvalidArgument,
                                             "etcdserver: lease is provided"};
inline constexpr EtcdError kErrTooManyOps{"TooManyOps", absl::StatusCode::kInvalidArgument,
                                          "etcdserver: too many operations in txn request"};
inline constexpr EtcdError kErrDuplicateKey{"DuplicateKey", absl::StatusCode::kInvalidArgument,
                                            "etcdserver: duplicate key given in txn request"};
inline constexpr EtcdError kErrMemberBadURLs{"MemberBadURLs", absl::StatusCode::kInvalidArgument,
                                             "etcdserver: given member URLs are invalid"};
inline constexpr EtcdError kErrRequestTooLarge{
    "RequestTooLarge", absl::StatusCode::kInvalidArgument, "etcdserver: request is too large"};
inline constexpr EtcdError kErrUserEmpty{"UserEmpty", absl::StatusCode::kInvalidArgument,
                                         "etcdserver: user name is empty"};
inline constexpr EtcdError kErrRoleEmpty{"RoleEmpty", absl::StatusCode::kInvalidArgument,
                                         "etcdserver: role name is empty"};
inline constexpr EtcdError kErrAuthFailed{
    "AuthFailed", absl::StatusCode::kInvalidArgument,
    "etcdserver: authentication failed, invalid user ID or password"};
inline constexpr EtcdError kErrInvalidAuthMgmt{
    "InvalidAuthMgmt", absl::StatusCode::kInvalidArgument, "etcdserver: invalid auth management"};
inline constexpr EtcdError kErrAuthOldRevision{"AuthOldRevision",
                                               absl::StatusCode::kInvalidArgument,
                                               "etcdserver: revision of auth store is old"};
inline constexpr EtcdError kErrInvalidDowngradeTargetVersion{
    "InvalidDowngradeTargetVersion", absl::StatusCode::kInvalidArgument,
    "etcdserver: invalid downgrade target version"};

// --- OutOfRange -------------------------------------------------------------
inline constexpr EtcdError kErrCompacted{"Compacted", absl::StatusCode::kOutOfRange,
                                         "etcdserver: mvcc: required revision has been compacted"};
inline constexpr EtcdError kErrFutureRev{
    "FutureRev", absl::StatusCode::kOutOfRange,
    "etcdserver: mvcc: required revision is a future revision"};
inline constexpr EtcdError kErrLeaseTTLTooLarge{"LeaseTTLTooLarge", absl::StatusCode::kOutOfRange,
                                                "etcdserver: too large lease TTL"};

// --- ResourceExhausted ------------------------------------------------------
inline constexpr EtcdError kErrNoSpace{"NoSpace", absl::StatusCode::kResourceExhausted,
                                       "etcdserver: mvcc: database space exceeded"};
inline constexpr EtcdError kErrRequestTooManyRequests{"RequestTooManyRequests",
                                                      absl::StatusCode::kResourceExhausted,
                                                      "etcdserver: too many requests"};

// --- NotFound ---------------------------------------------------------------
inline constexpr EtcdError kErrLeaseNotFound{"LeaseNotFound", absl::StatusCode::kNotFound,
                                             "etcdserver: requested lease not found"};
inline constexpr EtcdError kErrMemberNotFound{"MemberNotFound", absl::StatusCode::kNotFound,
                                              "etcdserver: member not found"};

// --- FailedPrecondition: leases and membership ------------------------------
inline constexpr EtcdError kErrLeaseExist{"LeaseExist", absl::StatusCode::kFailedPrecondition,
                                          "etcdserver: lease already exists"};
inline constexpr EtcdError kErrMemberExist{"MemberExist", absl::StatusCode::kFailedPrecondition,
                                           "etcdserver: member ID already exist"};
inline constexpr EtcdError kErrPeerURLExist{"PeerURLExist", absl::StatusCode::kFailedPrecondition,
                                            "etcdserver: Peer URLs already exists"};
inline constexpr EtcdError kErrMemberNotEnoughStarted{
    "MemberNotEnoughStarted", absl::StatusCode::kFailedPrecondition,
    "etcdserver: re-configuration failed due to not enough started members"};
inline constexpr EtcdError kErrMemberNotLearner{"MemberNotLearner",
                                                absl::StatusCode::kFailedPrecondition,
                                                "etcdserver: can only promote a learner member"};
inline constexpr EtcdError kErrLearnerNotReady{
    "LearnerNotReady", absl::StatusCode::kFailedPrecondition,
    "etcdserver: can only promote a learner member which is in sync with leader"};
inline constexpr EtcdError kErrTooManyLearners{"TooManyLearners",
                                               absl::StatusCode::kFailedPrecondition,
                                               "etcdserver: too many learner members in cluster"};
inline constexpr EtcdError kErrClusterIdMismatch{
    "ClusterIdMismatch", absl::StatusCode::kFailedPrecondition, "etcdserver: cluster ID mismatch"};

// --- FailedPrecondition: auth -----------------------------------------------
inline constexpr EtcdError kErrRootUserNotExist{"RootUserNotExist",
                                                absl::StatusCode::kFailedPrecondition,
                                                "etcdserver: root user does not exist"};
inline constexpr EtcdError kErrRootRoleNotExist{"RootRoleNotExist",
                                                absl::StatusCode::kFailedPrecondition,
                                                "etcdserver: root user does not have root role"};
inline constexpr EtcdError kErrUserAlreadyExist{"UserAlreadyExist",
                                                absl::StatusCode::kFailedPrecondition,
                                                "etcdserver: user name already exists"};
inline constexpr EtcdError kErrUserNotFound{"UserNotFound", absl::StatusCode::kFailedPrecondition,
                                            "etcdserver: user name not found"};
inline constexpr EtcdError kErrRoleAlreadyExist{"RoleAlreadyExist",
                                                absl::StatusCode::kFailedPrecondition,
                                                "etcdserver: role name already exists"};
inline constexpr EtcdError kErrRoleNotFound{"RoleNotFound", absl::StatusCode::kFailedPrecondition,
                                            "etcdserver: role name not found"};
inline constexpr EtcdError kErrRoleNotGranted{"RoleNotGranted",
                                              absl::StatusCode::kFailedPrecondition,
                                              "etcdserver: role is not granted to the user"};
inline constexpr EtcdError kErrPermissionNotGranted{
    "PermissionNotGranted", absl::StatusCode::kFailedPrecondition,
    "etcdserver: permission is not granted to the role"};
inline constexpr EtcdError kErrAuthNotEnabled{"AuthNotEnabled",
                                              absl::StatusCode::kFailedPrecondition,
                                              "etcdserver: authentication is not enabled"};

// --- FailedPrecondition: leadership and downgrades --------------------------
inline constexpr EtcdError kErrNotLeader{"NotLeader", absl::StatusCode::kFailedPrecondition,
                                         "etcdserver: not leader"};
inline constexpr EtcdError kErrBadLeaderTransferee{"BadLeaderTransferee",
                                                   absl::StatusCode::kFailedPrecondition,
                                                   "etcdserver: bad leader transferee"};
inline constexpr EtcdError kErrDowngradeInProcess{
    "DowngradeInProcess", absl::StatusCode::kFailedPrecondition,
    "etcdserver: cluster has a downgrade job in progress"};
inline constexpr EtcdError kErrNoInflightDowngrade{"NoInflightDowngrade",
                                                   absl::StatusCode::kFailedPrecondition,
                                                   "etcdserver: no inflight downgrade job"};

// --- PermissionDenied, Unauthenticated, DataLoss ----------------------------
inline constexpr EtcdError kErrPermissionDenied{
    "PermissionDenied", absl::StatusCode::kPermissionDenied, "etcdserver: permission denied"};
inline constexpr EtcdError kErrInvalidAuthToken{
    "InvalidAuthToken", absl::StatusCode::kUnauthenticated, "etcdserver: invalid auth token"};
inline constexpr EtcdError kErrCorrupt{"Corrupt", absl::StatusCode::kDataLoss,
                                       "etcdserver: corrupt cluster"};

// --- Unavailable ------------------------------------------------------------
inline constexpr EtcdError kErrNoLeader{"NoLeader", absl::StatusCode::kUnavailable,
                                        "etcdserver: no leader"};
inline constexpr EtcdError kErrLeaderChanged{"LeaderChanged", absl::StatusCode::kUnavailable,
                                             "etcdserver: leader changed"};
inline constexpr EtcdError kErrNotCapable{"NotCapable", absl::StatusCode::kUnavailable,
                                          "etcdserver: not capable"};
inline constexpr EtcdError kErrStopped{"Stopped", absl::StatusCode::kUnavailable,
                                       "etcdserver: server stopped"};
inline constexpr EtcdError kErrTimeout{"Timeout", absl::StatusCode::kUnavailable,
                                       "etcdserver: request timed out"};
inline constexpr EtcdError kErrTimeoutDueToLeaderFail{
    "TimeoutDueToLeaderFail", absl::StatusCode::kUnavailable,
    "etcdserver: request timed out, possibly due to previous leader failure"};
inline constexpr EtcdError kErrTimeoutDueToConnectionLost{
    "TimeoutDueToConnectionLost", absl::StatusCode::kUnavailable,
    "etcdserver: request timed out, possibly due to connection lost"};
inline constexpr EtcdError kErrTimeoutWaitAppliedIndex{
    "TimeoutWaitAppliedIndex", absl::StatusCode::kUnavailable,
    "etcdserver: request timed out, waiting for the applied index took too long"};
inline constexpr EtcdError kErrUnhealthy{"Unhealthy", absl::StatusCode::kUnavailable,
                                         "etcdserver: unhealthy cluster"};
// etcd spells this one ErrGPRCNotSupportedForLearner.
inline constexpr EtcdError kErrNotSupportedForLearner{"NotSupportedForLearner",
                                                      absl::StatusCode::kUnavailable,
                                                      "etcdserver: rpc not supported for learner"};

// --- Canceled, DeadlineExceeded ---------------------------------------------
inline constexpr EtcdError kErrWatchCanceled{"WatchCanceled", absl::StatusCode::kCancelled,
                                             "etcdserver: watch canceled"};
inline constexpr EtcdError kErrCanceled{"Canceled", absl::StatusCode::kCancelled,
                                        "etcdserver: request canceled"};
inline constexpr EtcdError kErrDeadlineExceeded{"DeadlineExceeded",
                                                absl::StatusCode::kDeadlineExceeded,
                                                "etcdserver: context deadline exceeded"};

// Every error above, in the order declared.
absl::Span<const EtcdError* const> AllErrors();

// The status a server returns for `error`.
absl::Status ToStatus(const EtcdError& error);

// The error whose message is exactly `message`, or nullptr when the message
// is not one of etcd's (etcd's rpctypes.Error() lookup).
const EtcdError* ErrorFromMessage(absl::string_view message);

// A status received from a server, with its code replaced by etcd's code for
// its message; unchanged when the message is not one of etcd's. This is
// etcd's client-side rpctypes.Error(): a proxy or an old server may deliver
// a known message with another code.
absl::Status FromServerStatus(const absl::Status& status);

// Whether `status` carries `error` (by message, see EtcdError::Matches).
inline bool Is(const absl::Status& status, const EtcdError& error) { return error.Matches(status); }

// Predicates for the errors callers most often branch on.
inline bool IsEmptyKey(const absl::Status& s) { return Is(s, kErrEmptyKey); }
inline bool IsKeyNotFound(const absl::Status& s) { return Is(s, kErrKeyNotFound); }
inline bool IsRequestTooLarge(const absl::Status& s) { return Is(s, kErrRequestTooLarge); }
inline bool IsCompacted(const absl::Status& s) { return Is(s, kErrCompacted); }
inline bool IsFutureRev(const absl::Status& s) { return Is(s, kErrFutureRev); }
inline bool IsNoSpace(const absl::Status& s) { return Is(s, kErrNoSpace); }
inline bool IsTooManyRequests(const absl::Status& s) { return Is(s, kErrRequestTooManyRequests); }
inline bool IsLeaseNotFound(const absl::Status& s) { return Is(s, kErrLeaseNotFound); }
inline bool IsLeaseExist(const absl::Status& s) { return Is(s, kErrLeaseExist); }
inline bool IsMemberNotFound(const absl::Status& s) { return Is(s, kErrMemberNotFound); }
inline bool IsUserNotFound(const absl::Status& s) { return Is(s, kErrUserNotFound); }
inline bool IsRoleNotFound(const absl::Status& s) { return Is(s, kErrRoleNotFound); }
inline bool IsAuthNotEnabled(const absl::Status& s) { return Is(s, kErrAuthNotEnabled); }
inline bool IsAuthFailed(const absl::Status& s) { return Is(s, kErrAuthFailed); }
inline bool IsAuthOldRevision(const absl::Status& s) { return Is(s, kErrAuthOldRevision); }
inline bool IsPermissionDenied(const absl::Status& s) { return Is(s, kErrPermissionDenied); }
inline bool IsInvalidAuthToken(const absl::Status& s) { return Is(s, kErrInvalidAuthToken); }
inline bool IsNoLeader(const absl::Status& s) { return Is(s, kErrNoLeader); }
inline bool IsNotLeader(const absl::Status& s) { return Is(s, kErrNotLeader); }
inline bool IsLeaderChanged(const absl::Status& s) { return Is(s, kErrLeaderChanged); }
inline bool IsStopped(const absl::Status& s) { return Is(s, kErrStopped); }
inline bool IsTimeout(const absl::Status& s) { return Is(s, kErrTimeout); }
inline bool IsUnhealthy(const absl::Status& s) { return Is(s, kErrUnhealthy); }
inline bool IsCorrupt(const absl::Status& s) { return Is(s, kErrCorrupt); }
inline bool IsNotSupportedForLearner(const absl::Status& s) {
  return Is(s, kErrNotSupportedForLearner);
}

// --- gRPC metadata ----------------------------------------------------------

// Metadata key of the auth token on every call.
inline constexpr char kMetadataTokenKey[] = "token";
// The HTTP header carrying the token through the JSON gateway.
inline constexpr char kMetadataTokenKeyGateway[] = "authorization";
// A client sets kMetadataRequireLeaderKey: kMetadataHasLeader to have calls
// (and watch streams) fail with kErrNoLeader while the member has no leader,
// instead of waiting.
inline constexpr char kMetadataRequireLeaderKey[] = "hasleader";
inline constexpr char kMetadataHasLeader[] = "true";
// The client library's API version, e.g. "3.5".
inline constexpr char kMetadataClientApiVersionKey[] = "client-api-version";

}  // namespace etcd::rpctypes

#endif  // ETCD_API_RPCTYPES_RPCTYPES_H_
