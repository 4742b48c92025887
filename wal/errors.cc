#include "wal/errors.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace etcd::wal {
namespace {

constexpr char kPayloadUrl[] = "type.etcd.io/etcd.wal.Error";

struct KindInfo {
  ErrorKind kind;
  const char* name;  // the payload value
  const char* message;
  absl::StatusCode code;
};

constexpr KindInfo kKinds[] = {
    {ErrorKind::kMetadataConflict, "MetadataConflict", "wal: conflicting metadata found",
     absl::StatusCode::kDataLoss},
    {ErrorKind::kFileNotFound, "FileNotFound", "wal: file not found", absl::StatusCode::kNotFound},
    {ErrorKind::kCRCMismatch, "CRCMismatch", "wal: crc mismatch", absl::StatusCode::kDataLoss},
    {ErrorKind::kSnapshotMismatch, "SnapshotMismatch", "wal: snapshot mismatch",
     absl::StatusCode::kFailedPrecondition},
    {ErrorKind::kSnapshotNotFound, "SnapshotNotFound", "wal: snapshot not found",
     absl::StatusCode::kNotFound},
    {ErrorKind::kSliceOutOfRange, "SliceOutOfRange", "wal: slice bounds out of range",
     absl::StatusCode::kDataLoss},
    {ErrorKind::kMaxEntrySizeLimitExceeded, "MaxEntrySizeLimitExceeded",
     "wal: max entry size limit exceeded", absl::StatusCode::kDataLoss},
    {ErrorKind::kDecoderNotFound, "DecoderNotFound", "wal: decoder not found",
     absl::StatusCode::kFailedPrecondition},
    {ErrorKind::kUnexpectedEOF, "UnexpectedEOF", "unexpected EOF", absl::StatusCode::kDataLoss},
    {ErrorKind::kCorruptRecord, "CorruptRecord", "wal: corrupt record",
     absl::StatusCode::kDataLoss},
    {ErrorKind::kExist, "Exist", "wal: file already exists", absl::StatusCode::kAlreadyExists},
    {ErrorKind::kBadState, "BadState", "wal: bad state", absl::StatusCode::kFailedPrecondition},
};

const KindInfo& Info(ErrorKind kind) {
  for (const KindInfo& info : kKinds) {
    if (info.kind == kind) return info;
  }
  return kKinds[0];  // unreachable: every kind is in the table
}

bool Is(const absl::Status& status, ErrorKind kind) {
  std::optional<ErrorKind> got = GetErrorKind(status);
  return got.has_value() && *got == kind;
}

}  // namespace

std::optional<ErrorKind> GetErrorKind(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  for (const KindInfo& info : kKinds) {
    if (*payload == info.name) return info.kind;
  }
  return std::nullopt;
}

absl::Status MakeError(ErrorKind kind, absl::string_view detail) {
  const KindInfo& info = Info(kind);
  absl::Status status(info.code, detail.empty() ? std::string(info.message)
                                                : absl::StrCat(info.message, ": ", detail));
  status.SetPayload(kPayloadUrl, absl::Cord(info.name));
  return status;
}

bool IsMetadataConflict(const absl::Status& s) { return Is(s, ErrorKind::kMetadataConflict); }
bool IsFileNotFound(const absl::Status& s) { return Is(s, ErrorKind::kFileNotFound); }
bool IsCRCMismatch(const absl::Status& s) { return Is(s, ErrorKind::kCRCMismatch); }
bool IsSnapshotMismatch(const absl::Status& s) { return Is(s, ErrorKind::kSnapshotMismatch); }
bool IsSnapshotNotFound(const absl::Status& s) { return Is(s, ErrorKind::kSnapshotNotFound); }
bool IsSliceOutOfRange(const absl::Status& s) { return Is(s, ErrorKind::kSliceOutOfRange); }
bool IsMaxEntrySizeLimitExceeded(const absl::Status& s) {
  return Is(s, ErrorKind::kMaxEntrySizeLimitExceeded);
}
bool IsDecoderNotFound(const absl::Status& s) { return Is(s, ErrorKind::kDecoderNotFound); }
bool IsUnexpectedEOF(const absl::Status& s) { return Is(s, ErrorKind::kUnexpectedEOF); }
bool IsCorruptRecord(const absl::Status& s) { return Is(s, ErrorKind::kCorruptRecord); }
bool IsExist(const absl::Status& s) { return Is(s, ErrorKind::kExist); }
bool IsBadState(const absl::Status& s) { return Is(s, ErrorKind::kBadState); }

bool IsCorruption(const absl::Status& status) {
  std::optional<ErrorKind> kind = GetErrorKind(status);
  if (!kind.has_value()) return false;
  switch (*kind) {
    case ErrorKind::kCRCMismatch:
    case ErrorKind::kCorruptRecord:
    case ErrorKind::kMaxEntrySizeLimitExceeded:
    case ErrorKind::kSliceOutOfRange:
    case ErrorKind::kMetadataConflict:
      return true;
    default:
      return false;
  }
}

}  // namespace etcd::wal
