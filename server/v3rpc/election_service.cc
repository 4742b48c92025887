// v3electionpb.Election: etcd's server-side election (etcdserver/api/
// v3election on clientv3/concurrency/election.go), on EtcdServer directly.

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "api/rpctypes/rpctypes.h"
#include "api/v3electionpb/v3election.grpc.pb.h"
#include "server/v3rpc/concurrency.h"
#include "server/v3rpc/services.h"
#include "server/v3rpc/waiting_call.h"

namespace etcd::v3rpc {
namespace {

using etcdserver::EtcdServer;
using etcdserver::RequestContext;

// etcd's errors here are plain Go errors: gRPC code Unknown.
absl::Status NotLeaderError() { return absl::UnknownError("election: not leader"); }
absl::Status NoLeaderError() { return absl::UnknownError("election: no leader"); }
absl::Status MissingLeaderKeyError() {
  return absl::UnknownError("\"leader\" field must be provided");
}

etcdserverpb::Compare CreateRevisionIs(const std::string& key, int64_t rev) {
  etcdserverpb::Compare cmp;
  cmp.set_key(key);
  cmp.set_target(etcdserverpb::Compare::CREATE);
  cmp.set_result(etcdserverpb::Compare::EQUAL);
  cmp.set_create_revision(rev);
  return cmp;
}

absl::StatusOr<etcdserverpb::TxnResponse> RunTxn(const Env& env,
                                                 const etcdserverpb::TxnRequest& txn,
                                                 const RequestContext& ctx) {
  if (absl::Status s = CheckTxnRequest(txn, env.max_txn_ops); !s.ok()) return AsClientError(s);
  absl::StatusOr<etcdserverpb::TxnResponse> resp = env.server->Txn(txn, ctx);
  if (!resp.ok()) return AsClientError(resp.status());
  return resp;
}

// Election.Proclaim: the leader key's value, if it is still the leader's.
absl::StatusOr<etcdserverpb::ResponseHeader> Proclaim(const Env& env, const std::string& key,
                                                      int64_t rev, int64_t lease,
                                                      const std::string& value,
                                                      const RequestContext& ctx) {
  etcdserverpb::TxnRequest txn;
  *txn.add_compare() = CreateRevisionIs(key, rev);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  put->set_lease(lease);
  absl::StatusOr<etcdserverpb::TxnResponse> resp = RunTxn(env, txn, ctx);
  if (!resp.ok()) return resp.status();
  if (!resp->succeeded()) return NotLeaderError();
  return resp->header();
}

// Election.Resign: deletes the leader key if it is still the one created at
// `rev`.
absl::StatusOr<etcdserverpb::ResponseHeader> Resign(const Env& env, const std::string& key,
                                                    int64_t rev, const RequestContext& ctx) {
  etcdserverpb::TxnRequest txn;
  *txn.add_compare() = CreateRevisionIs(key, rev);
  txn.add_success()->mutable_request_delete_range()->set_key(key);
  absl::StatusOr<etcdserverpb::TxnResponse> resp = RunTxn(env, txn, ctx);
  if (!resp.ok()) return resp.status();
  return resp->header();
}

// One Campaign call: like Lock, with a value; the candidate leads once no
// key under `<name>/` has a smaller create revision. A campaign cancelled
// while waiting resigns.
class CampaignCall final : public WaitingCall {
 public:
  CampaignCall(const Env& env, grpc::CallbackServerContext* context,
               const v3electionpb::CampaignRequest* request,
               v3electionpb::CampaignResponse* response)
      : WaitingCall(env, context), request_(request), response_(response) {}

 private:
  void Step() override {
    if (cancelled()) {
      Fail(grpc::Status::CANCELLED, /*resign=*/true);
      return;
    }
    if (!waiter_.has_value() && !Enqueue()) return;
    std::optional<absl::StatusOr<etcdserverpb::ResponseHeader>> done = waiter_->Advance();
    if (!done.has_value()) return;
    if (!done->ok()) {
      // etcd resigns only when the caller's context is done.
      Fail(ToGrpcStatus(done->status()), absl::Now() >= ctx_.deadline);
      return;
    }
    Elected();
  }

  // The txn of etcd's Election.Campaign; false when the call is over.
  bool Enqueue() {
    absl::StatusOr<int64_t> lease = SessionLease(env_.server, request_->lease(), ctx_);
    if (!lease.ok()) {
      Complete(lease.status());
      return false;
    }
    lease_ = *lease;
    const std::string prefix = request_->name() + "/";
    key_ = SessionKey(prefix, lease_);

    etcdserverpb::TxnRequest txn;
    *txn.add_compare() = CreateRevisionIs(key_, 0);
    etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
    put->set_key(key_);
    put->set_value(request_->value());
    put->set_lease(lease_);
    txn.add_failure()->mutable_request_range()->set_key(key_);
    absl::StatusOr<etcdserverpb::TxnResponse> resp = RunTxn(env_, txn, ctx_);
    if (!resp.ok()) {
      Complete(resp.status());
      return false;
    }
    header_ = resp->header();
    rev_ = header_.revision();
    if (!resp->succeeded()) {
      const etcdserverpb::RangeResponse& mine = resp->responses(0).response_range();
      if (mine.kvs_size() == 0) {
        Complete(absl::InternalError("election: key vanished inside a txn"));
        return false;
      }
      rev_ = mine.kvs(0).create_revision();
      created_ = true;  // so a failed proclaim resigns
      if (mine.kvs(0).value() != request_->value()) {
        absl::StatusOr<etcdserverpb::ResponseHeader> proclaimed =
            Proclaim(env_, key_, rev_, lease_, request_->value(), ctx_);
        if (!proclaimed.ok()) {
          Fail(ToGrpcStatus(proclaimed.status()), /*resign=*/true);
          return false;
        }
      }
    }
    created_ = true;
    waiter_.emplace(env_.server, ctx_, prefix, rev_ - 1, Waker());
    return true;
  }

  void Elected() {
    waiter_->Stop();
    *response_->mutable_header() = header_;
    v3electionpb::LeaderKey* leader = response_->mutable_leader();
    leader->set_name(request_->name());
    leader->set_key(key_);
    leader->set_rev(rev_);
    leader->set_lease(lease_);
    Complete(grpc::Status::OK);
  }

  void Fail(const grpc::Status& status, bool resign) {
    if (waiter_.has_value()) waiter_->Stop();
    if (created_ && resign) (void)Resign(env_, key_, rev_, CleanupContext(ctx_));
    Complete(status);
  }

  const v3electionpb::CampaignRequest* const request_;
  v3electionpb::CampaignResponse* const response_;
  std::string key_;
  int64_t rev_ = 0;
  int64_t lease_ = 0;
  etcdserverpb::ResponseHeader header_;  // of the campaign txn, as in etcd
  bool created_ = false;
  std::optional<DeleteWaiter> waiter_;
};

// One Observe stream: the current leader, each new value it proclaims, then
// the next leader when its key goes, until the client leaves. Advanced on
// the pool by watch notifications, like a WaitingCall. At most kMaxQueued
// responses wait to be written; beyond that the stream stops polling its
// watch (whose own bounded queue then applies) until the client catches up.
class ObserveCall final : public QueuedWriteReactor<v3electionpb::LeaderResponse> {
 public:
  ObserveCall(const Env& env, RequestContext ctx, std::string prefix)
      : env_(env),
        ctx_(std::move(ctx)),
        prefix_(std::move(prefix)),
        runner_(env.executor, [this] { Step(); }) {}

  void Begin() {
    Retain();
    runner_.Kick(shared_from_this());
  }

 protected:
  void Closed() override {
    closed_.store(true);
    runner_.Kick(shared_from_this());  // drops the watch
  }

  // The outbox is empty: resume a Step that stopped on the backlog.
  void RefillLocked(std::deque<v3electionpb::LeaderResponse>* outbox) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    queued_.store(0);
    if (stalled_.exchange(false)) runner_.Kick(shared_from_this());
  }

 private:
  enum class State { kRead, kFirstPut, kFollow };

  void Step() {
    if (closed_.load() || finishing()) {
      watch_.reset();
      return;
    }
    while (true) {
      switch (state_) {
        case State::kRead: {
          absl::StatusOr<etcdserverpb::RangeResponse> got =
              env_.server->Range(FirstCreateRequest(prefix_), ctx_);
          if (!got.ok()) return End();  // etcd ends the stream quietly
          if (got->kvs_size() == 0) {
            if (!Watch(prefix_, PrefixRangeEnd(prefix_), got->header().revision())) return;
            state_ = State::kFirstPut;
            break;
          }
          Announce(got->header(), got->kvs(0));
          break;
        }
        case State::kFirstPut: {
          if (Backlogged()) return;
          std::optional<mvcc::WatchResponse> r = watch_->Poll();
          if (!r.has_value()) return;
          if (r->compact_revision != 0) return End();
          for (const mvccpb::Event& ev : r->Events()) {
            if (ev.type() != mvccpb::Event::PUT) continue;
            etcdserverpb::ResponseHeader header = env_.server->Header();
            header.set_revision(ev.kv().mod_revision());
            mvccpb::KeyValue kv = ev.kv();
            watch_.reset();
            Announce(header, kv);
            break;
          }
          break;
        }
        case State::kFollow: {
          if (Backlogged()) return;
          std::optional<mvcc::WatchResponse> r = watch_->Poll();
          if (!r.has_value()) return;
          if (r->compact_revision != 0) return End();
          etcdserverpb::ResponseHeader header = env_.server->Header();
          header.set_revision(r->revision);
          for (const mvccpb::Event& ev : r->Events()) {
            if (ev.type() == mvccpb::Event::DELETE) {
              watch_.reset();
              state_ = State::kRead;
              break;
            }
            v3electionpb::LeaderResponse response;
            *response.mutable_header() = header;
            *response.mutable_kv() = ev.kv();
            Emit(std::move(response));
          }
          break;
        }
      }
      if (closed_.load() || finishing()) {
        watch_.reset();
        return;
      }
    }
  }

  // Sends the leader `kv` and follows its key.
  void Announce(const etcdserverpb::ResponseHeader& header, const mvccpb::KeyValue& kv) {
    v3electionpb::LeaderResponse response;
    *response.mutable_header() = header;
    *response.mutable_kv() = kv;
    Emit(std::move(response));
    if (Watch(kv.key(), "", header.revision() + 1)) state_ = State::kFollow;
  }

  void Emit(v3electionpb::LeaderResponse response) {
    queued_.fetch_add(1);
    Send(std::move(response));
  }

  // Whether kMaxQueued responses wait to be written; then RefillLocked
  // kicks Step once they are. Sets stalled_ before re-checking, so a drain
  // in between is never missed.
  bool Backlogged() {
    if (queued_.load() < kMaxQueued) return false;
    stalled_.store(true);
    if (queued_.load() < kMaxQueued) return false;  // drained meanwhile
    return true;
  }

  bool Watch(const std::string& key, const std::string& end, int64_t rev) {
    std::weak_ptr<ObserveCall> weak = std::static_pointer_cast<ObserveCall>(shared_from_this());
    absl::StatusOr<std::unique_ptr<mvcc::WatchStream>> watch =
        WatchFrom(env_.server, key, end, rev, [weak] {
          if (std::shared_ptr<ObserveCall> self = weak.lock()) self->runner_.Kick(self);
        });
    if (!watch.ok()) {
      End();
      return false;
    }
    watch_ = std::move(*watch);
    return true;
  }

  void End() {
    watch_.reset();
    FinishOnce(grpc::Status::OK);
  }

  const Env env_;
  const RequestContext ctx_;
  const std::string prefix_;
  static constexpr int kMaxQueued = 64;

  std::atomic<bool> closed_{false};
  // Responses sent since the outbox was last empty.
  std::atomic<int> queued_{0};
  // Step returned on the backlog and waits for RefillLocked.
  std::atomic<bool> stalled_{false};
  // Touched only by Step().
  State state_ = State::kRead;
  std::unique_ptr<mvcc::WatchStream> watch_;
  SerialRunner runner_;
};

class ElectionService final : public v3electionpb::Election::CallbackService {
 public:
  explicit ElectionService(const Env& env) : env_(env) {}

  grpc::ServerUnaryReactor* Campaign(grpc::CallbackServerContext* context,
                                     const v3electionpb::CampaignRequest* request,
                                     v3electionpb::CampaignResponse* response) override {
    if (grpc::ServerUnaryReactor* refused = RefuseUnaryOnLearner(env_, context)) return refused;
    auto call = std::make_shared<CampaignCall>(env_, context, request, response);
    call->Start();
    return call.get();
  }

  grpc::ServerUnaryReactor* Proclaim(grpc::CallbackServerContext* context,
                                     const v3electionpb::ProclaimRequest* request,
                                     v3electionpb::ProclaimResponse* response) override {
    const Env env = env_;
    return RunUnary<v3electionpb::ProclaimRequest, v3electionpb::ProclaimResponse>(
        env_, context, request, response,
        [env](const v3electionpb::ProclaimRequest& r,
              const RequestContext& ctx) -> absl::StatusOr<v3electionpb::ProclaimResponse> {
          if (!r.has_leader()) return MissingLeaderKeyError();
          absl::StatusOr<int64_t> lease = SessionLease(env.server, r.leader().lease(), ctx);
          if (!lease.ok()) return lease.status();
          absl::StatusOr<etcdserverpb::ResponseHeader> header =
              v3rpc::Proclaim(env, r.leader().key(), r.leader().rev(), *lease, r.value(), ctx);
          if (!header.ok()) return header.status();
          v3electionpb::ProclaimResponse response;
          *response.mutable_header() = *header;
          return response;
        });
  }

  grpc::ServerUnaryReactor* Leader(grpc::CallbackServerContext* context,
                                   const v3electionpb::LeaderRequest* request,
                                   v3electionpb::LeaderResponse* response) override {
    EtcdServer* server = env_.server;
    return RunUnary<v3electionpb::LeaderRequest, v3electionpb::LeaderResponse>(
        env_, context, request, response,
        [server](const v3electionpb::LeaderRequest& r,
                 const RequestContext& ctx) -> absl::StatusOr<v3electionpb::LeaderResponse> {
          absl::StatusOr<etcdserverpb::RangeResponse> got =
              server->Range(FirstCreateRequest(r.name() + "/"), ctx);
          if (!got.ok()) return AsClientError(got.status());
          if (got->kvs_size() == 0) return NoLeaderError();
          v3electionpb::LeaderResponse response;
          *response.mutable_header() = got->header();
          *response.mutable_kv() = got->kvs(0);
          return response;
        });
  }

  grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* Observe(
      grpc::CallbackServerContext* context, const v3electionpb::LeaderRequest* request) override {
    if (env_.server->IsLearner()) {
      return new RefusedWriteStream<v3electionpb::LeaderResponse>(NotSupportedForLearner());
    }
    auto call =
        std::make_shared<ObserveCall>(env_, MakeRequestContext(context), request->name() + "/");
    call->Begin();
    return call.get();
  }

  grpc::ServerUnaryReactor* Resign(grpc::CallbackServerContext* context,
                                   const v3electionpb::ResignRequest* request,
                                   v3electionpb::ResignResponse* response) override {
    const Env env = env_;
    return RunUnary<v3electionpb::ResignRequest, v3electionpb::ResignResponse>(
        env_, context, request, response,
        [env](const v3electionpb::ResignRequest& r,
              const RequestContext& ctx) -> absl::StatusOr<v3electionpb::ResignResponse> {
          if (!r.has_leader()) return MissingLeaderKeyError();
          // etcd's session grants a lease here too when none is named.
          absl::StatusOr<int64_t> lease = SessionLease(env.server, r.leader().lease(), ctx);
          if (!lease.ok()) return lease.status();
          absl::StatusOr<etcdserverpb::ResponseHeader> header =
              v3rpc::Resign(env, r.leader().key(), r.leader().rev(), ctx);
          if (!header.ok()) return header.status();
          v3electionpb::ResignResponse response;
          *response.mutable_header() = *header;
          return response;
        });
  }

 private:
  const Env env_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewElectionService(const Env& env) {
  return std::make_unique<ElectionService>(env);
}

}  // namespace etcd::v3rpc
