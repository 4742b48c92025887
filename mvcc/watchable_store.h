// The watchable store (etcd's mvcc.watchableStore): the KV store plus watch
// streams that report every change of a key or a key range as events, from a
// past revision or from now on.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::mvcc::WatchableStore> store,
//                    etcd::mvcc::WatchableStore::Open(backend.get()));
//   std::unique_ptr<etcd::mvcc::WatchStream> stream = store->NewWatchStream();
//   stream->SetNotifyCallback([&] { reactor->MaybeStartWrite(); });  // optional
//   ASSIGN_OR_RETURN(etcd::mvcc::WatchID id,
//                    stream->Watch(etcd::mvcc::kAutoWatchID, "a", "b", /*start_rev=*/0));
//   store->Put("a1", "v", etcd::mvcc::kNoLease);
//   while (std::optional<etcd::mvcc::WatchResponse> r = stream->Poll()) {
//     for (const etcd::mvcc::mvccpb::Event& ev : r->Events()) ...
//   }
//
// Delivery. Every write transaction with changes creates one revision; at its
// End() the store hands the revision's events to the watchers whose key or
// range they touch, in change order, one response per watcher (the events of a
// revision are never split across responses). A watcher sees every event at
// or after its start revision exactly once, in revision order, with no gap.
//
// Synced and unsynced watchers. A watcher created at the current revision (or
// with start_rev 0, or a future one) is "synced": the writer pushes events to
// it directly. One created at a past revision is "unsynced": a background
// thread catches it up from the backend every `sync_interval`, at most
// `max_watchers_per_sync` watchers and `sync_read_limit` stored changes per
// round (at most `max_revisions_per_response` revisions per response), and
// moves it to the synced group once it has everything up to the current
// revision. A watcher whose next revision has been compacted away gets one
// response with compact_revision set and is dropped from the store (its ID
// stays taken until Cancel).
//
// Slow consumers. Each stream has a bounded queue of responses
// (`queue_capacity`). When a watcher's response does not fit, the watcher is
// parked as a "victim" with that response and receives nothing else; a
// background thread retries victims when their stream's consumer has drained
// half the queue (and every `victim_retry_interval`), then returns them to
// the synced or unsynced group. Writers never wait for consumers.
//
// Consumers. Poll() never blocks. The notify callback (SetNotifyCallback) is
// called, on a store thread, when a response arrives in an empty queue; the
// consumer then polls until Poll() returns nothing. This fits the gRPC
// callback API (no thread per stream). WaitForResponse() blocks, for simple
// consumers and tests.
//
// Watch IDs, errors and the rest of the semantics are etcd 3.4's
// mvcc.WatchStream. prev_kv, which etcd's gRPC layer fills, is filled here:
// the key's value at mod_revision - 1, left unset when that revision has been
// compacted.
//
// Thread safety: WatchableStore and WatchStream are thread-safe. Every
// WatchStream must be destroyed before its store; transactions must be ended
// before Close. A thread holding a read transaction must not create watches
// or write (a backend map growth waits for readers, see backend.h).

#ifndef ETCD_MVCC_WATCHABLE_STORE_H_
#define ETCD_MVCC_WATCHABLE_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/mvccpb/kv.pb.h"
#include "mvcc/kv.h"
#include "mvcc/kvstore.h"
#include "mvcc/watcher_group.h"

namespace etcd::mvcc {

using WatchID = int64_t;

// Watch(kAutoWatchID, ...) picks the lowest unused ID, counting up from 0.
inline constexpr WatchID kAutoWatchID = 0;
// The watch_id of RequestProgressAll's response (etcd's -1).
inline constexpr WatchID kProgressAllWatchID = -1;

// etcd's WatchStream errors, by message.
absl::Status WatcherDuplicateIDError();  // "mvcc: duplicate watch ID provided on the WatchStream"
absl::Status EmptyWatcherRangeError();   // "mvcc: watcher range is empty"
absl::Status WatcherNotExistError();     // "mvcc: watcher does not exist"
bool IsWatcherDuplicateID(const absl::Status& status);
bool IsEmptyWatcherRange(const absl::Status& status);
bool IsWatcherNotExist(const absl::Status& status);

struct WatchOptions {
  // etcd's filters: drop PUT events, drop DELETE events.
  bool no_put = false;
  bool no_delete = false;
  // Fill Event.prev_kv with the key's value before the event's revision.
  bool prev_kv = false;
};

// One message from the store to a stream's consumer (etcd's mvcc
// WatchResponse). Kinds:
//   events:   Events() non-empty; revision is the store revision when sent.
//   compact:  compact_revision > 0, no events; the watcher has been dropped.
//   progress: neither; every event up to `revision` has been delivered (for
//             watch_id kProgressAllWatchID: to every watcher of the stream).
struct WatchResponse {
  WatchID watch_id = 0;
  // Immutable and shared between the responses of many watchers; null when
  // there are no events.
  std::shared_ptr<const std::vector<mvccpb::Event>> events;
  int64_t revision = 0;
  int64_t compact_revision = 0;

  const std::vector<mvccpb::Event>& Events() const;
};

struct WatchableStoreOptions {
  StoreOptions store;
  // Catch-up rounds for unsynced watchers (etcd: 100ms). A round starts
  // sooner when a watcher becomes unsynced, and right after a round that made
  // progress, yielding as long as the round took.
  absl::Duration sync_interval = absl::Milliseconds(100);
  // Unsynced watchers caught up per round (etcd: 512).
  int max_watchers_per_sync = 512;
  // Stored changes read from the backend per round (the last revision read
  // is always completed).
  int sync_read_limit = 10000;
  // Revisions per catch-up response (etcd's watchBatchMaxRevs: 1000).
  int max_revisions_per_response = 1000;
  // Victims are retried when their consumer drains its queue, and at least
  // this often.
  absl::Duration victim_retry_interval = absl::Milliseconds(10);
  // False: no catch-up thread, so unsynced watchers stay unsynced (only for
  // benchmarks of the unsynced group, like etcd's, and tests).
  bool run_sync_loop = true;
};

struct WatchStreamOptions {
  // Responses the stream holds before watchers become victims (etcd's
  // chanBufLen: 128).
  size_t queue_capacity = 128;
};

class WatchableStore;
namespace internal {
class StreamCore;
struct Watcher;
// Streams whose queue became non-empty: their callbacks run once no store
// lock is held.
using Wakes = std::vector<std::shared_ptr<StreamCore>>;
}  // namespace internal

// A set of watchers sharing one response queue (etcd's WatchStream).
// Thread-safe; created by WatchableStore::NewWatchStream and destroyed
// before the store.
class WatchStream {
 public:
  ~WatchStream();
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // Watches `key` (end empty), [key, end), or every key >= key (end "\0"),
  // from `start_rev` (0: from the next revision). `id` kAutoWatchID picks
  // one. Errors: IsWatcherDuplicateID, IsEmptyWatcherRange (an empty key
  // alone, or end <= key), InvalidArgument for a negative start_rev,
  // IsClosed after Close.
  absl::StatusOr<WatchID> Watch(WatchID id, absl::string_view key, absl::string_view end,
                                int64_t start_rev, const WatchOptions& options = {});

  // Removes the watcher; its responses still queued are discarded, so none
  // is polled after Cancel returns. IsWatcherNotExist for an unknown ID.
  absl::Status Cancel(WatchID id);

  // Queues a progress response for `id` (revision: the current revision)
  // if the watcher is synced and the queue has room; otherwise does nothing,
  // as in etcd.
  void RequestProgress(WatchID id);
  // Queues one progress response with watch_id kProgressAllWatchID if every
  // watcher of the stream is synced (etcd 3.5's RequestProgressAll); returns
  // whether it did.
  bool RequestProgressAll();

  // The next response, or nullopt when the queue is empty (or closed).
  std::optional<WatchResponse> Poll();
  // Moves up to `max` responses to `out`; returns how many.
  size_t PollBatch(size_t max, std::vector<WatchResponse>* out);
  // Blocks until a response is queued (true), or `timeout` passes or the
  // stream closes (false).
  bool WaitForResponse(absl::Duration timeout);
  // Responses queued now.
  size_t QueuedResponses() const;

  // `callback` runs on a store thread (a writer, the sync or victim thread)
  // each time a response is queued while the queue was empty, with no store
  // lock held. It must be quick and may call Poll and PollBatch, nothing
  // else of this stream. Replacing or clearing it (nullptr) waits for a
  // running call to finish; so does Close, after which it never runs.
  void SetNotifyCallback(std::function<void()> callback);

  // The store's current revision.
  int64_t Rev() const;

  // Cancels every watcher and empties the queue; Watch fails afterwards.
  void Close();

 private:
  friend class WatchableStore;
  WatchStream(WatchableStore* store, std::shared_ptr<internal::StreamCore> core);

  WatchableStore* const store_;
  const std::shared_ptr<internal::StreamCore> core_;
};

// The KV store with watches. See the file comment.
class WatchableStore final : public KV {
 public:
  // Opens the store on `backend` (borrowed; must outlive the store).
  static absl::StatusOr<std::unique_ptr<WatchableStore>> Open(backend::Backend* backend,
                                                              WatchableStoreOptions options = {});

  ~WatchableStore() override;
  WatchableStore(const WatchableStore&) = delete;
  WatchableStore& operator=(const WatchableStore&) = delete;

  std::unique_ptr<WatchStream> NewWatchStream(WatchStreamOptions options = {});

  // KV. Write transactions notify watchers at End().
  std::unique_ptr<TxnRead> Read() override;
  std::unique_ptr<TxnWrite> Write() override;
  int64_t FirstRev() override;
  int64_t Rev() override;
  absl::StatusOr<RangeResult> Range(absl::string_view key, absl::string_view end,
                                    const RangeOptions& options) override;
  DeleteResult DeleteRange(absl::string_view key, absl::string_view end) override;
  int64_t Put(absl::string_view key, absl::string_view value, int64_t lease) override;
  absl::StatusOr<HashResult> Hash() override;
  absl::StatusOr<HashKVResult> HashByRev(int64_t rev) override;
  absl::StatusOr<std::shared_ptr<CompactionFuture>> Compact(int64_t rev) override;
  void Commit() override;
  // Stops the background threads and the store.
  absl::Status Close() override;

  // Replaces the backend (a received snapshot); every synced watcher becomes
  // unsynced and catches up from the new data (etcd's Restore). No write
  // transaction may be open or begin meanwhile (the apply thread calls it).
  absl::Status Restore(backend::Backend* backend);

  // The wrapped store: consistent index, revisions, backend.
  Store* store() const { return store_.get(); }

  // Watchers per group (tests, metrics).
  struct WatcherCounts {
    size_t synced = 0;
    size_t unsynced = 0;
    size_t victims = 0;
  };
  WatcherCounts Counts() const;

 private:
  friend class WatchStream;
  friend class internal::StreamCore;
  class TxnWriteWrapper;
  using Wakes = internal::Wakes;

  WatchableStore(std::unique_ptr<Store> store, WatchableStoreOptions options);

  // Stream operations (WatchStream forwards).
  absl::StatusOr<WatchID> AddWatcher(internal::StreamCore* stream, WatchID id,
                                     absl::string_view key, absl::string_view end,
                                     int64_t start_rev, const WatchOptions& options);
  absl::Status CancelWatcher(internal::StreamCore* stream, WatchID id);
  void Progress(internal::StreamCore* stream, WatchID id, Wakes* wakes);
  bool ProgressAll(internal::StreamCore* stream, Wakes* wakes);
  void CloseStream(internal::StreamCore* stream);
  void RemoveWatcherLocked(internal::Watcher* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Delivers revision `rev`'s events to synced watchers; `prev` looks up a
  // key's previous value in the writing transaction.
  void NotifyLocked(
      int64_t rev, const std::vector<mvccpb::Event>& events,
      const std::function<std::optional<mvccpb::KeyValue>(const mvccpb::KeyValue&)>& prev,
      Wakes* wakes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Parks `w` with `response`.
  void AddVictimLocked(internal::Watcher* w, WatchResponse response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // One catch-up round; returns whether it made progress.
  bool SyncWatchersLocked(Wakes* wakes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Retries victims; returns how many were delivered.
  size_t MoveVictimsLocked(Wakes* wakes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void SyncLoop();
  void VictimLoop();
  void KickSync();
  void KickVictims();
  static void FireWakes(Wakes* wakes);

  const WatchableStoreOptions options_;
  const std::unique_ptr<Store> store_;

  // Guards the watcher groups, every Watcher and the streams' watcher maps
  // and victims. Lock order: a backend batch lock, then mu_, then a stream's
  // queue lock.
  mutable absl::Mutex mu_;
  // The last revision handed to the synced watchers: writers set it while
  // notifying, before the store publishes the revision, so a new watcher
  // created meanwhile starts after it.
  int64_t notified_rev_ ABSL_GUARDED_BY(mu_) = 0;
  internal::WatcherGroup synced_ ABSL_GUARDED_BY(mu_){/*track_members=*/false};
  internal::WatcherGroup unsynced_ ABSL_GUARDED_BY(mu_);
  size_t victim_count_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<internal::StreamCore*> victim_streams_ ABSL_GUARDED_BY(mu_);
  size_t open_streams_ ABSL_GUARDED_BY(mu_) = 0;
  // Where the next sync round starts in the unsynced group (fairness).
  size_t sync_cursor_ ABSL_GUARDED_BY(mu_) = 0;

  // Wake-ups of the background threads.
  absl::Mutex kick_mu_;
  bool stopping_ ABSL_GUARDED_BY(kick_mu_) = false;
  bool sync_kicked_ ABSL_GUARDED_BY(kick_mu_) = false;
  bool victims_kicked_ ABSL_GUARDED_BY(kick_mu_) = false;
  std::thread sync_thread_;
  std::thread victim_thread_;
  bool closed_ = false;
};

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_WATCHABLE_STORE_H_
