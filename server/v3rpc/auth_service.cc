#include "api/etcdserverpb/rpc.grpc.pb.h"
#include "server/v3rpc/services.h"

namespace etcd::v3rpc {
namespace {

using etcdserver::EtcdServer;

// Every Auth RPC; EtcdServer checks the token and the root role.
class AuthService final : public etcdserverpb::Auth::CallbackService {
 public:
  explicit AuthService(const Env& env) : env_(env) {}

  grpc::ServerUnaryReactor* AuthEnable(grpc::CallbackServerContext* context,
                                       const etcdserverpb::AuthEnableRequest* request,
                                       etcdserverpb::AuthEnableResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::AuthEnable);
  }
  grpc::ServerUnaryReactor* AuthDisable(grpc::CallbackServerContext* context,
                                        const etcdserverpb::AuthDisableRequest* request,
                                        etcdserverpb::AuthDisableResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::AuthDisable);
  }
  grpc::ServerUnaryReactor* AuthStatus(grpc::CallbackServerContext* context,
                                       const etcdserverpb::AuthStatusRequest* request,
                                       etcdserverpb::AuthStatusResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::AuthStatus);
  }
  grpc::ServerUnaryReactor* Authenticate(grpc::CallbackServerContext* context,
                                         const etcdserverpb::AuthenticateRequest* request,
                                         etcdserverpb::AuthenticateResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::Authenticate);
  }
  grpc::ServerUnaryReactor* UserAdd(grpc::CallbackServerContext* context,
                                    const etcdserverpb::AuthUserAddRequest* request,
                                    etcdserverpb::AuthUserAddResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::UserAdd);
  }
  grpc::ServerUnaryReactor* UserGet(grpc::CallbackServerContext* context,
                                    const etcdserverpb::AuthUserGetRequest* request,
                                    etcdserverpb::AuthUserGetResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::UserGet);
  }
  grpc::ServerUnaryReactor* UserList(grpc::CallbackServerContext* context,
                                     const etcdserverpb::AuthUserListRequest* request,
                                     etcdserverpb::AuthUserListResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::UserList);
  }
  grpc::ServerUnaryReactor* UserDelete(grpc::CallbackServerContext* context,
                                       const etcdserverpb::AuthUserDeleteRequest* request,
                                       etcdserverpb::AuthUserDeleteResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::UserDelete);
  }
  grpc::ServerUnaryReactor* UserChangePassword(
      grpc::CallbackServerContext* context,
      const etcdserverpb::AuthUserChangePasswordRequest* request,
      etcdserverpb::AuthUserChangePasswordResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::UserChangePassword);
  }
  grpc::ServerUnaryReactor* UserGrantRole(
      grpc::CallbackServerContext* context, const etcdserverpb::AuthUserGrantRoleRequest* request,
      etcdserverpb::AuthUserGrantRoleResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::UserGrantRole);
  }
  grpc::ServerUnaryReactor* UserRevokeRole(
      grpc::CallbackServerContext* context, const etcdserverpb::AuthUserRevokeRoleRequest* request,
      etcdserverpb::AuthUserRevokeRoleResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::UserRevokeRole);
  }
  grpc::ServerUnaryReactor* RoleAdd(grpc::CallbackServerContext* context,
                                    const etcdserverpb::AuthRoleAddRequest* request,
                                    etcdserverpb::AuthRoleAddResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::RoleAdd);
  }
  grpc::ServerUnaryReactor* RoleGet(grpc::CallbackServerContext* context,
                                    const etcdserverpb::AuthRoleGetRequest* request,
                                    etcdserverpb::AuthRoleGetResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::RoleGet);
  }
  grpc::ServerUnaryReactor* RoleList(grpc::CallbackServerContext* context,
                                     const etcdserverpb::AuthRoleListRequest* request,
                                     etcdserverpb::AuthRoleListResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::RoleList);
  }
  grpc::ServerUnaryReactor* RoleDelete(grpc::CallbackServerContext* context,
                                       const etcdserverpb::AuthRoleDeleteRequest* request,
                                       etcdserverpb::AuthRoleDeleteResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::RoleDelete);
  }
  grpc::ServerUnaryReactor* RoleGrantPermission(
      grpc::CallbackServerContext* context,
      const etcdserverpb::AuthRoleGrantPermissionRequest* request,
      etcdserverpb::AuthRoleGrantPermissionResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::RoleGrantPermission);
  }
  grpc::ServerUnaryReactor* RoleRevokePermission(
      grpc::CallbackServerContext* context,
      const etcdserverpb::AuthRoleRevokePermissionRequest* request,
      etcdserverpb::AuthRoleRevokePermissionResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::RoleRevokePermission);
  }

 private:
  const Env env_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewAuthService(const Env& env) {
  return std::make_unique<AuthService>(env);
}

}  // namespace etcd::v3rpc
