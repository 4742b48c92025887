// The multi-version key-value API (etcd's mvcc.KV): ranges at any retained
// revision, puts and deletes grouped in transactions that each create one
// revision, compaction and hashing.
//
//   etcd::mvcc::KV* kv = store.get();
//   int64_t rev = kv->Put("foo", "bar", etcd::mvcc::kNoLease);      // one-op txn
//
//   std::unique_ptr<etcd::mvcc::TxnWrite> txn = kv->Write();        // many ops, one revision
//   txn->Put("a", "1", etcd::mvcc::kNoLease);
//   txn->DeleteRange("b", "c");
//   txn->End();
//
//   etcd::mvcc::RangeOptions options;
//   options.limit = 10;
//   options.rev = rev;
//   ASSIGN_OR_RETURN(etcd::mvcc::RangeResult r, kv->Range("a", "z", options));
//   // r.kvs: at most 10 KeyValues as of `rev`; r.count: how many match.
//
// Revisions. The store starts at revision 1. Every write transaction with at
// least one change creates the next revision; its changes get sub revisions
// 0, 1, 2... in order. Reads name a revision (<= 0: the current one); below
// the compacted revision they fail with IsCompacted, above the current one
// with IsFutureRev.
//
// Ranges: an empty `end` is the single key `key`; "\0" (one zero byte) is
// every key >= `key`; otherwise [key, end). Keys-only, count-only with
// filters, sorting and the create/mod revision filters of the gRPC API are
// the server's, as in etcd; RangeOptions has etcd's mvcc fields.
//
// Transactions. Read() and Write() return a transaction that must be ended
// (End(), or destroying it). A write transaction holds the backend's batch
// lock: writes are serialised, and a write transaction sees its own changes;
// a thread must not begin a second write transaction while it holds one. A
// read transaction holds no lock (it reads a backend snapshot), so a thread
// may write while holding one; but see backend.h: a backend map growth or
// Defrag waits until every read transaction has ended.
//
// Watching (a watchable layer, etcd's watchableStore, is built on top): wrap
// the TxnWrite that Write() returns and, in the wrapper's End(), read
// Changes() and Rev() of the inner transaction, notify watchers of the events
// at revision Rev() + 1, then End() the inner one, exactly like etcd's
// watchableStoreTxnWrite. Deleted keys appear in Changes() with only the key
// set. Store::CurrentRev/CompactRev and the backend's "key" bucket give what
// a catching-up watcher needs.
//
// Thread safety: KV implementations are thread-safe; each transaction object
// is used by one thread at a time.

#ifndef ETCD_MVCC_KV_H_
#define ETCD_MVCC_KV_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "api/mvccpb/kv.pb.h"

namespace etcd::mvcc {

// The lease ID of keys without a lease.
inline constexpr int64_t kNoLease = 0;

struct RangeOptions {
  // At most this many key-values (0: no limit). `count` is unaffected.
  int64_t limit = 0;
  // The revision to read at; <= 0 for the current one.
  int64_t rev = 0;
  // Count the matching keys only; return no key-values.
  bool count = false;
};

struct RangeResult {
  // The key-values, in key order.
  std::vector<mvccpb::KeyValue> kvs;
  // The store's revision when the read happened (not the one read at).
  int64_t rev = 0;
  // How many keys match, ignoring the limit.
  int64_t count = 0;
};

struct DeleteResult {
  // Keys deleted.
  int64_t deleted = 0;
  // The revision after the operation (unchanged if nothing happened).
  int64_t rev = 0;
};

struct HashResult {
  uint32_t hash = 0;
  int64_t rev = 0;
};

// etcd's HashKV answer.
struct HashKVResult {
  uint32_t hash = 0;
  int64_t current_rev = 0;
  int64_t compact_rev = 0;
};

// Reads as of one revision.
class ReadView {
 public:
  virtual ~ReadView() = default;

  // The compacted revision when the read began (0 inside a write txn); reads
  // below it fail.
  virtual int64_t FirstRev() = 0;
  // The revision the view reads at: the current revision when a read txn
  // began; for a write txn, the revision before it (the txn writes Rev()+1).
  virtual int64_t Rev() = 0;

  virtual absl::StatusOr<RangeResult> Range(absl::string_view key, absl::string_view end,
                                            const RangeOptions& options) = 0;
};

class WriteView {
 public:
  virtual ~WriteView() = default;

  // Deletes the keys in the range; returns how many and the revision after.
  virtual DeleteResult DeleteRange(absl::string_view key, absl::string_view end) = 0;
  // Sets `key` to `value` attached to `lease` (kNoLease for none); returns
  // the revision of the write.
  virtual int64_t Put(absl::string_view key, absl::string_view value, int64_t lease) = 0;
};

class TxnRead : public ReadView {
 public:
  // Finishes the transaction; afterwards only destruction is allowed.
  // Destroying an unfinished transaction ends it.
  virtual void End() = 0;
};

class TxnWrite : public TxnRead, public WriteView {
 public:
  // The changes so far, in order: full key-values for puts, key-only ones
  // for deletions.
  virtual const std::vector<mvccpb::KeyValue>& Changes() const = 0;
};

// Resolves when a compaction has removed the compacted revisions from the
// backend (etcd's compaction channel).
class CompactionFuture {
 public:
  // Blocks until done; returns OK, or IsClosed when the store closed first.
  absl::Status Wait() const {
    done_.WaitForNotification();
    return status_;
  }
  // Whether done within `timeout`.
  bool WaitFor(absl::Duration timeout) const {
    return done_.WaitForNotificationWithTimeout(timeout);
  }
  bool done() const { return done_.HasBeenNotified(); }

  // Called once by the store.
  void Finish(absl::Status status) {
    status_ = std::move(status);
    done_.Notify();
  }

 private:
  absl::Notification done_;
  absl::Status status_;  // written before done_ is notified
};

// What the store tells the lessor (etcd's lease.Lessor, as the store uses
// it). Methods are called with the backend's batch lock held, from the
// writing thread; they must not call back into the store.
class LeaseAttacher {
 public:
  virtual ~LeaseAttacher() = default;
  // The lease `key` is attached to, or kNoLease.
  virtual int64_t GetLease(absl::string_view key) = 0;
  // `key` now belongs to `lease`. An error aborts the process (a bug: the
  // server checks that the lease exists before applying the put).
  virtual absl::Status Attach(int64_t lease, absl::string_view key) = 0;
  // `key` no longer belongs to `lease` (overwritten or deleted).
  virtual absl::Status Detach(int64_t lease, absl::string_view key) = 0;
};

class KV : public ReadView, public WriteView {
 public:
  virtual std::unique_ptr<TxnRead> Read() = 0;
  virtual std::unique_ptr<TxnWrite> Write() = 0;

  // CRC-32C of the whole backend except the consistent index, after
  // committing, and the current revision.
  virtual absl::StatusOr<HashResult> Hash() = 0;
  // etcd's HashKV: the hash of the "key" bucket's history up to `rev` (0:
  // current) from the compacted revision on.
  virtual absl::StatusOr<HashKVResult> HashByRev(int64_t rev) = 0;

  // Compacts the history at `rev`: reads below `rev` fail from now on, and
  // a background job removes what only they could see. IsCompacted if `rev`
  // is not above the compacted revision, IsFutureRev if it is above the
  // current one.
  virtual absl::StatusOr<std::shared_ptr<CompactionFuture>> Compact(int64_t rev) = 0;

  // Commits the backend batch (with the consistent index) and waits for it.
  virtual void Commit() = 0;

  // Stops background work (a compaction in progress is resumed on the next
  // open). Does not close the backend.
  virtual absl::Status Close() = 0;
};

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_KV_H_
