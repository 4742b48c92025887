// Internal to //server/v3rpc: the gRPC services of the member, each a thin
// translation onto EtcdServer (see grpc_server.h for the public entry).

#ifndef ETCD_SERVER_V3RPC_SERVICES_H_
#define ETCD_SERVER_V3RPC_SERVICES_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <memory>

#include "server/v3rpc/service_util.h"

namespace etcd::v3rpc {

// Each returned service borrows `env`'s server and executor.
std::unique_ptr<grpc::Service> NewKVService(const Env& env);
std::unique_ptr<grpc::Service> NewLeaseService(const Env& env);
std::unique_ptr<grpc::Service> NewWatchService(const Env& env);
std::unique_ptr<grpc::Service> NewClusterService(const Env& env);
std::unique_ptr<grpc::Service> NewMaintenanceService(const Env& env);
std::unique_ptr<grpc::Service> NewAuthService(const Env& env);
// v3lockpb.Lock and v3electionpb.Election (lock_service.cc,
// election_service.cc).
std::unique_ptr<grpc::Service> NewLockService(const Env& env);
std::unique_ptr<grpc::Service> NewElectionService(const Env& env);

// etcd's request checks in the gRPC layer (v3rpc/key.go): empty keys,
// values or leases given with ignore_*, too many txn operations.
absl::Status CheckRangeRequest(const etcdserverpb::RangeRequest& r);
absl::Status CheckPutRequest(const etcdserverpb::PutRequest& r);
absl::Status CheckDeleteRequest(const etcdserverpb::DeleteRangeRequest& r);
absl::Status CheckTxnRequest(const etcdserverpb::TxnRequest& r, uint64_t max_txn_ops);

}  // namespace etcd::v3rpc

#endif  // ETCD_SERVER_V3RPC_SERVICES_H_
