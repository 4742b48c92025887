#include <openssl/evp.h>

#include <memory>
#include <string>
#include <utility>

#include "api/etcdserverpb/rpc.grpc.pb.h"
#include "server/v3rpc/services.h"

namespace etcd::v3rpc {
namespace {

using etcdserver::EtcdServer;
using etcdserver::RequestContext;

// etcd sends the database in 32 KiB chunks, then one chunk with the
// SHA-256 of everything sent (remaining_bytes 0).
constexpr size_t kSnapshotChunkBytes = 32 * 1024;
constexpr size_t kSnapshotMaxQueued = 8;

class SnapshotReactor final : public QueuedWriteReactor<etcdserverpb::SnapshotResponse> {
 public:
  SnapshotReactor(const Env& env, RequestContext ctx) : env_(env), ctx_(std::move(ctx)) {}

  void Begin() {
    Retain();
    std::weak_ptr<SnapshotReactor> weak =
        std::static_pointer_cast<SnapshotReactor>(shared_from_this());
    env_.executor->Schedule([weak] {
      if (std::shared_ptr<SnapshotReactor> self = weak.lock()) self->Produce();
    });
  }

 private:
  // Runs on a worker thread; blocks while the client is slow.
  void Produce() {
    absl::StatusOr<std::unique_ptr<etcdserver::BackendSnapshot>> snapshot =
        env_.server->Snapshot(ctx_);
    if (!snapshot.ok()) {
      FinishOnce(ToGrpcStatus(snapshot.status()));
      return;
    }
    const int64_t total = (*snapshot)->Size();
    int64_t sent = 0;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr);
    std::string pending;
    auto emit = [&](std::string blob) {
      EVP_DigestUpdate(sha.get(), blob.data(), blob.size());
      sent += static_cast<int64_t>(blob.size());
      etcdserverpb::SnapshotResponse response;
      response.set_remaining_bytes(static_cast<uint64_t>(total > sent ? total - sent : 0));
      response.set_blob(std::move(blob));
      if (!SendBlocking(std::move(response), kSnapshotMaxQueued)) {
        return absl::CancelledError("snapshot stream closed");
      }
      return absl::OkStatus();
    };
    absl::Status status = (*snapshot)->WriteTo([&](absl::string_view chunk) -> absl::Status {
      pending.append(chunk.data(), chunk.size());
      while (pending.size() >= kSnapshotChunkBytes) {
        std::string blob = pending.substr(0, kSnapshotChunkBytes);
        pending.erase(0, kSnapshotChunkBytes);
        if (absl::Status s = emit(std::move(blob)); !s.ok()) return s;
      }
      return absl::OkStatus();
    });
    if (status.ok() && !pending.empty()) status = emit(std::move(pending));
    snapshot->reset();
    if (!status.ok()) {
      FinishOnce(ToGrpcStatus(status));
      return;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    EVP_DigestFinal_ex(sha.get(), digest, &digest_size);
    etcdserverpb::SnapshotResponse trailer;
    trailer.set_remaining_bytes(0);
    trailer.set_blob(std::string(reinterpret_cast<const char*>(digest), digest_size));
    if (!SendBlocking(std::move(trailer), kSnapshotMaxQueued)) return;
    FinishOnce(grpc::Status::OK);
  }

  const Env env_;
  const RequestContext ctx_;
};

class MaintenanceService final : public etcdserverpb::Maintenance::CallbackService {
 public:
  explicit MaintenanceService(const Env& env) : env_(env) {}

  grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* context,
                                  const etcdserverpb::AlarmRequest* request,
                                  etcdserverpb::AlarmResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::Alarm);
  }
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const etcdserverpb::StatusRequest* request,
                                   etcdserverpb::StatusResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::Status);
  }
  grpc::ServerUnaryReactor* Defragment(grpc::CallbackServerContext* context,
                                       const etcdserverpb::DefragmentRequest* request,
                                       etcdserverpb::DefragmentResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::Defragment);
  }
  grpc::ServerUnaryReactor* Hash(grpc::CallbackServerContext* context,
                                 const etcdserverpb::HashRequest* request,
                                 etcdserverpb::HashResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::Hash);
  }
  grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* context,
                                   const etcdserverpb::HashKVRequest* request,
                                   etcdserverpb::HashKVResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::HashKV);
  }
  grpc::ServerUnaryReactor* MoveLeader(grpc::CallbackServerContext* context,
                                       const etcdserverpb::MoveLeaderRequest* request,
                                       etcdserverpb::MoveLeaderResponse* response) override {
    return RunUnary(env_, context, request, response, &EtcdServer::MoveLeader);
  }
  grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* Snapshot(
      grpc::CallbackServerContext* context, const etcdserverpb::SnapshotRequest*) override {
    if (env_.server->IsLearner()) {
      return new RefusedWriteStream<etcdserverpb::SnapshotResponse>(NotSupportedForLearner());
    }
    auto reactor = std::make_shared<SnapshotReactor>(env_, MakeRequestContext(context));
    reactor->Begin();
    return reactor.get();
  }

 private:
  const Env env_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewMaintenanceService(const Env& env) {
  return std::make_unique<MaintenanceService>(env);
}

}  // namespace etcd::v3rpc
