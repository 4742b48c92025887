#include "api/etcdserverpb/rpc.grpc.pb.h"
#include "server/v3rpc/services.h"

namespace etcd::v3rpc {
namespace {

using etcdserver::EtcdServer;

class ClusterService final : public etcdserverpb::Cluster::CallbackService {
 public:
  explicit ClusterService(const Env& env) : env_(env) {}

  grpc::ServerUnaryReactor* MemberAdd(grpc::CallbackServerContext* context,
                                      const etcdserverpb::MemberAddRequest* request,
                                      etcdserverpb::MemberAddResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::MemberAdd);
  }
  grpc::ServerUnaryReactor* MemberRemove(grpc::CallbackServerContext* context,
                                         const etcdserverpb::MemberRemoveRequest* request,
                                         etcdserverpb::MemberRemoveResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::MemberRemove);
  }
  grpc::ServerUnaryReactor* MemberUpdate(grpc::CallbackServerContext* context,
                                         const etcdserverpb::MemberUpdateRequest* request,
                                         etcdserverpb::MemberUpdateResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::MemberUpdate);
  }
  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* context,
                                       const etcdserverpb::MemberListRequest* request,
                                       etcdserverpb::MemberListResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::MemberList);
  }
  grpc::ServerUnaryReactor* MemberPromote(grpc::CallbackServerContext* context,
                                          const etcdserverpb::MemberPromoteRequest* request,
                                          etcdserverpb::MemberPromoteResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::MemberPromote);
  }

 private:
  const Env env_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewClusterService(const Env& env) {
  return std::make_unique<ClusterService>(env);
}

}  // namespace etcd::v3rpc
