#include "lease/lessor_model.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lease/leasepb/lease.pb.h"
#include "pkg/status/status_macros.h"

namespace etcd::lease {

using mvcc::backend::Backend;
using mvcc::backend::BackendOptions;
using mvcc::backend::Bucket;

// ---------------------------------------------------------------- the model

absl::Status LessorModel::Grant(LeaseId id, int64_t ttl, absl::Time now) {
  if (id == kNoLease) return LeaseNotFoundError();
  if (ttl > kMaxLeaseTtl) return LeaseTtlTooLargeError();
  if (leases_.count(id) > 0) return LeaseExistsError();
  ModelLease& l = leases_[id];
  l.ttl = std::max(ttl, config_.min_lease_ttl);
  if (primary_) {
    l.expiry = now + absl::Seconds(l.ttl);
    l.handout = l.expiry;
    Schedule(id, now);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> LessorModel::Revoke(LeaseId id) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return LeaseNotFoundError();
  std::vector<std::string> keys(it->second.keys.begin(), it->second.keys.end());
  for (const std::string& key : keys) {
    auto item = items_.find(key);
    if (item != items_.end() && item->second == id) items_.erase(item);
  }
  leases_.erase(it);
  return keys;
}

void LessorModel::Checkpoint(LeaseId id, int64_t remaining_ttl, absl::Time now) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return;
  it->second.remaining_ttl = remaining_ttl;
  if (primary_) Schedule(id, now);
}

bool LessorModel::WouldBlock(LeaseId id, absl::Time now) const {
  auto it = leases_.find(id);
  return primary_ && it != leases_.end() && it->second.expiry <= now;
}

absl::StatusOr<int64_t> LessorModel::Renew(LeaseId id, absl::Time now, bool* reset) {
  *reset = false;
  if (!primary_) return NotPrimaryError();
  auto it = leases_.find(id);
  if (it == leases_.end()) return LeaseNotFoundError();
  ModelLease& l = it->second;
  *reset = config_.checkpointing && l.remaining_ttl > 0;
  l.expiry = now + absl::Seconds(l.ttl);
  l.handout = l.expiry;
  return l.ttl;
}

absl::Status LessorModel::Attach(LeaseId id, const std::vector<std::string>& keys) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return LeaseNotFoundError();
  for (const std::string& key : keys) {
    it->second.keys.insert(key);
    items_[key] = id;
  }
  return absl::OkStatus();
}

absl::Status LessorModel::Detach(LeaseId id, const std::vector<std::string>& keys) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return LeaseNotFoundError();
  for (const std::string& key : keys) {
    it->second.keys.erase(key);
    auto item = items_.find(key);
    if (item != items_.end() && item->second == id) items_.erase(item);
  }
  return absl::OkStatus();
}

void LessorModel::Schedule(LeaseId id, absl::Time now) {
  if (!config_.checkpointing) return;
  if (leases_.at(id).PromotionTtl() > absl::ToInt64Seconds(config_.checkpoint_interval)) {
    checkpoints_.emplace(now + config_.checkpoint_interval, id);
  }
}

void LessorModel::Refresh(absl::Duration extend, absl::Time now) {
  for (auto& [id, l] : leases_) {
    l.expiry = now + extend + absl::Seconds(l.PromotionTtl());
    l.handout = l.expiry;
    Schedule(id, now);
  }
  if (static_cast<int64_t>(leases_.size()) < config_.revoke_rate) return;
  // Spread: within each one-second window starting at a lease's remaining
  // time, the leases beyond 3/4 of the rate are moved to expire at that
  // many per second from the window's start.
  std::vector<Lease> order = Sorted();
  const int64_t per_second = std::max<int64_t>(1, 3 * config_.revoke_rate / 4);
  absl::Duration start = order.front().expiry - now;
  absl::Duration end = start + absl::Seconds(1);
  int64_t count = 0;
  for (const Lease& s : order) {
    absl::Duration remaining = s.expiry - now;
    if (remaining > end) {
      start = remaining;
      end = start + absl::Seconds(1);
      count = 1;
      continue;
    }
    count += 1;
    if (count <= per_second) continue;
    double ns = 1e9 * (static_cast<double>(count) / static_cast<double>(per_second)) -
                absl::ToDoubleNanoseconds(remaining - start);
    absl::Duration delay = absl::Nanoseconds(static_cast<int64_t>(ns));
    end = start + delay;
    ModelLease& l = leases_.at(s.id);
    l.expiry = now + extend + delay + absl::Seconds(l.PromotionTtl());
    l.handout = l.expiry;
    Schedule(s.id, now);
  }
}

void LessorModel::Promote(absl::Duration extend, absl::Time now) {
  primary_ = true;
  Refresh(extend, now);
}

void LessorModel::Demote() {
  primary_ = false;
  for (auto& [id, l] : leases_) {
    l.expiry = absl::InfiniteFuture();
    l.handout = absl::InfiniteFuture();
  }
  checkpoints_.clear();
}

std::vector<LeaseId> LessorModel::Due(absl::Time now) const {
  std::vector<std::pair<absl::Time, LeaseId>> due;
  if (!primary_) return {};
  for (const auto& [id, l] : leases_) {
    if (l.handout <= now) due.emplace_back(l.handout, id);
  }
  std::sort(due.begin(), due.end());
  std::vector<LeaseId> ids;
  for (const auto& [t, id] : due) ids.push_back(id);
  return ids;
}

void LessorModel::HandedOut(LeaseId id, absl::Time now) {
  leases_.at(id).handout = now + config_.retry;
}

std::vector<LeaseCheckpoint> LessorModel::DueCheckpoints(absl::Time now) {
  std::vector<LeaseCheckpoint> out;
  if (!config_.checkpointing || !primary_) return out;
  while (!checkpoints_.empty() && checkpoints_.begin()->first <= now) {
    const LeaseId id = checkpoints_.begin()->second;
    checkpoints_.erase(checkpoints_.begin());
    auto it = leases_.find(id);
    if (it == leases_.end()) continue;
    const ModelLease& l = it->second;
    if (l.expiry == absl::InfiniteFuture() || l.expiry <= now) continue;
    int64_t remaining = absl::ToInt64Seconds(absl::Ceil(l.expiry - now, absl::Seconds(1)));
    if (remaining >= l.ttl) continue;
    out.push_back({id, remaining});
  }
  return out;
}

void LessorModel::Restart() {
  Demote();
  for (auto& [id, l] : leases_) {
    l.ttl = std::max(l.ttl, config_.min_lease_ttl);
    l.keys.clear();
  }
  for (const auto& [key, id] : items_) leases_.at(id).keys.insert(key);
}

void LessorModel::Recover(absl::Time now) {
  const bool was_primary = primary_;
  Restart();
  if (was_primary) Promote(absl::ZeroDuration(), now);
}

absl::StatusOr<TimeToLiveInfo> LessorModel::TimeToLive(LeaseId id, absl::Time now) const {
  auto it = leases_.find(id);
  if (it == leases_.end()) return LeaseNotFoundError();
  TimeToLiveInfo info;
  info.id = id;
  info.granted_ttl = it->second.ttl;
  info.ttl = it->second.expiry == absl::InfiniteFuture()
                 ? it->second.PromotionTtl()
                 : absl::ToInt64Seconds(it->second.expiry - now);
  info.keys.assign(it->second.keys.begin(), it->second.keys.end());
  return info;
}

Lease LessorModel::Snapshot(LeaseId id) const {
  const ModelLease& l = leases_.at(id);
  return Lease{id, l.ttl, l.remaining_ttl, l.expiry};
}

std::vector<Lease> LessorModel::Sorted() const {
  std::vector<Lease> out;
  for (const auto& [id, l] : leases_) out.push_back(Snapshot(id));
  std::stable_sort(out.begin(), out.end(),
                   [](const Lease& a, const Lease& b) { return a.expiry < b.expiry; });
  return out;
}

// -------------------------------------------------------------- the checker

namespace {

constexpr int kKeys = 10;
const absl::Time kStart = absl::FromUnixSeconds(1700000000);
constexpr int64_t kMinTtl = 2;

std::string KeyName(int i) { return absl::StrCat("k", i); }

std::string Describe(const Lease& l) {
  return absl::StrFormat("{id=%d ttl=%d rem=%d expiry=%s}", l.id, l.ttl, l.remaining_ttl,
                         l.expiry == absl::InfiniteFuture()
                             ? std::string("never")
                             : absl::FormatDuration(l.expiry - kStart));
}

std::string Describe(const std::vector<Lease>& ls) {
  std::vector<std::string> parts;
  for (const Lease& l : ls) parts.push_back(Describe(l));
  return absl::StrCat("[", absl::StrJoin(parts, " "), "]");
}

std::string Describe(const std::vector<LeaseCheckpoint>& cps) {
  std::vector<std::string> parts;
  for (const LeaseCheckpoint& cp : cps) parts.push_back(absl::StrCat(cp.id, ":", cp.remaining_ttl));
  return absl::StrCat("[", absl::StrJoin(parts, " "), "]");
}

absl::Status Mismatch(absl::string_view what, absl::string_view got, absl::string_view want) {
  return absl::InternalError(absl::StrCat(what, ": lessor ", got, ", model ", want));
}

// Same outcome: both OK, or the same code and message.
absl::Status SameStatus(absl::string_view what, const absl::Status& got, const absl::Status& want) {
  if (got.code() == want.code() && got.message() == want.message()) return absl::OkStatus();
  return Mismatch(what, got.ToString(), want.ToString());
}

}  // namespace

// Like the store: deletes in one transaction holding the batch lock, and
// detaches each deleted key from its lease.
class LessorChecker::Deleter : public RangeDeleter {
 public:
  explicit Deleter(LessorChecker* checker) : checker_(checker) {}

  std::unique_ptr<TxnDelete> NewTxn() override { return std::make_unique<Txn>(this); }

  std::vector<std::vector<std::string>> txns;

 private:
  class Txn : public TxnDelete {
   public:
    explicit Txn(Deleter* owner) : owner_(owner) { owner_->checker_->backend_->batch_tx()->Lock(); }
    void DeleteRange(absl::string_view key, absl::string_view end) override {
      if (!end.empty()) owner_->checker_->Log("unexpected range delete");
      deleted_.emplace_back(key);
      Lessor* lessor = owner_->checker_->lessor_.get();
      LeaseId id = lessor->GetLease(key);
      if (id != kNoLease) (void)lessor->Detach(id, {std::string(key)});
    }
    void End() override {
      owner_->checker_->backend_->batch_tx()->Unlock();
      owner_->txns.push_back(std::move(deleted_));
    }

   private:
    Deleter* owner_;
    std::vector<std::string> deleted_;
  };

  LessorChecker* checker_;
};

LessorChecker::LessorChecker(CheckerOptions options)
    : options_(std::move(options)),
      clock_(kStart),
      model_(LessorModel::Config{kMinTtl, absl::Seconds(3), absl::Seconds(60), options_.revoke_rate,
                                 options_.checkpointing}) {
  lessor_options_.min_lease_ttl = kMinTtl;
  lessor_options_.checkpoint_interval = absl::Seconds(60);
  lessor_options_.expired_lease_retry_interval = absl::Seconds(3);
  lessor_options_.revoke_rate = options_.revoke_rate;
  lessor_options_.max_checkpoint_batch = options_.max_checkpoint_batch;
  lessor_options_.clock = &clock_;
  deleter_ = std::make_unique<Deleter>(this);
}

LessorChecker::~LessorChecker() {
  lessor_.reset();
  if (backend_ != nullptr) (void)backend_->Close();
}

absl::StatusOr<std::unique_ptr<LessorChecker>> LessorChecker::Create(CheckerOptions options) {
  std::string path = options.dir + "/db";
  ::unlink(path.c_str());
  ::unlink((path + "-lock").c_str());
  std::unique_ptr<LessorChecker> checker(new LessorChecker(std::move(options)));
  RETURN_IF_ERROR(checker->OpenBackend());
  RETURN_IF_ERROR(checker->OpenLessor());
  return checker;
}

absl::Status LessorChecker::OpenBackend() {
  BackendOptions options;
  options.path = options_.dir + "/db";
  options.batch_interval = absl::Hours(1);
  options.batch_limit = 1 << 30;
  options.initial_map_size = 1 << 20;
  options.unsafe_no_fsync = true;
  ASSIGN_OR_RETURN(backend_, Backend::Open(options));
  return absl::OkStatus();
}

absl::Status LessorChecker::OpenLessor() {
  lessor_.reset();
  ASSIGN_OR_RETURN(lessor_, Lessor::Open(backend_.get(), lessor_options_));
  Wire();
  return absl::OkStatus();
}

void LessorChecker::Wire() {
  lessor_->SetRangeDeleter(deleter_.get());
  if (options_.checkpointing) {
    lessor_->SetCheckpointer(
        [this](std::vector<LeaseCheckpoint> cps) { checkpoint_calls_.push_back(std::move(cps)); });
  }
  lessor_->SetExpiredHandler(
      [this](std::vector<Lease> leases) { expired_calls_.push_back(std::move(leases)); });
}

void LessorChecker::Log(const std::string& op) {
  trace_.push_back(
      absl::StrCat(steps_, " t=", absl::FormatDuration(clock_.Now() - kStart), " ", op));
  if (trace_.size() > 80) trace_.pop_front();
}

std::string LessorChecker::Trace() const { return absl::StrJoin(trace_, "\n"); }

LeaseId LessorChecker::PickId(Choices& c) {
  if (c.Next(20) == 0) return kNoLease;
  return 1 + static_cast<LeaseId>(c.Next(static_cast<uint32_t>(options_.max_id)));
}

absl::Status LessorChecker::DoGrant(Choices& c) {
  static constexpr int64_t kTtls[] = {
      -3, 0, 1, 2, 3, 5, 10, 61, 120, 400, 1000, kMaxLeaseTtl, kMaxLeaseTtl + 1};
  LeaseId id = PickId(c);
  int64_t ttl = kTtls[c.Next(sizeof(kTtls) / sizeof(kTtls[0]))];
  Log(absl::StrCat("grant ", id, " ttl=", ttl));
  absl::StatusOr<Lease> got = lessor_->Grant(id, ttl);
  absl::Status want = model_.Grant(id, ttl, clock_.Now());
  RETURN_IF_ERROR(SameStatus("grant", got.status(), want));
  if (got.ok() && !(*got == model_.Snapshot(id))) {
    return Mismatch("granted lease", Describe(*got), Describe(model_.Snapshot(id)));
  }
  return absl::OkStatus();
}

absl::Status LessorChecker::DoRevoke(LeaseId id) {
  Log(absl::StrCat("revoke ", id));
  deleter_->txns.clear();
  absl::Status got = lessor_->Revoke(id);
  absl::StatusOr<std::vector<std::string>> want = model_.Revoke(id);
  RETURN_IF_ERROR(SameStatus("revoke", got, want.status()));
  if (!want.ok()) {
    if (!deleter_->txns.empty()) return absl::InternalError("failed revoke opened a txn");
    return absl::OkStatus();
  }
  if (deleter_->txns.size() != 1 || deleter_->txns[0] != *want) {
    std::vector<std::string> got_txns;
    for (const auto& t : deleter_->txns) got_txns.push_back(absl::StrJoin(t, ","));
    return Mismatch("revoke deletes", absl::StrJoin(got_txns, " | "), absl::StrJoin(*want, ","));
  }
  return absl::OkStatus();
}

absl::Status LessorChecker::DoRenew(Choices& c) {
  LeaseId id = PickId(c);
  const absl::Time now = clock_.Now();
  if (model_.WouldBlock(id, now)) {
    Log(absl::StrCat("renew ", id, " skipped (expired)"));
    return absl::OkStatus();
  }
  Log(absl::StrCat("renew ", id));
  checkpoint_calls_.clear();
  absl::StatusOr<int64_t> got = lessor_->Renew(id);
  bool reset = false;
  absl::StatusOr<int64_t> want = model_.Renew(id, now, &reset);
  RETURN_IF_ERROR(SameStatus("renew", got.status(), want.status()));
  if (got.ok() && *got != *want) {
    return Mismatch("renew ttl", absl::StrCat(*got), absl::StrCat(*want));
  }
  std::vector<std::vector<LeaseCheckpoint>> want_calls;
  if (reset) want_calls.push_back({LeaseCheckpoint{id, 0}});
  if (checkpoint_calls_ != want_calls) {
    return Mismatch("renew checkpoint reset", absl::StrCat(checkpoint_calls_.size(), " calls"),
                    absl::StrCat(want_calls.size(), " calls"));
  }
  checkpoint_calls_.clear();
  // The reset goes through raft; it may or may not be applied.
  if (reset && c.Next(3) != 0) return DoCheckpoint(id, 0);
  return absl::OkStatus();
}

absl::Status LessorChecker::DoAttach(Choices& c) {
  LeaseId id = PickId(c);
  std::vector<std::string> keys = {KeyName(static_cast<int>(c.Next(kKeys)))};
  if (c.Next(2) == 0) keys.push_back(KeyName(static_cast<int>(c.Next(kKeys))));
  Log(absl::StrCat("attach ", id, " ", absl::StrJoin(keys, ",")));
  if (model_.leases().count(id) > 0) {
    // Like the store: a key moving to another lease is detached first.
    for (const std::string& key : keys) {
      auto it = model_.items().find(key);
      if (it == model_.items().end() || it->second == id) continue;
      LeaseId old = it->second;
      RETURN_IF_ERROR(SameStatus("detach before attach", lessor_->Detach(old, {key}),
                                 model_.Detach(old, {key})));
    }
  }
  return SameStatus("attach", lessor_->Attach(id, keys), model_.Attach(id, keys));
}

absl::Status LessorChecker::DoDetach(Choices& c) {
  LeaseId id = PickId(c);
  std::vector<std::string> keys = {KeyName(static_cast<int>(c.Next(kKeys)))};
  Log(absl::StrCat("detach ", id, " ", keys[0]));
  return SameStatus("detach", lessor_->Detach(id, keys), model_.Detach(id, keys));
}

absl::Status LessorChecker::DoCheckpoint(LeaseId id, int64_t remaining) {
  Log(absl::StrCat("checkpoint ", id, " remaining=", remaining));
  checkpoint_calls_.clear();
  RETURN_IF_ERROR(lessor_->Checkpoint(id, remaining));
  model_.Checkpoint(id, remaining, clock_.Now());
  return absl::OkStatus();
}

absl::Status LessorChecker::DoExpired(Choices& c, int max) {
  Log(absl::StrCat("expired max=", max));
  std::vector<Lease> got = lessor_->ExpiredLeases(max);
  return VerifyHandedOut(c, got, max);
}

absl::Status LessorChecker::VerifyHandedOut(Choices& c, const std::vector<Lease>& got, int max) {
  const absl::Time now = clock_.Now();
  std::vector<LeaseId> due = model_.Due(now);
  const size_t want_n = max <= 0 ? due.size() : std::min(due.size(), static_cast<size_t>(max));
  if (got.size() != want_n) {
    return Mismatch(absl::StrCat("expired count (max ", max, ")"), Describe(got),
                    absl::StrCat(want_n, " of ", absl::StrJoin(due, ",")));
  }
  // Earliest hand-out times first: whatever was left out is not earlier.
  absl::Time latest_given = absl::InfinitePast();
  std::set<LeaseId> given;
  for (const Lease& l : got) {
    if (std::find(due.begin(), due.end(), l.id) == due.end() || !given.insert(l.id).second) {
      return Mismatch("expired", Describe(got), absl::StrJoin(due, ","));
    }
    if (!(l == model_.Snapshot(l.id))) {
      return Mismatch("expired lease", Describe(l), Describe(model_.Snapshot(l.id)));
    }
    if (l.expiry > now) return Mismatch("expired lease not expired", Describe(l), "expired");
    latest_given = std::max(latest_given, model_.leases().at(l.id).handout);
  }
  for (LeaseId id : due) {
    if (given.count(id) == 0 && model_.leases().at(id).handout < latest_given) {
      return Mismatch("expired order", Describe(got), absl::StrJoin(due, ","));
    }
  }
  for (const Lease& l : got) model_.HandedOut(l.id, now);
  // The server revokes some of them (the other proposals get lost).
  for (const Lease& l : got) {
    if (c.Next(2) == 0) RETURN_IF_ERROR(DoRevoke(l.id));
  }
  return absl::OkStatus();
}

absl::Status LessorChecker::DoRunOnce(Choices& c) {
  Log("run once");
  // Handing out expired leases changes nothing a checkpoint depends on, so
  // the model's checkpoints can be taken first.
  std::vector<LeaseCheckpoint> want = model_.DueCheckpoints(clock_.Now());
  expired_calls_.clear();
  checkpoint_calls_.clear();
  lessor_->RunOnce();
  std::vector<std::vector<Lease>> expired = std::move(expired_calls_);
  std::vector<std::vector<LeaseCheckpoint>> calls = std::move(checkpoint_calls_);
  expired_calls_.clear();
  checkpoint_calls_.clear();

  std::vector<LeaseCheckpoint> got;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].empty()) return absl::InternalError("empty checkpoint batch");
    if (static_cast<int>(calls[i].size()) > options_.max_checkpoint_batch ||
        (i + 1 < calls.size() &&
         static_cast<int>(calls[i].size()) != options_.max_checkpoint_batch)) {
      return absl::InternalError(absl::StrCat("checkpoint batch of ", calls[i].size()));
    }
    got.insert(got.end(), calls[i].begin(), calls[i].end());
  }
  if (got != want) return Mismatch("checkpoints", Describe(got), Describe(want));

  if (expired.size() > 1) return absl::InternalError("RunOnce called the handler twice");
  if (!expired.empty() && expired[0].empty()) {
    return absl::InternalError("RunOnce handed out an empty batch");
  }
  RETURN_IF_ERROR(VerifyHandedOut(c, expired.empty() ? std::vector<Lease>{} : expired[0],
                                  std::max(1, options_.revoke_rate / 2)));
  // Each checkpoint goes through raft: applied, or lost.
  for (const LeaseCheckpoint& cp : got) {
    if (c.Next(4) != 0) RETURN_IF_ERROR(DoCheckpoint(cp.id, cp.remaining_ttl));
  }
  return absl::OkStatus();
}

absl::Status LessorChecker::ReattachKeys() {
  std::map<LeaseId, std::vector<std::string>> by_lease;
  for (const auto& [key, id] : model_.items()) by_lease[id].push_back(key);
  for (const auto& [id, keys] : by_lease) RETURN_IF_ERROR(lessor_->Attach(id, keys));
  return absl::OkStatus();
}

absl::Status LessorChecker::DoRestart() {
  Log("restart");
  lessor_.reset();
  RETURN_IF_ERROR(backend_->Close());
  backend_.reset();
  RETURN_IF_ERROR(OpenBackend());
  RETURN_IF_ERROR(OpenLessor());
  model_.Restart();
  return ReattachKeys();
}

absl::Status LessorChecker::DoRecover() {
  Log("recover");
  RETURN_IF_ERROR(lessor_->Recover(backend_.get(), deleter_.get()));
  model_.Recover(clock_.Now());
  return ReattachKeys();
}

absl::Status LessorChecker::Step(Choices& c) {
  ++steps_;
  static constexpr absl::Duration kAdvances[] = {
      absl::Milliseconds(1), absl::Milliseconds(500), absl::Seconds(1),
      absl::Seconds(2),      absl::Seconds(3),        absl::Seconds(5),
      absl::Seconds(10),     absl::Seconds(60),       absl::Seconds(301)};
  static constexpr int64_t kRemaining[] = {0, 1, 3, 7, 30, 59, 61, 200, 999};
  static constexpr absl::Duration kExtends[] = {absl::ZeroDuration(), absl::Seconds(1),
                                                absl::Milliseconds(2500)};
  switch (c.Next(17)) {
    case 0:
    case 1:
    case 2:
      RETURN_IF_ERROR(DoGrant(c));
      break;
    case 3:
      RETURN_IF_ERROR(DoRevoke(PickId(c)));
      break;
    case 4:
    case 5:
      RETURN_IF_ERROR(DoRenew(c));
      break;
    case 6:
      RETURN_IF_ERROR(DoAttach(c));
      break;
    case 7:
      RETURN_IF_ERROR(DoDetach(c));
      break;
    case 8:
      RETURN_IF_ERROR(DoCheckpoint(PickId(c), kRemaining[c.Next(9)]));
      break;
    case 9:
    case 10: {
      absl::Duration d = kAdvances[c.Next(9)];
      Log(absl::StrCat("advance ", absl::FormatDuration(d)));
      clock_.Advance(d);
      break;
    }
    case 11: {
      absl::Duration extend = kExtends[c.Next(3)];
      Log(absl::StrCat("promote extend=", absl::FormatDuration(extend)));
      lessor_->Promote(extend);
      model_.Promote(extend, clock_.Now());
      break;
    }
    case 12:
      Log("demote");
      lessor_->Demote();
      model_.Demote();
      break;
    case 13:
      RETURN_IF_ERROR(DoExpired(c, static_cast<int>(c.Next(4))));
      break;
    case 14:
      RETURN_IF_ERROR(DoRunOnce(c));
      break;
    case 15:
      RETURN_IF_ERROR(c.Next(2) == 0 ? DoRestart() : DoRecover());
      break;
    case 16: {
      LeaseId id = PickId(c);
      Log(absl::StrCat("timetolive ", id));
      absl::StatusOr<TimeToLiveInfo> got = lessor_->TimeToLive(id, true);
      absl::StatusOr<TimeToLiveInfo> want = model_.TimeToLive(id, clock_.Now());
      RETURN_IF_ERROR(SameStatus("timetolive", got.status(), want.status()));
      if (got.ok() && (got->ttl != want->ttl || got->granted_ttl != want->granted_ttl ||
                       got->keys != want->keys || got->id != id)) {
        return Mismatch("timetolive", absl::StrCat(got->ttl, "/", got->granted_ttl),
                        absl::StrCat(want->ttl, "/", want->granted_ttl));
      }
      break;
    }
  }
  return Check();
}

absl::Status LessorChecker::Check() {
  const absl::Time now = clock_.Now();
  if (lessor_->IsPrimary() != model_.primary()) {
    return Mismatch("primary", absl::StrCat(lessor_->IsPrimary()), absl::StrCat(model_.primary()));
  }
  std::vector<Lease> got = lessor_->Leases();
  std::vector<Lease> want = model_.Sorted();
  if (got != want) return Mismatch("leases", Describe(got), Describe(want));
  if (lessor_->size() != want.size()) return absl::InternalError("size() disagrees with Leases()");
  for (const Lease& l : want) {
    std::optional<Lease> looked = lessor_->Lookup(l.id);
    if (!looked.has_value() || !(*looked == l)) return absl::InternalError("Lookup disagrees");
    const auto& keys = model_.leases().at(l.id).keys;
    absl::StatusOr<std::vector<std::string>> got_keys = lessor_->GetKeys(l.id);
    if (!got_keys.ok() || *got_keys != std::vector<std::string>(keys.begin(), keys.end())) {
      return Mismatch(absl::StrCat("keys of ", l.id),
                      got_keys.ok() ? absl::StrJoin(*got_keys, ",") : got_keys.status().ToString(),
                      absl::StrJoin(keys, ","));
    }
    absl::StatusOr<TimeToLiveInfo> ttl = lessor_->TimeToLive(l.id, false);
    absl::StatusOr<TimeToLiveInfo> want_ttl = model_.TimeToLive(l.id, now);
    if (!ttl.ok() || ttl->ttl != want_ttl->ttl) {
      return Mismatch(absl::StrCat("time to live of ", l.id),
                      ttl.ok() ? absl::StrCat(ttl->ttl) : ttl.status().ToString(),
                      absl::StrCat(want_ttl->ttl));
    }
  }
  for (int i = 0; i < kKeys; ++i) {
    auto it = model_.items().find(KeyName(i));
    LeaseId want_id = it == model_.items().end() ? kNoLease : it->second;
    if (lessor_->GetLease(KeyName(i)) != want_id) {
      return Mismatch(absl::StrCat("lease of ", KeyName(i)),
                      absl::StrCat(lessor_->GetLease(KeyName(i))), absl::StrCat(want_id));
    }
  }
  // The bucket holds exactly the leases, with TTL and remaining TTL.
  std::map<LeaseId, std::pair<int64_t, int64_t>> stored;
  {
    std::unique_ptr<mvcc::backend::ReadTx> tx = backend_->ConcurrentReadTx();
    RETURN_IF_ERROR(tx->UnsafeForEach(Bucket::kLease, [&](absl::string_view, absl::string_view v) {
      leasepb::Lease pb;
      if (!pb.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
        return absl::DataLossError("undecodable lease record");
      }
      stored[pb.id()] = {pb.ttl(), pb.remainingttl()};
      return absl::OkStatus();
    }));
  }
  std::map<LeaseId, std::pair<int64_t, int64_t>> want_stored;
  for (const auto& [id, l] : model_.leases()) want_stored[id] = {l.ttl, l.remaining_ttl};
  if (stored != want_stored) {
    return Mismatch("lease bucket", absl::StrCat(stored.size(), " records"),
                    absl::StrCat(want_stored.size(), " leases"));
  }
  return absl::OkStatus();
}

}  // namespace etcd::lease
