// Internal: prepares the next segment file in the background, so cutting a
// segment does not wait for a 64 MB preallocation.
//
//   internal::FilePipeline pipeline(fs, dir, 64 * 1000 * 1000);
//   ASSIGN_OR_RETURN(internal::FilePipeline::PreparedFile next, pipeline.Open());
//   // next.file is locked and preallocated; rename next.path before the
//   // following Open, which reuses the name of the one before.
//   RETURN_IF_ERROR(pipeline.Close());
//
// Files are named "0.tmp" and "1.tmp" alternately in `dir`, opened with an
// exclusive lock, emptied (a file left by a crash may hold old records) and
// preallocated to the segment size. A failed preparation stops the pipeline:
// that Open and every later one return the error. Close removes a prepared
// file nobody took and joins the thread.
//
// Thread-safe: Open and Close may be called from any thread, though the WAL
// calls them from one.

#ifndef ETCD_WAL_FILE_PIPELINE_H_
#define ETCD_WAL_FILE_PIPELINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "wal/file_system.h"

namespace etcd::wal::internal {

class FilePipeline {
 public:
  struct PreparedFile {
    std::unique_ptr<File> file;
    std::string path;
  };

  // Starts preparing the first file. Borrows `fs`.
  FilePipeline(FileSystem* fs, std::string dir, int64_t file_size);
  FilePipeline(const FilePipeline&) = delete;
  FilePipeline& operator=(const FilePipeline&) = delete;
  // Close().
  ~FilePipeline();

  // Waits for the prepared file and takes it; the next is started at once.
  absl::StatusOr<PreparedFile> Open();

  // Stops the thread, removing an untaken file; returns the error that
  // stopped it early, if any. Idempotent.
  absl::Status Close();

 private:
  void Run();
  absl::StatusOr<PreparedFile> Allocate();
  bool TakenOrClosing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return ready_ == nullptr || closing_;
  }
  bool ReadyOrStopped() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return ready_ != nullptr || stopped_;
  }

  FileSystem* const fs_;
  const std::string dir_;
  const int64_t file_size_;
  // Files made so far; only the thread touches it.
  int count_ = 0;

  absl::Mutex mu_;
  // The prepared file waiting to be taken.
  std::unique_ptr<PreparedFile> ready_ ABSL_GUARDED_BY(mu_);
  // Why the thread stopped preparing files.
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;  // the thread has returned
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex join_mu_;
  std::thread thread_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace etcd::wal::internal

#endif  // ETCD_WAL_FILE_PIPELINE_H_
