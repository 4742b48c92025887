// Drives a WatchableStore and a KvModel with the same random operations
// (puts, deletes, multi-op transactions, compactions) while random watchers
// come and go on a few streams with small queues (so slow watchers become
// victims) and small catch-up batches (so unsynced watchers catch up over
// many rounds). At the end every response each watcher received is checked
// against the events the model says it should get: every event at or after
// its start revision exactly once, in revision order, the events of one
// revision in one response, filters and prev_kv applied, and a compaction
// notice only for a watcher that had fallen behind a compaction.
//
//   RandomChoices choices(seed);
//   ASSERT_OK_AND_ASSIGN(auto checker, WatchChecker::Create(dir.path()));
//   for (int i = 0; i < 500; ++i) ASSERT_OK(checker->Step(choices));
//   ASSERT_OK(checker->Finish());
//
// One documented tolerance, etcd's behaviour: compacting at revision C keeps
// only what the state at C needs, so a watcher catching up exactly at C may
// miss changes of revision C that a later change of the same revision
// overwrote (or deletions at C); the events of a compaction revision are
// checked to be a subsequence of the model's. A prev_kv may be missing when
// the previous revision has been compacted.
//
// Used by the randomized test and the fuzz target. Thread-compatible.

#ifndef ETCD_MVCC_WATCH_CHECKER_H_
#define ETCD_MVCC_WATCH_CHECKER_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mvcc/backend/backend.h"
#include "mvcc/kv_model.h"
#include "mvcc/model_checker.h"
#include "mvcc/watchable_store.h"

namespace etcd::mvcc {

// What a watcher asked for.
struct WatchSpec {
  std::string key;
  std::string end;
  // The first revision it must see (its start revision, or the next one for
  // a watch from now).
  int64_t from_rev = 0;
  WatchOptions options;
};

// The events `spec` must get from the model, in order (filters applied,
// prev_kv filled when asked for).
std::vector<mvccpb::Event> ExpectedEvents(const KvModel& model, const WatchSpec& spec);

// Checks `responses` of one watcher against the model; `compactions` are the
// revisions compacted at during the run. With `complete`, the watcher must
// have received every expected event (unless compacted).
absl::Status CheckWatchResponses(const KvModel& model, const WatchSpec& spec,
                                 const std::vector<WatchResponse>& responses,
                                 const std::set<int64_t>& compactions, bool complete);

class WatchChecker {
 public:
  static absl::StatusOr<std::unique_ptr<WatchChecker>> Create(const std::string& dir);
  ~WatchChecker();

  // One random operation.
  absl::Status Step(Choices& choices);
  // Waits until every watcher has caught up, then checks them all.
  absl::Status Finish();
  // The operations so far, one a line.
  std::string Trace() const;

 private:
  struct Tracked {
    size_t stream = 0;
    WatchID id = 0;
    WatchSpec spec;
    std::vector<WatchResponse> responses;
    bool canceled = false;
  };

  WatchChecker() = default;
  void Drain(size_t stream, size_t max);
  void Log(std::string line);

  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<WatchableStore> store_;
  std::vector<std::unique_ptr<WatchStream>> streams_;
  std::vector<Tracked> watchers_;
  KvModel model_;
  std::set<int64_t> compactions_;
  std::vector<std::string> trace_;
};

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_WATCH_CHECKER_H_
