// v3lockpb.Lock: etcd's server-side mutex (etcdserver/api/v3lock on
// clientv3/concurrency/mutex.go), on EtcdServer directly.

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "api/v3lockpb/v3lock.grpc.pb.h"
#include "server/v3rpc/concurrency.h"
#include "server/v3rpc/services.h"
#include "server/v3rpc/waiting_call.h"

namespace etcd::v3rpc {
namespace {

using etcdserver::EtcdServer;
using etcdserver::RequestContext;

// One Lock call. The key `<name>/<lease hex>` is created unless it exists;
// the caller holds the lock once no key under `<name>/` has a smaller create
// revision. A call that fails or is cancelled while waiting deletes the key.
class LockCall final : public WaitingCall {
 public:
  LockCall(const Env& env, grpc::CallbackServerContext* context,
           const v3lockpb::LockRequest* request, v3lockpb::LockResponse* response)
      : WaitingCall(env, context), request_(request), response_(response) {}

 private:
  void Step() override {
    if (cancelled()) {
      Fail(grpc::Status::CANCELLED);
      return;
    }
    if (!waiter_.has_value() && !Enqueue()) return;
    std::optional<absl::StatusOr<etcdserverpb::ResponseHeader>> done = waiter_->Advance();
    if (!done.has_value()) return;
    if (!done->ok()) {
      Fail(ToGrpcStatus(done->status()));
      return;
    }
    Acquired(**done);
  }

  // The txn of etcd's Mutex.Lock; false when the call is over (acquired at
  // once, or failed), true when it must wait (waiter_ set).
  bool Enqueue() {
    EtcdServer* server = env_.server;
    absl::StatusOr<int64_t> lease = SessionLease(server, request_->lease(), ctx_);
    if (!lease.ok()) {
      Complete(lease.status());
      return false;
    }
    const std::string prefix = request_->name() + "/";
    key_ = SessionKey(prefix, *lease);

    etcdserverpb::TxnRequest txn;
    etcdserverpb::Compare* cmp = txn.add_compare();
    cmp->set_key(key_);
    cmp->set_target(etcdserverpb::Compare::CREATE);
    cmp->set_result(etcdserverpb::Compare::EQUAL);
    cmp->set_create_revision(0);
    etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
    put->set_key(key_);
    put->set_lease(*lease);
    *txn.add_success()->mutable_request_range() = FirstCreateRequest(prefix);
    txn.add_failure()->mutable_request_range()->set_key(key_);
    *txn.add_failure()->mutable_request_range() = FirstCreateRequest(prefix);
    absl::StatusOr<etcdserverpb::TxnResponse> resp = server->Txn(txn, ctx_);
    if (!resp.ok()) {
      Complete(AsClientError(resp.status()));
      return false;
    }
    int64_t my_rev = resp->header().revision();
    if (!resp->succeeded()) {
      const etcdserverpb::RangeResponse& mine = resp->responses(0).response_range();
      if (mine.kvs_size() == 0) {
        // Deleted between the compare and the read: cannot happen in one
        // txn, but do not trust the index blindly.
        Complete(absl::InternalError("lock: key vanished inside a txn"));
        return false;
      }
      my_rev = mine.kvs(0).create_revision();
    }
    created_ = true;
    const etcdserverpb::RangeResponse& owner = resp->responses(1).response_range();
    if (owner.kvs_size() == 0 || owner.kvs(0).create_revision() == my_rev) {
      Acquired(resp->header());
      return false;
    }
    waiter_.emplace(server, ctx_, prefix, my_rev - 1, Waker());
    return true;
  }

  void Acquired(const etcdserverpb::ResponseHeader& header) {
    if (waiter_.has_value()) waiter_->Stop();
    *response_->mutable_header() = header;
    response_->set_key(key_);
    Complete(grpc::Status::OK);
  }

  // Like etcd, gives the key up (it may have existed before this call).
  void Fail(const grpc::Status& status) {
    if (waiter_.has_value()) waiter_->Stop();
    if (created_) {
      etcdserverpb::DeleteRangeRequest del;
      del.set_key(key_);
      (void)env_.server->DeleteRange(del, CleanupContext(ctx_));
    }
    Complete(status);
  }

  const v3lockpb::LockRequest* const request_;
  v3lockpb::LockResponse* const response_;
  std::string key_;
  bool created_ = false;  // the key exists for this call
  std::optional<DeleteWaiter> waiter_;
};

class LockService final : public v3lockpb::Lock::CallbackService {
 public:
  explicit LockService(const Env& env) : env_(env) {}

  grpc::ServerUnaryReactor* Lock(grpc::CallbackServerContext* context,
                                 const v3lockpb::LockRequest* request,
                                 v3lockpb::LockResponse* response) override {
    if (grpc::ServerUnaryReactor* refused = RefuseUnaryOnLearner(env_, context)) return refused;
    auto call = std::make_shared<LockCall>(env_, context, request, response);
    call->Start();
    return call.get();
  }

  grpc::ServerUnaryReactor* Unlock(grpc::CallbackServerContext* context,
                                   const v3lockpb::UnlockRequest* request,
                                   v3lockpb::UnlockResponse* response) override {
    EtcdServer* server = env_.server;
    return RunUnary<v3lockpb::UnlockRequest, v3lockpb::UnlockResponse>(
        env_, context, request, response,
        [server](const v3lockpb::UnlockRequest& r,
                 const RequestContext& ctx) -> absl::StatusOr<v3lockpb::UnlockResponse> {
          etcdserverpb::DeleteRangeRequest del;
          del.set_key(r.key());
          if (absl::Status s = CheckDeleteRequest(del); !s.ok()) return AsClientError(s);
          absl::StatusOr<etcdserverpb::DeleteRangeResponse> deleted = server->DeleteRange(del, ctx);
          if (!deleted.ok()) return AsClientError(deleted.status());
          v3lockpb::UnlockResponse response;
          *response.mutable_header() = deleted->header();
          return response;
        });
  }

 private:
  const Env env_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewLockService(const Env& env) {
  return std::make_unique<LockService>(env);
}

}  // namespace etcd::v3rpc
