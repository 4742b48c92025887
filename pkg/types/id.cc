#include "pkg/types/id.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace etcd::types {
namespace {

absl::Status ParseError(absl::string_view input, absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("strconv.ParseUint: parsing \"", input, "\": ", reason));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string ID::String() const { return absl::StrCat(absl::Hex(value_)); }

absl::StatusOr<ID> ParseID(absl::string_view hex) {
  if (hex.empty()) return ParseError(hex, "invalid syntax");
  uint64_t value = 0;
  bool overflow = false;
  for (char c : hex) {
    const int digit = HexDigit(c);
    if (digit < 0) return ParseError(hex, "invalid syntax");
    if (value >> 60 != 0) overflow = true;
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  // Like Go, a malformed digit anywhere wins over an overflow.
  if (overflow) return ParseError(hex, "value out of range");
  return ID(value);
}

void SortIDs(IDSlice* ids) { std::sort(ids->begin(), ids->end()); }

}  // namespace etcd::types
