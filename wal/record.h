// Internal: the on-disk encoding of WAL records and frames (etcd's format).
//
//   frame  = len:uint64 little-endian | record bytes | 0-7 zero pad bytes
//   len    = record size in the low 56 bits; when padded, the top byte is
//            0x80 | pad (so frames stay 8-byte aligned and the length word
//            never straddles a sector)
//   record = walpb.Record{type = 1 (int64), crc = 2 (uint32), data = 3}
//
// The record codec is hand-written so encoding is byte-for-byte what etcd's
// gogoproto code produces (type and crc always present, data when non-empty)
// and decoding hands back a view of the data without copying.
//
// Functions only; thread-safe.

#ifndef ETCD_WAL_RECORD_H_
#define ETCD_WAL_RECORD_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "raft/raftpb/raft.pb.h"
#include "wal/walpb/record.pb.h"

namespace etcd::wal::internal {

// Record types.
inline constexpr int64_t kMetadataType = 1;
inline constexpr int64_t kEntryType = 2;
inline constexpr int64_t kStateType = 3;
inline constexpr int64_t kCrcType = 4;
inline constexpr int64_t kSnapshotType = 5;

// Torn writes are recognized per sector of this size.
inline constexpr int64_t kMinSectorSize = 512;
// Size of a frame's length word.
inline constexpr int64_t kFrameSizeBytes = 8;
// The encoder writes whole pages of this size when its buffer fills.
inline constexpr int64_t kPageBytes = 8 * kMinSectorSize;
// No record etcd writes is this large (raft limits messages to ~1.5 MiB);
// a frame claiming more is corrupt.
inline constexpr int64_t kMaxRecordBytes = 10 * 1024 * 1024;

// The length word for a record of `record_bytes`; sets `*pad_bytes` to the
// zero bytes that must follow the record.
uint64_t EncodeFrameSize(uint64_t record_bytes, int64_t* pad_bytes);

// Splits a length word into the record size and the padding size.
void DecodeFrameSize(uint64_t len_field, int64_t* record_bytes, int64_t* pad_bytes);

// A decoded record; `data` points into the decoded bytes.
struct Record {
  int64_t type = 0;
  uint32_t crc = 0;
  absl::string_view data;
  // Whether the data field was present (etcd tells nil from empty).
  bool has_data = false;
};

// Appends the marshaled walpb.Record to `out`.
void AppendRecord(int64_t type, uint32_t crc, absl::string_view data, std::string* out);
// Appends what precedes the data in that record (the data itself follows).
void AppendRecordHeader(int64_t type, uint32_t crc, size_t data_size, std::string* out);

// Parses a marshaled walpb.Record; false when `bytes` is not one (truncated
// varint or field, wrong wire type for a known field, groups).
bool ParseRecord(absl::string_view bytes, Record* record);

// Marshals the messages the WAL stores, with every non-nullable field of
// etcd's gogoproto definitions present even when zero, as etcd writes them.
void AppendEntry(const raftpb::Entry& entry, std::string* out);
std::string MarshalHardState(const raftpb::HardState& state);
std::string MarshalSnapshot(const walpb::Snapshot& snapshot);

// etcd raft's rules, repeated here because //wal must not depend on //raft.
bool IsEmptyHardState(const raftpb::HardState& state);
// Whether saving `state` and `entry_count` entries after `previous` must
// reach the disk before raft sends messages: new entries, a new term or a
// new vote must; a commit index alone need not.
bool MustSync(const raftpb::HardState& state, const raftpb::HardState& previous,
              size_t entry_count);

}  // namespace etcd::wal::internal

#endif  // ETCD_WAL_RECORD_H_
