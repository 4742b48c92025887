// Internal: segment file names, "%016x-%016x.wal" (sequence number, raft
// index of the first entry the segment may hold).
//
//   std::string name = internal::WalName(1, 0x21);  // 0000000000000001-0000000000000021.wal
//   uint64_t seq, index;
//   bool ok = internal::ParseWalName(name, &seq, &index);
//
// Functions only; thread-safe.

#ifndef ETCD_WAL_NAMES_H_
#define ETCD_WAL_NAMES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "wal/file_system.h"

namespace etcd::wal::internal {

std::string WalName(uint64_t seq, uint64_t index);

// Parses exactly 16 hex digits, '-', 16 hex digits, ".wal".
bool ParseWalName(absl::string_view name, uint64_t* seq, uint64_t* index);

// In sorted segment `names`, the position of the last one whose first index
// is at most `index`: the segment that holds `index`. nullopt if none.
std::optional<size_t> SearchIndex(absl::Span<const std::string> names, uint64_t index);

// Whether the sequence numbers of sorted `names` increase by one.
bool IsValidSeq(absl::Span<const std::string> names);

// The segment names in `dir`, sorted; other files are skipped, with a
// warning unless they are the pipeline's ".tmp" files. FileNotFound (see
// errors.h) when there is none.
absl::StatusOr<std::vector<std::string>> ReadWalNames(FileSystem* fs, const std::string& dir);

}  // namespace etcd::wal::internal

#endif  // ETCD_WAL_NAMES_H_
