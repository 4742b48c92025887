// The files at both ends of a snapshot transfer: SnapshotFileReader reads
// the database to send in chunks while hashing it; SnapshotFileWriter
// writes the database as it arrives to a temporary file and only makes it
// visible (renamed to <dir>/<index as %016x>.snap.db, etcd's name for a
// received database) after its size and SHA-256 match what the sender
// announced.
//
// Internal to //server/transport; separate so the checks are testable
// without a network.

#ifndef ETCD_SERVER_TRANSPORT_SNAPSHOT_FILE_H_
#define ETCD_SERVER_TRANSPORT_SNAPSHOT_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "raft/raftpb/raft.pb.h"
#include "server/transport/peerpb/peer.pb.h"

namespace etcd::transport {

class Sha256;  // snapshot_file.cc

class SnapshotFileWriter {
 public:
  // Creates a temporary file in `dir` for a database of `size` bytes that
  // belongs to the snapshot at raft index `index`.
  static absl::StatusOr<std::unique_ptr<SnapshotFileWriter>> Create(const std::string& dir,
                                                                    uint64_t index,
                                                                    uint64_t size);
  // Removes the temporary file unless Finish succeeded.
  ~SnapshotFileWriter();
  SnapshotFileWriter(const SnapshotFileWriter&) = delete;
  SnapshotFileWriter& operator=(const SnapshotFileWriter&) = delete;

  // Appends the next piece; DataLoss past the announced size.
  absl::Status Append(absl::string_view data);
  // Checks size and digest (32 raw bytes), syncs the file and renames it
  // into place; returns the final path. DataLoss on a mismatch.
  absl::StatusOr<std::string> Finish(absl::string_view sha256);

 private:
  SnapshotFileWriter(std::string temp_path, std::string final_path, int fd, uint64_t size);
  std::string temp_path_;
  std::string final_path_;
  int fd_;
  uint64_t size_;
  uint64_t written_ = 0;
  bool finished_ = false;
  std::unique_ptr<Sha256> hash_;
};

class SnapshotFileReader {
 public:
  static absl::StatusOr<std::unique_ptr<SnapshotFileReader>> Open(const std::string& path);
  ~SnapshotFileReader();
  SnapshotFileReader(const SnapshotFileReader&) = delete;
  SnapshotFileReader& operator=(const SnapshotFileReader&) = delete;

  uint64_t size() const { return size_; }
  // Reads up to `max` bytes into `chunk`; an empty chunk means the end.
  absl::Status Next(size_t max, std::string* chunk);
  // The SHA-256 (32 raw bytes) of everything read; call after the end.
  std::string Digest();

 private:
  SnapshotFileReader(int fd, uint64_t size);
  int fd_;
  uint64_t size_;
  std::unique_ptr<Sha256> hash_;
};

// The receiving end of one SendSnapshot stream: checks that the chunks come
// in the protocol's order (head with a MsgSnap, data, digest) and writes the
// data through a SnapshotFileWriter. Hostile or broken input gets an
// InvalidArgument or DataLoss status, never a partial file.
class SnapshotReceiver {
 public:
  explicit SnapshotReceiver(std::string dir) : dir_(std::move(dir)) {}

  // The next chunk of the stream.
  absl::Status Take(const etcdcpp::peerpb::SnapshotChunk& chunk);
  // The stream ended: verifies everything and returns the database path.
  absl::StatusOr<std::string> Complete();
  // The MsgSnap of the head chunk (valid after a successful Take).
  const raftpb::Message& message() const { return message_; }

 private:
  std::string dir_;
  raftpb::Message message_;
  std::unique_ptr<SnapshotFileWriter> writer_;
  std::string sha256_;
};

}  // namespace etcd::transport

#endif  // ETCD_SERVER_TRANSPORT_SNAPSHOT_FILE_H_
