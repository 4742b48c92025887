#include "wal/decoder.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pkg/crc/crc.h"
#include "pkg/status/status_macros.h"
#include "wal/errors.h"

namespace etcd::wal::internal {
namespace {

// Bytes read from a file at a time.
constexpr size_t kReadChunk = 1 << 20;

uint64_t LoadLittleEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

Decoder::Decoder(std::vector<Segment> segments, uint32_t prev_crc)
    : segments_(std::move(segments)), crc_(prev_crc) {}

bool Decoder::Advance() {
  if (current_ + 1 >= segments_.size()) return false;
  ++current_;
  current_size_ = -1;
  last_valid_offset_ = 0;
  buffer_len_ = 0;
  buffer_offset_ = 0;
  return true;
}

absl::Status Decoder::Fill(int64_t offset, size_t n, absl::string_view* view) {
  const bool covered =
      offset >= buffer_offset_ && static_cast<uint64_t>(offset - buffer_offset_) + n <= buffer_len_;
  if (!covered) {
    // Keep what is already there past `offset`, read the rest.
    size_t keep = 0;
    if (offset >= buffer_offset_ && offset < buffer_offset_ + static_cast<int64_t>(buffer_len_)) {
      keep = buffer_len_ - static_cast<size_t>(offset - buffer_offset_);
      std::memmove(buffer_.data(), buffer_.data() + (offset - buffer_offset_), keep);
    }
    if (current_size_ < 0) {
      ASSIGN_OR_RETURN(current_size_, segments_[current_].file->Size());
    }
    // Read ahead a chunk, but no further than the end of the file.
    const size_t remaining =
        current_size_ > offset ? static_cast<size_t>(current_size_ - offset) : 0;
    const size_t want = std::max(n, std::min(kReadChunk, remaining));
    if (buffer_.size() < want) buffer_.resize(want);
    buffer_offset_ = offset;
    buffer_len_ = keep;
    while (buffer_len_ < n) {
      ASSIGN_OR_RETURN(size_t got, segments_[current_].file->ReadAt(offset + buffer_len_,
                                                                    buffer_.data() + buffer_len_,
                                                                    buffer_.size() - buffer_len_));
      if (got == 0) break;
      buffer_len_ += got;
    }
  }
  const size_t start = static_cast<size_t>(offset - buffer_offset_);
  *view = absl::string_view(buffer_.data() + start, std::min(n, buffer_len_ - start));
  return absl::OkStatus();
}

bool Decoder::HasZeroSector(int64_t offset, absl::string_view data) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t chunk = static_cast<size_t>(kMinSectorSize - (offset % kMinSectorSize));
    chunk = std::min(chunk, data.size() - pos);
    bool zero = true;
    for (size_t i = pos; i < pos + chunk; ++i) {
      if (data[i] != 0) {
        zero = false;
        break;
      }
    }
    if (zero) return true;
    offset += static_cast<int64_t>(chunk);
    pos += chunk;
  }
  return false;
}

absl::StatusOr<bool> Decoder::Next(Record* record) {
  if (failed_) return MakeError(ErrorKind::kBadState, "decoder used after an error");
  if (segments_.empty()) return false;
  absl::StatusOr<bool> result = [&]() -> absl::StatusOr<bool> {
    while (true) {
      const int64_t offset = last_valid_offset_;
      absl::string_view len_bytes;
      RETURN_IF_ERROR(Fill(offset, kFrameSizeBytes, &len_bytes));
      if (len_bytes.size() < static_cast<size_t>(kFrameSizeBytes)) {
        // Zeros to the end of the file are no record, however few: a file
        // whose size a crash left unaligned can end that way.
        if (len_bytes.find_first_not_of('\0') == absl::string_view::npos) {
          if (!Advance()) return false;
          continue;
        }
        const std::string detail =
            absl::StrFormat("%d-byte length word at offset %d of %s", len_bytes.size(), offset,
                            segments_[current_].path);
        if (IsLastSegment()) return MakeError(ErrorKind::kUnexpectedEOF, detail);
        return MakeError(ErrorKind::kCorruptRecord, detail);
      }
      const uint64_t len_field = LoadLittleEndian64(len_bytes.data());
      if (len_field == 0) {
        // The end of the written part of a preallocated file.
        if (!Advance()) return false;
        continue;
      }
      int64_t record_bytes, pad_bytes;
      DecodeFrameSize(len_field, &record_bytes, &pad_bytes);
      if (current_size_ < 0) {
        ASSIGN_OR_RETURN(current_size_, segments_[current_].file->Size());
      }
      const int64_t room = current_size_ - offset - kFrameSizeBytes;
      if (record_bytes > room - pad_bytes) {
        const std::string detail = absl::StrFormat(
            "frame at offset %d of %s holds %d record bytes and %d padding bytes, but the file "
            "ends at %d",
            offset, segments_[current_].path, record_bytes, pad_bytes, current_size_);
        if (IsLastSegment()) return MakeError(ErrorKind::kUnexpectedEOF, detail);
        return MakeError(ErrorKind::kCorruptRecord, detail);
      }
      if (record_bytes >= kMaxRecordBytes - pad_bytes) {
        return MakeError(
            ErrorKind::kMaxEntrySizeLimitExceeded,
            absl::StrFormat("frame at offset %d of %s holds %d bytes (limit %d)", offset,
                            segments_[current_].path, record_bytes, kMaxRecordBytes));
      }
      absl::string_view body;
      const size_t body_size = static_cast<size_t>(record_bytes + pad_bytes);
      RETURN_IF_ERROR(Fill(offset + kFrameSizeBytes, body_size, &body));
      if (body.size() < body_size) {
        // The file shrank under us.
        return MakeError(ErrorKind::kUnexpectedEOF,
                         absl::StrFormat("record at offset %d of %s is cut short", offset,
                                         segments_[current_].path));
      }
      // Padding is zeros whether torn or not, so only the record's own
      // bytes can show a tear.
      auto torn = [&] {
        return IsLastSegment() && HasZeroSector(offset + kFrameSizeBytes,
                                                body.substr(0, static_cast<size_t>(record_bytes)));
      };
      if (!ParseRecord(body.substr(0, static_cast<size_t>(record_bytes)), record)) {
        const std::string detail = absl::StrFormat("cannot parse the record at offset %d of %s",
                                                   offset, segments_[current_].path);
        if (torn()) return MakeError(ErrorKind::kUnexpectedEOF, detail);
        return MakeError(ErrorKind::kCorruptRecord, detail);
      }
      if (record->type != kCrcType) {
        const uint32_t crc = crc::Update(crc_, record->data.data(), record->data.size());
        if (record->crc != crc) {
          const std::string detail = absl::StrFormat(
              "record at offset %d of %s has crc %08x, the log's running crc is %08x", offset,
              segments_[current_].path, record->crc, crc);
          if (torn()) return MakeError(ErrorKind::kUnexpectedEOF, detail);
          return MakeError(ErrorKind::kCRCMismatch, detail);
        }
        crc_ = crc;
      }
      last_valid_offset_ = offset + kFrameSizeBytes + record_bytes + pad_bytes;
      return true;
    }
  }();
  if (!result.ok()) failed_ = true;
  return result;
}

}  // namespace etcd::wal::internal
