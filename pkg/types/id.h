// Member and cluster IDs, printed the way etcd prints them: lowercase
// hexadecimal without leading zeros.
//
//   etcd::types::ID id(0x8e9e05c52164694d);
//   std::string s = id.String();                        // "8e9e05c52164694d"
//   absl::StatusOr<etcd::types::ID> back = etcd::types::ParseID(s);
//
// ID is a value type; IDSlice is a plain vector. Thread-compatible.

#ifndef ETCD_PKG_TYPES_ID_H_
#define ETCD_PKG_TYPES_ID_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::types {

class ID {
 public:
  constexpr ID() = default;
  constexpr explicit ID(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }

  // Lowercase hex, no leading zeros, no "0x": ID(12).String() == "c",
  // ID(0).String() == "0".
  std::string String() const;

  friend constexpr bool operator==(ID a, ID b) { return a.value_ == b.value_; }
  friend constexpr bool operator!=(ID a, ID b) { return a.value_ != b.value_; }
  friend constexpr bool operator<(ID a, ID b) { return a.value_ < b.value_; }
  friend constexpr bool operator>(ID a, ID b) { return a.value_ > b.value_; }
  friend constexpr bool operator<=(ID a, ID b) { return a.value_ <= b.value_; }
  friend constexpr bool operator>=(ID a, ID b) { return a.value_ >= b.value_; }

  template <typename H>
  friend H AbslHashValue(H h, ID id) {
    return H::combine(std::move(h), id.value_);
  }

 private:
  uint64_t value_ = 0;
};

// Parses a base-16 ID (digits in either case, no prefix or sign, at most 64
// bits of value). Errors are InvalidArgument with Go's strconv wording, e.g.
// `strconv.ParseUint: parsing "xyz": invalid syntax`.
absl::StatusOr<ID> ParseID(absl::string_view hex);

using IDSlice = std::vector<ID>;

// Sorts ascending by numeric value.
void SortIDs(IDSlice* ids);

}  // namespace etcd::types

#endif  // ETCD_PKG_TYPES_ID_H_
