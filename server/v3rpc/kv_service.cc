#include "api/etcdserverpb/rpc.grpc.pb.h"
#include "api/rpctypes/rpctypes.h"
#include "server/v3rpc/services.h"

namespace etcd::v3rpc {

using etcdserver::EtcdServer;
using etcdserver::RequestContext;

absl::Status CheckRangeRequest(const etcdserverpb::RangeRequest& r) {
  if (r.key().empty()) return rpctypes::ToStatus(rpctypes::kErrEmptyKey);
  return absl::OkStatus();
}

absl::Status CheckPutRequest(const etcdserverpb::PutRequest& r) {
  if (r.key().empty()) return rpctypes::ToStatus(rpctypes::kErrEmptyKey);
  if (r.ignore_value() && !r.value().empty())
    return rpctypes::ToStatus(rpctypes::kErrValueProvided);
  if (r.ignore_lease() && r.lease() != 0) return rpctypes::ToStatus(rpctypes::kErrLeaseProvided);
  return absl::OkStatus();
}

absl::Status CheckDeleteRequest(const etcdserverpb::DeleteRangeRequest& r) {
  if (r.key().empty()) return rpctypes::ToStatus(rpctypes::kErrEmptyKey);
  return absl::OkStatus();
}

namespace {

absl::Status CheckRequestOp(const etcdserverpb::RequestOp& op, uint64_t max_txn_ops) {
  switch (op.request_case()) {
    case etcdserverpb::RequestOp::kRequestRange:
      return CheckRangeRequest(op.request_range());
    case etcdserverpb::RequestOp::kRequestPut:
      return CheckPutRequest(op.request_put());
    case etcdserverpb::RequestOp::kRequestDeleteRange:
      return CheckDeleteRequest(op.request_delete_range());
    case etcdserverpb::RequestOp::kRequestTxn:
      return CheckTxnRequest(op.request_txn(), max_txn_ops);
    default:
      return rpctypes::ToStatus(rpctypes::kErrKeyNotFound);
  }
}

}  // namespace

absl::Status CheckTxnRequest(const etcdserverpb::TxnRequest& r, uint64_t max_txn_ops) {
  uint64_t ops = static_cast<uint64_t>(r.compare_size());
  ops = std::max(ops, static_cast<uint64_t>(r.success_size()));
  ops = std::max(ops, static_cast<uint64_t>(r.failure_size()));
  if (ops > max_txn_ops) return rpctypes::ToStatus(rpctypes::kErrTooManyOps);
  for (const etcdserverpb::Compare& c : r.compare()) {
    if (c.key().empty()) return rpctypes::ToStatus(rpctypes::kErrEmptyKey);
  }
  for (const etcdserverpb::RequestOp& op : r.success()) {
    if (absl::Status s = CheckRequestOp(op, max_txn_ops - ops); !s.ok()) return s;
  }
  for (const etcdserverpb::RequestOp& op : r.failure()) {
    if (absl::Status s = CheckRequestOp(op, max_txn_ops - ops); !s.ok()) return s;
  }
  return absl::OkStatus();
}

namespace {

class KVService final : public etcdserverpb::KV::CallbackService {
 public:
  explicit KVService(const Env& env) : env_(env) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* context,
                                  const etcdserverpb::RangeRequest* request,
                                  etcdserverpb::RangeResponse* response) override {
    EtcdServer* server = env_.server;
    return RunUnary<etcdserverpb::RangeRequest, etcdserverpb::RangeResponse>(
        env_, context, request, response,
        [server](const etcdserverpb::RangeRequest& r,
                 const RequestContext& ctx) -> absl::StatusOr<etcdserverpb::RangeResponse> {
          if (absl::Status s = CheckRangeRequest(r); !s.ok()) return s;
          return server->Range(r, ctx);
        });
  }

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context,
                                const etcdserverpb::PutRequest* request,
                                etcdserverpb::PutResponse* response) override {
    EtcdServer* server = env_.server;
    return RunUnary<etcdserverpb::PutRequest, etcdserverpb::PutResponse>(
        env_, context, request, response,
        [server](const etcdserverpb::PutRequest& r,
                 const RequestContext& ctx) -> absl::StatusOr<etcdserverpb::PutResponse> {
          if (absl::Status s = CheckPutRequest(r); !s.ok()) return s;
          return server->Put(r, ctx);
        });
  }

  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* context,
                                        const etcdserverpb::DeleteRangeRequest* request,
                                        etcdserverpb::DeleteRangeResponse* response) override {
    EtcdServer* server = env_.server;
    return RunUnary<etcdserverpb::DeleteRangeRequest, etcdserverpb::DeleteRangeResponse>(
        env_, context, request, response,
        [server](const etcdserverpb::DeleteRangeRequest& r,
                 const RequestContext& ctx) -> absl::StatusOr<etcdserverpb::DeleteRangeResponse> {
          if (absl::Status s = CheckDeleteRequest(r); !s.ok()) return s;
          return server->DeleteRange(r, ctx);
        });
  }

  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* context,
                                const etcdserverpb::TxnRequest* request,
                                etcdserverpb::TxnResponse* response) override {
    EtcdServer* server = env_.server;
    uint64_t max_txn_ops = env_.max_txn_ops;
    return RunUnary<etcdserverpb::TxnRequest, etcdserverpb::TxnResponse>(
        env_, context, request, response,
        [server, max_txn_ops](const etcdserverpb::TxnRequest& r, const RequestContext& ctx)
            -> absl::StatusOr<etcdserverpb::TxnResponse> {
          if (absl::Status s = CheckTxnRequest(r, max_txn_ops); !s.ok()) return s;
          return server->Txn(r, ctx);
        });
  }

  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* context,
                                    const etcdserverpb::CompactionRequest* request,
                                    etcdserverpb::CompactionResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::Compact);
  }

 private:
  const Env env_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewKVService(const Env& env) {
  return std::make_unique<KVService>(env);
}

}  // namespace etcd::v3rpc
