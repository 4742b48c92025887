// File and directory helpers for etcd's data directory: durable syncs,
// preallocation, directory checks and listing.
//
//   RETURN_IF_ERROR(etcd::fileutil::CreateDirAll(wal_dir, etcd::fileutil::kPrivateDirMode));
//   if (!etcd::fileutil::CheckDirPermission(data_dir, etcd::fileutil::kPrivateDirMode).ok()) {
//     // etcd warns: the data may be readable by other users.
//   }
//   RETURN_IF_ERROR(etcd::fileutil::Preallocate(fd, 64 << 20, /*extend_file=*/true));
//   ...write records...
//   RETURN_IF_ERROR(etcd::fileutil::Fdatasync(fd));
//   RETURN_IF_ERROR(etcd::fileutil::SyncDir(wal_dir));  // make a new file's name durable
//
// Errors are absl::Status values whose message names the operation, the path
// (for descriptors, the path /proc reports) and the errno text, with the code
// absl::ErrnoToStatusCode gives (NotFound, PermissionDenied, ...).
//
// Linux only. All functions are thread-safe; concurrent calls on the same
// descriptor are as safe as the underlying system calls (ZeroToEnd moves the
// file offset, so it needs exclusive use of its descriptor).

#ifndef ETCD_PKG_FILEUTIL_FILEUTIL_H_
#define ETCD_PKG_FILEUTIL_FILEUTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace etcd::fileutil {

// Owner read/write: etcd's mode for its files.
inline constexpr mode_t kPrivateFileMode = 0600;
// Owner only: etcd's mode for its directories.
inline constexpr mode_t kPrivateDirMode = 0700;

// fsync(2): flushes the file's data and metadata to stable storage.
absl::Status Fsync(int fd);

// fdatasync(2): flushes the data and the metadata needed to read it back
// (the size), skipping timestamps; what the WAL uses after each batch.
absl::Status Fdatasync(int fd);

// Fsyncs the directory at `path`, making creations, renames and removals of
// its entries durable.
absl::Status SyncDir(const std::string& path);

// Reserves disk space for the first `size` bytes of the file so later writes
// cannot fail with ENOSPC and do not fragment. With `extend_file` the file
// size becomes at least `size`; without it the size is kept and only blocks
// are allocated. Uses fallocate(2); where the filesystem does not support it,
// extending falls back to ftruncate (size only, blocks stay sparse) and
// keeping the size becomes a no-op, as etcd does. A size of 0 does nothing.
absl::Status Preallocate(int fd, int64_t size, bool extend_file);

// Zeroes the file from the current offset to its end, keeping its size and
// its blocks allocated, and leaves the offset where it was. The WAL uses this
// to wipe a torn tail before appending.
absl::Status ZeroToEnd(int fd);

// Creates the directory `path` and any missing parents with `mode` (less the
// umask), like `mkdir -p`, then checks that the directory is writable. An
// existing directory is accepted (its mode is not changed; see
// CheckDirPermission); an existing non-directory anywhere on the path is an
// error naming it. This is etcd's TouchDirAll (etcd's CreateDirAll also
// demands an empty directory; combine with DirEmpty for that).
absl::Status CreateDirAll(const std::string& path, mode_t mode);

// OK when `path` is a directory whose permission bits are exactly `mode`;
// FailedPrecondition naming both modes otherwise, NotFound when it is absent.
// etcd warns (and does not fail) when a data directory is not 0700.
absl::Status CheckDirPermission(const std::string& path, mode_t mode);

// OK when a file can be created in (and removed from) the directory `path`;
// probes with a temporary ".touch" file.
absl::Status IsDirWriteable(const std::string& path);

// Whether `path` exists (following symlinks).
bool Exist(const std::string& path);

// Whether the directory `path` has no entries besides "." and "..".
absl::StatusOr<bool> DirEmpty(const std::string& path);

// The names in directory `path` (without "." and ".."), sorted bytewise.
absl::StatusOr<std::vector<std::string>> ReadDir(const std::string& path);

namespace internal {

// fallocate(2)'s signature, so tests can simulate filesystems without it.
using FallocateFn = int (*)(int fd, int mode, off_t offset, off_t len);

// Preallocate with `fallocate_fn` in place of fallocate(2).
absl::Status PreallocateWith(FallocateFn fallocate_fn, int fd, int64_t size, bool extend_file);

}  // namespace internal
}  // namespace etcd::fileutil

#endif  // ETCD_PKG_FILEUTIL_FILEUTIL_H_
