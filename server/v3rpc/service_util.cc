#include "server/v3rpc/service_util.h"

#include <chrono>
#include <string>

#include "api/rpctypes/rpctypes.h"
#include "server/tls/peer_identity.h"

namespace etcd::v3rpc {

grpc::Status NotSupportedForLearner() {
  return ToGrpcStatus(rpctypes::ToStatus(rpctypes::kErrNotSupportedForLearner));
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

etcdserver::RequestContext MakeRequestContext(const grpc::CallbackServerContext* context) {
  etcdserver::RequestContext ctx;
  const auto& metadata = context->client_metadata();
  auto it = metadata.find(rpctypes::kMetadataTokenKey);
  if (it == metadata.end()) it = metadata.find(rpctypes::kMetadataTokenKeyGateway);
  if (it != metadata.end()) ctx.token.assign(it->second.data(), it->second.size());
  // Without a token, a verified client certificate's common name is the
  // user (--client-cert-auth), as in etcd.
  if (ctx.token.empty()) ctx.tls_common_name = tls::PeerCommonName(context->peer());
  auto leader = metadata.find(rpctypes::kMetadataRequireLeaderKey);
  if (leader != metadata.end() &&
      std::string(leader->second.data(), leader->second.size()) == rpctypes::kMetadataHasLeader) {
    ctx.require_leader = true;
  }
  std::chrono::system_clock::time_point deadline = context->deadline();
  // gRPC reports "no deadline" as a time far in the future.
  if (deadline < std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
    ctx.deadline = absl::FromChrono(deadline);
  }
  return ctx;
}

}  // namespace etcd::v3rpc
