#include "lease/lessor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "lease/leasepb/lease.pb.h"
#include "mvcc/backend/backend.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::lease {
namespace {

using mvcc::backend::Backend;
using mvcc::backend::BackendOptions;
using mvcc::backend::BatchTx;
using mvcc::backend::Bucket;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kMinTtl = 5;
const absl::Time kStart = absl::FromUnixSeconds(1700000000);

std::string Key8(LeaseId id) {
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(static_cast<uint64_t>(id) >> (56 - 8 * i));
  return key;
}

// A store's delete transaction: holds the batch lock like the store's write
// transactions and, like the store, detaches each deleted key's lease.
class FakeDeleter : public RangeDeleter {
 public:
  FakeDeleter(Backend* backend, Lessor** lessor) : backend_(backend), lessor_(lessor) {}

  std::unique_ptr<TxnDelete> NewTxn() override { return std::make_unique<Txn>(this); }

  std::vector<std::vector<std::string>> txns() {
    absl::MutexLock lock(&mu_);
    return txns_;
  }

 private:
  class Txn : public TxnDelete {
   public:
    explicit Txn(FakeDeleter* owner) : owner_(owner) { owner_->backend_->batch_tx()->Lock(); }
    void DeleteRange(absl::string_view key, absl::string_view end) override {
      deleted_.push_back(absl::StrCat(key, "_", end));
      Lessor* lessor = *owner_->lessor_;
      LeaseId id = lessor->GetLease(key);
      if (id != kNoLease) EXPECT_OK(lessor->Detach(id, {std::string(key)}));
    }
    void End() override {
      owner_->backend_->batch_tx()->Unlock();
      absl::MutexLock lock(&owner_->mu_);
      owner_->txns_.push_back(deleted_);
    }

   private:
    FakeDeleter* owner_;
    std::vector<std::string> deleted_;
  };

  Backend* backend_;
  Lessor** lessor_;
  absl::Mutex mu_;
  std::vector<std::vector<std::string>> txns_ ABSL_GUARDED_BY(mu_);
};

class LessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("lessor"));
    dir_.emplace(std::move(dir));
    OpenBackend();
    options_.min_lease_ttl = kMinTtl;
    options_.clock = &clock_;
    OpenLessor();
  }

  void TearDown() override {
    lessor_.reset();
    if (backend_ != nullptr) EXPECT_OK(backend_->Close());
  }

  void OpenBackend() {
    BackendOptions options;
    options.path = dir_->Join("db");
    options.batch_interval = absl::Hours(1);
    options.batch_limit = 1 << 30;
    options.initial_map_size = 64 << 20;
    ASSERT_OK_AND_ASSIGN(backend_, Backend::Open(options));
  }

  void OpenLessor() {
    lessor_.reset();
    ASSERT_OK_AND_ASSIGN(lessor_, Lessor::Open(backend_.get(), options_));
    raw_lessor_ = lessor_.get();
    deleter_ = std::make_unique<FakeDeleter>(backend_.get(), &raw_lessor_);
    lessor_->SetRangeDeleter(deleter_.get());
  }

  // Closes everything and opens it again from the database file.
  void Restart() {
    lessor_.reset();
    ASSERT_OK(backend_->Close());
    backend_.reset();
    OpenBackend();
    OpenLessor();
  }

  std::optional<leasepb::Lease> Stored(LeaseId id) {
    std::unique_ptr<mvcc::backend::ReadTx> tx = backend_->ConcurrentReadTx();
    std::optional<absl::string_view> v = tx->UnsafeGet(Bucket::kLease, Key8(id));
    if (!v.has_value()) return std::nullopt;
    leasepb::Lease pb;
    EXPECT_TRUE(pb.ParseFromArray(v->data(), static_cast<int>(v->size())));
    return pb;
  }

  std::vector<LeaseId> Ids(const std::vector<Lease>& leases) {
    std::vector<LeaseId> ids;
    for (const Lease& l : leases) ids.push_back(l.id);
    return ids;
  }

  std::optional<testutil::TempDir> dir_;
  ManualClock clock_{kStart};
  LessorOptions options_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<FakeDeleter> deleter_;
  std::unique_ptr<Lessor> lessor_;
  Lessor* raw_lessor_ = nullptr;
};

TEST(LeaseErrorsTest, EtcdTextsAndPredicates) {
  EXPECT_EQ(LeaseNotFoundError().message(), "lease not found");
  EXPECT_EQ(LeaseExistsError().message(), "lease already exists");
  EXPECT_EQ(NotPrimaryError().message(), "not a primary lessor");
  EXPECT_EQ(LeaseTtlTooLargeError().message(), "too large lease TTL");
  EXPECT_TRUE(IsLeaseNotFound(LeaseNotFoundError()));
  EXPECT_TRUE(IsLeaseExists(LeaseExistsError()));
  EXPECT_TRUE(IsNotPrimary(NotPrimaryError()));
  EXPECT_TRUE(IsLeaseTTLTooLarge(LeaseTtlTooLargeError()));
  EXPECT_FALSE(IsLeaseNotFound(absl::NotFoundError("key not found")));
  EXPECT_FALSE(IsNotPrimary(LeaseNotFoundError()));
  EXPECT_FALSE(IsLeaseExists(absl::OkStatus()));
}

TEST_F(LessorTest, GrantRaisesToMinTtlAndPersists) {
  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK_AND_ASSIGN(Lease l, lessor_->Grant(1, 1));
  EXPECT_EQ(l.ttl, kMinTtl);
  EXPECT_EQ(l.expiry, kStart + absl::Seconds(kMinTtl));
  EXPECT_EQ(lessor_->Lookup(1), l);

  EXPECT_TRUE(IsLeaseExists(lessor_->Grant(1, 1).status()));
  ASSERT_OK_AND_ASSIGN(Lease l2, lessor_->Grant(2, 1));
  EXPECT_NE(l2.id, l.id);
  EXPECT_THAT(Ids(lessor_->Leases()), ElementsAre(1, 2));

  std::optional<leasepb::Lease> stored = Stored(1);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->id(), 1);
  EXPECT_EQ(stored->ttl(), kMinTtl);
  EXPECT_EQ(stored->remainingttl(), 0);
}

TEST_F(LessorTest, GrantRejectsNoLeaseAndTooLargeTtl) {
  lessor_->Promote(absl::ZeroDuration());
  EXPECT_TRUE(IsLeaseNotFound(lessor_->Grant(kNoLease, 10).status()));
  EXPECT_TRUE(IsLeaseTTLTooLarge(lessor_->Grant(1, kMaxLeaseTtl + 1).status()));
  EXPECT_EQ(lessor_->Lookup(1), std::nullopt);
  // The largest TTL does not overflow the expiry.
  ASSERT_OK_AND_ASSIGN(Lease l, lessor_->Grant(1, kMaxLeaseTtl));
  EXPECT_EQ(l.expiry, kStart + absl::Seconds(kMaxLeaseTtl));
  EXPECT_EQ(l.expiry - kStart, absl::Seconds(kMaxLeaseTtl));
}

TEST_F(LessorTest, LeasesOnAFollowerNeverExpire) {
  ASSERT_OK(lessor_->Grant(1, 10).status());
  EXPECT_EQ(lessor_->Lookup(1)->expiry, absl::InfiniteFuture());
  clock_.Advance(absl::Hours(1000));
  EXPECT_THAT(lessor_->ExpiredLeases(0), IsEmpty());
  EXPECT_TRUE(IsNotPrimary(lessor_->Renew(1).status()));
  EXPECT_TRUE(IsNotPrimary(lessor_->Renew(2).status()));
}

TEST_F(LessorTest, RevokeDeletesAttachedKeysInOneTransaction) {
  ASSERT_OK(lessor_->Grant(1, 100).status());
  ASSERT_OK(lessor_->Grant(2, 100).status());
  ASSERT_OK(lessor_->Attach(1, {"foo", "bar"}));
  ASSERT_OK(lessor_->Attach(2, {"baz"}));
  EXPECT_EQ(lessor_->GetLease("foo"), 1);

  ASSERT_OK(lessor_->Revoke(1));
  EXPECT_EQ(lessor_->Lookup(1), std::nullopt);
  EXPECT_THAT(deleter_->txns(), ElementsAre(ElementsAre("bar_", "foo_")));
  EXPECT_EQ(lessor_->GetLease("foo"), kNoLease);
  EXPECT_EQ(lessor_->GetLease("bar"), kNoLease);
  EXPECT_EQ(lessor_->GetLease("baz"), 2);
  EXPECT_FALSE(Stored(1).has_value());
  EXPECT_TRUE(Stored(2).has_value());

  EXPECT_TRUE(IsLeaseNotFound(lessor_->Revoke(1)));
  EXPECT_EQ(deleter_->txns().size(), 1u);
}

TEST_F(LessorTest, RevokeWithoutRangeDeleterRemovesTheLease) {
  lessor_->SetRangeDeleter(nullptr);
  ASSERT_OK(lessor_->Grant(1, 100).status());
  ASSERT_OK(lessor_->Attach(1, {"foo"}));
  ASSERT_OK(lessor_->Revoke(1));
  EXPECT_EQ(lessor_->Lookup(1), std::nullopt);
  EXPECT_EQ(lessor_->GetLease("foo"), kNoLease);
  EXPECT_FALSE(Stored(1).has_value());
}

TEST_F(LessorTest, RenewGivesTheFullTtlFromNow) {
  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK(lessor_->Grant(1, 10).status());
  clock_.Advance(absl::Seconds(7));
  ASSERT_OK_AND_ASSIGN(int64_t ttl, lessor_->Renew(1));
  EXPECT_EQ(ttl, 10);
  EXPECT_EQ(lessor_->Lookup(1)->expiry, kStart + absl::Seconds(17));
  EXPECT_TRUE(IsLeaseNotFound(lessor_->Renew(2).status()));
}

TEST_F(LessorTest, RenewResetsACheckpointThroughTheCheckpointer) {
  std::vector<std::vector<LeaseCheckpoint>> calls;
  lessor_->SetCheckpointer([&](std::vector<LeaseCheckpoint> cps) {
    calls.push_back(cps);
    for (const LeaseCheckpoint& cp : cps) EXPECT_OK(lessor_->Checkpoint(cp.id, cp.remaining_ttl));
  });
  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK(lessor_->Grant(1, 10).status());
  ASSERT_OK(lessor_->Grant(2, 10).status());
  ASSERT_OK(lessor_->Checkpoint(1, 6));

  ASSERT_OK_AND_ASSIGN(int64_t ttl, lessor_->Renew(1));
  EXPECT_EQ(ttl, 10);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_THAT(calls[0], ElementsAre(LeaseCheckpoint{1, 0}));
  EXPECT_EQ(lessor_->Lookup(1)->remaining_ttl, 0);
  EXPECT_EQ(Stored(1)->remainingttl(), 0);
  EXPECT_EQ(lessor_->Lookup(1)->expiry, kStart + absl::Seconds(10));

  // Nothing to reset: no raft entry.
  ASSERT_OK(lessor_->Renew(2).status());
  EXPECT_EQ(calls.size(), 1u);
}

TEST_F(LessorTest, AttachAndDetach) {
  ASSERT_OK(lessor_->Grant(1, 100).status());
  ASSERT_OK(lessor_->Attach(1, {"foo", "bar"}));
  ASSERT_OK(lessor_->Detach(1, {"foo"}));
  EXPECT_THAT(lessor_->GetKeys(1).value(), ElementsAre("bar"));
  EXPECT_EQ(lessor_->GetLease("foo"), kNoLease);
  EXPECT_EQ(lessor_->GetLease("bar"), 1);
  EXPECT_TRUE(IsLeaseNotFound(lessor_->Attach(2, {"x"})));
  EXPECT_TRUE(IsLeaseNotFound(lessor_->Detach(2, {"bar"})));
  EXPECT_TRUE(IsLeaseNotFound(lessor_->GetKeys(2).status()));
  EXPECT_EQ(lessor_->GetLease("x"), kNoLease);
}

TEST_F(LessorTest, TimeToLive) {
  ASSERT_OK(lessor_->Grant(1, 10).status());
  ASSERT_OK(lessor_->Attach(1, {"b", "a"}));
  ASSERT_OK(lessor_->Checkpoint(1, 4));
  // A follower reports what a promotion would give.
  ASSERT_OK_AND_ASSIGN(TimeToLiveInfo info, lessor_->TimeToLive(1, true));
  EXPECT_EQ(info.ttl, 4);
  EXPECT_EQ(info.granted_ttl, 10);
  EXPECT_THAT(info.keys, ElementsAre("a", "b"));

  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK(lessor_->Renew(1).status());
  clock_.Advance(absl::Milliseconds(2500));
  ASSERT_OK_AND_ASSIGN(info, lessor_->TimeToLive(1, false));
  EXPECT_EQ(info.ttl, 7);  // 7.5 s truncated, as etcd reports it
  EXPECT_THAT(info.keys, IsEmpty());
  EXPECT_TRUE(IsLeaseNotFound(lessor_->TimeToLive(2, true).status()));
}

TEST_F(LessorTest, RecoverAfterRestart) {
  ASSERT_OK(lessor_->Grant(1, 10).status());
  ASSERT_OK(lessor_->Grant(2, 20).status());
  ASSERT_OK(lessor_->Attach(1, {"foo"}));
  ASSERT_OK(lessor_->Checkpoint(2, 15));
  lessor_->Promote(absl::ZeroDuration());
  Restart();

  EXPECT_FALSE(lessor_->IsPrimary());
  std::vector<Lease> leases = lessor_->Leases();
  ASSERT_EQ(leases.size(), 2u);
  EXPECT_EQ(leases[0], (Lease{1, 10, 0, absl::InfiniteFuture()}));
  EXPECT_EQ(leases[1], (Lease{2, 20, 15, absl::InfiniteFuture()}));
  // Keys come back when the store re-attaches them.
  EXPECT_THAT(lessor_->GetKeys(1).value(), IsEmpty());

  clock_.Advance(absl::Seconds(100));
  lessor_->Promote(absl::ZeroDuration());
  const absl::Time now = clock_.Now();
  EXPECT_EQ(lessor_->Lookup(1)->expiry, now + absl::Seconds(10));
  EXPECT_EQ(lessor_->Lookup(2)->expiry, now + absl::Seconds(15));
}

TEST_F(LessorTest, RecoveredTtlIsRaisedToTheMinimum) {
  ASSERT_OK(lessor_->Grant(1, 6).status());
  options_.min_lease_ttl = 8;
  Restart();
  EXPECT_EQ(lessor_->Lookup(1)->ttl, 8);
}

TEST_F(LessorTest, RecoverReplacesTheState) {
  ASSERT_OK(lessor_->Grant(1, 10).status());
  ASSERT_OK(lessor_->Attach(1, {"foo"}));

  ASSERT_OK_AND_ASSIGN(testutil::TempDir other_dir, testutil::TempDir::Create("other"));
  BackendOptions options;
  options.path = other_dir.Join("db");
  options.initial_map_size = 16 << 20;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> other, Backend::Open(options));
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Lessor> writer, Lessor::Open(other.get(), options_));
    ASSERT_OK(writer->Grant(7, 30).status());
  }
  lessor_->Promote(absl::Seconds(1));
  ASSERT_OK(lessor_->Recover(other.get(), nullptr));
  EXPECT_THAT(Ids(lessor_->Leases()), ElementsAre(7));
  EXPECT_EQ(lessor_->GetLease("foo"), kNoLease);
  // Still primary: the recovered lease expires (from now, without extension).
  EXPECT_TRUE(lessor_->IsPrimary());
  EXPECT_EQ(lessor_->Lookup(7)->expiry, kStart + absl::Seconds(30));
  // Writes go to the new backend.
  ASSERT_OK(lessor_->Revoke(7));
  {
    std::unique_ptr<mvcc::backend::ReadTx> tx = other->ConcurrentReadTx();
    EXPECT_FALSE(tx->UnsafeGet(Bucket::kLease, Key8(7)).has_value());
  }
  lessor_.reset();
  ASSERT_OK(other->Close());
}

TEST_F(LessorTest, OpenRejectsACorruptRecord) {
  BatchTx* tx = backend_->batch_tx();
  tx->Lock();
  tx->UnsafePut(Bucket::kLease, Key8(3), "\xff\xff\xff");
  tx->Unlock();
  absl::StatusOr<std::unique_ptr<Lessor>> opened = Lessor::Open(backend_.get(), options_);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();

  tx->Lock();
  leasepb::Lease pb;
  pb.set_id(4);
  pb.set_ttl(10);
  tx->UnsafePut(Bucket::kLease, Key8(3), pb.SerializeAsString());
  tx->Unlock();
  opened = Lessor::Open(backend_.get(), options_);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();
}

TEST_F(LessorTest, OpenRejectsBadOptions) {
  LessorOptions bad = options_;
  bad.expired_lease_retry_interval = absl::ZeroDuration();
  EXPECT_EQ(Lessor::Open(backend_.get(), bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = options_;
  bad.revoke_rate = 0;
  EXPECT_EQ(Lessor::Open(backend_.get(), bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LessorTest, ExpiredLeasesAreHandedOutAndRetried) {
  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK(lessor_->Grant(1, 5).status());
  clock_.Advance(absl::Seconds(5) - absl::Nanoseconds(1));
  EXPECT_THAT(lessor_->ExpiredLeases(10), IsEmpty());
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_THAT(Ids(lessor_->ExpiredLeases(10)), ElementsAre(1));
  // Handed out: not again until the retry interval has passed.
  EXPECT_THAT(lessor_->ExpiredLeases(10), IsEmpty());
  clock_.Advance(absl::Seconds(3) - absl::Nanoseconds(1));
  EXPECT_THAT(lessor_->ExpiredLeases(10), IsEmpty());
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_THAT(Ids(lessor_->ExpiredLeases(10)), ElementsAre(1));
  ASSERT_OK(lessor_->Revoke(1));
  clock_.Advance(absl::Hours(1));
  EXPECT_THAT(lessor_->ExpiredLeases(10), IsEmpty());
}

TEST_F(LessorTest, ExpiredLeasesComeInBoundedBatchesInExpiryOrder) {
  lessor_->Promote(absl::ZeroDuration());
  for (LeaseId id = 10; id >= 1; --id) ASSERT_OK(lessor_->Grant(id, 4 + id).status());
  clock_.Advance(absl::Seconds(100));
  EXPECT_THAT(Ids(lessor_->ExpiredLeases(3)), ElementsAre(1, 2, 3));
  EXPECT_THAT(Ids(lessor_->ExpiredLeases(3)), ElementsAre(4, 5, 6));
  EXPECT_THAT(Ids(lessor_->ExpiredLeases(3)), ElementsAre(7, 8, 9));
  EXPECT_THAT(Ids(lessor_->ExpiredLeases(3)), ElementsAre(10));
  EXPECT_THAT(lessor_->ExpiredLeases(3), IsEmpty());
}

TEST_F(LessorTest, RenewedLeaseIsNotHandedOut) {
  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK(lessor_->Grant(1, 10).status());
  ASSERT_OK(lessor_->Grant(2, 10).status());
  clock_.Advance(absl::Seconds(9));
  ASSERT_OK(lessor_->Renew(1).status());
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Ids(lessor_->ExpiredLeases(0)), ElementsAre(2));
  clock_.Advance(absl::Seconds(9));
  // 2 was not revoked: handed out again (retry due at 13 s), then 1 (19 s).
  EXPECT_THAT(Ids(lessor_->ExpiredLeases(0)), ElementsAre(2, 1));
}

TEST_F(LessorTest, RenewOfAnExpiredLeaseWaitsForItsRevocation) {
  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK(lessor_->Grant(1, 5).status());
  clock_.Advance(absl::Seconds(6));
  ASSERT_THAT(Ids(lessor_->ExpiredLeases(10)), ElementsAre(1));

  absl::Notification done;
  absl::Status result;
  std::thread renewer([&] {
    result = lessor_->Renew(1).status();
    done.Notify();
  });
  // It must not revive the lease.
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  EXPECT_EQ(lessor_->Lookup(1)->expiry, kStart + absl::Seconds(5));
  ASSERT_OK(lessor_->Revoke(1));
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  renewer.join();
  EXPECT_TRUE(IsLeaseNotFound(result)) << result;
}

TEST_F(LessorTest, RenewOfAnExpiredLeaseFailsOnDemotion) {
  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK(lessor_->Grant(1, 5).status());
  clock_.Advance(absl::Seconds(6));

  absl::Notification done;
  absl::Status result;
  std::thread renewer([&] {
    result = lessor_->Renew(1).status();
    done.Notify();
  });
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  lessor_->Demote();
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  renewer.join();
  EXPECT_TRUE(IsNotPrimary(result)) << result;
  EXPECT_TRUE(lessor_->Lookup(1).has_value());
}

TEST_F(LessorTest, RenewOfAnExpiredLeaseFailsOnStop) {
  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK(lessor_->Grant(1, 5).status());
  clock_.Advance(absl::Seconds(6));
  absl::Notification done;
  absl::Status result;
  std::thread renewer([&] {
    result = lessor_->Renew(1).status();
    done.Notify();
  });
  lessor_->Stop();
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  renewer.join();
  EXPECT_TRUE(IsNotPrimary(result)) << result;
}

TEST_F(LessorTest, DemoteStopsExpiryAndPromoteGivesTheTtlAgain) {
  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK(lessor_->Grant(1, 10).status());
  clock_.Advance(absl::Seconds(8));
  lessor_->Demote();
  EXPECT_FALSE(lessor_->IsPrimary());
  EXPECT_EQ(lessor_->Lookup(1)->expiry, absl::InfiniteFuture());
  clock_.Advance(absl::Seconds(100));
  EXPECT_THAT(lessor_->ExpiredLeases(0), IsEmpty());

  lessor_->Promote(absl::Seconds(2));
  EXPECT_TRUE(lessor_->IsPrimary());
  EXPECT_EQ(lessor_->Lookup(1)->expiry, clock_.Now() + absl::Seconds(12));
  clock_.Advance(absl::Seconds(11));
  EXPECT_THAT(lessor_->ExpiredLeases(0), IsEmpty());
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Ids(lessor_->ExpiredLeases(0)), ElementsAre(1));
}

// etcd's TestLessorRenewExtendPileup: 100 leases expiring at 10 s and 100 at
// 11 s are spread so that no second sees more than the revoke rate.
TEST_F(LessorTest, PromoteSpreadsPiledUpExpiries) {
  options_.revoke_rate = 10;
  OpenLessor();
  const int64_t ttl = 10;
  for (int i = 1; i <= options_.revoke_rate * 10; ++i) {
    ASSERT_OK(lessor_->Grant(2 * i, ttl).status());
    ASSERT_OK(lessor_->Grant(2 * i + 1, ttl + 1).status());
  }
  Restart();
  lessor_->Promote(absl::ZeroDuration());

  const absl::Time now = clock_.Now();
  std::map<int64_t, int> per_second;
  for (const Lease& l : lessor_->Leases()) {
    EXPECT_GE(l.expiry, now + absl::Seconds(l.ttl)) << l.id;
    per_second[static_cast<int64_t>(absl::ToDoubleSeconds(l.expiry - now) + 0.1)]++;
  }
  for (int64_t s = ttl; s < ttl + 20; ++s) {
    EXPECT_LE(per_second[s], options_.revoke_rate) << s;
    EXPECT_GE(per_second[s], options_.revoke_rate / 2) << s;
  }
}

TEST_F(LessorTest, NoSpreadingBelowTheRevokeRate) {
  lessor_->Promote(absl::ZeroDuration());
  for (LeaseId id = 1; id <= 100; ++id) ASSERT_OK(lessor_->Grant(id, 10).status());
  lessor_->Demote();
  lessor_->Promote(absl::ZeroDuration());
  for (const Lease& l : lessor_->Leases()) EXPECT_EQ(l.expiry, kStart + absl::Seconds(10));
}

TEST_F(LessorTest, CheckpointIsScheduledAfterTheInterval) {
  options_.checkpoint_interval = absl::Seconds(1);
  options_.min_lease_ttl = 1;
  OpenLessor();
  std::vector<std::vector<LeaseCheckpoint>> calls;
  lessor_->SetCheckpointer([&](std::vector<LeaseCheckpoint> cps) { calls.push_back(cps); });
  ASSERT_OK(lessor_->Grant(1, 2).status());
  ASSERT_OK(lessor_->Grant(2, 1).status());  // not longer than the interval
  lessor_->Promote(absl::ZeroDuration());
  lessor_->RunOnce();
  EXPECT_THAT(calls, IsEmpty());
  clock_.Advance(absl::Seconds(1));
  lessor_->RunOnce();
  EXPECT_THAT(calls, ElementsAre(ElementsAre(LeaseCheckpoint{1, 1})));
  lessor_->RunOnce();
  EXPECT_EQ(calls.size(), 1u);
}

TEST_F(LessorTest, CheckpointsAreBatched) {
  options_.checkpoint_interval = absl::Seconds(10);
  options_.max_checkpoint_batch = 4;
  OpenLessor();
  std::vector<size_t> sizes;
  lessor_->SetCheckpointer([&](std::vector<LeaseCheckpoint> cps) { sizes.push_back(cps.size()); });
  lessor_->Promote(absl::ZeroDuration());
  for (LeaseId id = 1; id <= 10; ++id) ASSERT_OK(lessor_->Grant(id, 100).status());
  clock_.Advance(absl::Seconds(10));
  lessor_->RunOnce();
  EXPECT_THAT(sizes, ElementsAre(4, 4, 2));
}

TEST_F(LessorTest, CheckpointedRemainingTtlIsUsedOnPromotion) {
  ASSERT_OK(lessor_->Grant(1, 10).status());
  ASSERT_OK(lessor_->Checkpoint(1, 5));
  lessor_->Promote(absl::ZeroDuration());
  EXPECT_EQ(lessor_->Lookup(1)->expiry, kStart + absl::Seconds(5));
  // Unknown leases are ignored, as a checkpoint racing a revoke must be.
  EXPECT_OK(lessor_->Checkpoint(99, 5));
}

TEST_F(LessorTest, CheckpointPersistsAcrossRestart) {
  ASSERT_OK(lessor_->Grant(2, 10).status());
  ASSERT_OK(lessor_->Checkpoint(2, 5));
  EXPECT_EQ(lessor_->Lookup(2)->PromotionTtl(), 5);
  Restart();
  EXPECT_EQ(lessor_->Lookup(2)->remaining_ttl, 5);
  EXPECT_EQ(lessor_->Lookup(2)->PromotionTtl(), 5);
}

// A long lease whose leader keeps changing still expires on time.
TEST_F(LessorTest, CheckpointsKeepLeaderChangesFromExtendingALease) {
  options_.checkpoint_interval = absl::Seconds(60);
  OpenLessor();
  lessor_->SetCheckpointer([&](std::vector<LeaseCheckpoint> cps) {
    for (const LeaseCheckpoint& cp : cps) EXPECT_OK(lessor_->Checkpoint(cp.id, cp.remaining_ttl));
  });
  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK(lessor_->Grant(1, 300).status());
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(absl::Seconds(60));
    lessor_->RunOnce();
    EXPECT_EQ(lessor_->Lookup(1)->remaining_ttl, 300 - 60 * (i + 1));
    // A leader change after each checkpoint.
    lessor_->Demote();
    lessor_->Promote(absl::ZeroDuration());
  }
  EXPECT_EQ(lessor_->Lookup(1)->expiry, kStart + absl::Seconds(300));
  clock_.Advance(absl::Seconds(60));
  EXPECT_THAT(Ids(lessor_->ExpiredLeases(0)), ElementsAre(1));
}

TEST_F(LessorTest, RunOnceHandsExpiredLeasesToTheHandler) {
  options_.revoke_rate = 6;
  OpenLessor();
  std::vector<std::vector<LeaseId>> batches;
  lessor_->SetExpiredHandler([&](std::vector<Lease> expired) { batches.push_back(Ids(expired)); });
  for (LeaseId id = 1; id <= 5; ++id) ASSERT_OK(lessor_->Grant(id, 4 + id).status());
  clock_.Advance(absl::Seconds(10));
  lessor_->RunOnce();  // a follower hands out nothing
  EXPECT_THAT(batches, IsEmpty());
  lessor_->Promote(absl::ZeroDuration());
  clock_.Advance(absl::Seconds(20));
  lessor_->RunOnce();
  lessor_->RunOnce();
  lessor_->RunOnce();
  EXPECT_THAT(batches, ElementsAre(ElementsAre(1, 2, 3), ElementsAre(4, 5)));
}

TEST_F(LessorTest, BackgroundLoop) {
  options_.loop_interval = absl::Milliseconds(5);
  OpenLessor();
  absl::Mutex mu;
  std::vector<LeaseId> expired;
  lessor_->SetExpiredHandler([&](std::vector<Lease> leases) {
    absl::MutexLock lock(&mu);
    for (const Lease& l : leases) expired.push_back(l.id);
  });
  lessor_->Promote(absl::ZeroDuration());
  ASSERT_OK(lessor_->Grant(1, 5).status());
  lessor_->Start();
  lessor_->Start();  // no-op
  clock_.Advance(absl::Seconds(5));
  EXPECT_TRUE(testutil::WaitUntil(
      [&] {
        absl::MutexLock lock(&mu);
        return !expired.empty();
      },
      absl::Seconds(30)));
  lessor_->Stop();
  lessor_->Stop();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(expired.front(), 1);
}

TEST_F(LessorTest, LeasesAreSortedByExpiryThenId) {
  ASSERT_OK(lessor_->Grant(3, 10).status());
  ASSERT_OK(lessor_->Grant(1, 30).status());
  ASSERT_OK(lessor_->Grant(2, 20).status());
  EXPECT_THAT(Ids(lessor_->Leases()), ElementsAre(1, 2, 3));  // all immortal
  lessor_->Promote(absl::ZeroDuration());
  EXPECT_THAT(Ids(lessor_->Leases()), ElementsAre(3, 2, 1));
  EXPECT_EQ(lessor_->size(), 3u);
}

// Revocations through a store-like deleter (batch lock, then the lessor's
// lock through Detach) racing grants, attaches, renewals, checkpoints and
// expiry: no deadlock, no lost lease.
TEST_F(LessorTest, ConcurrentUse) {
  lessor_->Promote(absl::ZeroDuration());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::atomic<bool> stop{false};
  std::thread expirer([&] {
    while (!stop.load()) {
      for (const Lease& l : lessor_->ExpiredLeases(16)) {
        absl::Status s = lessor_->Revoke(l.id);
        EXPECT_TRUE(s.ok() || IsLeaseNotFound(s)) << s;
      }
      clock_.Advance(absl::Milliseconds(50));
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const LeaseId id = t * kPerThread + i + 1;
        ASSERT_OK(lessor_->Grant(id, 5).status());
        const std::string key = absl::StrCat("k", id);
        absl::Status s = lessor_->Attach(id, {key});
        EXPECT_TRUE(s.ok() || IsLeaseNotFound(s)) << s;
        (void)lessor_->Lookup(id);
        (void)lessor_->GetKeys(id);
        (void)lessor_->Leases().size();
        EXPECT_OK(lessor_->Checkpoint(id, 3));
        if (i % 3 == 0) {
          s = lessor_->Revoke(id);
          EXPECT_TRUE(s.ok() || IsLeaseNotFound(s)) << s;
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  stop = true;
  expirer.join();
  // Everything left expires and is revoked.
  clock_.Advance(absl::Hours(1));
  for (;;) {
    std::vector<Lease> batch = lessor_->ExpiredLeases(100);
    if (batch.empty()) break;
    for (const Lease& l : batch) ASSERT_OK(lessor_->Revoke(l.id));
  }
  EXPECT_EQ(lessor_->size(), 0u);
  std::unique_ptr<mvcc::backend::ReadTx> tx = backend_->ConcurrentReadTx();
  int stored = 0;
  ASSERT_OK(tx->UnsafeForEach(Bucket::kLease, [&](absl::string_view, absl::string_view) {
    ++stored;
    return absl::OkStatus();
  }));
  EXPECT_EQ(stored, 0);
  for (LeaseId id = 1; id <= kThreads * kPerThread; ++id) {
    EXPECT_EQ(lessor_->GetLease(absl::StrCat("k", id)), kNoLease);
  }
}

}  // namespace
}  // namespace etcd::lease
