#include "server/transport/snapshot_file.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pkg/fileutil/fileutil.h"

namespace etcd::transport {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string Final() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_, digest, &size);
    return std::string(reinterpret_cast<const char*>(digest), size);
  }

 private:
  EVP_MD_CTX* ctx_;
};

namespace {

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("write ", path));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

SnapshotFileWriter::SnapshotFileWriter(std::string temp_path, std::string final_path, int fd,
                                       uint64_t size)
    : temp_path_(std::move(temp_path)),
      final_path_(std::move(final_path)),
      fd_(fd),
      size_(size),
      hash_(std::make_unique<Sha256>()) {}

absl::StatusOr<std::unique_ptr<SnapshotFileWriter>> SnapshotFileWriter::Create(
    const std::string& dir, uint64_t index, uint64_t size) {
  if (dir.empty()) return absl::FailedPreconditionError("no snapshot directory to receive into");
  if (absl::Status s = fileutil::CreateDirAll(dir, 0700); !s.ok()) return s;
  std::string final_path = absl::StrCat(dir, "/", absl::StrFormat("%016x.snap.db", index));
  std::string temp_path = absl::StrCat(final_path, ".tmp");
  int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("create ", temp_path));
  return std::unique_ptr<SnapshotFileWriter>(
      new SnapshotFileWriter(std::move(temp_path), std::move(final_path), fd, size));
}

SnapshotFileWriter::~SnapshotFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_) ::unlink(temp_path_.c_str());
}

absl::Status SnapshotFileWriter::Append(absl::string_view data) {
  if (data.size() > size_ - written_) {
    return absl::DataLossError(absl::StrCat("snapshot database larger than the announced ", size_,
                                            " bytes"));
  }
  if (absl::Status s = WriteAll(fd_, data, temp_path_); !s.ok()) return s;
  hash_->Update(data);
  written_ += data.size();
  return absl::OkStatus();
}

absl::StatusOr<std::string> SnapshotFileWriter::Finish(absl::string_view sha256) {
  if (written_ != size_) {
    return absl::DataLossError(
        absl::StrCat("snapshot database truncated: ", written_, " of ", size_, " bytes"));
  }
  if (hash_->Final() != sha256) {
    return absl::DataLossError("snapshot database checksum mismatch");
  }
  if (absl::Status s = fileutil::Fsync(fd_); !s.ok()) return s;
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("rename ", temp_path_));
  }
  finished_ = true;
  std::string dir = final_path_.substr(0, final_path_.rfind('/'));
  if (absl::Status s = fileutil::SyncDir(dir.empty() ? "." : dir); !s.ok()) return s;
  return final_path_;
}

SnapshotFileReader::SnapshotFileReader(int fd, uint64_t size)
    : fd_(fd), size_(size), hash_(std::make_unique<Sha256>()) {}

absl::StatusOr<std::unique_ptr<SnapshotFileReader>> SnapshotFileReader::Open(
    const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    absl::Status s = absl::ErrnoToStatus(errno, absl::StrCat("stat ", path));
    ::close(fd);
    return s;
  }
  return std::unique_ptr<SnapshotFileReader>(
      new SnapshotFileReader(fd, static_cast<uint64_t>(st.st_size)));
}

SnapshotFileReader::~SnapshotFileReader() { ::close(fd_); }

absl::Status SnapshotFileReader::Next(size_t max, std::string* chunk) {
  chunk->resize(max);
  ssize_t n;
  do {
    n = ::read(fd_, chunk->data(), max);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    chunk->clear();
    return absl::ErrnoToStatus(errno, "read snapshot database");
  }
  chunk->resize(static_cast<size_t>(n));
  hash_->Update(*chunk);
  return absl::OkStatus();
}

std::string SnapshotFileReader::Digest() { return hash_->Final(); }

absl::Status SnapshotReceiver::Take(const etcdcpp::peerpb::SnapshotChunk& chunk) {
  if (writer_ == nullptr) {
    if (!chunk.has_message() || chunk.message().type() != raftpb::MsgSnap) {
      return absl::InvalidArgumentError("snapshot stream must start with a MsgSnap message");
    }
    absl::StatusOr<std::unique_ptr<SnapshotFileWriter>> writer = SnapshotFileWriter::Create(
        dir_, chunk.message().snapshot().metadata().index(), chunk.db_size());
    if (!writer.ok()) return writer.status();
    message_ = chunk.message();
    writer_ = std::move(*writer);
    return absl::OkStatus();
  }
  if (!sha256_.empty()) return absl::InvalidArgumentError("snapshot data after its checksum");
  if (chunk.has_message()) return absl::InvalidArgumentError("second snapshot message in a stream");
  if (!chunk.data().empty()) {
    if (absl::Status s = writer_->Append(chunk.data()); !s.ok()) return s;
  }
  if (!chunk.sha256().empty()) sha256_ = chunk.sha256();
  return absl::OkStatus();
}

absl::StatusOr<std::string> SnapshotReceiver::Complete() {
  if (writer_ == nullptr || sha256_.empty()) {
    return absl::DataLossError("snapshot stream ended early");
  }
  absl::StatusOr<std::string> path = writer_->Finish(sha256_);
  writer_.reset();
  return path;
}

}  // namespace etcd::transport
