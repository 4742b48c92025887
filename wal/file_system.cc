#include "wal/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "pkg/fileutil/fileutil.h"
#include "pkg/fileutil/lock.h"
#include "pkg/status/status_macros.h"

namespace etcd::wal {
namespace {

absl::Status ErrnoStatus(int err, absl::string_view op, absl::string_view path) {
  return absl::Status(absl::ErrnoToStatusCode(err),
                      absl::StrCat(op, " ", path, ": ", std::strerror(err)));
}

// A file on disk: a locked read-write file, or a plain read-only descriptor
// this object owns.
class PosixFile : public File {
 public:
  explicit PosixFile(fileutil::LockedFile locked)
      : locked_(std::move(locked)), fd_(locked_->fd()), path_(locked_->path()) {}
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { Close().IgnoreError(); }

  absl::StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = pread(fd_, buf + done, n - done, offset + static_cast<int64_t>(done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "read", path_);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

  absl::Status WriteAt(int64_t offset, absl::string_view data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t w =
          pwrite(fd_, data.data() + done, data.size() - done, offset + static_cast<int64_t>(done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "write", path_);
      }
      done += static_cast<size_t>(w);
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override { return fileutil::Fdatasync(fd_); }

  absl::Status Truncate(int64_t size) override {
    while (ftruncate(fd_, size) != 0) {
      if (errno != EINTR) return ErrnoStatus(errno, "truncate", path_);
    }
    return absl::OkStatus();
  }

  absl::Status Preallocate(int64_t size) override {
    return fileutil::Preallocate(fd_, size, /*extend_file=*/true);
  }

  absl::StatusOr<int64_t> Size() override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return ErrnoStatus(errno, "stat", path_);
    return static_cast<int64_t>(st.st_size);
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    const int fd = fd_;
    fd_ = -1;
    if (locked_.has_value()) return locked_->Close();
    if (close(fd) != 0) return ErrnoStatus(errno, "close", path_);
    return absl::OkStatus();
  }

 private:
  // Set for locked files; owns the descriptor then.
  std::optional<fileutil::LockedFile> locked_;
  int fd_;
  std::string path_;
};

absl::Status RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, "stat", path);
  }
  if (S_ISDIR(st.st_mode)) {
    ASSIGN_OR_RETURN(std::vector<std::string> names, fileutil::ReadDir(path));
    for (const std::string& name : names) RETURN_IF_ERROR(RemoveTree(JoinPath(path, name)));
    if (rmdir(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "remove", path);
    return absl::OkStatus();
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "remove", path);
  return absl::OkStatus();
}

class PosixFileSystem : public FileSystem {
 public:
  absl::StatusOr<std::unique_ptr<File>> OpenForRead(const std::string& path) override {
    int fd;
    do {
      fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoStatus(errno, "open", path);
    return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, path));
  }

  absl::StatusOr<std::unique_ptr<File>> OpenLocked(const std::string& path,
                                                   const OpenOptions& options) override {
    const int flags = O_RDWR | (options.create ? O_CREAT : 0);
    absl::StatusOr<fileutil::LockedFile> locked =
        options.wait_for_lock ? fileutil::LockFile(path, flags, fileutil::kPrivateFileMode)
                              : fileutil::TryLockFile(path, flags, fileutil::kPrivateFileMode);
    RETURN_IF_ERROR(locked.status());
    auto file = std::make_unique<PosixFile>(*std::move(locked));
    // Truncating only once the lock is held never empties a file in use.
    if (options.truncate) RETURN_IF_ERROR(file->Truncate(0));
    return std::unique_ptr<File>(std::move(file));
  }

  absl::StatusOr<std::vector<std::string>> ReadDir(const std::string& dir) override {
    return fileutil::ReadDir(dir);
  }

  bool Exists(const std::string& path) override { return fileutil::Exist(path); }

  absl::Status CreateDirAll(const std::string& dir) override {
    return fileutil::CreateDirAll(dir, fileutil::kPrivateDirMode);
  }

  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus(errno, "rename", absl::StrCat(from, " to ", to));
    }
    return absl::OkStatus();
  }

  absl::Status Remove(const std::string& path) override {
    if (unlink(path.c_str()) != 0) return ErrnoStatus(errno, "remove", path);
    return absl::OkStatus();
  }

  absl::Status RemoveAll(const std::string& path) override { return RemoveTree(path); }

  absl::Status SyncDir(const std::string& dir) override { return fileutil::SyncDir(dir); }
};

}  // namespace

FileSystem* FileSystem::Default() {
  static FileSystem* const fs = new PosixFileSystem();
  return fs;
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

std::string CleanPath(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

std::string DirName(absl::string_view path) {
  std::string clean = CleanPath(path);
  size_t slash = clean.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return clean.substr(0, slash);
}

}  // namespace etcd::wal
