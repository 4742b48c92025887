// Testing only: an in-memory FileSystem that remembers what has been made
// durable and can simulate a crash, in the spirit of LevelDB's
// fault_injection_test.
//
//   etcd::wal::FaultFileSystem fs;
//   fs.MakeDurableDir("/data");
//   fs.CrashAfter(12);  // the 13th counted operation, and all after it, fail
//   ...run the WAL with Options{.fs = &fs} until it fails...
//   for (const auto& file : fs.UnsyncedFiles()) {
//     // Keep the first 100 unsynced bytes of this file, drop the rest:
//     std::unique_ptr<etcd::wal::FaultFileSystem> after = fs.CloneAfterCrash(
//         [&](const std::string& path, const std::string& durable,
//             const std::string& current) {
//           return path == file.path ? etcd::wal::FaultFileSystem::KeepPrefix(
//                                          durable, current, file.first_diff + 100)
//                                    : durable;
//         });
//     ...recover from *after...
//   }
//
// Model. Every file has a current content (what reads see) and a durable
// content (what it held at its last Sync). Every directory has current
// entries and durable entries (as of its last SyncDir). A crash keeps the
// durable entries of every directory reachable from the root through
// durable entries, and for each file the content the crash policy returns
// given its durable and current content; the helpers build the usual
// policies: drop every unsynced byte, keep a prefix of them, or lose one
// 512-byte sector of them. Locks are per open (like OFD locks) and vanish
// in a crash.
//
// Operations that change state are counted; CrashAfter(n) lets n more of
// them succeed and fails every operation after that (the process is dead),
// so a test can stop a workload at every point. Opening and preallocating
// the WAL pipeline's "<n>.tmp" files are not counted, since they run on a
// background thread at times that vary from run to run.
//
// Thread-safe.

#ifndef ETCD_WAL_FAULT_FILE_SYSTEM_H_
#define ETCD_WAL_FAULT_FILE_SYSTEM_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "wal/file_system.h"

namespace etcd::wal {

class FaultFileSystem : public FileSystem {
 public:
  // Decides a file's content after a crash from its path (the durable one),
  // its durable content and its current content.
  using CrashPolicy = std::function<std::string(const std::string& path, const std::string& durable,
                                                const std::string& current)>;

  // A file whose current content differs from its durable content.
  struct UnsyncedFile {
    std::string path;
    // The first and one past the last byte offset where they differ.
    int64_t first_diff = 0;
    int64_t end_diff = 0;
  };

  FaultFileSystem();
  ~FaultFileSystem() override;

  // FileSystem. Paths are absolute ("/data/wal/...").
  absl::StatusOr<std::unique_ptr<File>> OpenForRead(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<File>> OpenLocked(const std::string& path,
                                                   const OpenOptions& options) override;
  absl::StatusOr<std::vector<std::string>> ReadDir(const std::string& dir) override;
  bool Exists(const std::string& path) override;
  absl::Status CreateDirAll(const std::string& dir) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status Remove(const std::string& path) override;
  absl::Status RemoveAll(const std::string& path) override;
  absl::Status SyncDir(const std::string& dir) override;

  // Creates `dir` and its parents, all durable.
  void MakeDurableDir(const std::string& dir);

  // Lets `ops` more counted operations succeed, then fails everything.
  // Negative: never crash (the default).
  void CrashAfter(int64_t ops);
  // Whether the crash point has been reached.
  bool crashed() const;
  // Counted operations so far.
  int64_t ops() const;

  // File Syncs that succeeded so far.
  int64_t file_syncs() const;
  // Makes every file Sync fail with `error` (and not sync) until called
  // again with OK; the failing Syncs still count as operations.
  void SetSyncError(absl::Status error);

  // Files with unsynced bytes, reachable through durable entries.
  std::vector<UnsyncedFile> UnsyncedFiles() const;

  // A new file system in the state a crash now would leave, with `policy`
  // deciding file contents. This one is unchanged.
  std::unique_ptr<FaultFileSystem> CloneAfterCrash(const CrashPolicy& policy) const;

  // Whole-file access for tests that damage files on purpose.
  absl::StatusOr<std::string> ReadFile(const std::string& path) const;
  // Replaces a file's content, durably.
  absl::Status WriteFile(const std::string& path, const std::string& content);

  // Policies' building blocks. `durable` with the first `n` bytes taken from
  // `current` (n at most current's size; the size stays the larger of
  // durable's and n, except that n == current's size gives `current`).
  static std::string KeepPrefix(const std::string& durable, const std::string& current, int64_t n);
  // `current` with the unsynced bytes of sector `sector` (512 bytes) put
  // back to their durable value (zeros past durable's end).
  static std::string LoseSector(const std::string& durable, const std::string& current,
                                int64_t sector);
  // Drop every unsynced byte.
  static std::string KeepDurable(const std::string& path, const std::string& durable,
                                 const std::string& current) {
    return durable;
  }

 private:
  struct Node;
  class FaultFile;

  // Whether an operation may run; counts it when `count`.
  absl::Status Admit(bool count) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The node at `path` through current entries; null if missing.
  std::shared_ptr<Node> Lookup(const std::string& path) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CreateDirAllLocked(const std::string& dir, bool durable)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::shared_ptr<Node> root_ ABSL_GUARDED_BY(mu_);
  int64_t ops_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t crash_at_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t file_syncs_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status sync_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::wal

#endif  // ETCD_WAL_FAULT_FILE_SYSTEM_H_
