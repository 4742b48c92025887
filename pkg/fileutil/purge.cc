#include "pkg/fileutil/purge.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/match.h"
#include "pkg/fileutil/errors.h"
#include "pkg/fileutil/fileutil.h"
#include "pkg/fileutil/lock.h"
#include "pkg/status/status_macros.h"

namespace etcd::fileutil {

absl::StatusOr<std::vector<std::string>> PurgeOnce(const std::string& dir, absl::string_view suffix,
                                                   size_t max) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ReadDir(dir));
  std::vector<std::string> candidates;
  for (std::string& name : names) {
    if (absl::EndsWith(name, suffix)) candidates.push_back(std::move(name));
  }
  std::vector<std::string> removed;
  // Only the oldest size - max names are considered, so at least `max` files
  // stay even when some vanish meanwhile.
  for (size_t i = 0; i + max < candidates.size(); ++i) {
    const std::string path = internal::JoinPath(dir, candidates[i]);
    absl::StatusOr<LockedFile> lock = TryLockFile(path, O_WRONLY, kPrivateFileMode);
    if (!lock.ok()) {
      if (IsLocked(lock.status())) break;             // in use, and so are newer files
      if (absl::IsNotFound(lock.status())) continue;  // already removed by someone else
      return lock.status();
    }
    // Removing while holding the lock: no one can lock it after us.
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return internal::ErrnoError(errno, "remove", path);
    }
    RETURN_IF_ERROR(lock->Close());
    removed.push_back(candidates[i]);
  }
  return removed;
}

FilePurger::FilePurger(Options options) : options_(std::move(options)) {
  absl::MutexLock lock(&join_mu_);
  thread_ = std::thread([this] { Run(); });
}

FilePurger::~FilePurger() { Stop(); }

void FilePurger::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  absl::MutexLock lock(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

absl::Status FilePurger::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

int64_t FilePurger::rounds() const {
  absl::MutexLock lock(&mu_);
  return rounds_;
}

void FilePurger::Run() {
  while (true) {
    absl::StatusOr<std::vector<std::string>> removed =
        PurgeOnce(options_.dir, options_.suffix, options_.max);
    if (!removed.ok()) {
      {
        absl::MutexLock lock(&mu_);
        status_ = removed.status();
        ++rounds_;
      }
      if (options_.on_error) options_.on_error(removed.status());
      return;
    }
    if (!removed->empty() && options_.on_purged) options_.on_purged(*removed);
    absl::MutexLock lock(&mu_);
    ++rounds_;
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval)) return;
  }
}

}  // namespace etcd::fileutil
