#include "mvcc/kvstore.h"

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "mvcc/errors.h"
#include "mvcc/kv_codec.h"
#include "mvcc/revision.h"
#include "pkg/crc/crc.h"
#include "pkg/log/log.h"
#include "pkg/status/status_macros.h"

namespace etcd::mvcc {

using backend::BatchTx;
using backend::Bucket;

namespace {

// Key-bucket pairs read per step while restoring (etcd's restoreChunkKeys).
constexpr int kRestoreChunkKeys = 10000;

std::string Uint64BigEndian(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t ParseUint64BigEndian(absl::string_view b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(b[i]);
  return v;
}

}  // namespace

namespace internal {

// Reads at `cur_rev` (etcd's rangeKeys).
absl::StatusOr<RangeResult> RangeKeys(const Store& store, TreeIndex& index, backend::ReadTx& tx,
                                      absl::string_view key, absl::string_view end, int64_t cur_rev,
                                      const RangeOptions& options) {
  int64_t rev = options.rev;
  if (rev > cur_rev) return FutureRevError();
  if (rev <= 0) rev = cur_rev;
  if (rev < store.CompactRev()) return CompactedError();

  std::vector<Revision> revs;
  RangeResult result;
  result.rev = cur_rev;
  result.count = index.Revisions(key, end, rev, options.count ? 1 : options.limit, &revs);
  if (result.count == 0 || options.count) return result;
  result.kvs.resize(revs.size());
  for (size_t i = 0; i < revs.size(); ++i) {
    const RevBytes rev_bytes = RevToBytes(revs[i]);
    std::optional<absl::string_view> value = tx.UnsafeGet(Bucket::kKey, rev_bytes);
    if (!value.has_value()) {
      log::Panic("mvcc: range failed to find a revision of the index in the backend",
                 {{"revision", revs[i].DebugString()}, {"current-revision", cur_rev}});
    }
    if (!DecodeKeyValue(*value, &result.kvs[i])) {
      log::Panic("mvcc: corrupt key-value in the backend", {{"revision", revs[i].DebugString()}});
    }
  }
  // A compaction beyond `rev` that started meanwhile may have changed the
  // index under the read.
  if (rev < store.CompactRev()) return CompactedError();
  return result;
}

class StoreTxnRead final : public TxnRead {
 public:
  explicit StoreTxnRead(Store* store) : store_(store) {
    store_->BeginOp();
    {
      absl::ReaderMutexLock lock(&store_->rev_mu_);
      first_rev_ = store_->compact_main_rev_;
      rev_ = store_->current_rev_;
    }
    // After reading the revision: every write up to it is published.
    tx_ = store_->backend_->ConcurrentReadTx();
  }
  ~StoreTxnRead() override { End(); }

  int64_t FirstRev() override { return first_rev_; }
  int64_t Rev() override { return rev_; }

  absl::StatusOr<RangeResult> Range(absl::string_view key, absl::string_view end,
                                    const RangeOptions& options) override {
    return RangeKeys(*store_, *store_->index_, *tx_, key, end, rev_, options);
  }

  void End() override {
    if (tx_ == nullptr) return;
    tx_.reset();
    store_->EndOp();
  }

 private:
  Store* const store_;
  int64_t first_rev_ = 0;
  int64_t rev_ = 0;
  std::unique_ptr<backend::ReadTx> tx_;
};

class StoreTxnWrite final : public TxnWrite {
 public:
  // Holds the batch lock from construction to End(); the thread-safety
  // analysis cannot follow a lock held across calls, hence the opt-outs.
  explicit StoreTxnWrite(Store* store) ABSL_NO_THREAD_SAFETY_ANALYSIS : store_(store) {
    store_->BeginOp();
    tx_ = store_->backend_->batch_tx();
    tx_->Lock();
    begin_rev_ = store_->CurrentRev();
  }
  ~StoreTxnWrite() override { End(); }

  int64_t FirstRev() override { return 0; }
  int64_t Rev() override { return begin_rev_; }

  absl::StatusOr<RangeResult> Range(absl::string_view key, absl::string_view end,
                                    const RangeOptions& options) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    const int64_t rev = changes_.empty() ? begin_rev_ : begin_rev_ + 1;
    return RangeKeys(*store_, *store_->index_, *tx_, key, end, rev, options);
  }

  DeleteResult DeleteRange(absl::string_view key,
                           absl::string_view end) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    const int64_t rrev = changes_.empty() ? begin_rev_ : begin_rev_ + 1;
    std::vector<std::string> keys;
    std::vector<Revision> revs;
    store_->index_->Range(key, end, rrev, &keys, &revs);
    for (const std::string& k : keys) Delete(k);
    const int64_t n = static_cast<int64_t>(keys.size());
    if (n != 0 || !changes_.empty()) return DeleteResult{n, begin_rev_ + 1};
    return DeleteResult{0, begin_rev_};
  }

  int64_t Put(absl::string_view key, absl::string_view value,
              int64_t lease) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    const int64_t rev = begin_rev_ + 1;
    int64_t created = rev;
    int64_t version = 1;
    int64_t old_lease = kNoLease;
    LeaseAttacher* lessor = store_->options_.lessor;
    const Revision idx{rev, static_cast<int64_t>(changes_.size())};
    KeyIndexEntry entry;
    if (store_->index_->Put(key, idx, &entry)) {
      created = entry.created.main;
      version = entry.version + 1;
      if (lessor != nullptr) old_lease = lessor->GetLease(key);
    }
    KeyValueFields fields;
    fields.key = key;
    fields.value = value;
    fields.create_revision = created;
    fields.mod_revision = rev;
    fields.version = version;
    fields.lease = lease;
    EncodeKeyValue(fields, &encoded_);
    tx_->UnsafeSeqPut(Bucket::kKey, RevToBytes(idx), encoded_);

    mvccpb::KeyValue& kv = changes_.emplace_back();
    kv.set_key(key.data(), key.size());
    kv.set_value(value.data(), value.size());
    kv.set_create_revision(created);
    kv.set_mod_revision(rev);
    kv.set_version(version);
    kv.set_lease(lease);

    if (lessor != nullptr) {
      if (old_lease != kNoLease) {
        absl::Status status = lessor->Detach(old_lease, key);
        if (!status.ok()) {
          log::Panic("mvcc: failed to detach the old lease from a key", {{"error", status}});
        }
      }
      if (lease != kNoLease) {
        absl::Status status = lessor->Attach(lease, key);
        if (!status.ok()) log::Panic("mvcc: failed to attach a lease", {{"error", status}});
      }
    }
    return rev;
  }

  const std::vector<mvccpb::KeyValue>& Changes() const override { return changes_; }

  void End() override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (ended_) return;
    ended_ = true;
    if (!changes_.empty()) {
      store_->SaveIndexLocked(tx_);
      // Readers capture the revision before their backend snapshot, so the
      // changes must be visible before the revision is.
      tx_->Publish();
      absl::MutexLock lock(&store_->rev_mu_);
      ++store_->current_rev_;
    }
    tx_->Unlock();
    store_->EndOp();
  }

 private:
  void Delete(absl::string_view key) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    const Revision idx{begin_rev_ + 1, static_cast<int64_t>(changes_.size())};
    KeyValueFields fields;
    fields.key = key;
    EncodeKeyValue(fields, &encoded_);
    tx_->UnsafeSeqPut(Bucket::kKey, TombstoneKey(idx), encoded_);
    if (!store_->index_->Tombstone(key, idx)) {
      log::Panic("mvcc: failed to tombstone an existing key", {{"key", key}});
    }
    changes_.emplace_back().set_key(key.data(), key.size());
    LeaseAttacher* lessor = store_->options_.lessor;
    if (lessor != nullptr) {
      const int64_t lease = lessor->GetLease(key);
      if (lease != kNoLease) {
        absl::Status status = lessor->Detach(lease, key);
        if (!status.ok()) log::Panic("mvcc: failed to detach a lease", {{"error", status}});
      }
    }
  }

  Store* const store_;
  BatchTx* tx_ = nullptr;
  int64_t begin_rev_ = 0;
  std::vector<mvccpb::KeyValue> changes_;
  std::string encoded_;
  bool ended_ = false;
};

}  // namespace internal

Store::Store(backend::Backend* backend, StoreOptions options)
    : options_(std::move(options)), backend_(backend), index_(std::make_unique<TreeIndex>()) {}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(backend::Backend* backend,
                                                   StoreOptions options) {
  if (backend == nullptr) return absl::InvalidArgumentError("mvcc: no backend");
  if (options.compaction_batch_limit <= 0) {
    return absl::InvalidArgumentError("mvcc: compaction batch limit must be positive");
  }
  std::unique_ptr<Store> store(new Store(backend, std::move(options)));
  store->StartWorker();
  absl::Status status;
  status = store->RestoreLocked();
  if (!status.ok()) {
    store->Close().IgnoreError();
    return status;
  }
  return store;
}

Store::~Store() { Close().IgnoreError(); }

absl::Status Store::RestoreLocked() {
  BatchTx* tx = backend_->batch_tx();
  int64_t scheduled = 0;
  tx->Lock();
  absl::Status status = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::Status {
    int64_t compact_rev = -1;
    if (std::optional<absl::string_view> v = tx->UnsafeGet(Bucket::kMeta, kFinishedCompactKey)) {
      if (v->size() < kRevBytesLen) {
        return absl::DataLossError("mvcc: corrupt finishedCompactRev in the meta bucket");
      }
      compact_rev = BytesToRev(*v).main;
      log::Info("mvcc: restored last compact revision",
                {{"restored-compact-revision", compact_rev}});
    }
    if (std::optional<absl::string_view> v = tx->UnsafeGet(Bucket::kMeta, kScheduledCompactKey)) {
      if (v->size() < kRevBytesLen) {
        return absl::DataLossError("mvcc: corrupt scheduledCompactRev in the meta bucket");
      }
      scheduled = BytesToRev(*v).main;
    }
    uint64_t ci = 0;
    if (std::optional<absl::string_view> v = tx->UnsafeGet(Bucket::kMeta, kConsistentIndexKey)) {
      if (v->size() != 8) {
        return absl::DataLossError("mvcc: corrupt consistent_index in the meta bucket");
      }
      ci = ParseUint64BigEndian(*v);
    }

    absl::flat_hash_map<std::string, int64_t> key_to_lease;
    const RevBytes max = RevToBytes(
        Revision{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max()});
    std::string min(RevToBytes(Revision{1, 0}).view());
    int64_t current = 1;
    while (true) {
      std::vector<backend::KeyValueView> kvs =
          tx->UnsafeRange(Bucket::kKey, min, max.view(), kRestoreChunkKeys);
      Revision last;
      for (const backend::KeyValueView& kv : kvs) {
        absl::StatusOr<RevisionKey> rk = ParseRevisionKey(kv.key);
        KeyValueFields fields;
        if (!rk.ok() || !DecodeKeyValue(kv.value, &fields)) {
          return absl::DataLossError(
              absl::StrCat("mvcc: corrupt record in the key bucket of ", backend_->path()));
        }
        const std::string key(fields.key);
        if (rk->tombstone) {
          key_to_lease.erase(key);
        } else if (fields.lease != kNoLease) {
          key_to_lease[key] = fields.lease;
        } else {
          key_to_lease.erase(key);
        }
        index_->Restore(fields.key, rk->rev, rk->tombstone, Revision{fields.create_revision, 0},
                        fields.version);
        current = rk->rev.main;
        last = rk->rev;
      }
      if (static_cast<int>(kvs.size()) < kRestoreChunkKeys) break;
      min = std::string(RevToBytes(Revision{last.main, last.sub + 1}).view());
    }
    {
      absl::MutexLock lock(&rev_mu_);
      compact_main_rev_ = compact_rev;
      // A compaction that was scheduled (at or below the current revision
      // then) may have deleted the newest revisions, tombstones at the
      // compacted revision, before the crash; the revision never goes back.
      current_rev_ = std::max({current, compact_rev, scheduled});
    }
    consistent_index_.store(ci);
    saved_consistent_index_ = ci;
    if (scheduled <= compact_rev) scheduled = 0;

    if (LeaseAttacher* lessor = options_.lessor) {
      for (const auto& [key, lease] : key_to_lease) {
        absl::Status attached = lessor->Attach(lease, key);
        if (!attached.ok()) {
          log::Warn("mvcc: failed to attach a lease",
                    {{"lease-id", absl::StrCat(absl::Hex(lease, absl::kZeroPad16))},
                     {"error", attached}});
        }
      }
    }
    return absl::OkStatus();
  }();
  tx->Unlock();
  RETURN_IF_ERROR(status);

  if (scheduled != 0) {
    // A compaction was scheduled but not finished before the store closed.
    RETURN_IF_ERROR(UpdateCompactRev(scheduled));
    ScheduleCompaction(scheduled);
    log::Info("mvcc: resume scheduled compaction", {{"scheduled-compact-revision", scheduled}});
  }
  return absl::OkStatus();
}

void Store::BeginOp() {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !restoring_; };
  mu_.Await(absl::Condition(&ready));
  ++in_flight_;
}

void Store::EndOp() {
  absl::MutexLock lock(&mu_);
  --in_flight_;
}

std::unique_ptr<TxnRead> Store::Read() { return std::make_unique<internal::StoreTxnRead>(this); }

std::unique_ptr<TxnWrite> Store::Write() { return std::make_unique<internal::StoreTxnWrite>(this); }

int64_t Store::FirstRev() { return Read()->FirstRev(); }
int64_t Store::Rev() { return Read()->Rev(); }

absl::StatusOr<RangeResult> Store::Range(absl::string_view key, absl::string_view end,
                                         const RangeOptions& options) {
  return Read()->Range(key, end, options);
}

DeleteResult Store::DeleteRange(absl::string_view key, absl::string_view end) {
  return Write()->DeleteRange(key, end);
}

int64_t Store::Put(absl::string_view key, absl::string_view value, int64_t lease) {
  return Write()->Put(key, value, lease);
}

void Store::SaveIndexLocked(BatchTx* tx) {
  const uint64_t ci = consistent_index_.load();
  if (ci == 0 || ci == saved_consistent_index_) return;
  tx->UnsafePut(Bucket::kMeta, kConsistentIndexKey, Uint64BigEndian(ci));
  saved_consistent_index_ = ci;
}

void Store::SetConsistentIndex(uint64_t index) { consistent_index_.store(index); }
uint64_t Store::ConsistentIndex() const { return consistent_index_.load(); }

int64_t Store::CurrentRev() const {
  absl::ReaderMutexLock lock(&rev_mu_);
  return current_rev_;
}

int64_t Store::CompactRev() const {
  absl::ReaderMutexLock lock(&rev_mu_);
  return compact_main_rev_;
}

backend::Backend* Store::backend() const { return backend_; }
const TreeIndex& Store::index() const { return *index_; }

absl::StatusOr<HashResult> Store::Hash() {
  OpGuard op(this);
  backend_->ForceCommit();
  const backend::IgnoreKey ignore{Bucket::kMeta, std::string(kConsistentIndexKey)};
  ASSIGN_OR_RETURN(uint32_t hash, backend_->Hash({&ignore, 1}));
  return HashResult{hash, CurrentRev()};
}

absl::StatusOr<HashKVResult> Store::HashByRev(int64_t rev) {
  OpGuard op(this);
  std::unique_ptr<backend::ReadTx> tx;
  absl::flat_hash_set<Revision> keep;
  int64_t compact_rev;
  int64_t current_rev;
  {
    // No compaction is scheduled while the revisions, the kept set and the
    // snapshot are taken.
    absl::MutexLock lock(&compact_mu_);
    {
      absl::ReaderMutexLock rev_lock(&rev_mu_);
      compact_rev = compact_main_rev_;
      current_rev = current_rev_;
    }
    if (rev > 0 && rev <= compact_rev) return CompactedError();
    if (rev > 0 && rev > current_rev) return FutureRevError();
    if (rev == 0) rev = current_rev;
    keep = index_->Keep(rev);
    tx = backend_->ConcurrentReadTx();
  }
  const Revision upper{rev + 1, 0};
  const Revision lower{compact_rev + 1, 0};
  uint32_t hash = crc::Update(0, "key", 3);
  RETURN_IF_ERROR(tx->UnsafeForEach(
      Bucket::kKey, [&](absl::string_view k, absl::string_view v) -> absl::Status {
        if (k.size() < kRevBytesLen) return absl::OkStatus();
        const Revision kr = BytesToRev(k);
        if (!upper.GreaterThan(kr)) return absl::OkStatus();
        if (lower.GreaterThan(kr) && !keep.empty() && !keep.contains(kr)) {
          return absl::OkStatus();
        }
        hash = crc::Update(hash, k.data(), k.size());
        hash = crc::Update(hash, v.data(), v.size());
        return absl::OkStatus();
      }));
  return HashKVResult{hash, current_rev, compact_rev};
}

absl::Status Store::UpdateCompactRev(int64_t rev) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  {
    absl::MutexLock lock(&rev_mu_);
    if (rev <= compact_main_rev_) return CompactedError();
    if (rev > current_rev_) return FutureRevError();
    compact_main_rev_ = rev;
  }
  BatchTx* tx = backend_->batch_tx();
  tx->Lock();
  tx->UnsafePut(Bucket::kMeta, kScheduledCompactKey, RevToBytes(Revision{rev, 0}));
  tx->Unlock();
  // Durable before anything is deleted, so a restart knows to finish it.
  backend_->ForceCommit();
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<CompactionFuture>> Store::Compact(int64_t rev) {
  OpGuard op(this);
  absl::MutexLock lock(&compact_mu_);
  RETURN_IF_ERROR(UpdateCompactRev(rev));
  return ScheduleCompaction(rev);
}

std::shared_ptr<CompactionFuture> Store::ScheduleCompaction(int64_t rev) {
  auto future = std::make_shared<CompactionFuture>();
  auto job = [this, rev, future](bool cancelled) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (cancelled) {
      future->Finish(ClosedError());
      return;
    }
    const absl::Time start = absl::Now();
    absl::flat_hash_set<Revision> keep = index_->Compact(rev);
    if (!CompactBackend(rev, keep)) {
      future->Finish(ClosedError());
      return;
    }
    log::Info("mvcc: finished scheduled compaction",
              {{"compact-revision", rev}, {"took", absl::Now() - start}});
    future->Finish(absl::OkStatus());
  };
  absl::MutexLock lock(&worker_mu_);
  if (stopping_) {
    future->Finish(ClosedError());
  } else {
    jobs_.push_back(std::move(job));
  }
  return future;
}

bool Store::CompactBackend(int64_t rev, const absl::flat_hash_set<Revision>& keep)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const std::string end = Uint64BigEndian(static_cast<uint64_t>(rev + 1));
  std::string last(kRevBytesLen, '\0');
  BatchTx* tx = backend_->batch_tx();
  const int limit = options_.compaction_batch_limit;
  while (true) {
    tx->Lock();
    std::vector<backend::KeyValueView> kvs = tx->UnsafeRange(Bucket::kKey, last, end, limit);
    Revision r;
    for (const backend::KeyValueView& kv : kvs) {
      r = BytesToRev(kv.key);
      if (!keep.contains(r)) tx->UnsafeDelete(Bucket::kKey, kv.key);
    }
    if (static_cast<int>(kvs.size()) < limit) {
      tx->UnsafePut(Bucket::kMeta, kFinishedCompactKey, RevToBytes(Revision{rev, 0}));
      tx->Unlock();
      return true;
    }
    last = std::string(RevToBytes(Revision{r.main, r.sub + 1}).view());
    tx->Unlock();
    backend_->ForceCommit();
    absl::MutexLock lock(&worker_mu_);
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(worker_mu_) { return stopping_; };
    if (worker_mu_.AwaitWithTimeout(absl::Condition(&stopping),
                                    options_.compaction_sleep_interval)) {
      return false;
    }
  }
}

void Store::Commit() {
  OpGuard op(this);
  BatchTx* tx = backend_->batch_tx();
  tx->Lock();
  SaveIndexLocked(tx);
  tx->Unlock();
  backend_->ForceCommit();
}

void Store::StartWorker() {
  {
    absl::MutexLock lock(&worker_mu_);
    stopping_ = false;
  }
  worker_ = std::thread([this] { RunWorker(); });
}

void Store::RunWorker() {
  while (true) {
    std::function<void(bool)> job;
    {
      absl::MutexLock lock(&worker_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(worker_mu_) {
        return stopping_ || !jobs_.empty();
      };
      worker_mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job(/*cancelled=*/false);
  }
}

void Store::StopWorker() {
  {
    absl::MutexLock lock(&worker_mu_);
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
  std::deque<std::function<void(bool)>> left;
  {
    absl::MutexLock lock(&worker_mu_);
    left.swap(jobs_);
  }
  for (auto& job : left) job(/*cancelled=*/true);
}

absl::Status Store::Restore(backend::Backend* backend) {
  {
    absl::MutexLock lock(&mu_);
    restoring_ = true;
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
    mu_.Await(absl::Condition(&idle));
  }
  absl::Status status = RestoreFrom(backend);
  absl::MutexLock lock(&mu_);
  restoring_ = false;
  return status;
}

absl::Status Store::RestoreFrom(backend::Backend* backend) {
  StopWorker();
  backend_ = backend;
  index_ = std::make_unique<TreeIndex>();
  {
    absl::MutexLock rev_lock(&rev_mu_);
    current_rev_ = 1;
    compact_main_rev_ = -1;
  }
  consistent_index_.store(0);
  saved_consistent_index_ = 0;
  StartWorker();
  return RestoreLocked();
}

absl::Status Store::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  StopWorker();
  return absl::OkStatus();
}

}  // namespace etcd::mvcc
