// Revisions and their byte encoding, the keys of the backend's "key" bucket.
//
//   etcd::mvcc::Revision rev{/*main=*/5, /*sub=*/0};
//   etcd::mvcc::RevBytes key = etcd::mvcc::RevToBytes(rev);   // 17 bytes
//   std::string tomb = etcd::mvcc::TombstoneKey(rev);          // 18 bytes, ends in 't'
//   etcd::mvcc::Revision back = etcd::mvcc::BytesToRev(key.view());
//   bool deleted = etcd::mvcc::IsTombstone(tomb);              // true
//
// A revision is (main, sub): `main` is the store revision a transaction
// creates (one per write transaction), `sub` the position of a change within
// it. The key of a change in the "key" bucket is etcd's encoding: main as 8
// big-endian bytes, '_', sub as 8 big-endian bytes, so keys sort like
// revisions; a deletion ("tombstone") appends the byte 't'.
//
// Value types and pure functions; thread-safe.

#ifndef ETCD_MVCC_REVISION_H_
#define ETCD_MVCC_REVISION_H_

#include <array>
#include <cstdint>
#include <string>
#include <tuple>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::mvcc {

struct Revision {
  // The store revision of the transaction that made the change.
  int64_t main = 0;
  // The index of the change within that transaction.
  int64_t sub = 0;

  bool GreaterThan(const Revision& other) const { return other < *this; }

  friend bool operator<(const Revision& a, const Revision& b) {
    return std::tie(a.main, a.sub) < std::tie(b.main, b.sub);
  }
  friend bool operator>(const Revision& a, const Revision& b) { return b < a; }
  friend bool operator<=(const Revision& a, const Revision& b) { return !(b < a); }
  friend bool operator>=(const Revision& a, const Revision& b) { return !(a < b); }
  friend bool operator==(const Revision& a, const Revision& b) {
    return a.main == b.main && a.sub == b.sub;
  }
  friend bool operator!=(const Revision& a, const Revision& b) { return !(a == b); }

  template <typename H>
  friend H AbslHashValue(H h, const Revision& rev) {
    return H::combine(std::move(h), rev.main, rev.sub);
  }

  // "{main sub}", like etcd's %v of a revision.
  std::string DebugString() const;
};

// Length of an encoded revision, and of one carrying the tombstone mark.
inline constexpr size_t kRevBytesLen = 8 + 1 + 8;
inline constexpr size_t kMarkedRevBytesLen = kRevBytesLen + 1;
inline constexpr char kMarkTombstone = 't';

// An encoded revision, without allocation.
class RevBytes {
 public:
  RevBytes() = default;
  absl::string_view view() const { return absl::string_view(bytes_.data(), kRevBytesLen); }
  char* data() { return bytes_.data(); }
  operator absl::string_view() const { return view(); }  // NOLINT: a byte string

 private:
  std::array<char, kRevBytesLen> bytes_{};
};

// Encodes `rev` into `out` (kRevBytesLen bytes).
void RevToBytes(const Revision& rev, char* out);
RevBytes RevToBytes(const Revision& rev);
// The key of a deletion at `rev`: the encoding plus 't'.
std::string TombstoneKey(const Revision& rev);

// Decodes the first kRevBytesLen bytes of `bytes` (a key of the "key"
// bucket, marked or not). `bytes` must be at least that long.
Revision BytesToRev(absl::string_view bytes);

// Whether `bytes` is a tombstone key (18 bytes ending in 't').
bool IsTombstone(absl::string_view bytes);

// A decoded key of the "key" bucket.
struct RevisionKey {
  Revision rev;
  bool tombstone = false;
};

// Strict decoding for untrusted bytes: 17 bytes with '_' at position 8, or 18
// with 't' last; InvalidArgument otherwise.
absl::StatusOr<RevisionKey> ParseRevisionKey(absl::string_view bytes);

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_REVISION_H_
