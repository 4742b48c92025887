#include "mvcc/backend/bucket.h"

#include <algorithm>

namespace etcd::mvcc::backend {
namespace {

constexpr std::array<absl::string_view, kNumBuckets> kNames = {
    "key",  "meta",      "lease",     "alarm", "cluster", "members", "members_removed",
    "auth", "authUsers", "authRoles",
};

}  // namespace

absl::string_view BucketName(Bucket bucket) { return kNames[BucketIndex(bucket)]; }

std::optional<Bucket> BucketFromName(absl::string_view name) {
  for (Bucket bucket : kAllBuckets) {
    if (kNames[BucketIndex(bucket)] == name) return bucket;
  }
  return std::nullopt;
}

const std::array<Bucket, kNumBuckets>& BucketsByName() {
  static const std::array<Bucket, kNumBuckets> sorted = [] {
    std::array<Bucket, kNumBuckets> buckets = kAllBuckets;
    std::sort(buckets.begin(), buckets.end(),
              [](Bucket a, Bucket b) { return BucketName(a) < BucketName(b); });
    return buckets;
  }();
  return sorted;
}

}  // namespace etcd::mvcc::backend
