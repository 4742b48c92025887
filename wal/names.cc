#include "wal/names.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pkg/log/log.h"
#include "pkg/status/status_macros.h"
#include "wal/errors.h"

namespace etcd::wal::internal {
namespace {

bool ParseHex16(absl::string_view s, uint64_t* out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

}  // namespace

std::string WalName(uint64_t seq, uint64_t index) {
  return absl::StrFormat("%016x-%016x.wal", seq, index);
}

bool ParseWalName(absl::string_view name, uint64_t* seq, uint64_t* index) {
  if (name.size() != 16 + 1 + 16 + 4 || name[16] != '-' || !absl::EndsWith(name, ".wal")) {
    return false;
  }
  return ParseHex16(name.substr(0, 16), seq) && ParseHex16(name.substr(17, 16), index);
}

std::optional<size_t> SearchIndex(absl::Span<const std::string> names, uint64_t index) {
  for (size_t i = names.size(); i > 0; --i) {
    uint64_t seq, first;
    if (!ParseWalName(names[i - 1], &seq, &first)) continue;
    if (index >= first) return i - 1;
  }
  return std::nullopt;
}

bool IsValidSeq(absl::Span<const std::string> names) {
  bool first = true;
  uint64_t last = 0;
  for (const std::string& name : names) {
    uint64_t seq, index;
    if (!ParseWalName(name, &seq, &index)) return false;
    if (!first && seq != last + 1) return false;
    first = false;
    last = seq;
  }
  return true;
}

absl::StatusOr<std::vector<std::string>> ReadWalNames(FileSystem* fs, const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ReadDir(dir));
  std::vector<std::string> wal_names;
  for (std::string& name : names) {
    uint64_t seq, index;
    if (!ParseWalName(name, &seq, &index)) {
      if (!absl::EndsWith(name, ".tmp")) {
        log::Warn("ignored file in WAL directory", {{"path", JoinPath(dir, name)}});
      }
      continue;
    }
    wal_names.push_back(std::move(name));
  }
  if (wal_names.empty()) {
    return MakeError(ErrorKind::kFileNotFound, absl::StrCat("no .wal files in ", dir));
  }
  return wal_names;
}

}  // namespace etcd::wal::internal
