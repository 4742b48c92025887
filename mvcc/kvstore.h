// The MVCC key-value store on a backend (etcd's mvcc.store).
//
//   etcd::mvcc::backend::BackendOptions backend_options;
//   backend_options.path = db_path;
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::mvcc::backend::Backend> be,
//                    etcd::mvcc::backend::Backend::Open(backend_options));
//   etcd::mvcc::StoreOptions options;
//   options.lessor = lessor;  // optional
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::mvcc::Store> store,
//                    etcd::mvcc::Store::Open(be.get(), options));
//
//   // The apply loop: record the entry's index, then apply it.
//   store->SetConsistentIndex(entry.index());
//   int64_t rev = store->Put("foo", "bar", etcd::mvcc::kNoLease);
//
// Layout in the backend (etcd's): the "key" bucket maps each change's
// revision key (revision.h) to its mvccpb.KeyValue (a deletion: the
// tombstone key and a KeyValue with only the key); the "meta" bucket holds
// "consistent_index" (8 bytes big-endian), "scheduledCompactRev" and
// "finishedCompactRev" (revision keys). Open rebuilds the in-memory index
// from the key bucket, re-attaches leases, and resumes a compaction that was
// scheduled but not finished.
//
// Consistent index. SetConsistentIndex records the raft index of the entry
// being applied; every write transaction that changes something stores the
// latest recorded value in the meta bucket within the same batch transaction
// as its changes, and Commit() stores it too. So the durable consistent index
// always describes exactly the entries whose changes are durable, and a
// restarted member replays the entries after it.
//
// Compaction. Compact(rev) persists "scheduledCompactRev" (ForceCommit),
// then a background thread compacts the index (in chunks, so writers are not
// stalled) and deletes the unneeded revisions from the key bucket in batches
// of `compaction_batch_limit`, committing each batch and pausing
// `compaction_sleep_interval` between batches; it finally writes
// "finishedCompactRev". After a crash Open resumes it.
//
// Thread-safe. The backend must outlive the store. Transactions must be
// ended before Close.

#ifndef ETCD_MVCC_KVSTORE_H_
#define ETCD_MVCC_KVSTORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mvcc/backend/backend.h"
#include "mvcc/index.h"
#include "mvcc/kv.h"

namespace etcd::mvcc {

// Meta bucket keys.
inline constexpr absl::string_view kConsistentIndexKey = "consistent_index";
inline constexpr absl::string_view kScheduledCompactKey = "scheduledCompactRev";
inline constexpr absl::string_view kFinishedCompactKey = "finishedCompactRev";

struct StoreOptions {
  // Revisions deleted from the backend per batch while compacting (etcd's
  // --experimental-compaction-batch-limit).
  int compaction_batch_limit = 1000;
  // Pause between compaction batches, letting writers in (etcd: 10ms).
  absl::Duration compaction_sleep_interval = absl::Milliseconds(10);
  // Told about leases of written and deleted keys; may be null (leases are
  // then only recorded in the key-values). Borrowed: must outlive the store.
  LeaseAttacher* lessor = nullptr;
};

namespace internal {
class StoreTxnRead;
class StoreTxnWrite;
}  // namespace internal

class Store final : public KV {
 public:
  // Opens the store on `backend` (borrowed), restoring its state. DataLoss if
  // the key or meta bucket holds records that do not decode.
  static absl::StatusOr<std::unique_ptr<Store>> Open(backend::Backend* backend,
                                                     StoreOptions options = {});

  ~Store() override;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // KV.
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
  absl::Status Close() override;

  // Replaces the backend with `backend` (a received snapshot) and restores
  // from it; background work on the old one is stopped first.
  absl::Status Restore(backend::Backend* backend);

  // Records the index of the raft entry being applied; see the header
  // comment.
  void SetConsistentIndex(uint64_t index);
  // The last recorded (or, after Open, stored) consistent index.
  uint64_t ConsistentIndex() const;

  // The current and the compacted revision (-1 before any compaction).
  int64_t CurrentRev() const;
  int64_t CompactRev() const;

  backend::Backend* backend() const;
  // The in-memory index (read-only use: tests, debugging).
  const TreeIndex& index() const;

 private:
  friend class internal::StoreTxnRead;
  friend class internal::StoreTxnWrite;

  Store(backend::Backend* backend, StoreOptions options);

  // Rebuilds everything from backend_; no operation may be in flight.
  absl::Status RestoreLocked();
  absl::Status RestoreFrom(backend::Backend* backend);

  // Every operation (transaction, compaction, hash, commit) is bracketed by
  // BeginOp/EndOp, which wait while Restore replaces the backend.
  void BeginOp();
  void EndOp();
  class OpGuard {
   public:
    explicit OpGuard(Store* store) : store_(store) { store_->BeginOp(); }
    ~OpGuard() { store_->EndOp(); }

   private:
    Store* const store_;
  };
  // Checks `rev` and persists it as the scheduled compaction.
  absl::Status UpdateCompactRev(int64_t rev);
  // Queues the background compaction at `rev`.
  std::shared_ptr<CompactionFuture> ScheduleCompaction(int64_t rev);
  // Deletes what compaction at `rev` leaves unneeded from the key bucket.
  // False if the store closed meanwhile.
  bool CompactBackend(int64_t rev, const absl::flat_hash_set<Revision>& keep);
  // Writes the consistent index into the batch if it changed.
  void SaveIndexLocked(backend::BatchTx* tx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tx);

  // The compaction worker.
  void StartWorker();
  void StopWorker();
  void RunWorker();

  const StoreOptions options_;

  // Counts operations in flight so that Restore can wait for none; unlike
  // etcd's RWMutex held for a transaction's lifetime, a thread may hold a
  // read transaction while it writes.
  absl::Mutex mu_;
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool restoring_ ABSL_GUARDED_BY(mu_) = false;
  // Replaced only by Restore, while no operation is in flight.
  backend::Backend* backend_;
  std::unique_ptr<TreeIndex> index_;

  // Serialises compactions (the check, the persisted mark and the order of
  // the background jobs) and keeps them out of HashByRev's snapshot.
  absl::Mutex compact_mu_;

  mutable absl::Mutex rev_mu_;
  // The revision of the last write transaction (1 for an empty store).
  int64_t current_rev_ ABSL_GUARDED_BY(rev_mu_) = 1;
  // The last revision compaction was scheduled at; -1 for none.
  int64_t compact_main_rev_ ABSL_GUARDED_BY(rev_mu_) = -1;

  std::atomic<uint64_t> consistent_index_{0};
  // What the meta bucket holds (or will after the batch commits); guarded
  // by the backend's batch lock.
  uint64_t saved_consistent_index_ = 0;

  // Background compactions, run one at a time in order.
  absl::Mutex worker_mu_;
  std::deque<std::function<void(bool cancelled)>> jobs_ ABSL_GUARDED_BY(worker_mu_);
  bool stopping_ ABSL_GUARDED_BY(worker_mu_) = false;
  std::thread worker_;
  bool closed_ = false;
};

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_KVSTORE_H_
