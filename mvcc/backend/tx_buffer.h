// The writes of one batch that LMDB has not committed yet, kept in memory so
// that reads see them at once (internal to //mvcc/backend).
//
//   TxBuffer buffer;
//   uint64_t seq = buffer.published() + 1;            // the writer's sequence
//   buffer.Put(Bucket::kKey, "k", "v", seq);
//   buffer.Publish();                                  // readers at >= seq see it
//   absl::string_view value;
//   TxBuffer::Lookup found = buffer.Get(Bucket::kKey, "k", buffer.published(), &value);
//
// The buffer is multi-versioned: every write carries the sequence number of the
// batch transaction (BatchTx lock period) that made it, and a reader that
// captured sequence S sees, for each key, the newest write with a sequence <= S.
// A reader therefore keeps seeing one consistent state while the writer goes on
// adding to the same buffer. A second write to a key under the same sequence
// replaces the first. Versions are never dropped: the buffer lives for one batch
// (at most the batch limit of writes) and is discarded after LMDB commits it.
//
// Keys and values are copied into an arena owned by the buffer and never move,
// so the views Get and Range return stay valid for the buffer's lifetime.
//
// Thread-safe: one writer (Put/Delete/Publish, serialised by the caller) and
// any number of concurrent readers.

#ifndef ETCD_MVCC_BACKEND_TX_BUFFER_H_
#define ETCD_MVCC_BACKEND_TX_BUFFER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "mvcc/backend/bucket.h"

namespace etcd::mvcc::backend::internal {

// Append-only storage for bytes with stable addresses.
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Copies `bytes`; the view stays valid until the arena is destroyed.
  absl::string_view Copy(absl::string_view bytes);
  // Bytes handed out so far.
  size_t used() const { return used_; }

 private:
  static constexpr size_t kBlockSize = 64 << 10;

  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
  size_t used_ = 0;
};

class TxBuffer {
 public:
  // A sequence newer than any write: what the writer itself reads at.
  static constexpr uint64_t kLatest = UINT64_MAX;

  enum class Lookup {
    kAbsent,   // the buffer holds no write of the key: read the database
    kDeleted,  // the newest visible write deleted the key
    kPresent,  // the newest visible write put a value
  };

  struct Entry {
    absl::string_view key;
    absl::string_view value;  // empty for a deletion
    bool deleted = false;
  };

  TxBuffer() = default;
  TxBuffer(const TxBuffer&) = delete;
  TxBuffer& operator=(const TxBuffer&) = delete;

  // Writer side. `seq` must be published() + 1.
  void Put(Bucket bucket, absl::string_view key, absl::string_view value, uint64_t seq);
  void Delete(Bucket bucket, absl::string_view key, uint64_t seq);
  // Makes the writes made under published() + 1 visible to readers that
  // capture published() from now on. A no-op when nothing was written.
  void Publish();

  // The newest published sequence: what a new reader captures.
  uint64_t published() const { return published_.load(std::memory_order_acquire); }
  // Whether writes under published() + 1 wait for Publish.
  bool dirty() const { return dirty_.load(std::memory_order_relaxed); }

  // Reader side: the state at sequence `seq`.
  Lookup Get(Bucket bucket, absl::string_view key, uint64_t seq, absl::string_view* value) const;

  // Appends to `out`, in key order, the writes visible at `seq` of keys in
  // [key, end) (just `key` when `end` is empty), deletions included, and stops
  // after `limit` non-deleted entries (no limit when <= 0). Those are all the
  // entries a merge with the database needs to produce `limit` results.
  void Range(Bucket bucket, absl::string_view key, absl::string_view end, uint64_t seq,
             int64_t limit, std::vector<Entry>* out) const;

  // Calls `visit` with the newest write of every key of `bucket`, in key
  // order (for the commit).
  void ForEachLatest(Bucket bucket, absl::FunctionRef<void(const Entry&)> visit) const;

  // Number of keys written in `bucket`.
  size_t KeyCount(Bucket bucket) const;
  bool empty() const;

 private:
  struct Version {
    uint64_t seq;
    absl::string_view value;
    bool deleted;
  };
  using Versions = absl::InlinedVector<Version, 1>;
  using Map = absl::btree_map<absl::string_view, Versions>;

  void Write(Bucket bucket, absl::string_view key, absl::string_view value, bool deleted,
             uint64_t seq);
  // The newest version with a sequence <= seq, or null.
  static const Version* Visible(const Versions& versions, uint64_t seq);

  mutable absl::Mutex mu_;
  Map maps_[kNumBuckets] ABSL_GUARDED_BY(mu_);
  Arena arena_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> published_{0};
  std::atomic<bool> dirty_{false};
};

}  // namespace etcd::mvcc::backend::internal

#endif  // ETCD_MVCC_BACKEND_TX_BUFFER_H_
