// Exclusive advisory file locks, as etcd's WAL and purger use them.
//
//   absl::StatusOr<etcd::fileutil::LockedFile> wal =
//       etcd::fileutil::TryLockFile(path, O_WRONLY | O_CREAT);
//   if (etcd::fileutil::IsLocked(wal.status())) {
//     // another process (or another open in this one) holds it
//   }
//   RETURN_IF_ERROR(wal.status());
//   write(wal->fd(), ...);
//   // the lock is released when `wal` is closed or destroyed
//
// Locks are Linux open-file-description locks (fcntl F_OFD_SETLK on the
// whole file), the same kind etcd takes on Linux. Unlike classic POSIX record
// locks they belong to the open file, not the process, so two opens of one
// file in the same process conflict, and closing an unrelated descriptor of
// the file does not drop the lock. On kernels without OFD locks (before 3.15)
// flock(2) is used, which has the same per-open semantics. Descriptors are
// opened with O_CLOEXEC so an exec'd child never inherits (and keeps alive) a
// lock. The locks are advisory: they only exclude other lockers.
//
// Thread safety: the functions are thread-safe. A LockedFile is not: use one
// from one thread at a time.

#ifndef ETCD_PKG_FILEUTIL_LOCK_H_
#define ETCD_PKG_FILEUTIL_LOCK_H_

#include <fcntl.h>
#include <sys/types.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/fileutil/fileutil.h"

namespace etcd::fileutil {

// An open file holding an exclusive lock; closing it releases the lock.
// Move-only. Do not dup() or close() the descriptor yourself: a dup shares
// the lock and keeps it alive after Close.
class LockedFile {
 public:
  LockedFile(LockedFile&& other) noexcept;
  LockedFile& operator=(LockedFile&& other) noexcept;
  LockedFile(const LockedFile&) = delete;
  LockedFile& operator=(const LockedFile&) = delete;
  ~LockedFile();

  // The open descriptor, or -1 after Close.
  int fd() const { return fd_; }
  // The path the file was opened with.
  const std::string& path() const { return path_; }

  // Releases the lock and closes the file. Safe to call more than once.
  absl::Status Close();

 private:
  friend absl::StatusOr<LockedFile> TryLockFile(const std::string&, int, mode_t);
  friend absl::StatusOr<LockedFile> LockFile(const std::string&, int, mode_t);

  LockedFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  int fd_;
  std::string path_;
};

// Opens `path` with `flags` (plus O_CLOEXEC; O_CREAT uses `perm`) and takes
// the exclusive lock without waiting. Fails with a status for which
// IsLocked() is true when someone else holds it. `flags` must allow writing
// (O_WRONLY or O_RDWR): an exclusive OFD lock needs a writable descriptor.
absl::StatusOr<LockedFile> TryLockFile(const std::string& path, int flags = O_RDWR,
                                       mode_t perm = kPrivateFileMode);

// Like TryLockFile but waits until the lock is free.
absl::StatusOr<LockedFile> LockFile(const std::string& path, int flags = O_RDWR,
                                    mode_t perm = kPrivateFileMode);

// Whether `status` is TryLockFile's "held by someone else" error
// (code Unavailable, message "lock <path>: file already locked").
bool IsLocked(const absl::Status& status);

}  // namespace etcd::fileutil

#endif  // ETCD_PKG_FILEUTIL_LOCK_H_
