// etcd's buckets: the fixed set of named key spaces in the backend database.
//
//   tx->UnsafePut(etcd::mvcc::backend::Bucket::kMeta, "consistent_index", bytes);
//   absl::string_view name = etcd::mvcc::backend::BucketName(Bucket::kAuthUsers);  // "authUsers"
//
// Every bucket exists in every database (the backend creates all of them when
// it opens the file), so no code path has to create one first. The names are
// etcd's, and each bucket is an LMDB named database of that name.
//
// Constants and pure functions; thread-safe.

#ifndef ETCD_MVCC_BACKEND_BUCKET_H_
#define ETCD_MVCC_BACKEND_BUCKET_H_

#include <array>
#include <optional>

#include "absl/strings/string_view.h"

namespace etcd::mvcc::backend {

enum class Bucket : int {
  kKey = 0,         // "key": revision -> mvccpb.KeyValue (the MVCC history)
  kMeta,            // "meta": consistent_index, compaction marks
  kLease,           // "lease": lease ID -> leasepb.Lease
  kAlarm,           // "alarm": marshaled AlarmMember -> empty
  kCluster,         // "cluster": clusterVersion, downgrade
  kMembers,         // "members": hex member ID -> member JSON
  kMembersRemoved,  // "members_removed": member ID -> "removed"
  kAuth,            // "auth": authEnabled, authRevision
  kAuthUsers,       // "authUsers": user name -> authpb.User
  kAuthRoles,       // "authRoles": role name -> authpb.Role
};

inline constexpr int kNumBuckets = 10;

// Every bucket, in enum order.
inline constexpr std::array<Bucket, kNumBuckets> kAllBuckets = {
    Bucket::kKey,       Bucket::kMeta,      Bucket::kLease,          Bucket::kAlarm,
    Bucket::kCluster,   Bucket::kMembers,   Bucket::kMembersRemoved, Bucket::kAuth,
    Bucket::kAuthUsers, Bucket::kAuthRoles,
};

// etcd's name of `bucket`, e.g. "members_removed".
absl::string_view BucketName(Bucket bucket);

// The bucket named `name`, if there is one.
std::optional<Bucket> BucketFromName(absl::string_view name);

// Every bucket ordered by name (bytewise), the order etcd's bolt database
// keeps its root buckets in and the order Backend::Hash visits them.
const std::array<Bucket, kNumBuckets>& BucketsByName();

inline int BucketIndex(Bucket bucket) { return static_cast<int>(bucket); }

}  // namespace etcd::mvcc::backend

#endif  // ETCD_MVCC_BACKEND_BUCKET_H_
