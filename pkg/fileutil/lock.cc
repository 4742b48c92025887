#include "pkg/fileutil/lock.h"

#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "pkg/fileutil/errors.h"
#include "pkg/status/status_macros.h"

namespace etcd::fileutil {
namespace {

constexpr char kLockedPayloadUrl[] = "type.etcd.io/etcd.fileutil.Locked";

absl::Status LockedError(const std::string& path) {
  absl::Status status =
      absl::UnavailableError(absl::StrCat("lock ", path, ": file already locked"));
  status.SetPayload(kLockedPayloadUrl, absl::Cord());
  return status;
}

// Locks the whole file; returns 0 or an errno value (EWOULDBLOCK when held).
int LockWholeFile(int fd, bool wait) {
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // to the end, however the file grows
  while (true) {
    if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &lock) == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EACCES) return EWOULDBLOCK;
    if (errno != EINVAL) return errno;
    break;  // no OFD locks in this kernel
  }
  while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

// Opens `path` and locks it; returns the descriptor.
absl::StatusOr<int> OpenAndLock(const std::string& path, int flags, mode_t perm, bool wait) {
  int fd;
  do {
    fd = open(path.c_str(), flags | O_CLOEXEC, perm);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return internal::ErrnoError(errno, "open", path);
  const int err = LockWholeFile(fd, wait);
  if (err != 0) {
    close(fd);
    if (err == EWOULDBLOCK) return LockedError(path);
    return internal::ErrnoError(err, "lock", path);
  }
  return fd;
}

}  // namespace

LockedFile::LockedFile(LockedFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

LockedFile& LockedFile::operator=(LockedFile&& other) noexcept {
  if (this != &other) {
    Close().IgnoreError();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

LockedFile::~LockedFile() { Close().IgnoreError(); }

absl::Status LockedFile::Close() {
  if (fd_ < 0) return absl::OkStatus();
  // Closing the last descriptor of the open file releases its lock. close(2)
  // must not be retried on EINTR: the descriptor is gone either way.
  const int fd = std::exchange(fd_, -1);
  if (close(fd) != 0 && errno != EINTR) return internal::ErrnoError(errno, "close", path_);
  return absl::OkStatus();
}

absl::StatusOr<LockedFile> TryLockFile(const std::string& path, int flags, mode_t perm) {
  ASSIGN_OR_RETURN(int fd, OpenAndLock(path, flags, perm, /*wait=*/false));
  return LockedFile(fd, path);
}

absl::StatusOr<LockedFile> LockFile(const std::string& path, int flags, mode_t perm) {
  ASSIGN_OR_RETURN(int fd, OpenAndLock(path, flags, perm, /*wait=*/true));
  return LockedFile(fd, path);
}

bool IsLocked(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable &&
         status.GetPayload(kLockedPayloadUrl).has_value();
}

}  // namespace etcd::fileutil
