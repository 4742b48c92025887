#include "pkg/idutil/id.h"

namespace etcd::idutil {
namespace {

constexpr uint64_t LowBits(uint64_t x, int n) { return x & (~uint64_t{0} >> (64 - n)); }

}  // namespace

Generator::Generator(uint64_t member_id, absl::Time now)
    : prefix_(LowBits(member_id, 16) << kSuffixBits),
      suffix_(LowBits(static_cast<uint64_t>(absl::ToUnixMillis(now)), kTimestampBits)
              << kCounterBits) {}

uint64_t Generator::Next() {
  // fetch_add returns the old value; etcd's first ID is the seed plus one.
  const uint64_t suffix = suffix_.fetch_add(1, std::memory_order_relaxed) + 1;
  return prefix_ | LowBits(suffix, kSuffixBits);
}

}  // namespace etcd::idutil
