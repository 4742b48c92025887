#include "wal/encoder.h"

#include "pkg/crc/crc.h"
#include "pkg/status/status_macros.h"
#include "wal/record.h"

namespace etcd::wal::internal {
namespace {

// etcd's PageWriter buffer size.
constexpr size_t kBufferWatermark = 128 * 1024;

}  // namespace

Encoder::Encoder(File* file, int64_t offset, uint32_t prev_crc)
    : file_(file), flushed_offset_(offset), crc_(prev_crc) {}

absl::Status Encoder::Encode(int64_t type, absl::string_view data) {
  crc_ = crc::Update(crc_, data.data(), data.size());
  header_.clear();
  AppendRecordHeader(type, crc_, data.size(), &header_);
  const size_t record_bytes = header_.size() + data.size();
  int64_t pad_bytes;
  const uint64_t len_field = EncodeFrameSize(record_bytes, &pad_bytes);
  char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<char>(len_field >> (8 * i));
  RETURN_IF_ERROR(Write(absl::string_view(len_bytes, sizeof(len_bytes))));
  // The record and its padding go as one write, like etcd's; when it fits
  // the buffer, append the pieces without assembling them first.
  const size_t body = record_bytes + static_cast<size_t>(pad_bytes);
  if (buffer_.size() + body <= kBufferWatermark) {
    buffer_.append(header_);
    buffer_.append(data.data(), data.size());
    buffer_.append(static_cast<size_t>(pad_bytes), '\0');
    return absl::OkStatus();
  }
  record_ = header_;
  record_.append(data.data(), data.size());
  record_.append(static_cast<size_t>(pad_bytes), '\0');
  return Write(record_);
}

absl::Status Encoder::Write(absl::string_view p) {
  if (p.size() + buffer_.size() <= kBufferWatermark) {
    buffer_.append(p.data(), p.size());
    return absl::OkStatus();
  }
  // Complete the partial page at the end of the buffer first.
  size_t slack = static_cast<size_t>(kPageBytes - offset() % kPageBytes);
  if (slack != static_cast<size_t>(kPageBytes)) {
    const bool partial = slack > p.size();
    if (partial) slack = p.size();
    buffer_.append(p.data(), slack);
    p.remove_prefix(slack);
    if (partial) return absl::OkStatus();
  }
  RETURN_IF_ERROR(Flush());
  if (p.size() > static_cast<size_t>(kPageBytes)) {
    const size_t pages = p.size() / kPageBytes;
    RETURN_IF_ERROR(WriteToFile(p.substr(0, pages * kPageBytes)));
    p.remove_prefix(pages * kPageBytes);
  }
  return Write(p);
}

absl::Status Encoder::Flush() {
  if (buffer_.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(WriteToFile(buffer_));
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status Encoder::WriteToFile(absl::string_view p) {
  RETURN_IF_ERROR(file_->WriteAt(flushed_offset_, p));
  flushed_offset_ += static_cast<int64_t>(p.size());
  return absl::OkStatus();
}

}  // namespace etcd::wal::internal
