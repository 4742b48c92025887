// Internal: appends framed records to a segment file.
//
//   internal::Encoder encoder(file, /*offset=*/0, /*prev_crc=*/0);
//   RETURN_IF_ERROR(encoder.Encode(internal::kCrcType, ""));
//   RETURN_IF_ERROR(encoder.Encode(internal::kMetadataType, metadata));
//   RETURN_IF_ERROR(encoder.Flush());
//   RETURN_IF_ERROR(file->Sync());
//
// Each record's crc field is the running CRC-32C after its data (a crc
// record, which has no data, thus carries the CRC it continues from).
// Writes are buffered exactly as etcd's PageWriter does (128 KiB of buffer,
// then whole 4 KiB pages by file offset, the partial last page kept), so the
// file offsets at which the WAL decides to cut a segment, and therefore the
// files themselves, come out as etcd's would. Flush writes the rest. Nothing
// is durable until the caller syncs the file after Flush.
//
// Not thread-safe. Borrows the file, which must outlive the encoder.

#ifndef ETCD_WAL_ENCODER_H_
#define ETCD_WAL_ENCODER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "wal/file_system.h"

namespace etcd::wal::internal {

class Encoder {
 public:
  // Appends at `offset` of `file`, continuing the CRC chain from `prev_crc`.
  Encoder(File* file, int64_t offset, uint32_t prev_crc);

  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // Frames a record of `type` holding `data`.
  absl::Status Encode(int64_t type, absl::string_view data);

  // Writes every buffered byte to the file.
  absl::Status Flush();

  // The running CRC.
  uint32_t crc() const { return crc_; }
  // The file offset after the last record encoded (buffered or not).
  int64_t offset() const { return flushed_offset_ + static_cast<int64_t>(buffer_.size()); }
  // The file offset up to which bytes have reached the file (what etcd's
  // Seek(0, SeekCurrent) on the segment returns).
  int64_t flushed_offset() const { return flushed_offset_; }

 private:
  // PageWriter.Write.
  absl::Status Write(absl::string_view p);
  absl::Status WriteToFile(absl::string_view p);

  File* const file_;
  int64_t flushed_offset_;
  uint32_t crc_;
  std::string buffer_;
  // Scratch space for a record's header and, when it must be assembled,
  // the whole record.
  std::string header_;
  std::string record_;
};

}  // namespace etcd::wal::internal

#endif  // ETCD_WAL_ENCODER_H_
