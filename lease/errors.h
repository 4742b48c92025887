// The lessor's errors, with predicates to recognise them.
//
//   absl::StatusOr<int64_t> ttl = lessor->Renew(id);
//   if (etcd::lease::IsLeaseNotFound(ttl.status())) { ... }  // revoked or never granted
//   if (etcd::lease::IsNotPrimary(ttl.status())) { ... }     // ask the leader instead
//
// Messages are etcd's lease errors ("lease not found", "lease already
// exists", "not a primary lessor", "too large lease TTL"); the server maps
// them to the client-visible rpctypes errors ("etcdserver: requested lease
// not found", ...).
//
// Pure functions; thread-safe.

#ifndef ETCD_LEASE_ERRORS_H_
#define ETCD_LEASE_ERRORS_H_

#include "absl/status/status.h"

namespace etcd::lease {

// No lease with that ID (never granted, revoked, or ID 0). NotFound.
absl::Status LeaseNotFoundError();
// Grant of an ID that is in use. AlreadyExists.
absl::Status LeaseExistsError();
// Renew on a lessor that is not the primary (not the raft leader).
// FailedPrecondition.
absl::Status NotPrimaryError();
// Grant with a TTL above kMaxLeaseTtl. OutOfRange.
absl::Status LeaseTtlTooLargeError();

bool IsLeaseNotFound(const absl::Status& status);
bool IsLeaseExists(const absl::Status& status);
bool IsNotPrimary(const absl::Status& status);
bool IsLeaseTTLTooLarge(const absl::Status& status);

}  // namespace etcd::lease

#endif  // ETCD_LEASE_ERRORS_H_
