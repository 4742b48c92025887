// The Lock and Election services end to end in one process: a real
// EtcdServer, the GrpcServer on one end of a socketpair and the generated
// v3lockpb / v3electionpb stubs on the other.

#include <fcntl.h>
#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "api/etcdserverpb/rpc.grpc.pb.h"
#include "api/v3electionpb/v3election.grpc.pb.h"
#include "api/v3lockpb/v3lock.grpc.pb.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "server/etcdserver/etcdserver.h"
#include "server/v3rpc/grpc_server.h"

namespace etcd::v3rpc {
namespace {

constexpr int kWorkers = 4;

class LockElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, testutil::TempDir::Create("v3lock"));
    etcdserver::ServerOptions options;
    options.data_dir = dir_.Join("data");
    options.unsafe_no_fsync = true;
    ASSERT_OK_AND_ASSIGN(server_, etcdserver::EtcdServer::Start(options));
    ASSERT_OK(server_->WaitLeader(absl::Now() + absl::Seconds(30)));
    GrpcServerOptions grpc_options;
    grpc_options.worker_threads = kWorkers;  // few: waiters must not hold them
    ASSERT_OK_AND_ASSIGN(grpc_, GrpcServer::Start(server_.get(), grpc_options));
    channel_ = NewChannel();
    kv_ = etcdserverpb::KV::NewStub(channel_);
    lease_ = etcdserverpb::Lease::NewStub(channel_);
    lock_ = v3lockpb::Lock::NewStub(channel_);
    election_ = v3electionpb::Election::NewStub(channel_);
  }

  void TearDown() override {
    kv_.reset();
    lease_.reset();
    lock_.reset();
    election_.reset();
    channel_.reset();
    if (grpc_ != nullptr) grpc_->Shutdown(absl::Now() + absl::Seconds(5));
    if (server_ != nullptr) server_->Stop();
  }

  std::shared_ptr<grpc::Channel> NewChannel() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    grpc_->AddConnection(fds[0]);
    ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    return grpc::CreateInsecureChannelFromFd("v3lock-test", fds[1]);
  }

  static std::unique_ptr<grpc::ClientContext> Ctx(int seconds = 30) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    return ctx;
  }

  int64_t Grant(int64_t ttl = 60) {
    etcdserverpb::LeaseGrantRequest grant;
    grant.set_ttl(ttl);
    etcdserverpb::LeaseGrantResponse granted;
    grpc::Status status = lease_->LeaseGrant(Ctx().get(), grant, &granted);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return granted.id();
  }

  // The key's value and lease, or nullopt when it does not exist.
  std::optional<mvccpb::KeyValue> Get(const std::string& key) {
    etcdserverpb::RangeRequest range;
    range.set_key(key);
    etcdserverpb::RangeResponse got;
    grpc::Status status = kv_->Range(Ctx().get(), range, &got);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (got.kvs_size() == 0) return std::nullopt;
    return got.kvs(0);
  }

  grpc::Status Lock(const std::string& name, int64_t lease, v3lockpb::LockResponse* response,
                    grpc::ClientContext* ctx = nullptr) {
    v3lockpb::LockRequest request;
    request.set_name(name);
    request.set_lease(lease);
    std::unique_ptr<grpc::ClientContext> own;
    if (ctx == nullptr) {
      own = Ctx();
      ctx = own.get();
    }
    return lock_->Lock(ctx, request, response);
  }

  grpc::Status Unlock(const std::string& key) {
    v3lockpb::UnlockRequest request;
    request.set_key(key);
    v3lockpb::UnlockResponse response;
    return lock_->Unlock(Ctx().get(), request, &response);
  }

  static std::string KeyOf(const std::string& name, int64_t lease) {
    return absl::StrFormat("%s/%x", name, lease);
  }

  // A Lock call on its own thread (it may wait).
  struct PendingLock {
    absl::Notification done;
    grpc::Status status;
    v3lockpb::LockResponse response;
    grpc::ClientContext ctx;
    std::thread thread;
    ~PendingLock() {
      if (thread.joinable()) thread.join();
    }
  };
  std::unique_ptr<PendingLock> LockAsync(const std::string& name, int64_t lease,
                                         int deadline_seconds = 60) {
    auto pending = std::make_unique<PendingLock>();
    pending->ctx.set_deadline(std::chrono::system_clock::now() +
                              std::chrono::seconds(deadline_seconds));
    PendingLock* p = pending.get();
    pending->thread = std::thread([this, p, name, lease] {
      p->status = Lock(name, lease, &p->response, &p->ctx);
      p->done.Notify();
    });
    return pending;
  }

  testutil::TempDir dir_ = *testutil::TempDir::Create("unused");
  std::unique_ptr<etcdserver::EtcdServer> server_;
  std::unique_ptr<GrpcServer> grpc_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<v3lockpb::Lock::Stub> lock_;
  std::unique_ptr<v3electionpb::Election::Stub> election_;
};

TEST_F(LockElectionTest, LockCreatesKeyUnderNameWithLeaseAndUnlockDeletesIt) {
  int64_t lease = Grant();
  v3lockpb::LockResponse locked;
  grpc::Status status = Lock("mylock", lease, &locked);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(locked.key(), KeyOf("mylock", lease));
  EXPECT_EQ(locked.header().member_id(), server_->ID());
  std::optional<mvccpb::KeyValue> kv = Get(locked.key());
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->lease(), lease);
  EXPECT_EQ(kv->value(), "");
  EXPECT_EQ(locked.header().revision(), kv->create_revision());

  // Locking again with the same lease re-enters (etcd reuses the key).
  v3lockpb::LockResponse again;
  status = Lock("mylock", lease, &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(again.key(), locked.key());

  ASSERT_TRUE(Unlock(locked.key()).ok());
  EXPECT_FALSE(Get(locked.key()).has_value());
}

TEST_F(LockElectionTest, LockWithoutLeaseGetsASixtySecondLease) {
  v3lockpb::LockResponse locked;
  grpc::Status status = Lock("nolease", 0, &locked);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::optional<mvccpb::KeyValue> kv = Get(locked.key());
  ASSERT_TRUE(kv.has_value());
  ASSERT_NE(kv->lease(), 0);
  EXPECT_EQ(locked.key(), KeyOf("nolease", kv->lease()));
  etcdserverpb::LeaseTimeToLiveRequest ttl;
  ttl.set_id(kv->lease());
  etcdserverpb::LeaseTimeToLiveResponse got;
  ASSERT_TRUE(lease_->LeaseTimeToLive(Ctx().get(), ttl, &got).ok());
  EXPECT_EQ(got.grantedttl(), 60);
}

TEST_F(LockElectionTest, LockWithMissingLeaseFails) {
  v3lockpb::LockResponse locked;
  grpc::Status status = Lock("mylock", 0x1234, &locked);
  // etcd's in-process client turns server errors into code Unknown.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "etcdserver: requested lease not found");
  EXPECT_FALSE(Get(KeyOf("mylock", 0x1234)).has_value());
}

TEST_F(LockElectionTest, UnlockWithoutKeyFails) {
  grpc::Status status = Unlock("");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "etcdserver: key is not provided");
}

TEST_F(LockElectionTest, WaiterAcquiresAfterUnlock) {
  int64_t a = Grant();
  int64_t b = Grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(Lock("l", a, &held).ok());
  std::unique_ptr<PendingLock> waiter = LockAsync("l", b);
  // The waiter has queued its key but does not hold the lock.
  ASSERT_TRUE(
      testutil::WaitUntil([&] { return Get(KeyOf("l", b)).has_value(); }, absl::Seconds(10)));
  EXPECT_FALSE(waiter->done.WaitForNotificationWithTimeout(absl::Milliseconds(300)));

  ASSERT_TRUE(Unlock(held.key()).ok());
  ASSERT_TRUE(waiter->done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  ASSERT_TRUE(waiter->status.ok()) << waiter->status.error_message();
  EXPECT_EQ(waiter->response.key(), KeyOf("l", b));
  std::optional<mvccpb::KeyValue> kv = Get(KeyOf("l", b));
  ASSERT_TRUE(kv.has_value());
  EXPECT_GT(waiter->response.header().revision(), kv->create_revision());
}

TEST_F(LockElectionTest, WaiterAcquiresAfterHolderLeaseRevoked) {
  int64_t a = Grant();
  int64_t b = Grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(Lock("l", a, &held).ok());
  std::unique_ptr<PendingLock> waiter = LockAsync("l", b);
  ASSERT_TRUE(
      testutil::WaitUntil([&] { return Get(KeyOf("l", b)).has_value(); }, absl::Seconds(10)));
  etcdserverpb::LeaseRevokeRequest revoke;
  revoke.set_id(a);
  etcdserverpb::LeaseRevokeResponse revoked;
  ASSERT_TRUE(lease_->LeaseRevoke(Ctx().get(), revoke, &revoked).ok());
  ASSERT_TRUE(waiter->done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  ASSERT_TRUE(waiter->status.ok()) << waiter->status.error_message();
  EXPECT_FALSE(Get(held.key()).has_value());
}

TEST_F(LockElectionTest, WaiterAcquiresAfterHolderLeaseExpires) {
  int64_t a = Grant(/*ttl=*/2);
  int64_t b = Grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(Lock("l", a, &held).ok());
  std::unique_ptr<PendingLock> waiter = LockAsync("l", b);
  ASSERT_TRUE(waiter->done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(waiter->status.ok()) << waiter->status.error_message();
  EXPECT_FALSE(Get(held.key()).has_value());
  EXPECT_TRUE(Get(KeyOf("l", b)).has_value());
}

TEST_F(LockElectionTest, CancelledWaiterLeavesNoKey) {
  int64_t a = Grant();
  int64_t b = Grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(Lock("l", a, &held).ok());
  std::unique_ptr<PendingLock> waiter = LockAsync("l", b);
  ASSERT_TRUE(
      testutil::WaitUntil([&] { return Get(KeyOf("l", b)).has_value(); }, absl::Seconds(10)));
  waiter->ctx.TryCancel();
  ASSERT_TRUE(waiter->done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_EQ(waiter->status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(
      testutil::WaitUntil([&] { return !Get(KeyOf("l", b)).has_value(); }, absl::Seconds(10)));
  // The holder is unaffected.
  EXPECT_TRUE(Get(held.key()).has_value());
}

TEST_F(LockElectionTest, WaiterPastDeadlineLeavesNoKey) {
  int64_t a = Grant();
  int64_t b = Grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(Lock("l", a, &held).ok());
  std::unique_ptr<PendingLock> waiter = LockAsync("l", b, /*deadline_seconds=*/2);
  ASSERT_TRUE(waiter->done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_EQ(waiter->status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(
      testutil::WaitUntil([&] { return !Get(KeyOf("l", b)).has_value(); }, absl::Seconds(10)));
  // Unlocking afterwards hands the lock to nobody: a new locker gets it.
  ASSERT_TRUE(Unlock(held.key()).ok());
  v3lockpb::LockResponse next;
  ASSERT_TRUE(Lock("l", Grant(), &next).ok());
}

// Many more waiters than worker threads: the pool stays free for other
// calls, and every waiter gets the lock in turn, one at a time.
TEST_F(LockElectionTest, MutualExclusionWithManyConcurrentClients) {
  constexpr int kClients = 4 * kWorkers;
  std::atomic<int> holders{0};
  std::atomic<int> max_holders{0};
  std::atomic<int> acquired{0};
  std::vector<std::thread> clients;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kClients; ++i) channels.push_back(NewChannel());
  absl::Notification release;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto lock = v3lockpb::Lock::NewStub(channels[i]);
      auto kv = etcdserverpb::KV::NewStub(channels[i]);
      v3lockpb::LockRequest request;
      request.set_name("mutex");
      request.set_lease(Grant());
      v3lockpb::LockResponse locked;
      grpc::Status status = lock->Lock(Ctx(120).get(), request, &locked);
      ASSERT_TRUE(status.ok()) << status.error_message();
      int now = ++holders;
      int seen = max_holders.load();
      while (now > seen && !max_holders.compare_exchange_weak(seen, now)) {
      }
      // A read-modify-write that only the holder does.
      etcdserverpb::RangeRequest range;
      range.set_key("counter");
      etcdserverpb::RangeResponse got;
      ASSERT_TRUE(kv->Range(Ctx().get(), range, &got).ok());
      int value = got.kvs_size() == 0 ? 0 : std::stoi(got.kvs(0).value());
      etcdserverpb::PutRequest put;
      put.set_key("counter");
      put.set_value(std::to_string(value + 1));
      etcdserverpb::PutResponse put_response;
      ASSERT_TRUE(kv->Put(Ctx().get(), put, &put_response).ok());
      ++acquired;
      // Hold the first lock until every client is waiting.
      if (acquired.load() == 1) release.WaitForNotificationWithTimeout(absl::Seconds(60));
      --holders;
      v3lockpb::UnlockRequest unlock;
      unlock.set_key(locked.key());
      v3lockpb::UnlockResponse unlocked;
      ASSERT_TRUE(lock->Unlock(Ctx().get(), unlock, &unlocked).ok());
    });
  }
  // Every client has queued a key while one holds the lock: the waiters
  // hold no worker, so plain KV calls still go through.
  etcdserverpb::RangeRequest all;
  all.set_key("mutex/");
  all.set_range_end("mutex0");
  all.set_count_only(true);
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        etcdserverpb::RangeResponse got;
        return acquired.load() >= 1 && kv_->Range(Ctx().get(), all, &got).ok() &&
               got.count() == kClients;
      },
      absl::Seconds(60)));
  EXPECT_EQ(acquired.load(), 1);
  release.Notify();
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(acquired.load(), kClients);
  EXPECT_EQ(max_holders.load(), 1);
  std::optional<mvccpb::KeyValue> counter = Get("counter");
  ASSERT_TRUE(counter.has_value());
  EXPECT_EQ(counter->value(), std::to_string(kClients));
  etcdserverpb::RangeResponse left;
  ASSERT_TRUE(kv_->Range(Ctx().get(), all, &left).ok());
  EXPECT_EQ(left.count(), 0);
}

int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// Hundreds of waiting Lock calls hold no thread and no worker; cancelling
// them all removes every queued key.
TEST_F(LockElectionTest, ManyWaitersHoldNoThreads) {
  constexpr int kWaiters = 400;
  v3lockpb::LockResponse held;
  ASSERT_TRUE(Lock("crowd", Grant(), &held).ok());
  const int threads_before = ThreadCount();
  ASSERT_GT(threads_before, 0);

  struct Waiter {
    grpc::ClientContext ctx;
    v3lockpb::LockRequest request;
    v3lockpb::LockResponse response;
  };
  std::vector<std::unique_ptr<Waiter>> waiters;
  absl::Mutex mu;
  int finished = 0;
  int cancelled = 0;
  for (int i = 0; i < kWaiters; ++i) {
    auto w = std::make_unique<Waiter>();
    w->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    w->request.set_name("crowd");
    w->request.set_lease(Grant());
    lock_->async()->Lock(&w->ctx, &w->request, &w->response, [&](grpc::Status status) {
      absl::MutexLock lock(&mu);
      ++finished;
      if (status.error_code() == grpc::StatusCode::CANCELLED) ++cancelled;
    });
    waiters.push_back(std::move(w));
  }
  etcdserverpb::RangeRequest all;
  all.set_key("crowd/");
  all.set_range_end("crowd0");
  all.set_count_only(true);
  auto count = [&] {
    etcdserverpb::RangeResponse got;
    grpc::Status status = kv_->Range(Ctx().get(), all, &got);
    return status.ok() ? got.count() : -1;
  };
  ASSERT_TRUE(testutil::WaitUntil([&] { return count() == kWaiters + 1; }, absl::Seconds(60)))
      << count();
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(finished, 0);
  }
  // A thread per waiter would show here; gRPC may add a few of its own.
  EXPECT_LT(ThreadCount() - threads_before, 40);

  for (auto& w : waiters) w->ctx.TryCancel();
  {
    absl::MutexLock lock(&mu);
    auto all_done = [&] { return finished == kWaiters; };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_done), absl::Seconds(60)));
    EXPECT_EQ(cancelled, kWaiters);
  }
  EXPECT_TRUE(testutil::WaitUntil([&] { return count() == 1; }, absl::Seconds(60))) << count();
  EXPECT_TRUE(Get(held.key()).has_value());
}

// Shutting the gRPC server down with calls still waiting ends them.
TEST_F(LockElectionTest, ShutdownEndsWaitingCalls) {
  v3lockpb::LockResponse held;
  ASSERT_TRUE(Lock("l", Grant(), &held).ok());
  int64_t b = Grant();
  std::unique_ptr<PendingLock> waiter = LockAsync("l", b);
  grpc::ClientContext observe_ctx;
  v3electionpb::LeaderRequest leader_request;
  leader_request.set_name("nobody-yet");
  std::unique_ptr<grpc::ClientReader<v3electionpb::LeaderResponse>> observer =
      election_->Observe(&observe_ctx, leader_request);
  ASSERT_TRUE(
      testutil::WaitUntil([&] { return Get(KeyOf("l", b)).has_value(); }, absl::Seconds(10)));
  grpc_->Shutdown(absl::Now() + absl::Milliseconds(500));
  ASSERT_TRUE(waiter->done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_FALSE(waiter->status.ok());
  v3electionpb::LeaderResponse seen;
  EXPECT_FALSE(observer->Read(&seen));
  EXPECT_FALSE(observer->Finish().ok());
  // Like etcd, the waiter's key is given up.
  etcdserverpb::RangeRequest range;
  range.set_key(KeyOf("l", b));
  EXPECT_TRUE(testutil::WaitUntil(
      [&] {
        absl::StatusOr<etcdserverpb::RangeResponse> got =
            server_->Range(range, etcdserver::RequestContext());
        return got.ok() && got->kvs_size() == 0;
      },
      absl::Seconds(10)));
}

TEST_F(LockElectionTest, CampaignLeaderProclaimObserveResign) {
  int64_t a = Grant();
  int64_t b = Grant();
  v3electionpb::CampaignRequest campaign;
  campaign.set_name("e");
  campaign.set_lease(a);
  campaign.set_value("alpha");
  v3electionpb::CampaignResponse elected;
  grpc::Status status = election_->Campaign(Ctx().get(), campaign, &elected);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(elected.leader().name(), "e");
  EXPECT_EQ(elected.leader().key(), KeyOf("e", a));
  EXPECT_EQ(elected.leader().lease(), a);
  EXPECT_EQ(elected.leader().rev(), elected.header().revision());

  v3electionpb::LeaderRequest leader_request;
  leader_request.set_name("e");
  v3electionpb::LeaderResponse leader;
  ASSERT_TRUE(election_->Leader(Ctx().get(), leader_request, &leader).ok());
  EXPECT_EQ(leader.kv().key(), KeyOf("e", a));
  EXPECT_EQ(leader.kv().value(), "alpha");

  // An observer sees the current leader first.
  grpc::ClientContext observe_ctx;
  std::unique_ptr<grpc::ClientReader<v3electionpb::LeaderResponse>> observer =
      election_->Observe(&observe_ctx, leader_request);
  v3electionpb::LeaderResponse seen;
  ASSERT_TRUE(observer->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "alpha");

  // A second candidate waits.
  absl::Notification b_elected;
  v3electionpb::CampaignResponse b_response;
  grpc::Status b_status;
  std::thread candidate([&] {
    v3electionpb::CampaignRequest c;
    c.set_name("e");
    c.set_lease(b);
    c.set_value("beta");
    b_status = election_->Campaign(Ctx(60).get(), c, &b_response);
    b_elected.Notify();
  });
  ASSERT_TRUE(
      testutil::WaitUntil([&] { return Get(KeyOf("e", b)).has_value(); }, absl::Seconds(10)));
  EXPECT_FALSE(b_elected.HasBeenNotified());

  // The leader proclaims; the observer sees it.
  v3electionpb::ProclaimRequest proclaim;
  *proclaim.mutable_leader() = elected.leader();
  proclaim.set_value("alpha2");
  v3electionpb::ProclaimResponse proclaimed;
  status = election_->Proclaim(Ctx().get(), proclaim, &proclaimed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(observer->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "alpha2");
  EXPECT_EQ(seen.header().revision(), proclaimed.header().revision());
  ASSERT_TRUE(election_->Leader(Ctx().get(), leader_request, &leader).ok());
  EXPECT_EQ(leader.kv().value(), "alpha2");

  // The waiting candidate is not the leader: it may not proclaim.
  v3electionpb::ProclaimRequest usurp;
  usurp.mutable_leader()->set_name("e");
  usurp.mutable_leader()->set_key(KeyOf("e", b));
  usurp.mutable_leader()->set_rev(elected.leader().rev());  // not b's key's revision
  usurp.mutable_leader()->set_lease(b);
  usurp.set_value("nope");
  status = election_->Proclaim(Ctx().get(), usurp, &proclaimed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "election: not leader");

  // The leader resigns: the candidate is elected and observed.
  v3electionpb::ResignRequest resign;
  *resign.mutable_leader() = elected.leader();
  v3electionpb::ResignResponse resigned;
  ASSERT_TRUE(election_->Resign(Ctx().get(), resign, &resigned).ok());
  ASSERT_TRUE(b_elected.WaitForNotificationWithTimeout(absl::Seconds(20)));
  candidate.join();
  ASSERT_TRUE(b_status.ok()) << b_status.error_message();
  EXPECT_EQ(b_response.leader().key(), KeyOf("e", b));
  ASSERT_TRUE(observer->Read(&seen));
  EXPECT_EQ(seen.kv().key(), KeyOf("e", b));
  EXPECT_EQ(seen.kv().value(), "beta");

  // The old leader's key is gone; resigning again is a no-op.
  EXPECT_FALSE(Get(KeyOf("e", a)).has_value());
  ASSERT_TRUE(election_->Resign(Ctx().get(), resign, &resigned).ok());
  EXPECT_TRUE(Get(KeyOf("e", b)).has_value());

  observe_ctx.TryCancel();
  while (observer->Read(&seen)) {
  }
  EXPECT_EQ(observer->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(LockElectionTest, ObserveWaitsForTheFirstCandidate) {
  v3electionpb::LeaderRequest leader_request;
  leader_request.set_name("empty");
  grpc::ClientContext observe_ctx;
  observe_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  std::unique_ptr<grpc::ClientReader<v3electionpb::LeaderResponse>> observer =
      election_->Observe(&observe_ctx, leader_request);
  // Unrelated keys do not count.
  etcdserverpb::PutRequest put;
  put.set_key("emptyx");
  etcdserverpb::PutResponse put_response;
  ASSERT_TRUE(kv_->Put(Ctx().get(), put, &put_response).ok());
  v3electionpb::CampaignRequest campaign;
  campaign.set_name("empty");
  campaign.set_lease(Grant());
  campaign.set_value("first");
  v3electionpb::CampaignResponse elected;
  ASSERT_TRUE(election_->Campaign(Ctx().get(), campaign, &elected).ok());
  v3electionpb::LeaderResponse seen;
  ASSERT_TRUE(observer->Read(&seen));
  EXPECT_EQ(seen.kv().key(), elected.leader().key());
  EXPECT_EQ(seen.kv().value(), "first");
  EXPECT_EQ(seen.header().revision(), elected.header().revision());
  observe_ctx.TryCancel();
  while (observer->Read(&seen)) {
  }
  observer->Finish();
}

// An observer that does not read while the leader proclaims a lot (more
// than gRPC's flow-control windows and the stream's own backlog) gets
// every value, in order, once it reads.
TEST_F(LockElectionTest, SlowObserverGetsEveryValueInOrder) {
  constexpr int kProclaims = 200;
  v3electionpb::CampaignRequest campaign;
  campaign.set_name("busy");
  campaign.set_lease(Grant());
  campaign.set_value("start");
  v3electionpb::CampaignResponse elected;
  ASSERT_TRUE(election_->Campaign(Ctx().get(), campaign, &elected).ok());
  grpc::ClientContext observe_ctx;
  observe_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v3electionpb::LeaderRequest leader_request;
  leader_request.set_name("busy");
  std::unique_ptr<grpc::ClientReader<v3electionpb::LeaderResponse>> observer =
      election_->Observe(&observe_ctx, leader_request);
  v3electionpb::LeaderResponse seen;
  ASSERT_TRUE(observer->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "start");
  const std::string padding(100 * 1024, 'p');
  for (int i = 0; i < kProclaims; ++i) {
    v3electionpb::ProclaimRequest proclaim;
    *proclaim.mutable_leader() = elected.leader();
    proclaim.set_value(absl::StrCat(i, ":", padding));
    v3electionpb::ProclaimResponse proclaimed;
    grpc::Status status = election_->Proclaim(Ctx().get(), proclaim, &proclaimed);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  for (int i = 0; i < kProclaims; ++i) {
    ASSERT_TRUE(observer->Read(&seen)) << "after " << i << " values";
    ASSERT_EQ(seen.kv().value(), absl::StrCat(i, ":", padding)) << "value " << i;
  }
  observe_ctx.TryCancel();
  while (observer->Read(&seen)) {
  }
  observer->Finish();
}

TEST_F(LockElectionTest, CancelledCampaignResigns) {
  v3electionpb::CampaignRequest campaign;
  campaign.set_name("e");
  campaign.set_lease(Grant());
  campaign.set_value("a");
  v3electionpb::CampaignResponse elected;
  ASSERT_TRUE(election_->Campaign(Ctx().get(), campaign, &elected).ok());
  int64_t b = Grant();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  campaign.set_lease(b);
  campaign.set_value("b");
  v3electionpb::CampaignResponse waited;
  grpc::Status status = election_->Campaign(&ctx, campaign, &waited);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(
      testutil::WaitUntil([&] { return !Get(KeyOf("e", b)).has_value(); }, absl::Seconds(10)));
}

TEST_F(LockElectionTest, ElectionErrors) {
  v3electionpb::LeaderRequest leader_request;
  leader_request.set_name("nobody");
  v3electionpb::LeaderResponse leader;
  grpc::Status status = election_->Leader(Ctx().get(), leader_request, &leader);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "election: no leader");

  v3electionpb::ProclaimRequest proclaim;
  v3electionpb::ProclaimResponse proclaimed;
  status = election_->Proclaim(Ctx().get(), proclaim, &proclaimed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "\"leader\" field must be provided");

  v3electionpb::ResignRequest resign;
  v3electionpb::ResignResponse resigned;
  status = election_->Resign(Ctx().get(), resign, &resigned);
  EXPECT_EQ(status.error_message(), "\"leader\" field must be provided");

  v3electionpb::CampaignRequest campaign;
  campaign.set_name("e");
  campaign.set_lease(0x4242);
  v3electionpb::CampaignResponse elected;
  status = election_->Campaign(Ctx().get(), campaign, &elected);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "etcdserver: requested lease not found");

  // Proclaiming for a key that is gone.
  proclaim.mutable_leader()->set_name("e");
  proclaim.mutable_leader()->set_key("e/1");
  proclaim.mutable_leader()->set_rev(5);
  proclaim.mutable_leader()->set_lease(Grant());
  status = election_->Proclaim(Ctx().get(), proclaim, &proclaimed);
  EXPECT_EQ(status.error_message(), "election: not leader");
}

}  // namespace
}  // namespace etcd::v3rpc
