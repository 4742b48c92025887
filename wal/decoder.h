// Internal: reads records back from a sequence of segment files.
//
//   internal::Decoder decoder({{file.get(), path}});
//   internal::Record record;
//   while (true) {
//     absl::StatusOr<bool> more = decoder.Next(&record);
//     if (!more.ok()) return more.status();  // torn tail, corruption, I/O
//     if (!*more) break;                      // clean end of the log
//     ...record.type, record.data (valid until the next call)...
//   }
//
// A frame of length 0, or the end of a file (with nothing but zeros in a
// last partial length word), ends that file and the decoder moves to the
// next. Every record but a crc record extends the running
// CRC-32C and must carry its value. A record that fails to parse or to match
// the CRC is a torn write (IsUnexpectedEOF) when it is in the last file and
// some 512-byte sector of its bytes is all zeros, the mark a write cut short
// by a crash leaves in preallocated space; otherwise it is corruption
// (IsCRCMismatch, IsCorruptRecord). A frame that runs past the end of the
// last file is a torn write too; past the end of an earlier file, which was
// complete when the next one was started, it is corruption.
//
// Not thread-safe. Borrows the files, which must outlive the decoder.

#ifndef ETCD_WAL_DECODER_H_
#define ETCD_WAL_DECODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "wal/file_system.h"
#include "wal/record.h"

namespace etcd::wal::internal {

class Decoder {
 public:
  struct Segment {
    File* file;
    // For error messages.
    std::string path;
  };

  explicit Decoder(std::vector<Segment> segments, uint32_t prev_crc = 0);

  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes the next record into `*record`: true when there is one, false at
  // the clean end of the last file. After an error the decoder is spent.
  absl::StatusOr<bool> Next(Record* record);

  // The running CRC after the last record decoded.
  uint32_t crc() const { return crc_; }
  // Restarts the running CRC at `crc` (after a crc record).
  void UpdateCRC(uint32_t crc) { crc_ = crc; }

  // Offset, in the current file, just past the last valid record.
  int64_t last_offset() const { return last_valid_offset_; }
  // Index into the segments of the file being read.
  size_t current_segment() const { return current_; }
  const std::string& current_path() const { return segments_[current_].path; }

 private:
  // Makes bytes [offset, offset + n) of the current file available at
  // *view; sets fewer bytes only at the end of the file.
  absl::Status Fill(int64_t offset, size_t n, absl::string_view* view);
  // Moves to the next file; false when there is none.
  bool Advance();
  bool IsLastSegment() const { return current_ + 1 == segments_.size(); }
  // Whether the frame body `data`, starting at file offset `offset`, has a
  // sector-aligned piece that is all zeros.
  static bool HasZeroSector(int64_t offset, absl::string_view data);

  std::vector<Segment> segments_;
  size_t current_ = 0;
  int64_t current_size_ = -1;  // size of the current file, -1 until known
  int64_t last_valid_offset_ = 0;
  uint32_t crc_;
  bool failed_ = false;

  // A window of the current file.
  std::string buffer_;
  int64_t buffer_offset_ = 0;
  size_t buffer_len_ = 0;
};

}  // namespace etcd::wal::internal

#endif  // ETCD_WAL_DECODER_H_
