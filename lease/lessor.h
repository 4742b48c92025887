// Leases: grants with a time to live that keys attach to, revoked together
// with their keys when they expire (etcd's lease.Lessor).
//
//   etcd::lease::LessorOptions options;
//   options.min_lease_ttl = 2;  // seconds: ceil(1.5 x election timeout)
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::lease::Lessor> lessor,
//                    etcd::lease::Lessor::Open(backend, options));
//   lessor->SetRangeDeleter(&deleter);  // deletes a revoked lease's keys
//   lessor->SetExpiredHandler([&](std::vector<etcd::lease::Lease> expired) {
//     for (const auto& l : expired) ProposeLeaseRevoke(l.id);  // through raft
//   });
//   lessor->SetCheckpointer([&](std::vector<etcd::lease::LeaseCheckpoint> cps) {
//     ProposeLeaseCheckpoint(cps);                              // through raft
//   });
//   lessor->Start();  // or call RunOnce() from the server's own loop
//
//   // The apply thread, on every member, in log order:
//   ASSIGN_OR_RETURN(etcd::lease::Lease l, lessor->Grant(id, 60));
//   RETURN_IF_ERROR(lessor->Attach(id, {"foo"}));  // the store does this on a put
//   RETURN_IF_ERROR(lessor->Checkpoint(id, 42));   // an applied LeaseCheckpoint
//   RETURN_IF_ERROR(lessor->Revoke(id));           // "foo" deleted in one revision
//
//   // Leadership changes (the raft loop):
//   lessor->Promote(election_timeout);  // became leader
//   lessor->Demote();                   // lost leadership
//
//   // Keep-alives, on the leader:
//   ASSIGN_OR_RETURN(int64_t ttl, lessor->Renew(id));
//
// Primary and followers. Every member holds every lease (Grant, Revoke,
// Attach, Detach and Checkpoint are applied from the raft log everywhere), but
// only the primary lessor, the leader's, lets them expire and accepts
// renewals. On a follower every lease's expiry is "never" (Lease::expiry is
// absl::InfiniteFuture()). Promote makes a lessor the primary and gives every
// lease its remaining TTL again from now, plus `extend`: no lease expires
// because the leader changed. When at least `revoke_rate` leases exist,
// Promote also spreads expiries that would fall in the same second so that
// at most 3/4 of `revoke_rate` leases expire per second (etcd's pile-up
// avoidance); a lease is only ever pushed later, never earlier. Demote makes
// every lease immortal again and wakes Renew calls waiting on expired leases.
//
// Expiry. The primary keeps leases in a min-heap keyed by expiry with one
// entry per lease; ExpiredLeases(max) hands out at most `max` leases whose
// expiry has passed, in expiry order, in O(log n) each, and costs O(1) when
// none is due, however many leases exist. The lessor never revokes on its
// own: the server proposes a LeaseRevoke for each lease handed out, and the
// revocation is applied (Revoke) on every member. A lease handed out and not
// revoked within `expired_lease_retry_interval` (the proposal was lost, or
// the leader changed) is handed out again. An expired lease cannot be
// renewed: Renew waits until it has been revoked (IsLeaseNotFound) or the
// lessor is demoted or stopped (IsNotPrimary), as etcd does.
//
// Checkpoints (etcd 3.4's lease checkpointing). Without them a leader change
// gives every lease its full TTL again, so a long lease whose leader keeps
// changing never expires. With a checkpointer set, the primary schedules a
// checkpoint `checkpoint_interval` after each grant or promotion for every
// lease whose TTL exceeds that interval; when due, RunOnce hands batches of
// {id, remaining TTL (seconds, rounded up)} to the checkpointer, which
// proposes them. Applying one (Checkpoint) on every member records and
// persists the remaining TTL; the next Promote then resumes the lease from
// that remaining TTL instead of its full TTL, and the primary schedules the
// next checkpoint. Renew of a checkpointed lease hands {id, 0} to the
// checkpointer so the record is reset everywhere.
//
// Persistence. Every lease is stored in the backend's `lease` bucket (key:
// the ID as 8 bytes big-endian; value: a marshalled leasepb.Lease with ID,
// TTL and RemainingTTL), written in the backend batch of the Grant,
// Checkpoint or Revoke. Open and Recover load the bucket; leases come back
// immortal (this member is not the primary yet) with their TTL and
// checkpointed remaining TTL, and without keys: the key-value store
// re-attaches its keys when it is restored.
//
// Locking. Revoke deletes a lease's keys through a write transaction of the
// key-value store (RangeDeleter), which holds the backend's batch lock and
// calls back Detach; the lessor deletes its own record in that same batch
// transaction, so keys and lease go together or not at all. The lock order is
// the backend's batch lock before the lessor's mutex: the lessor never takes
// the batch lock while holding its mutex, and never calls a hook (range
// deleter, checkpointer, expired handler) while holding its mutex, so hooks
// may call back into the lessor.
//
// Thread safety: Lessor is thread-safe. Grant, Revoke, Checkpoint and Recover
// change the backend and must be called in the same order on every member
// (the server calls them from its apply thread); Recover must not run
// concurrently with them.

#ifndef ETCD_LEASE_LESSOR_H_
#define ETCD_LEASE_LESSOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "lease/clock.h"
#include "lease/errors.h"
#include "lease/lease_queue.h"
#include "mvcc/backend/backend.h"

namespace etcd::lease {

using LeaseId = int64_t;

// The ID of "no lease" (a key without a lease). Never granted.
inline constexpr LeaseId kNoLease = 0;

// The longest TTL a lease may be granted, in seconds (etcd's MaxLeaseTTL).
inline constexpr int64_t kMaxLeaseTtl = 9000000000;

// A lease as of the call that returned it (a copy; it does not follow later
// changes).
struct Lease {
  LeaseId id = kNoLease;
  // Seconds, as granted (after raising to the minimum TTL).
  int64_t ttl = 0;
  // Seconds left at the last applied checkpoint; 0 when there is none.
  int64_t remaining_ttl = 0;
  // When it expires; absl::InfiniteFuture() unless this lessor is primary.
  absl::Time expiry = absl::InfiniteFuture();

  // What a promotion starts the lease from: remaining_ttl if set, else ttl.
  int64_t PromotionTtl() const { return remaining_ttl > 0 ? remaining_ttl : ttl; }
  // Time left at `now` (negative once expired); infinite when immortal.
  absl::Duration Remaining(absl::Time now) const { return expiry - now; }

  friend bool operator==(const Lease& a, const Lease& b) {
    return a.id == b.id && a.ttl == b.ttl && a.remaining_ttl == b.remaining_ttl &&
           a.expiry == b.expiry;
  }
};

// A lease's remaining TTL as the primary hands it to the checkpointer, and as
// a LeaseCheckpoint entry applies it (etcd's pb.LeaseCheckpoint).
struct LeaseCheckpoint {
  LeaseId id = kNoLease;
  int64_t remaining_ttl = 0;

  friend bool operator==(const LeaseCheckpoint& a, const LeaseCheckpoint& b) {
    return a.id == b.id && a.remaining_ttl == b.remaining_ttl;
  }
};

// What LeaseTimeToLive answers.
struct TimeToLiveInfo {
  LeaseId id = kNoLease;
  // Whole seconds left, truncated toward zero as etcd reports them (0 or
  // negative once expired and not yet revoked). On a lessor that is not the
  // primary, where leases do not expire, it is the TTL a promotion would
  // give (Lease::PromotionTtl); etcd's followers ask the leader instead.
  int64_t ttl = 0;
  // Seconds, as granted.
  int64_t granted_ttl = 0;
  // The attached keys, sorted; empty unless asked for.
  std::vector<std::string> keys;
};

// A write transaction of the key-value store that only deletes (etcd's
// TxnDelete). All deletes of one transaction make one revision.
class TxnDelete {
 public:
  virtual ~TxnDelete() = default;
  // Deletes [key, end), or just `key` when `end` is empty.
  virtual void DeleteRange(absl::string_view key, absl::string_view end) = 0;
  // Commits the transaction (into the backend batch) and releases it.
  virtual void End() = 0;
};

// Opens delete transactions on the key-value store (etcd's RangeDeleter).
// The returned transaction must hold the backend's batch lock (BatchTx::Lock)
// from NewTxn until End, as the store's write transactions do: Revoke writes
// the lease record's deletion into the same batch while it is open.
class RangeDeleter {
 public:
  virtual ~RangeDeleter() = default;
  virtual std::unique_ptr<TxnDelete> NewTxn() = 0;
};

// Receives checkpoints to propose (etcd's Checkpointer). Called without the
// lessor's mutex held, from RunOnce's thread and from Renew's.
using Checkpointer = std::function<void(std::vector<LeaseCheckpoint>)>;

// Receives expired leases to propose revocation for. Called without the
// lessor's mutex held, from RunOnce's thread. Should not block for long.
using ExpiredHandler = std::function<void(std::vector<Lease>)>;

struct LessorOptions {
  // Grants (and recovered leases) with a shorter TTL get this one, in seconds
  // (etcd: ceil(1.5 x election timeout)). May be <= 0 (tests).
  int64_t min_lease_ttl = 0;
  // How long after a grant, promotion or applied checkpoint the primary
  // checkpoints a lease (etcd's default: 5 minutes).
  absl::Duration checkpoint_interval = absl::Minutes(5);
  // Checkpoints per checkpointer call (etcd: 1000).
  int max_checkpoint_batch = 1000;
  // Checkpoints per second at most: RunOnce makes at most rate/2 calls of
  // max_checkpoint_batch (etcd's leaseCheckpointRate, 1000).
  int checkpoint_rate = 1000;
  // Revocations per second the server can take (etcd's leaseRevokeRate,
  // 1000): RunOnce hands out at most rate/2 leases per round, and Promote
  // spreads expiries to 3/4 of this rate.
  int revoke_rate = 1000;
  // A lease handed out for revocation is handed out again after this long if
  // still not revoked (etcd: 3 s). Must be positive.
  absl::Duration expired_lease_retry_interval = absl::Seconds(3);
  // The background loop's period (Start); etcd: 500 ms.
  absl::Duration loop_interval = absl::Milliseconds(500);
  // Borrowed; must outlive the lessor. Null: RealClock().
  Clock* clock = nullptr;
};

class Lessor {
 public:
  // Loads the leases stored in `backend` (borrowed; must outlive the lessor
  // or be replaced by Recover). The lessor starts as a follower. DataLoss if
  // a stored lease does not decode; InvalidArgument for bad options.
  static absl::StatusOr<std::unique_ptr<Lessor>> Open(mvcc::backend::Backend* backend,
                                                      LessorOptions options = {});

  // Stops (see Stop).
  ~Lessor();
  Lessor(const Lessor&) = delete;
  Lessor& operator=(const Lessor&) = delete;

  // Hooks. `deleter` is borrowed and must stay valid while set; null means
  // revoked leases' keys are not deleted (only the lease record is). A
  // replaced hook may still be called by a call already under way.
  void SetRangeDeleter(RangeDeleter* deleter) ABSL_LOCKS_EXCLUDED(mu_);
  // Null (the default) turns checkpointing off.
  void SetCheckpointer(Checkpointer checkpointer) ABSL_LOCKS_EXCLUDED(mu_);
  // Null (the default): RunOnce hands out no expired leases.
  void SetExpiredHandler(ExpiredHandler handler) ABSL_LOCKS_EXCLUDED(mu_);

  // Creates lease `id` with `ttl` seconds (raised to min_lease_ttl) and
  // persists it; on the primary it expires `ttl` from now. IsLeaseNotFound
  // for kNoLease (the server picks IDs), IsLeaseTTLTooLarge above
  // kMaxLeaseTtl, IsLeaseExists if `id` exists.
  absl::StatusOr<Lease> Grant(LeaseId id, int64_t ttl) ABSL_LOCKS_EXCLUDED(mu_);

  // Deletes the lease's keys (sorted, one DeleteRange each, in one
  // transaction of the range deleter) and the lease with its record.
  // IsLeaseNotFound if there is no such lease.
  absl::Status Revoke(LeaseId id) ABSL_LOCKS_EXCLUDED(mu_);

  // Records and persists the lease's remaining TTL (0 clears it); on the
  // primary, schedules the next checkpoint. An unknown ID is ignored (it
  // was revoked meanwhile), as in etcd.
  absl::Status Checkpoint(LeaseId id, int64_t remaining_ttl) ABSL_LOCKS_EXCLUDED(mu_);

  // Primary only: the lease expires its full TTL from now; returns the TTL.
  // IsNotPrimary on a follower; IsLeaseNotFound for an unknown lease. An
  // expired lease is not renewed: the call waits until it is revoked
  // (IsLeaseNotFound) or the lessor is demoted or stopped (IsNotPrimary).
  // A checkpointed lease has its checkpoint reset through the checkpointer.
  absl::StatusOr<int64_t> Renew(LeaseId id) ABSL_LOCKS_EXCLUDED(mu_);

  std::optional<Lease> Lookup(LeaseId id) const ABSL_LOCKS_EXCLUDED(mu_);
  // Every lease, soonest expiry first (ties by ID).
  std::vector<Lease> Leases() const ABSL_LOCKS_EXCLUDED(mu_);
  // Number of leases.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  // IsLeaseNotFound for an unknown lease.
  absl::StatusOr<TimeToLiveInfo> TimeToLive(LeaseId id, bool with_keys) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The keys attached to `id`, sorted. IsLeaseNotFound for an unknown lease.
  absl::StatusOr<std::vector<std::string>> GetKeys(LeaseId id) const ABSL_LOCKS_EXCLUDED(mu_);
  // The lease `key` is attached to, or kNoLease.
  LeaseId GetLease(absl::string_view key) const ABSL_LOCKS_EXCLUDED(mu_);

  // Attaches `keys` to lease `id` (in memory only: the key-value store holds
  // each key's lease). IsLeaseNotFound for an unknown lease.
  absl::Status Attach(LeaseId id, absl::Span<const std::string> keys) ABSL_LOCKS_EXCLUDED(mu_);
  // Detaches `keys` from lease `id`. IsLeaseNotFound for an unknown lease.
  absl::Status Detach(LeaseId id, absl::Span<const std::string> keys) ABSL_LOCKS_EXCLUDED(mu_);

  // Makes this lessor the primary: every lease expires PromotionTtl() seconds
  // plus `extend` from now (later when spread, see the header comment).
  void Promote(absl::Duration extend) ABSL_LOCKS_EXCLUDED(mu_);
  // Makes this lessor a follower: no lease expires.
  void Demote() ABSL_LOCKS_EXCLUDED(mu_);
  bool IsPrimary() const ABSL_LOCKS_EXCLUDED(mu_);

  // Primary only (else empty): hands out at most `max` (no limit when <= 0)
  // expired leases, earliest expiry first, each to be handed out again after
  // expired_lease_retry_interval unless revoked or renewed by then.
  std::vector<Lease> ExpiredLeases(int max) ABSL_LOCKS_EXCLUDED(mu_);

  // One round of the background loop: with an expired handler set, hands it
  // ExpiredLeases(revoke_rate / 2) when not empty; with a checkpointer set,
  // hands it the due checkpoints in batches. Primary only.
  void RunOnce() ABSL_LOCKS_EXCLUDED(mu_);

  // Starts a thread that calls RunOnce every loop_interval (real time).
  // No-op if started or stopped.
  void Start() ABSL_LOCKS_EXCLUDED(mu_, thread_mu_);
  // Stops and joins the loop thread, and makes Renew calls waiting on
  // expired leases return IsNotPrimary. The other methods keep working.
  // Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_, thread_mu_);

  // Replaces the lessor's state with the leases stored in `backend` (a
  // backend restored from a snapshot; borrowed like Open's) and sets the
  // range deleter; keys are re-attached by the store. A primary lessor stays
  // primary and gives every lease its PromotionTtl from now (etcd leaves
  // them immortal until the next promotion). DataLoss as for Open, in which
  // case nothing changed.
  absl::Status Recover(mvcc::backend::Backend* backend, RangeDeleter* deleter)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A lease and its bookkeeping. Lives in leases_ (never moves); its node is
  // queued in expiry_queue_ exactly when this lessor is the primary.
  struct Record : internal::QueueNode {
    Lease lease;
    // Distinguishes this grant from an earlier or later lease with the same
    // ID (Renew and Revoke re-find the record after releasing mu_).
    uint64_t incarnation = 0;
    absl::flat_hash_set<std::string> keys;
  };
  using RecordMap = absl::node_hash_map<LeaseId, Record>;

  Lessor(mvcc::backend::Backend* backend, LessorOptions options);

  // Reads the lease bucket of `backend` into fresh records.
  absl::StatusOr<RecordMap> Load(mvcc::backend::Backend* backend) ABSL_LOCKS_EXCLUDED(mu_);
  // The backend now (it changes only in Recover).
  mvcc::backend::Backend* backend() const ABSL_LOCKS_EXCLUDED(mu_);

  Record* FindLocked(LeaseId id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Record* FindLocked(LeaseId id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets the record's expiry and queues it for expiry at that time.
  void SetExpiryLocked(Record* record, absl::Time expiry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives every lease its PromotionTtl + extend from now and spreads piled-up
  // expiries. Requires primary_.
  void RefreshAllLocked(absl::Duration extend) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Schedules a checkpoint of `record` if it is long enough to need one.
  void ScheduleCheckpointLocked(const Record& record, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pops up to `max` due checkpoints that are still worth making.
  std::vector<LeaseCheckpoint> DueCheckpointsLocked(int max) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the record from every structure; `record` is destroyed.
  void EraseLocked(Record* record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time NowLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return clock_->Now(); }

  // The loop thread's body.
  void Loop();

  const LessorOptions options_;
  Clock* const clock_;

  mutable absl::Mutex mu_;
  mvcc::backend::Backend* backend_ ABSL_GUARDED_BY(mu_);
  RangeDeleter* deleter_ ABSL_GUARDED_BY(mu_) = nullptr;
  Checkpointer checkpointer_ ABSL_GUARDED_BY(mu_);
  ExpiredHandler expired_handler_ ABSL_GUARDED_BY(mu_);

  RecordMap leases_ ABSL_GUARDED_BY(mu_);
  // key -> the lease it is attached to.
  absl::flat_hash_map<std::string, LeaseId> items_ ABSL_GUARDED_BY(mu_);
  // Invariant: holds exactly the records of leases_ when primary_, keyed by
  // when each is next due to be handed out (its expiry, or the retry time
  // after it was handed out); empty otherwise.
  internal::ExpiryQueue expiry_queue_ ABSL_GUARDED_BY(mu_);
  // Scheduled checkpoints (time, lease); may hold IDs revoked since and
  // several entries per lease, checked when popped. Empty unless primary_.
  std::priority_queue<std::pair<absl::Time, LeaseId>, std::vector<std::pair<absl::Time, LeaseId>>,
                      std::greater<>>
      checkpoint_queue_ ABSL_GUARDED_BY(mu_);
  bool primary_ ABSL_GUARDED_BY(mu_) = false;
  // Incremented by every Demote; Renew waiters return when it changes.
  uint64_t demotions_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_incarnation_ ABSL_GUARDED_BY(mu_) = 1;
  // Signalled when a lease is revoked or renewed, on Promote, Demote, Stop
  // and Recover: what Renew waiters wait for.
  absl::CondVar changed_;

  // Serialises Start and Stop.
  absl::Mutex thread_mu_;
  absl::Notification stop_loop_;
  std::thread loop_ ABSL_GUARDED_BY(thread_mu_);
};

}  // namespace etcd::lease

#endif  // ETCD_LEASE_LESSOR_H_
