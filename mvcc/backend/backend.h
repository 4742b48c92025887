// The member's storage backend: etcd's buckets in one LMDB file, written in
// batches, read through consistent snapshots.
//
//   etcd::mvcc::backend::BackendOptions options;
//   options.path = data_dir + "/member/snap/db";
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::mvcc::backend::Backend> be,
//                    etcd::mvcc::backend::Backend::Open(options));
//
//   // Writer (the apply thread): everything between Lock and Unlock is one
//   // batch transaction, visible to new readers at Unlock.
//   etcd::mvcc::backend::BatchTx* tx = be->batch_tx();
//   tx->Lock();
//   tx->UnsafePut(Bucket::kMeta, "consistent_index", index_bytes);
//   tx->Unlock();
//
//   // Readers (any thread): a snapshot that includes every unlocked write,
//   // committed to disk or not.
//   std::unique_ptr<etcd::mvcc::backend::ReadTx> rtx = be->ConcurrentReadTx();
//   std::optional<absl::string_view> v = rtx->UnsafeGet(Bucket::kMeta, "consistent_index");
//
//   be->ForceCommit();  // durable now (fsync), instead of within the batch interval
//
// Durability. Writes are kept in memory and committed to LMDB in one
// transaction (one fsync of the data and one of the meta page) every
// `batch_interval`, after `batch_limit` writes, on ForceCommit, before a
// snapshot or defragmentation, and on Close. A crash loses the writes of the
// batch not yet committed and nothing else: LMDB's copy-on-write B-tree never
// overwrites the last committed state, so the file always opens at the last
// commit. Callers that need "applied up to X" to be durable store X in the same
// batch (the consistent index in the meta bucket) and replay from there.
//
// Design (see docs/storage.md). LMDB allows one write transaction at a time,
// bound to the thread that began it, and any number of read transactions that
// never block it. The backend therefore never holds an LMDB write transaction
// outside a commit: BatchTx writes go to an in-memory, multi-versioned buffer
// of the current batch (TxBuffer), and a commit applies the buffer in one LMDB
// write transaction on the committing thread. After each commit the backend
// opens one LMDB read transaction for the new state and starts an empty
// buffer; together they form a "generation". A reader captures the current
// generation and the buffer's published sequence number: it reads the buffer
// (the newest write visible at its sequence) and falls back to the
// generation's LMDB snapshot, so it sees exactly the batch transactions
// unlocked before it began, whether committed or not, and never blocks the
// writer (it only takes the buffer's reader lock for a lookup). The writer
// reads the same way at the newest sequence, so it sees its own writes.
//
// The LMDB map (the address range the file is mapped at) starts at
// `initial_map_size` and doubles whenever a commit finds it full. Changing the
// map requires that no read transaction is open in the process, so growth,
// Defrag and Close wait until every ReadTx and Snapshot has been destroyed
// (new readers wait meanwhile). Keep ReadTx objects short-lived; never hold
// one on a thread that then commits.
//
// The file is one LMDB environment opened with MDB_NOSUBDIR: `path` plus
// LMDB's `path`-lock. The backend takes an exclusive OFD lock on `path` for
// as long as it is open, so a second process (or a second Open in this one)
// gets an error for which IsLocked() is true.
//
// Keys of every bucket are at most MaxKeySize() (511) bytes, LMDB's limit;
// etcd's own keys in buckets are revisions, IDs and names, far below it.
//
// Thread safety: Backend is thread-safe. BatchTx is a lock: its Unsafe*
// methods require it to be held. A ReadTx or Snapshot may be used by one
// thread at a time; many may exist at once. Every ReadTx and Snapshot must be
// destroyed before the Backend.

#ifndef ETCD_MVCC_BACKEND_BACKEND_H_
#define ETCD_MVCC_BACKEND_BACKEND_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "mvcc/backend/bucket.h"
#include "pkg/fileutil/lock.h"

struct MDB_env;

namespace etcd::mvcc::backend {

namespace internal {
class Generation;
class TxBuffer;
}  // namespace internal

class Backend;

struct BackendOptions {
  // The database file, e.g. "<data-dir>/member/snap/db". Its directory must
  // exist; the file is created if missing.
  std::string path;
  // Commit at least this often while there are uncommitted writes (etcd's
  // --backend-batch-interval, 100ms).
  absl::Duration batch_interval = absl::Milliseconds(100);
  // Commit when a batch reaches this many writes (etcd's
  // --backend-batch-limit, 10000).
  int batch_limit = 10000;
  // The LMDB map size to start with. It is only reserved address space, not
  // memory or disk, and it grows by doubling when full; etcd's bolt backend
  // maps 10 GiB up front for the same reason.
  int64_t initial_map_size = int64_t{10} << 30;
  // Skip fsync on commit (etcd's --unsafe-no-fsync): a crash of the machine,
  // not just the process, can then lose or corrupt the file.
  bool unsafe_no_fsync = false;
  // LMDB reader slots (concurrent read transactions in this process).
  int max_readers = 1024;
  // Called after each commit that wrote something, with how long the
  // commit took (etcd's etcd_disk_backend_commit_duration_seconds). Runs
  // under the backend's lock: keep it short.
  std::function<void(absl::Duration)> on_commit;
};

// A key and value borrowed from a transaction; see the owning call for how
// long they stay valid.
struct KeyValueView {
  absl::string_view key;
  absl::string_view value;
};

// Reads of one consistent state. The views returned stay valid for the
// lifetime of a ConcurrentReadTx, and until Unlock or a commit for BatchTx.
class ReadTx {
 public:
  virtual ~ReadTx() = default;

  // The value of `key`, or nullopt.
  virtual std::optional<absl::string_view> UnsafeGet(Bucket bucket, absl::string_view key) = 0;

  // Keys in [key, end) in ascending order, at most `limit` of them (no limit
  // when <= 0). An empty `end` means just `key` (etcd's nil end).
  virtual std::vector<KeyValueView> UnsafeRange(Bucket bucket, absl::string_view key,
                                                absl::string_view end, int64_t limit) = 0;

  // Calls `visit` for every pair of `bucket` in key order; stops at and
  // returns the first error it returns.
  virtual absl::Status UnsafeForEach(
      Bucket bucket,
      absl::FunctionRef<absl::Status(absl::string_view key, absl::string_view value)> visit) = 0;
};

// The batch transaction: one per backend, shared by every writer, which take
// turns through Lock/Unlock (etcd's BatchTx). Obtained from
// Backend::batch_tx(); owned by the Backend.
class ABSL_LOCKABLE BatchTx final : public ReadTx {
 public:
  BatchTx(const BatchTx&) = delete;
  BatchTx& operator=(const BatchTx&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION();
  // Publishes the writes made since Lock (new readers see them), commits if
  // the batch has reached the batch limit, and releases the lock.
  void Unlock() ABSL_UNLOCK_FUNCTION();

  // Makes the writes so far visible to readers that start from now on,
  // without unlocking. Unlock does it anyway.
  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);

  // Writes. Keys longer than MaxKeySize() abort the process.
  void UnsafePut(Bucket bucket, absl::string_view key, absl::string_view value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);
  // A put whose key sorts after every key already in the bucket (etcd's
  // sequential revision keys); written with LMDB's append fast path.
  void UnsafeSeqPut(Bucket bucket, absl::string_view key, absl::string_view value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);
  // Deleting a missing key is not an error.
  void UnsafeDelete(Bucket bucket, absl::string_view key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);

  // Reads see every write of the batch, the caller's own included.
  std::optional<absl::string_view> UnsafeGet(Bucket bucket, absl::string_view key) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);
  std::vector<KeyValueView> UnsafeRange(Bucket bucket, absl::string_view key, absl::string_view end,
                                        int64_t limit) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);
  absl::Status UnsafeForEach(
      Bucket bucket,
      absl::FunctionRef<absl::Status(absl::string_view key, absl::string_view value)> visit)
      override ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);

  // Commits the batch now (takes and releases the lock).
  void Commit() ABSL_LOCKS_EXCLUDED(this);
  // Commits the batch while the lock is held.
  void CommitLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);

  // Writes in the batch not yet committed.
  int pending() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);

 private:
  friend class Backend;
  explicit BatchTx(Backend* backend) : backend_(backend) {}

  Backend* const backend_;
};

// A point-in-time copy of the whole database file, streamed while writes go
// on (etcd's backend.Snapshot). Created by Backend::NewSnapshot; holds an LMDB
// read transaction (pinning the pages it copies) until destroyed, which must
// happen before the Backend is destroyed.
class Snapshot {
 public:
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // Bytes WriteTo produces.
  int64_t Size() const { return size_; }

  // Streams the file to `sink` in chunks; stops at the first error. The
  // result is a valid database file that Backend::Open opens at the state of
  // the moment NewSnapshot returned. May be called more than once.
  absl::Status WriteTo(absl::FunctionRef<absl::Status(absl::string_view chunk)> sink);
  // Streams the file to a descriptor (a file, pipe or socket).
  absl::Status WriteTo(int fd);

 private:
  friend class Backend;
  Snapshot(Backend* backend, void* txn, int fd, std::string meta, int64_t size)
      : backend_(backend), txn_(txn), fd_(fd), meta_(std::move(meta)), size_(size) {}

  Backend* const backend_;
  void* const txn_;         // MDB_txn*, read-only
  const int fd_;            // a duplicate of the database file's descriptor
  const std::string meta_;  // LMDB's two meta pages as of the snapshot
  const int64_t size_;
};

// A key Hash leaves out (etcd's IgnoreKey).
struct IgnoreKey {
  Bucket bucket;
  std::string key;
};

class Backend {
 public:
  // Opens (creating if needed) the database at options.path. Errors name the
  // path: NotFound (missing directory), PermissionDenied (unreadable or
  // unwritable file), DataLoss (not a database, or corrupt), Unavailable with
  // IsLocked() (another process has it open), InvalidArgument (options).
  static absl::StatusOr<std::unique_ptr<Backend>> Open(BackendOptions options);

  // Closes if Close has not been called.
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  BatchTx* batch_tx() { return &batch_tx_; }

  // A snapshot of every batch transaction unlocked so far, committed or not
  // (etcd's ConcurrentReadTx). Never blocks on the writer; waits only while
  // the map grows or the file is swapped by Defrag.
  std::unique_ptr<ReadTx> ConcurrentReadTx();

  // Commits the current batch and waits until it is durable.
  void ForceCommit();

  // Commits the batch, then pins the committed state and returns a copy
  // source for it (etcd's Snapshot).
  absl::StatusOr<std::unique_ptr<Snapshot>> NewSnapshot();

  // CRC-32C (Castagnoli) over every bucket in name order: the bucket name,
  // then each key and value, skipping `ignores` (etcd's backend.Hash). Covers
  // the batch transactions unlocked so far.
  absl::StatusOr<uint32_t> Hash(absl::Span<const IgnoreKey> ignores);

  // Rewrites the file with every pair densely packed and no free pages (like
  // etcd's defrag, a key-ordered copy of each bucket) and swaps it in place. Holds the batch lock
  // throughout, so writers wait; readers wait only for the swap. Everything committed before stays;
  // a crash at any point leaves either the old or the new file, both complete.
  absl::Status Defrag();

  // Replaces the database with the complete database file `file` (a
  // snapshot received from the leader), renamed over path(): checks that
  // `file` is a database with the meta bucket first (DataLoss if not, and
  // nothing changes), commits the batch, waits for readers like Defrag and
  // reopens. Callers reload whatever they keep in memory.
  absl::Status ReplaceWith(const std::string& file);

  // Size of the database file in bytes, as of the last commit.
  int64_t Size() const { return size_.load(std::memory_order_relaxed); }
  // Bytes of the file holding live data (the rest is LMDB's free pages), as
  // of the last commit.
  int64_t SizeInUse() const { return size_in_use_.load(std::memory_order_relaxed); }
  // The current LMDB map size.
  int64_t MapSize() const { return map_size_.load(std::memory_order_relaxed); }
  // LMDB read transactions open (readers' generations and snapshots).
  int64_t OpenReadTxN() const;
  // Commits done since Open.
  int64_t Commits() const { return commits_.load(std::memory_order_relaxed); }

  // The longest key LMDB accepts.
  static constexpr size_t MaxKeySize() { return 511; }

  const std::string& path() const { return options_.path; }

  // Stops the commit timer, commits the batch and closes the file. Every
  // ReadTx and Snapshot must have been destroyed. Calling it again is a no-op.
  absl::Status Close();

 private:
  friend class BatchTx;
  friend class Snapshot;
  friend class internal::Generation;

  explicit Backend(BackendOptions options);

  // Opens the LMDB environment and the buckets; sets env_.
  absl::Status OpenEnvLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch_mu_);
  // Opens a read transaction on the last commit with a new, empty buffer and
  // makes it current; lets waiting readers in.
  absl::Status NewGenerationLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch_mu_);
  // Commits the buffer of the current generation (no-op if nothing is
  // pending, unless `force`); opens the next generation unless `closing`.
  void CommitLocked(bool force, bool closing) ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch_mu_);
  // One attempt to apply `buffer` in an LMDB write transaction and commit it.
  int ApplyAndCommitLocked(const internal::TxBuffer& buffer)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch_mu_);
  // Stops new readers and waits until no LMDB read transaction is open.
  void DrainReadersLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch_mu_);
  // Doubles the map; requires drained readers.
  void GrowMapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch_mu_);
  // Recomputes Size and SizeInUse from the read transaction `txn`.
  void UpdateSizesLocked(void* txn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch_mu_);
  absl::Status DefragLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch_mu_);
  // Renames `temp` (locked by `temp_file`, complete and synced) over the
  // database and reopens on it. Fatal if the reopen fails.
  absl::Status SwapInLocked(const std::string& temp, fileutil::LockedFile temp_file,
                            absl::string_view op) ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch_mu_);
  // Writes every bucket's pairs, densely packed, to a new file at `temp`.
  absl::Status CopyPackedLocked(const std::string& temp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch_mu_);

  // Bookkeeping of LMDB read transactions.
  void AddReadTxn();
  void ReleaseReadTxn();

  // The commit timer thread.
  void Run();

  const BackendOptions options_;
  BatchTx batch_tx_{this};

  // The batch lock (BatchTx::Lock). Held by writers, commits, Defrag and
  // map growth; everything that changes the LMDB environment holds it.
  absl::Mutex batch_mu_ ABSL_ACQUIRED_BEFORE(env_mu_);
  MDB_env* env_ ABSL_GUARDED_BY(batch_mu_) = nullptr;
  unsigned int dbis_[kNumBuckets] ABSL_GUARDED_BY(batch_mu_) = {};
  // The generation the writer reads and writes; the same as current_ except
  // while readers are drained.
  std::shared_ptr<internal::Generation> writer_gen_ ABSL_GUARDED_BY(batch_mu_);
  int pending_ ABSL_GUARDED_BY(batch_mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(batch_mu_) = false;
  // Holds the exclusive lock on the database file.
  std::optional<fileutil::LockedFile> lock_file_ ABSL_GUARDED_BY(batch_mu_);

  // Protects what readers look at to start.
  mutable absl::Mutex env_mu_;
  std::shared_ptr<internal::Generation> current_ ABSL_GUARDED_BY(env_mu_);
  // Set while the environment must have no read transactions.
  bool readers_blocked_ ABSL_GUARDED_BY(env_mu_) = false;
  // Set by Close (and a failed Open): no reader may start again.
  bool env_closed_ ABSL_GUARDED_BY(env_mu_) = false;
  int64_t open_read_txns_ ABSL_GUARDED_BY(env_mu_) = 0;

  std::atomic<int64_t> size_{0};
  std::atomic<int64_t> size_in_use_{0};
  std::atomic<int64_t> map_size_{0};
  std::atomic<int64_t> commits_{0};

  absl::Notification stop_;
  std::thread committer_;
};

// Whether `status` says the database file is held by another process.
bool IsLocked(const absl::Status& status);

}  // namespace etcd::mvcc::backend

#endif  // ETCD_MVCC_BACKEND_BACKEND_H_
