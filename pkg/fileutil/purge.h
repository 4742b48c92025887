// Retention of WAL and snapshot files: keep the newest N, delete older ones
// unless someone still has them locked.
//
//   // Once:
//   ASSIGN_OR_RETURN(std::vector<std::string> removed,
//                    etcd::fileutil::PurgeOnce(wal_dir, ".wal", 5));
//
//   // In the background, every 30 s, until Stop or destruction:
//   etcd::fileutil::FilePurger::Options options;
//   options.dir = snap_dir;
//   options.suffix = ".snap";
//   options.max = 5;
//   options.on_error = [](const absl::Status& s) { /* etcd exits here */ };
//   etcd::fileutil::FilePurger purger(std::move(options));
//
// "Newest" is by file name: names ending in `suffix` are sorted bytewise and
// the last `max` are kept, which is creation order for etcd's zero-padded
// names (0000000000000001-0000000000000010.wal). Before removing a file the
// purger takes its exclusive lock without waiting (see lock.h); a file locked
// by someone else, such as a WAL segment the WAL writer still holds, is never
// removed, and purging stops there for the round: the newer files after it
// are in use too, and removing them would leave a hole in the sequence. This
// is what etcd's PurgeFile does.

#ifndef ETCD_PKG_FILEUTIL_PURGE_H_
#define ETCD_PKG_FILEUTIL_PURGE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcd::fileutil {

// One purge round over `dir`: returns the names (not paths) removed, oldest
// first. Thread-safe; concurrent rounds on one directory are safe but
// pointless.
absl::StatusOr<std::vector<std::string>> PurgeOnce(const std::string& dir, absl::string_view suffix,
                                                   size_t max);

// Runs PurgeOnce on a background thread: a round at start, then one per
// interval. A failed round stops the purger (like etcd's, whose error channel
// the server treats as fatal); status() and on_error report it.
//
// Thread-safe: Stop, status and rounds may be called from any thread. The
// callbacks run on the purger's thread and must not call Stop or destroy the
// purger.
class FilePurger {
 public:
  struct Options {
    std::string dir;
    std::string suffix;
    // Files to keep.
    size_t max = 5;
    // Time between the end of one round and the start of the next.
    absl::Duration interval = absl::Seconds(30);
    // Called after a round that removed files, with their names.
    std::function<void(const std::vector<std::string>& removed)> on_purged;
    // Called once with the error that stopped the purger.
    std::function<void(const absl::Status& error)> on_error;
  };

  // Starts the thread.
  explicit FilePurger(Options options);
  FilePurger(const FilePurger&) = delete;
  FilePurger& operator=(const FilePurger&) = delete;
  // Stops and joins the thread.
  ~FilePurger();

  // Asks the thread to finish, waits for a round in progress and joins.
  // Idempotent.
  void Stop();

  // OK while running or after a clean Stop; the error that stopped it
  // otherwise.
  absl::Status status() const;

  // Rounds completed, successful or not.
  int64_t rounds() const;

 private:
  void Run();

  const Options options_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  int64_t rounds_ ABSL_GUARDED_BY(mu_) = 0;
  // Serializes Stop callers around join().
  absl::Mutex join_mu_;
  std::thread thread_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace etcd::fileutil

#endif  // ETCD_PKG_FILEUTIL_PURGE_H_
