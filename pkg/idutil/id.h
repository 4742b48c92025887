// Member-prefixed unique 64-bit IDs, as etcd generates request and lease IDs.
//
//   etcd::idutil::Generator ids(member_id, absl::Now());
//   uint64_t request_id = ids.Next();
//
// Layout of an ID, high bits first:
//
//   | 2 bytes                 | 5 bytes                      | 1 byte  |
//   | member ID (low 16 bits) | creation time, ms (mod 2^40) | counter |
//
// The generator starts at (time << 8) and each Next() adds one to the low six
// bytes, so after 256 IDs the counter carries into the time field on purpose:
// IDs remain unique across a restart as long as the member issued fewer than
// 256 IDs per millisecond on average before it, and the time field wraps only
// after about 35 years. Two members with the same low 16 bits of their ID can
// produce the same IDs; etcd accepts that, and so does this package.
//
// Thread-safe: Next() is one atomic increment.

#ifndef ETCD_PKG_IDUTIL_ID_H_
#define ETCD_PKG_IDUTIL_ID_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace etcd::idutil {

// Bit widths of the ID fields.
inline constexpr int kTimestampBits = 40;
inline constexpr int kCounterBits = 8;
inline constexpr int kSuffixBits = kTimestampBits + kCounterBits;  // 48

class Generator {
 public:
  // `member_id`'s low 16 bits become the prefix of every ID; `now` seeds the
  // timestamp field (inject a fixed time in tests).
  Generator(uint64_t member_id, absl::Time now);

  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Returns an ID never returned before by this generator (until the 48-bit
  // suffix wraps).
  uint64_t Next();

  // The ID prefix: the member ID's low 16 bits, shifted into the top bytes.
  uint64_t prefix() const { return prefix_; }

 private:
  const uint64_t prefix_;
  std::atomic<uint64_t> suffix_;
};

}  // namespace etcd::idutil

#endif  // ETCD_PKG_IDUTIL_ID_H_
