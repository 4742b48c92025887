#include "wal/file_pipeline.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "pkg/log/log.h"
#include "pkg/status/status_macros.h"

namespace etcd::wal::internal {

FilePipeline::FilePipeline(FileSystem* fs, std::string dir, int64_t file_size)
    : fs_(fs), dir_(std::move(dir)), file_size_(file_size) {
  absl::MutexLock lock(&join_mu_);
  thread_ = std::thread([this] { Run(); });
}

FilePipeline::~FilePipeline() { Close().IgnoreError(); }

absl::StatusOr<FilePipeline::PreparedFile> FilePipeline::Allocate() {
  // Alternate names, so this file never has the name of the one just handed
  // out (which the WAL may not have renamed yet).
  PreparedFile prepared;
  prepared.path = JoinPath(dir_, absl::StrCat(count_ % 2, ".tmp"));
  OpenOptions options;
  options.create = true;
  options.truncate = true;
  options.wait_for_lock = true;
  ASSIGN_OR_RETURN(prepared.file, fs_->OpenLocked(prepared.path, options));
  absl::Status status = prepared.file->Preallocate(file_size_);
  if (!status.ok()) {
    log::Warn("failed to preallocate space when creating a new WAL",
              {{"size", file_size_}, {"error", status}});
    prepared.file->Close().IgnoreError();
    return status;
  }
  ++count_;
  return prepared;
}

void FilePipeline::Run() {
  while (true) {
    absl::StatusOr<PreparedFile> prepared = Allocate();
    absl::MutexLock lock(&mu_);
    if (!prepared.ok()) {
      error_ = prepared.status();
      stopped_ = true;
      return;
    }
    ready_ = std::make_unique<PreparedFile>(*std::move(prepared));
    mu_.Await(absl::Condition(this, &FilePipeline::TakenOrClosing));
    if (closing_) {
      if (ready_ != nullptr) {
        ready_->file->Close().IgnoreError();
        fs_->Remove(ready_->path).IgnoreError();
        ready_.reset();
      }
      stopped_ = true;
      return;
    }
  }
}

absl::StatusOr<FilePipeline::PreparedFile> FilePipeline::Open() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &FilePipeline::ReadyOrStopped));
  if (ready_ == nullptr) {
    if (!error_.ok()) return error_;
    return absl::FailedPreconditionError("wal: file pipeline is closed");
  }
  PreparedFile prepared = std::move(*ready_);
  ready_.reset();
  return prepared;
}

absl::Status FilePipeline::Close() {
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  {
    absl::MutexLock lock(&join_mu_);
    if (thread_.joinable()) thread_.join();
  }
  absl::MutexLock lock(&mu_);
  return error_;
}

}  // namespace etcd::wal::internal
