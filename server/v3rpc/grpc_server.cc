#include "server/v3rpc/grpc_server.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_posix.h>
#include <unistd.h>

#include <climits>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/v3rpc/executor.h"
#include "server/v3rpc/services.h"
#include "server/v3rpc/ticker.h"

namespace etcd::v3rpc {

// etcd adds this to --max-request-bytes for the gRPC receive limit.
constexpr int kGrpcOverheadBytes = 512 * 1024;

struct GrpcServer::Impl {
  std::unique_ptr<Executor> executor;
  std::unique_ptr<Ticker> ticker;
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::unique_ptr<grpc::Server> server;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
};

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcServer::~GrpcServer() { Shutdown(absl::Now()); }

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(etcdserver::EtcdServer* server,
                                                              const GrpcServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->executor = std::make_unique<Executor>(options.worker_threads);
  impl->ticker = std::make_unique<Ticker>(options.progress_notify_interval);
  Env env;
  env.server = server;
  env.executor = impl->executor.get();
  env.max_request_bytes = options.max_request_bytes;
  env.max_txn_ops = options.max_txn_ops;
  env.progress_ticker = impl->ticker.get();
  impl->services.push_back(NewKVService(env));
  impl->services.push_back(NewWatchService(env));
  impl->services.push_back(NewLeaseService(env));
  impl->services.push_back(NewClusterService(env));
  impl->services.push_back(NewMaintenanceService(env));
  impl->services.push_back(NewAuthService(env));
  impl->services.push_back(NewLockService(env));
  impl->services.push_back(NewElectionService(env));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  for (const auto& service : impl->services) builder.RegisterService(service.get());
  uint64_t max_recv = options.max_request_bytes + kGrpcOverheadBytes;
  builder.SetMaxReceiveMessageSize(max_recv > INT_MAX ? INT_MAX : static_cast<int>(max_recv));
  builder.SetMaxSendMessageSize(INT_MAX);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams > INT_MAX
                                 ? INT_MAX
                                 : static_cast<int>(options.max_concurrent_streams));
  auto ms = [](absl::Duration d) {
    int64_t v = absl::ToInt64Milliseconds(d);
    return v > INT_MAX ? INT_MAX : static_cast<int>(v);
  };
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, ms(options.keepalive_interval));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms(options.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             ms(options.keepalive_min_time));
  // Clients (etcdctl pings every 2 s by default) are not cut off for pinging
  // more often than keepalive_min_time.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr) {
    impl->ticker->Stop();
    impl->executor->Shutdown();
    return absl::InternalError("failed to start the gRPC server");
  }
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

std::shared_ptr<grpc::Channel> GrpcServer::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return impl_->server->InProcessChannel(args);
}

void GrpcServer::AddConnection(int fd) {
  {
    absl::MutexLock lock(&impl_->mu);
    if (!impl_->shut_down) {
      // gRPC's event engine needs a non-blocking socket.
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      grpc::AddInsecureChannelFromFd(impl_->server.get(), fd);
      return;
    }
  }
  ::close(fd);
}

void GrpcServer::Shutdown(absl::Time deadline) {
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
  }
  impl_->server->Shutdown(absl::ToChronoTime(deadline));
  impl_->ticker->Stop();
  impl_->executor->Shutdown();
  impl_->server->Wait();
}

}  // namespace etcd::v3rpc
