// The errors of the write-ahead log, each with a named predicate.
//
//   absl::StatusOr<etcd::wal::ReadResult> read = wal->ReadAll();
//   if (etcd::wal::IsUnexpectedEOF(read.status())) {
//     // A torn write at the tail of the last segment: Repair can fix it.
//   } else if (etcd::wal::IsCRCMismatch(read.status())) {
//     // Corruption: refuse to start; the message names the file and offset.
//   }
//
// Every error message starts with etcd's text for the same condition (for
// example "wal: crc mismatch"), followed by what is known about where it
// happened: "wal: crc mismatch: record at offset 4096 of
// /data/member/wal/0000000000000000-0000000000000000.wal has crc 1a2b3c4d, the
// log's running crc is 9f8e7d6c". The predicates do not parse messages: the
// kind travels as a status payload.
//
// Functions only; thread-safe.

#ifndef ETCD_WAL_ERRORS_H_
#define ETCD_WAL_ERRORS_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace etcd::wal {

// What went wrong; carried by every error this library creates.
enum class ErrorKind {
  // A segment holds metadata different from an earlier segment's.
  kMetadataConflict,
  // No usable segment file (none at all, none covering the snapshot index,
  // or a gap in the sequence numbers).
  kFileNotFound,
  // A record's CRC does not continue the log's running CRC: corruption.
  kCRCMismatch,
  // A snapshot record has the index asked for but a different term.
  kSnapshotMismatch,
  // The log holds no snapshot record for the snapshot asked for.
  kSnapshotNotFound,
  // An entry's index leaves a gap after the entries read so far.
  kSliceOutOfRange,
  // A frame claims a record larger than any etcd writes (10 MiB).
  kMaxEntrySizeLimitExceeded,
  // ReadAll was called on a WAL that was created, or already read.
  kDecoderNotFound,
  // The last record of the last segment is incomplete (a torn write): the
  // log ends early and Repair can cut it back to the last whole record.
  kUnexpectedEOF,
  // A record is malformed in a way a torn write cannot explain (bad
  // protobuf, unknown record type, truncated frame in an earlier segment).
  kCorruptRecord,
  // Create found a WAL already in the directory.
  kExist,
  // The WAL was used in a mode that does not allow the call (writing a WAL
  // opened for reading, appending before ReadAll, use after Close).
  kBadState,
};

// The kind of a status this library produced, if it is one of ours.
std::optional<ErrorKind> GetErrorKind(const absl::Status& status);

bool IsMetadataConflict(const absl::Status& status);
bool IsFileNotFound(const absl::Status& status);
bool IsCRCMismatch(const absl::Status& status);
bool IsSnapshotMismatch(const absl::Status& status);
bool IsSnapshotNotFound(const absl::Status& status);
bool IsSliceOutOfRange(const absl::Status& status);
bool IsMaxEntrySizeLimitExceeded(const absl::Status& status);
bool IsDecoderNotFound(const absl::Status& status);
bool IsUnexpectedEOF(const absl::Status& status);
bool IsCorruptRecord(const absl::Status& status);
bool IsExist(const absl::Status& status);
bool IsBadState(const absl::Status& status);

// Whether `status` says the log's bytes are damaged (CRC mismatch, corrupt
// record, oversized or out-of-range entry, conflicting metadata) as opposed
// to a torn tail (IsUnexpectedEOF) or an I/O or usage error.
bool IsCorruption(const absl::Status& status);

// An error of `kind`: etcd's message for it, then ": " and `detail` unless
// empty. The status code follows the kind (DataLoss for damage, NotFound,
// AlreadyExists, FailedPrecondition).
absl::Status MakeError(ErrorKind kind, absl::string_view detail = "");

}  // namespace etcd::wal

#endif  // ETCD_WAL_ERRORS_H_
