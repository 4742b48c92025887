#include "mvcc/revision.h"

#include "absl/strings/str_cat.h"

namespace etcd::mvcc {
namespace {

void PutBigEndian(uint64_t v, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

uint64_t GetBigEndian(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

}  // namespace

std::string Revision::DebugString() const { return absl::StrCat("{", main, " ", sub, "}"); }

void RevToBytes(const Revision& rev, char* out) {
  PutBigEndian(static_cast<uint64_t>(rev.main), out);
  out[8] = '_';
  PutBigEndian(static_cast<uint64_t>(rev.sub), out + 9);
}

RevBytes RevToBytes(const Revision& rev) {
  RevBytes bytes;
  RevToBytes(rev, bytes.data());
  return bytes;
}

std::string TombstoneKey(const Revision& rev) {
  std::string key(kMarkedRevBytesLen, kMarkTombstone);
  RevToBytes(rev, key.data());
  return key;
}

Revision BytesToRev(absl::string_view bytes) {
  return Revision{static_cast<int64_t>(GetBigEndian(bytes.data())),
                  static_cast<int64_t>(GetBigEndian(bytes.data() + 9))};
}

bool IsTombstone(absl::string_view bytes) {
  return bytes.size() == kMarkedRevBytesLen && bytes[kMarkedRevBytesLen - 1] == kMarkTombstone;
}

absl::StatusOr<RevisionKey> ParseRevisionKey(absl::string_view bytes) {
  if (bytes.size() != kRevBytesLen && bytes.size() != kMarkedRevBytesLen) {
    return absl::InvalidArgumentError(
        absl::StrCat("mvcc: revision key has ", bytes.size(), " bytes, want 17 or 18"));
  }
  if (bytes[8] != '_') {
    return absl::InvalidArgumentError("mvcc: revision key has no '_' separator");
  }
  if (bytes.size() == kMarkedRevBytesLen && bytes.back() != kMarkTombstone) {
    return absl::InvalidArgumentError("mvcc: revision key has an unknown mark");
  }
  return RevisionKey{BytesToRev(bytes), bytes.size() == kMarkedRevBytesLen};
}

}  // namespace etcd::mvcc
