// Internal to //lease (tests). A reference model of the lessor, and a checker
// that drives a real Lessor (on a real backend in a directory, with a manual
// clock) and the model with the same operations, comparing them after every
// step: grants, revokes (the keys deleted, in one transaction), renewals,
// attaches and detaches, checkpoints, clock advances, promotions (with the
// spreading of piled-up expiries), demotions, expired leases handed out for
// revocation (bounded batches, expiry order, retries), the checkpoints the
// primary hands out, restarts (lessor and backend closed and reopened) and
// Recover. After each step it compares every lease (TTL, remaining TTL,
// expiry to the nanosecond), the keys, the primary flag, TimeToLive, and
// what the lease bucket holds.
//
//   RandomChoices choices(seed);
//   ASSERT_OK_AND_ASSIGN(auto checker, LessorChecker::Create({.dir = dir.path()}));
//   for (int i = 0; i < 2000; ++i) ASSERT_OK(checker->Step(choices)) << checker->Trace();
//
// The model is written for obviousness: ordered maps and linear scans, no
// persistence, no threads, no heap.
//
// Thread-compatible.

#ifndef ETCD_LEASE_LESSOR_MODEL_H_
#define ETCD_LEASE_LESSOR_MODEL_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lease/clock.h"
#include "lease/lessor.h"
#include "mvcc/backend/backend.h"
#include "pkg/testutil/choices.h"

namespace etcd::lease {

using testutil::BytesChoices;
using testutil::Choices;
using testutil::RandomChoices;

class LessorModel {
 public:
  struct Config {
    int64_t min_lease_ttl = 0;
    absl::Duration retry = absl::Seconds(3);
    absl::Duration checkpoint_interval = absl::Minutes(5);
    int revoke_rate = 1000;
    // Whether a checkpointer is set.
    bool checkpointing = false;
  };

  struct ModelLease {
    int64_t ttl = 0;
    int64_t remaining_ttl = 0;
    absl::Time expiry = absl::InfiniteFuture();
    // When the primary hands it out next (expiry, or a retry after a
    // hand-out); InfiniteFuture when not primary.
    absl::Time handout = absl::InfiniteFuture();
    std::set<std::string> keys;

    int64_t PromotionTtl() const { return remaining_ttl > 0 ? remaining_ttl : ttl; }
  };

  explicit LessorModel(Config config) : config_(config) {}

  absl::Status Grant(LeaseId id, int64_t ttl, absl::Time now);
  // The keys the revocation deletes, sorted.
  absl::StatusOr<std::vector<std::string>> Revoke(LeaseId id);
  void Checkpoint(LeaseId id, int64_t remaining_ttl, absl::Time now);
  // Requires !WouldBlock(id, now). Sets *reset when the checkpointer is to
  // be asked to clear the lease's checkpoint.
  absl::StatusOr<int64_t> Renew(LeaseId id, absl::Time now, bool* reset);
  // Renew would wait for the revocation of an expired lease.
  bool WouldBlock(LeaseId id, absl::Time now) const;
  absl::Status Attach(LeaseId id, const std::vector<std::string>& keys);
  absl::Status Detach(LeaseId id, const std::vector<std::string>& keys);
  void Promote(absl::Duration extend, absl::Time now);
  void Demote();
  // The leases due to be handed out, earliest hand-out time first.
  std::vector<LeaseId> Due(absl::Time now) const;
  void HandedOut(LeaseId id, absl::Time now);
  // The checkpoints the primary hands out now (all of them, in order).
  std::vector<LeaseCheckpoint> DueCheckpoints(absl::Time now);
  // A restart: leases reloaded from storage, keys re-attached by the store.
  void Restart();
  // Recover from a backend with the current leases.
  void Recover(absl::Time now);
  absl::StatusOr<TimeToLiveInfo> TimeToLive(LeaseId id, absl::Time now) const;

  const std::map<LeaseId, ModelLease>& leases() const { return leases_; }
  const std::map<std::string, LeaseId>& items() const { return items_; }
  bool primary() const { return primary_; }
  Lease Snapshot(LeaseId id) const;
  // Every lease, soonest expiry first, ties by ID.
  std::vector<Lease> Sorted() const;

 private:
  void Refresh(absl::Duration extend, absl::Time now);
  void Schedule(LeaseId id, absl::Time now);

  const Config config_;
  std::map<LeaseId, ModelLease> leases_;
  std::map<std::string, LeaseId> items_;
  std::multiset<std::pair<absl::Time, LeaseId>> checkpoints_;
  bool primary_ = false;
};

struct CheckerOptions {
  // A directory for the database file (replaced if present).
  std::string dir;
  bool checkpointing = true;
  // Small values make Promote spread expiries (with the IDs in use).
  int revoke_rate = 1000;
  int max_checkpoint_batch = 1000;
  // Lease IDs 1..max_id are used, and sometimes 0.
  int max_id = 8;
};

class LessorChecker {
 public:
  static absl::StatusOr<std::unique_ptr<LessorChecker>> Create(CheckerOptions options);
  ~LessorChecker();

  // One operation chosen by `choices`, then Check().
  absl::Status Step(Choices& choices);
  // Compares the lessor, its bucket and the model.
  absl::Status Check();
  // The last operations, oldest first.
  std::string Trace() const;

  Lessor* lessor() { return lessor_.get(); }
  const LessorModel& model() const { return model_; }

 private:
  class Deleter;

  explicit LessorChecker(CheckerOptions options);
  absl::Status OpenBackend();
  absl::Status OpenLessor();
  void Wire();
  void Log(const std::string& op);

  absl::Status DoGrant(Choices& c);
  absl::Status DoRevoke(LeaseId id);
  absl::Status DoRenew(Choices& c);
  absl::Status DoAttach(Choices& c);
  absl::Status DoDetach(Choices& c);
  absl::Status DoCheckpoint(LeaseId id, int64_t remaining);
  absl::Status DoExpired(Choices& c, int max);
  // Checks a batch of expired leases the lessor handed out (asked for at
  // most `max`) against the model, then revokes some of them.
  absl::Status VerifyHandedOut(Choices& c, const std::vector<Lease>& got, int max);
  absl::Status DoRunOnce(Choices& c);
  absl::Status DoRestart();
  absl::Status DoRecover();
  absl::Status ReattachKeys();
  LeaseId PickId(Choices& c);

  const CheckerOptions options_;
  LessorOptions lessor_options_;
  ManualClock clock_;
  LessorModel model_;
  std::unique_ptr<mvcc::backend::Backend> backend_;
  std::unique_ptr<Deleter> deleter_;
  std::unique_ptr<Lessor> lessor_;
  // What the hooks received since last looked at.
  std::vector<std::vector<LeaseCheckpoint>> checkpoint_calls_;
  std::vector<std::vector<Lease>> expired_calls_;
  std::deque<std::string> trace_;
  int64_t steps_ = 0;
};

}  // namespace etcd::lease

#endif  // ETCD_LEASE_LESSOR_MODEL_H_
