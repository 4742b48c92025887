#include "lease/lessor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "lease/leasepb/lease.pb.h"
#include "pkg/status/status_macros.h"

namespace etcd::lease {

using mvcc::backend::Backend;
using mvcc::backend::BatchTx;
using mvcc::backend::Bucket;

namespace {

std::string LeaseKey(LeaseId id) {
  std::string key(8, '\0');
  uint64_t v = static_cast<uint64_t>(id);
  for (int i = 7; i >= 0; --i) {
    key[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return key;
}

LeaseId LeaseIdFromKey(absl::string_view key) {
  uint64_t v = 0;
  for (char c : key) v = (v << 8) | static_cast<uint8_t>(c);
  return static_cast<LeaseId>(v);
}

// The caller holds `tx`'s lock, directly or through a store transaction.
void PutRecord(BatchTx* tx, const Lease& lease) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  leasepb::Lease pb;
  pb.set_id(lease.id);
  pb.set_ttl(lease.ttl);
  pb.set_remainingttl(lease.remaining_ttl);
  tx->UnsafePut(Bucket::kLease, LeaseKey(lease.id), pb.SerializeAsString());
}

void DeleteRecord(BatchTx* tx, LeaseId id) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  tx->UnsafeDelete(Bucket::kLease, LeaseKey(id));
}

bool ExpiresBefore(const Lease& a, const Lease& b) {
  if (a.expiry != b.expiry) return a.expiry < b.expiry;
  return a.id < b.id;
}

absl::Status ValidateOptions(const LessorOptions& options) {
  if (options.expired_lease_retry_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("lease: expired_lease_retry_interval must be positive");
  }
  if (options.checkpoint_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("lease: checkpoint_interval must be positive");
  }
  if (options.loop_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("lease: loop_interval must be positive");
  }
  if (options.max_checkpoint_batch < 1 || options.checkpoint_rate < 1 || options.revoke_rate < 1) {
    return absl::InvalidArgumentError(
        "lease: max_checkpoint_batch, checkpoint_rate and revoke_rate must be at least 1");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Lessor>> Lessor::Open(Backend* backend, LessorOptions options) {
  if (backend == nullptr) return absl::InvalidArgumentError("lease: no backend");
  RETURN_IF_ERROR(ValidateOptions(options));
  std::unique_ptr<Lessor> lessor(new Lessor(backend, options));
  ASSIGN_OR_RETURN(RecordMap loaded, lessor->Load(backend));
  {
    absl::MutexLock lock(&lessor->mu_);
    lessor->leases_ = std::move(loaded);
    for (auto& [id, record] : lessor->leases_) record.incarnation = lessor->next_incarnation_++;
  }
  return lessor;
}

Lessor::Lessor(Backend* backend, LessorOptions options)
    : options_(options),
      clock_(options_.clock != nullptr ? options_.clock : RealClock()),
      backend_(backend) {}

Lessor::~Lessor() { Stop(); }

void Lessor::SetRangeDeleter(RangeDeleter* deleter) {
  absl::MutexLock lock(&mu_);
  deleter_ = deleter;
}

void Lessor::SetCheckpointer(Checkpointer checkpointer) {
  absl::MutexLock lock(&mu_);
  checkpointer_ = std::move(checkpointer);
}

void Lessor::SetExpiredHandler(ExpiredHandler handler) {
  absl::MutexLock lock(&mu_);
  expired_handler_ = std::move(handler);
}

Backend* Lessor::backend() const {
  absl::MutexLock lock(&mu_);
  return backend_;
}

absl::StatusOr<Lessor::RecordMap> Lessor::Load(Backend* backend) {
  RecordMap out;
  BatchTx* tx = backend->batch_tx();
  tx->Lock();
  absl::Status status =
      tx->UnsafeForEach(Bucket::kLease, [&](absl::string_view key, absl::string_view value) {
        leasepb::Lease pb;
        if (key.size() != 8 || !pb.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return absl::DataLossError(
              absl::StrFormat("lease: cannot decode the lease record with key %s in %s",
                              absl::CHexEscape(key), backend->path()));
        }
        if (LeaseIdFromKey(key) != pb.id()) {
          return absl::DataLossError(
              absl::StrFormat("lease: the lease record with key %016x holds lease %016x in %s",
                              static_cast<uint64_t>(LeaseIdFromKey(key)),
                              static_cast<uint64_t>(pb.id()), backend->path()));
        }
        Record& record = out[pb.id()];
        record.lease.id = pb.id();
        record.lease.ttl = std::max(pb.ttl(), options_.min_lease_ttl);
        record.lease.remaining_ttl = pb.remainingttl();
        return absl::OkStatus();
      });
  tx->Unlock();
  RETURN_IF_ERROR(status);
  return out;
}

Lessor::Record* Lessor::FindLocked(LeaseId id) {
  auto it = leases_.find(id);
  return it == leases_.end() ? nullptr : &it->second;
}

const Lessor::Record* Lessor::FindLocked(LeaseId id) const {
  auto it = leases_.find(id);
  return it == leases_.end() ? nullptr : &it->second;
}

void Lessor::SetExpiryLocked(Record* record, absl::Time expiry) {
  record->lease.expiry = expiry;
  expiry_queue_.Upsert(record, expiry);
}

void Lessor::ScheduleCheckpointLocked(const Record& record, absl::Time now) {
  if (!checkpointer_) return;
  if (record.lease.PromotionTtl() > absl::ToInt64Seconds(options_.checkpoint_interval)) {
    checkpoint_queue_.emplace(now + options_.checkpoint_interval, record.lease.id);
  }
}

void Lessor::EraseLocked(Record* record) {
  expiry_queue_.Remove(record);
  const LeaseId id = record->lease.id;
  for (const std::string& key : record->keys) {
    auto it = items_.find(key);
    if (it != items_.end() && it->second == id) items_.erase(it);
  }
  leases_.erase(id);
}

absl::StatusOr<Lease> Lessor::Grant(LeaseId id, int64_t ttl) {
  if (id == kNoLease) return LeaseNotFoundError();
  if (ttl > kMaxLeaseTtl) return LeaseTtlTooLargeError();

  BatchTx* tx = backend()->batch_tx();
  tx->Lock();
  Lease granted;
  bool exists = false;
  {
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = leases_.try_emplace(id);
    exists = !inserted;
    if (inserted) {
      Record& record = it->second;
      record.lease.id = id;
      record.lease.ttl = std::max(ttl, options_.min_lease_ttl);
      record.incarnation = next_incarnation_++;
      if (primary_) {
        const absl::Time now = NowLocked();
        SetExpiryLocked(&record, now + absl::Seconds(record.lease.ttl));
        ScheduleCheckpointLocked(record, now);
      }
      granted = record.lease;
    }
  }
  if (!exists) PutRecord(tx, granted);
  tx->Unlock();
  if (exists) return LeaseExistsError();
  return granted;
}

absl::Status Lessor::Revoke(LeaseId id) {
  RangeDeleter* deleter;
  Backend* backend;
  uint64_t incarnation;
  {
    absl::MutexLock lock(&mu_);
    Record* record = FindLocked(id);
    if (record == nullptr) return LeaseNotFoundError();
    incarnation = record->incarnation;
    deleter = deleter_;
    backend = backend_;
  }

  // From here to the end the backend's batch lock is held, by the store's
  // transaction or by us, so the keys and the record go in one batch.
  std::unique_ptr<TxnDelete> txn;
  BatchTx* tx = backend->batch_tx();
  if (deleter != nullptr) {
    txn = deleter->NewTxn();
  } else {
    tx->Lock();
  }
  std::vector<std::string> keys;
  bool current = false;
  {
    absl::MutexLock lock(&mu_);
    Record* record = FindLocked(id);
    current = record != nullptr && record->incarnation == incarnation;
    if (current) keys.assign(record->keys.begin(), record->keys.end());
  }
  if (current) {
    // The same order on every member, so their backends hash the same.
    std::sort(keys.begin(), keys.end());
    // The store calls Detach for each key: mu_ must not be held here.
    if (txn != nullptr) {
      for (const std::string& key : keys) txn->DeleteRange(key, "");
    }
    absl::MutexLock lock(&mu_);
    Record* record = FindLocked(id);
    if (record != nullptr && record->incarnation == incarnation) EraseLocked(record);
    changed_.SignalAll();
  }
  if (current) DeleteRecord(tx, id);
  if (txn != nullptr) {
    txn->End();
  } else {
    tx->Unlock();
  }
  // Another Revoke of the same lease won the race: it is gone either way.
  return absl::OkStatus();
}

absl::Status Lessor::Checkpoint(LeaseId id, int64_t remaining_ttl) {
  BatchTx* tx = backend()->batch_tx();
  tx->Lock();
  std::optional<Lease> changed;
  {
    absl::MutexLock lock(&mu_);
    Record* record = FindLocked(id);
    if (record != nullptr) {
      record->lease.remaining_ttl = remaining_ttl;
      if (primary_) ScheduleCheckpointLocked(*record, NowLocked());
      changed = record->lease;
    }
  }
  if (changed.has_value()) PutRecord(tx, *changed);
  tx->Unlock();
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Lessor::Renew(LeaseId id) {
  Checkpointer reset_checkpoint;
  uint64_t incarnation = 0;
  uint64_t demotions = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!primary_) return NotPrimaryError();
    demotions = demotions_;
    Record* record = FindLocked(id);
    if (record == nullptr) return LeaseNotFoundError();
    incarnation = record->incarnation;
    // An expired lease is being revoked (or about to be): wait for the
    // outcome instead of reviving it.
    while (record->lease.expiry <= NowLocked()) {
      if (stopped_) return NotPrimaryError();
      changed_.Wait(&mu_);
      if (!primary_ || demotions_ != demotions) return NotPrimaryError();
      record = FindLocked(id);
      if (record == nullptr || record->incarnation != incarnation) return LeaseNotFoundError();
    }
    if (checkpointer_ && record->lease.remaining_ttl > 0) reset_checkpoint = checkpointer_;
  }

  // Clearing the checkpoint goes through consensus; only when there is one
  // to clear, so a lease costs at most two raft entries per interval.
  if (reset_checkpoint) reset_checkpoint({LeaseCheckpoint{id, 0}});

  absl::MutexLock lock(&mu_);
  if (!primary_ || demotions_ != demotions) return NotPrimaryError();
  Record* record = FindLocked(id);
  if (record == nullptr || record->incarnation != incarnation) return LeaseNotFoundError();
  SetExpiryLocked(record, NowLocked() + absl::Seconds(record->lease.ttl));
  return record->lease.ttl;
}

std::optional<Lease> Lessor::Lookup(LeaseId id) const {
  absl::MutexLock lock(&mu_);
  const Record* record = FindLocked(id);
  if (record == nullptr) return std::nullopt;
  return record->lease;
}

std::vector<Lease> Lessor::Leases() const {
  std::vector<Lease> out;
  {
    absl::MutexLock lock(&mu_);
    out.reserve(leases_.size());
    for (const auto& [id, record] : leases_) out.push_back(record.lease);
  }
  std::sort(out.begin(), out.end(), ExpiresBefore);
  return out;
}

size_t Lessor::size() const {
  absl::MutexLock lock(&mu_);
  return leases_.size();
}

absl::StatusOr<TimeToLiveInfo> Lessor::TimeToLive(LeaseId id, bool with_keys) const {
  absl::MutexLock lock(&mu_);
  const Record* record = FindLocked(id);
  if (record == nullptr) return LeaseNotFoundError();
  TimeToLiveInfo info;
  info.id = id;
  info.granted_ttl = record->lease.ttl;
  if (record->lease.expiry == absl::InfiniteFuture()) {
    info.ttl = record->lease.PromotionTtl();
  } else {
    info.ttl = absl::ToInt64Seconds(record->lease.expiry - NowLocked());
  }
  if (with_keys) {
    info.keys.assign(record->keys.begin(), record->keys.end());
    std::sort(info.keys.begin(), info.keys.end());
  }
  return info;
}

absl::StatusOr<std::vector<std::string>> Lessor::GetKeys(LeaseId id) const {
  std::vector<std::string> keys;
  {
    absl::MutexLock lock(&mu_);
    const Record* record = FindLocked(id);
    if (record == nullptr) return LeaseNotFoundError();
    keys.assign(record->keys.begin(), record->keys.end());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

LeaseId Lessor::GetLease(absl::string_view key) const {
  absl::MutexLock lock(&mu_);
  auto it = items_.find(key);
  return it == items_.end() ? kNoLease : it->second;
}

absl::Status Lessor::Attach(LeaseId id, absl::Span<const std::string> keys) {
  absl::MutexLock lock(&mu_);
  Record* record = FindLocked(id);
  if (record == nullptr) return LeaseNotFoundError();
  for (const std::string& key : keys) {
    record->keys.insert(key);
    items_[key] = id;
  }
  return absl::OkStatus();
}

absl::Status Lessor::Detach(LeaseId id, absl::Span<const std::string> keys) {
  absl::MutexLock lock(&mu_);
  Record* record = FindLocked(id);
  if (record == nullptr) return LeaseNotFoundError();
  for (const std::string& key : keys) {
    record->keys.erase(key);
    auto it = items_.find(key);
    if (it != items_.end() && it->second == id) items_.erase(it);
  }
  return absl::OkStatus();
}

void Lessor::Promote(absl::Duration extend) {
  absl::MutexLock lock(&mu_);
  primary_ = true;
  RefreshAllLocked(extend);
  changed_.SignalAll();
}

void Lessor::RefreshAllLocked(absl::Duration extend) {
  const absl::Time now = NowLocked();
  for (auto& [id, record] : leases_) {
    SetExpiryLocked(&record, now + extend + absl::Seconds(record.lease.PromotionTtl()));
    ScheduleCheckpointLocked(record, now);
  }
  const int64_t rate = options_.revoke_rate;
  if (static_cast<int64_t>(leases_.size()) < rate) return;  // cannot pile up

  // Walk the leases in expiry order in windows of one second. Once a window
  // has more than `target` leases, each further one is pushed back so that
  // they expire at `target` per second from the window's start, and the
  // window grows to cover them.
  std::vector<Record*> order;
  order.reserve(leases_.size());
  for (auto& [id, record] : leases_) order.push_back(&record);
  std::sort(order.begin(), order.end(),
            [](const Record* a, const Record* b) { return ExpiresBefore(a->lease, b->lease); });
  const int64_t target = std::max<int64_t>(1, 3 * rate / 4);
  absl::Duration window_start = order.front()->lease.expiry - now;
  absl::Duration window_end = window_start + absl::Seconds(1);
  int64_t in_window = 0;
  for (Record* record : order) {
    const absl::Duration remaining = record->lease.expiry - now;
    if (remaining > window_end) {
      window_start = remaining;
      window_end = window_start + absl::Seconds(1);
      in_window = 1;
      continue;
    }
    ++in_window;
    if (in_window <= target) continue;
    const double wanted_ns = 1e9 * (static_cast<double>(in_window) / static_cast<double>(target));
    const absl::Duration delay = absl::Nanoseconds(
        static_cast<int64_t>(wanted_ns - absl::ToDoubleNanoseconds(remaining - window_start)));
    window_end = window_start + delay;
    SetExpiryLocked(record, now + extend + delay + absl::Seconds(record->lease.PromotionTtl()));
    ScheduleCheckpointLocked(*record, now);
  }
}

void Lessor::Demote() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, record] : leases_) record.lease.expiry = absl::InfiniteFuture();
  expiry_queue_.Clear();
  checkpoint_queue_ = {};
  primary_ = false;
  ++demotions_;
  changed_.SignalAll();
}

bool Lessor::IsPrimary() const {
  absl::MutexLock lock(&mu_);
  return primary_;
}

std::vector<Lease> Lessor::ExpiredLeases(int max) {
  std::vector<Lease> out;
  absl::MutexLock lock(&mu_);
  if (!primary_) return out;
  const absl::Time now = NowLocked();
  const absl::Time retry = now + options_.expired_lease_retry_interval;
  while (max <= 0 || static_cast<int>(out.size()) < max) {
    if (expiry_queue_.empty() || expiry_queue_.TopTime() > now) break;
    Record* record = static_cast<Record*>(expiry_queue_.Top());
    // Hand it out again later unless it is revoked or renewed by then.
    expiry_queue_.Upsert(record, retry);
    if (record->lease.expiry <= now) out.push_back(record->lease);
  }
  return out;
}

std::vector<LeaseCheckpoint> Lessor::DueCheckpointsLocked(int max) {
  std::vector<LeaseCheckpoint> out;
  if (!checkpointer_ || !primary_) return out;
  const absl::Time now = NowLocked();
  while (!checkpoint_queue_.empty() && static_cast<int>(out.size()) < max) {
    const auto [due, id] = checkpoint_queue_.top();
    if (due > now) break;
    checkpoint_queue_.pop();
    const Record* record = FindLocked(id);
    if (record == nullptr || record->lease.expiry <= now ||
        record->lease.expiry == absl::InfiniteFuture()) {
      continue;
    }
    const int64_t remaining =
        absl::ToInt64Seconds(absl::Ceil(record->lease.expiry - now, absl::Seconds(1)));
    if (remaining >= record->lease.ttl) continue;  // nothing lost by a leader change
    out.push_back(LeaseCheckpoint{id, remaining});
  }
  return out;
}

void Lessor::RunOnce() {
  ExpiredHandler handler;
  Checkpointer checkpointer;
  {
    absl::MutexLock lock(&mu_);
    if (!primary_) return;
    handler = expired_handler_;
    checkpointer = checkpointer_;
  }
  if (handler) {
    std::vector<Lease> expired = ExpiredLeases(std::max(1, options_.revoke_rate / 2));
    if (!expired.empty()) handler(std::move(expired));
  }
  if (checkpointer) {
    const int rounds = std::max(1, options_.checkpoint_rate / 2);
    for (int i = 0; i < rounds; ++i) {
      std::vector<LeaseCheckpoint> due;
      {
        absl::MutexLock lock(&mu_);
        due = DueCheckpointsLocked(options_.max_checkpoint_batch);
      }
      const bool full = static_cast<int>(due.size()) == options_.max_checkpoint_batch;
      if (!due.empty()) checkpointer(std::move(due));
      if (!full) break;
    }
  }
}

void Lessor::Loop() {
  do {
    RunOnce();
  } while (!stop_loop_.WaitForNotificationWithTimeout(options_.loop_interval));
}

void Lessor::Start() {
  absl::MutexLock lock(&thread_mu_);
  if (loop_.joinable() || stop_loop_.HasBeenNotified()) return;
  loop_ = std::thread([this] { Loop(); });
}

void Lessor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    changed_.SignalAll();
  }
  absl::MutexLock lock(&thread_mu_);
  if (!stop_loop_.HasBeenNotified()) stop_loop_.Notify();
  if (loop_.joinable()) loop_.join();
}

absl::Status Lessor::Recover(Backend* backend, RangeDeleter* deleter) {
  if (backend == nullptr) return absl::InvalidArgumentError("lease: no backend");
  ASSIGN_OR_RETURN(RecordMap loaded, Load(backend));
  RecordMap old;
  {
    absl::MutexLock lock(&mu_);
    // The queues point into the old records: empty them first.
    expiry_queue_.Clear();
    checkpoint_queue_ = {};
    old.swap(leases_);
    leases_ = std::move(loaded);
    for (auto& [id, record] : leases_) record.incarnation = next_incarnation_++;
    items_.clear();
    backend_ = backend;
    deleter_ = deleter;
    if (primary_) RefreshAllLocked(absl::ZeroDuration());
    changed_.SignalAll();
  }
  return absl::OkStatus();
}

}  // namespace etcd::lease
