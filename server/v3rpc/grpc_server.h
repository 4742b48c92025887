// The member's gRPC server: etcd's KV, Watch, Lease, Cluster, Maintenance
// and Auth services plus grpc.health.v1, all on the gRPC callback API, served
// on connections handed over by the client listener (one port for gRPC and
// HTTP, see server/http/listener.h). This header is free of gRPC.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::v3rpc::GrpcServer> grpc,
//                    etcd::v3rpc::GrpcServer::Start(server.get(), options));
//   listener->Start([&](int fd) { grpc->AddConnection(fd); }, ...);
//   ...
//   grpc->Shutdown(absl::Now() + absl::Seconds(5));
//
// Threads: gRPC's own callback threads read and write; blocking EtcdServer
// calls run on a fixed pool of `worker_threads` (see executor.h), so the
// thread count does not grow with RPCs or streams.
//
// Thread-safe. The EtcdServer must outlive the GrpcServer's Shutdown().

#ifndef ETCD_SERVER_V3RPC_GRPC_SERVER_H_
#define ETCD_SERVER_V3RPC_GRPC_SERVER_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace etcd::etcdserver {
class EtcdServer;
}  // namespace etcd::etcdserver

namespace etcd::v3rpc {

struct GrpcServerOptions {
  // --max-request-bytes: the largest request accepted (plus etcd's 512 KiB of
  // gRPC overhead), and the watch fragment size.
  uint64_t max_request_bytes = 1572864;
  // --max-txn-ops.
  uint64_t max_txn_ops = 128;
  // --max-concurrent-streams per connection.
  uint32_t max_concurrent_streams = UINT32_MAX;
  // --grpc-keepalive-min-time / -interval / -timeout.
  absl::Duration keepalive_min_time = absl::Seconds(5);
  absl::Duration keepalive_interval = absl::Hours(2);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // --experimental-watch-progress-notify-interval: how often watchers made
  // with progress_notify get a progress response when idle.
  absl::Duration progress_notify_interval = absl::Minutes(10);
  // Workers for blocking EtcdServer calls.
  int worker_threads = 32;
};

class GrpcServer {
 public:
  // Builds and starts the services on `server` (borrowed).
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(etcdserver::EtcdServer* server,
                                                           const GrpcServerOptions& options);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Serves HTTP/2 on the connected socket `fd` (takes ownership; made
  // non-blocking).
  void AddConnection(int fd);

  // Stops taking calls, lets running calls finish until `deadline`, cancels
  // the rest, then joins the workers. Idempotent.
  void Shutdown(absl::Time deadline);

  // A channel to these services inside the process (no socket), for the
  // JSON gateway; calls on it fail once the server is shut down. Receives
  // messages of any size, like etcd's gateway connection.
  std::shared_ptr<grpc::Channel> InProcessChannel();

 private:
  struct Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcd::v3rpc

#endif  // ETCD_SERVER_V3RPC_GRPC_SERVER_H_
