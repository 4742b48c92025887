// The errors of the MVCC store, with predicates to recognise them.
//
//   absl::StatusOr<RangeResult> r = store->Range("foo", "", {.rev = 3});
//   if (etcd::mvcc::IsCompacted(r.status())) { ... }  // below the compacted revision
//   if (etcd::mvcc::IsFutureRev(r.status())) { ... }  // above the current revision
//
// Messages are etcd's mvcc errors ("mvcc: required revision has been
// compacted"); the server maps them to the client-visible rpctypes errors
// ("etcdserver: mvcc: ..."), keeping the code (OutOfRange for both).
//
// Pure functions; thread-safe.

#ifndef ETCD_MVCC_ERRORS_H_
#define ETCD_MVCC_ERRORS_H_

#include "absl/status/status.h"

namespace etcd::mvcc {

// A read or compaction below the compacted revision.
absl::Status CompactedError();
// A read above the current revision, or a compaction beyond it.
absl::Status FutureRevError();
// The store was closed while the operation waited.
absl::Status ClosedError();

bool IsCompacted(const absl::Status& status);
bool IsFutureRev(const absl::Status& status);
bool IsClosed(const absl::Status& status);

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_ERRORS_H_
