// The small file interface the WAL does all its I/O through, so tests can
// put a fault-injecting implementation under it (see
// wal/fault_file_system.h) while production uses the disk.
//
//   etcd::wal::FileSystem* fs = etcd::wal::FileSystem::Default();
//   etcd::wal::OpenOptions create;
//   create.create = true;
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::wal::File> f, fs->OpenLocked(path, create));
//   RETURN_IF_ERROR(f->Preallocate(64 * 1000 * 1000));
//   RETURN_IF_ERROR(f->WriteAt(0, bytes));
//   RETURN_IF_ERROR(f->Sync());      // fdatasync
//   RETURN_IF_ERROR(fs->SyncDir(dir));  // make the new name durable
//
// The contract is what a careful WAL may rely on from a POSIX file system and
// no more: data written to a file is durable only after that file's Sync;
// a created, renamed or removed name is durable only after SyncDir of its
// directory; until then a crash may lose any of it, and unsynced bytes may
// survive in part (a prefix, or some 512-byte sectors and not others).
//
// Default() is the disk: pkg/fileutil's fdatasync, fallocate and
// open-file-description locks (held until the File is closed, and kept
// across a Rename of the file).
//
// Thread safety: FileSystem implementations are thread-safe. A File is not:
// use it from one thread at a time.

#ifndef ETCD_WAL_FILE_SYSTEM_H_
#define ETCD_WAL_FILE_SYSTEM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::wal {

// An open file. Closing (or destroying) it releases its lock, if any.
class File {
 public:
  virtual ~File() = default;

  // Reads up to `n` bytes at `offset` into `buf`; fewer only at the end of
  // the file.
  virtual absl::StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) = 0;

  // Writes all of `data` at `offset`, extending the file if needed.
  virtual absl::Status WriteAt(int64_t offset, absl::string_view data) = 0;

  // Makes the file's data and size durable (fdatasync).
  virtual absl::Status Sync() = 0;

  // Sets the size to `size`, dropping or zero-extending the tail.
  virtual absl::Status Truncate(int64_t size) = 0;

  // Extends the file to at least `size` bytes of zeros, with the disk space
  // reserved so later writes up to `size` cannot fail for lack of space.
  virtual absl::Status Preallocate(int64_t size) = 0;

  virtual absl::StatusOr<int64_t> Size() = 0;

  // Releases the lock and closes. Safe to call more than once.
  virtual absl::Status Close() = 0;
};

// Options of FileSystem::OpenLocked.
struct OpenOptions {
  // Create the file when it does not exist.
  bool create = false;
  // Empty the file after taking the lock.
  bool truncate = false;
  // Wait for another holder to release the lock instead of failing with an
  // error for which fileutil::IsLocked is true.
  bool wait_for_lock = false;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The disk. Never null, never destroyed.
  static FileSystem* Default();

  // Opens an existing file for reading only, without a lock.
  virtual absl::StatusOr<std::unique_ptr<File>> OpenForRead(const std::string& path) = 0;

  // Opens a file for reading and writing and takes its exclusive lock.
  virtual absl::StatusOr<std::unique_ptr<File>> OpenLocked(const std::string& path,
                                                           const OpenOptions& options) = 0;

  // The names in directory `dir`, sorted bytewise.
  virtual absl::StatusOr<std::vector<std::string>> ReadDir(const std::string& dir) = 0;

  virtual bool Exists(const std::string& path) = 0;

  // mkdir -p with mode 0700.
  virtual absl::Status CreateDirAll(const std::string& dir) = 0;

  // rename(2): replaces `to` if it exists (an empty directory, for
  // directories).
  virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;

  // Removes a file; NotFound if it does not exist.
  virtual absl::Status Remove(const std::string& path) = 0;

  // Removes a file or a directory tree; OK if it does not exist.
  virtual absl::Status RemoveAll(const std::string& path) = 0;

  // Makes creations, renames and removals in `dir` durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
};

// dir + "/" + name.
std::string JoinPath(absl::string_view dir, absl::string_view name);

// The directory part of `path` ("." when there is none); trailing slashes
// of `path` are ignored.
std::string DirName(absl::string_view path);

// `path` without trailing slashes (but "/" stays "/").
std::string CleanPath(absl::string_view path);

}  // namespace etcd::wal

#endif  // ETCD_WAL_FILE_SYSTEM_H_
