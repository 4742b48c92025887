#include "pkg/fileutil/fileutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pkg/fileutil/errors.h"
#include "pkg/status/status_macros.h"

namespace etcd::fileutil {

using internal::DescribeFd;
using internal::ErrnoError;
using internal::FdError;
using internal::JoinPath;

namespace {

// Calls `fn` until it does not fail with EINTR; returns its last result.
template <typename Fn>
auto RetryOnEintr(Fn fn) {
  decltype(fn()) r;
  do {
    r = fn();
  } while (r == -1 && errno == EINTR);
  return r;
}

// Closes `fd` on scope exit; the directory and probe helpers use it.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }

 private:
  int fd_;
};

int SystemFallocate(int fd, int mode, off_t offset, off_t len) {
  return fallocate(fd, mode, offset, len);
}

}  // namespace

absl::Status Fsync(int fd) {
  if (RetryOnEintr([fd] { return fsync(fd); }) != 0) {
    return FdError("fsync", fd);
  }
  return absl::OkStatus();
}

absl::Status Fdatasync(int fd) {
  if (RetryOnEintr([fd] { return fdatasync(fd); }) != 0) {
    return FdError("fdatasync", fd);
  }
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& path) {
  int fd = RetryOnEintr([&] { return open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return ErrnoError(errno, "open", path);
  FdCloser closer(fd);
  if (RetryOnEintr([fd] { return fsync(fd); }) != 0) return ErrnoError(errno, "fsync", path);
  return absl::OkStatus();
}

namespace internal {

absl::Status PreallocateWith(FallocateFn fallocate_fn, int fd, int64_t size, bool extend_file) {
  if (size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("preallocate ", DescribeFd(fd), ": negative size ", size));
  }
  if (size == 0) return absl::OkStatus();  // fallocate rejects a zero length
  const int mode = extend_file ? 0 : FALLOC_FL_KEEP_SIZE;
  if (RetryOnEintr([&] { return fallocate_fn(fd, mode, 0, size); }) == 0) {
    return absl::OkStatus();
  }
  const int err = errno;
  if (err != EOPNOTSUPP) return ErrnoError(err, "fallocate", DescribeFd(fd));
  if (!extend_file) return absl::OkStatus();  // best effort, as etcd does
  struct stat st;
  if (fstat(fd, &st) != 0) return FdError("fstat", fd);
  if (st.st_size >= size) return absl::OkStatus();
  if (RetryOnEintr([&] { return ftruncate(fd, size); }) != 0) {
    return FdError("ftruncate", fd);
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::Status Preallocate(int fd, int64_t size, bool extend_file) {
  return internal::PreallocateWith(&SystemFallocate, fd, size, extend_file);
}

absl::Status ZeroToEnd(int fd) {
  const off_t offset = lseek(fd, 0, SEEK_CUR);
  if (offset < 0) return FdError("seek", fd);
  const off_t end = lseek(fd, 0, SEEK_END);
  if (end < 0) return FdError("seek", fd);
  if (offset < end) {
    // Dropping the tail and allocating it again yields zeroes on every
    // filesystem, and keeps the blocks reserved.
    if (RetryOnEintr([&] { return ftruncate(fd, offset); }) != 0) {
      return FdError("ftruncate", fd);
    }
    RETURN_IF_ERROR(Preallocate(fd, end, /*extend_file=*/true));
  }
  if (lseek(fd, offset, SEEK_SET) < 0) return FdError("seek", fd);
  return absl::OkStatus();
}

absl::Status CreateDirAll(const std::string& path, mode_t mode) {
  if (path.empty()) return absl::InvalidArgumentError("create directory: empty path");
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return ErrnoError(ENOTDIR, "mkdir", path);
    return IsDirWriteable(path);
  }
  // Every prefix ending before a '/', then the path itself.
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    if (path[i - 1] == '/') continue;  // "//" or a trailing '/'
    const std::string prefix = path.substr(0, i);
    if (mkdir(prefix.c_str(), mode) == 0) continue;
    const int err = errno;
    if (err == EEXIST && stat(prefix.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      return ErrnoError(ENOTDIR, "mkdir", prefix);
    }
    return ErrnoError(err, "mkdir", prefix);
  }
  return IsDirWriteable(path);
}

absl::Status CheckDirPermission(const std::string& path, mode_t mode) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ErrnoError(errno, "stat", path);
  if (!S_ISDIR(st.st_mode)) return ErrnoError(ENOTDIR, "check permission of", path);
  const mode_t actual = st.st_mode & 0777;
  if (actual != mode) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "directory %s exists with permission %04o; the recommended permission is %04o to "
        "prevent possible unprivileged access to the data",
        path, actual, mode));
  }
  return absl::OkStatus();
}

absl::Status IsDirWriteable(const std::string& path) {
  const std::string probe = JoinPath(path, ".touch");
  int fd = RetryOnEintr([&] {
    return open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kPrivateFileMode);
  });
  if (fd < 0) return ErrnoError(errno, "create", probe);
  close(fd);
  if (unlink(probe.c_str()) != 0) return ErrnoError(errno, "remove", probe);
  return absl::OkStatus();
}

bool Exist(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

namespace {

// Calls `fn(name)` for each entry of `path` but "." and ".." until it
// returns false.
template <typename Fn>
absl::Status ForEachEntry(const std::string& path, Fn fn) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return ErrnoError(errno, "open directory", path);
  absl::Status status;
  while (true) {
    errno = 0;
    struct dirent* entry = readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) status = ErrnoError(errno, "read directory", path);
      break;
    }
    const absl::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (!fn(name)) break;
  }
  closedir(dir);
  return status;
}

}  // namespace

absl::StatusOr<bool> DirEmpty(const std::string& path) {
  bool empty = true;
  RETURN_IF_ERROR(ForEachEntry(path, [&empty](absl::string_view) {
    empty = false;
    return false;
  }));
  return empty;
}

absl::StatusOr<std::vector<std::string>> ReadDir(const std::string& path) {
  std::vector<std::string> names;
  RETURN_IF_ERROR(ForEachEntry(path, [&names](absl::string_view name) {
    names.emplace_back(name);
    return true;
  }));
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace etcd::fileutil
