#include <atomic>
#include <memory>
#include <utility>

#include "api/etcdserverpb/rpc.grpc.pb.h"
#include "api/rpctypes/rpctypes.h"
#include "server/v3rpc/services.h"

namespace etcd::v3rpc {
namespace {

using etcdserver::EtcdServer;
using etcdserver::RequestContext;

// One LeaseKeepAlive stream: every request renews on the worker pool and
// its answer is queued; requests are read as fast as they come. A lease
// that does not exist gets TTL 0, as in etcd; other errors end the stream.
class KeepAliveReactor final : public QueuedBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                                                        etcdserverpb::LeaseKeepAliveResponse> {
 public:
  KeepAliveReactor(const Env& env, RequestContext ctx) : env_(env), ctx_(std::move(ctx)) {}

  void Begin() {
    Retain();
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client closed its side (or the call broke): etcd answers the
      // renewals already read (a client may send one and half-close at
      // once), then returns nil.
      read_closed_ = true;
      if (pending_.load() == 0) FinishOnce(grpc::Status::OK);
      return;
    }
    ++pending_;
    etcdserverpb::LeaseKeepAliveRequest request = request_;
    std::weak_ptr<KeepAliveReactor> weak =
        std::static_pointer_cast<KeepAliveReactor>(shared_from_this());
    env_.executor->Schedule([weak, request = std::move(request), server = env_.server, ctx = ctx_] {
      std::shared_ptr<KeepAliveReactor> self = weak.lock();
      if (self == nullptr) return;
      if (!self->finishing()) {
        absl::StatusOr<etcdserverpb::LeaseKeepAliveResponse> r =
            server->LeaseRenew(request, ctx);
        if (r.ok()) {
          self->Send(std::move(*r));
        } else if (rpctypes::IsLeaseNotFound(r.status())) {
          etcdserverpb::LeaseKeepAliveResponse response;
          *response.mutable_header() = server->Header();
          response.set_id(request.id());
          response.set_ttl(0);
          self->Send(std::move(response));
        } else {
          self->FinishOnce(ToGrpcStatus(r.status()));
        }
      }
      // The last renewal after the client half-closed ends the stream.
      if (--self->pending_ == 0 && self->read_closed_.load()) {
        self->FinishOnce(grpc::Status::OK);
      }
    });
    if (!finishing()) StartRead(&request_);
  }

 private:
  const Env env_;
  const RequestContext ctx_;
  etcdserverpb::LeaseKeepAliveRequest request_;
  // Renewals read but not answered yet, and whether the client half-closed.
  std::atomic<int> pending_{0};
  std::atomic<bool> read_closed_{false};
};

class LeaseService final : public etcdserverpb::Lease::CallbackService {
 public:
  explicit LeaseService(const Env& env) : env_(env) {}

  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* context,
                                       const etcdserverpb::LeaseGrantRequest* request,
                                       etcdserverpb::LeaseGrantResponse* response) override {
    return RunAsync(env_, context, request, response, &EtcdServer::LeaseGrantAsync);
  }
  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* context,
                                        const etcdserverpb::LeaseRevokeRequest* request,
                                        etcdserverpb::LeaseRevokeResponse* response) override {
    return RunAsync(env_, context, request, response, &EtcdServer::LeaseRevokeAsync);
  }
  grpc::ServerUnaryReactor* LeaseTimeToLive(
      grpc::CallbackServerContext* context, const etcdserverpb::LeaseTimeToLiveRequest* request,
      etcdserverpb::LeaseTimeToLiveResponse* response) override {
    EtcdServer* server = env_.server;
    return RunUnary<etcdserverpb::LeaseTimeToLiveRequest, etcdserverpb::LeaseTimeToLiveResponse>(
        env_, context, request, response,
        [server](const etcdserverpb::LeaseTimeToLiveRequest& r, const RequestContext& ctx)
            -> absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> {
          absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> result =
              server->LeaseTimeToLive(r, ctx);
          if (!rpctypes::IsLeaseNotFound(result.status())) return result;
          // etcd answers an unknown lease with TTL -1, not an error.
          etcdserverpb::LeaseTimeToLiveResponse missing;
          *missing.mutable_header() = server->Header();
          missing.set_id(r.id());
          missing.set_ttl(-1);
          return missing;
        });
  }
  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* context,
                                        const etcdserverpb::LeaseLeasesRequest* request,
                                        etcdserverpb::LeaseLeasesResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::LeaseLeases);
  }

  grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                          etcdserverpb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(grpc::CallbackServerContext* context) override {
    if (env_.server->IsLearner()) {
      return new RefusedBidiStream<etcdserverpb::LeaseKeepAliveRequest,
                                   etcdserverpb::LeaseKeepAliveResponse>(NotSupportedForLearner());
    }
    auto reactor = std::make_shared<KeepAliveReactor>(env_, MakeRequestContext(context));
    reactor->Begin();
    return reactor.get();
  }

 private:
  const Env env_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewLeaseService(const Env& env) {
  return std::make_unique<LeaseService>(env);
}

}  // namespace etcd::v3rpc
