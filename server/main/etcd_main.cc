// The etcd member binary. It reads its configuration as etcd does (flags,
// ETCD_* variables, --config-file) and exits like etcd on bad input: 2 for
// flag errors, 1 for configuration errors, 0 for --help and --version. With
// a valid configuration it binds the client listeners, starts the member
// (server/etcdserver), serves gRPC and HTTP on each client URL (one port for
// both, server/http/listener.h) and runs until SIGINT or SIGTERM, then stops
// gracefully and re-raises the signal, as etcd does.

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/etcdserverpb/rpc.pb.h"
#include "api/version/version.h"
#include "pkg/log/log.h"
#include "server/embed/config.h"
#include "server/embed/config_flags.h"
#include "server/etcdserver/etcdserver.h"
#include "server/http/handlers.h"
#include "server/http/http_server.h"
#include "server/http/listener.h"
#include "server/main/peers.h"
#include "server/v3rpc/grpc_server.h"

namespace {

using etcd::embed::Notice;

void LogNotices(etcd::log::Logger& logger, const std::vector<Notice>& notices) {
  for (const Notice& notice : notices) {
    std::vector<etcd::log::Field> fields;
    for (const auto& [key, value] : notice.fields) fields.emplace_back(key, value);
    logger.Log(notice.level, notice.message, fields);
  }
}

// The logger --logger/--log-level/--log-outputs/--log-format ask for.
absl::StatusOr<std::unique_ptr<etcd::log::Logger>> OpenLogger(const etcd::embed::Config& config) {
  etcd::log::LoggerOptions options;
  std::string level = absl::AsciiStrToLower(config.log_level);
  if (level.empty()) level = "info";
  absl::StatusOr<etcd::log::Level> parsed_level = etcd::log::ParseLevel(level);
  if (!parsed_level.ok()) return parsed_level.status();
  options.level = *parsed_level;
  absl::StatusOr<etcd::log::Encoding> encoding =
      etcd::log::ParseEncoding(config.log_format.empty() ? "json" : config.log_format);
  if (!encoding.ok()) return encoding.status();
  options.encoding = *encoding;
  return etcd::log::Logger::Open(options, config.log_outputs);
}

// /health as etcd 3.5 answers it: alarms first (unless excluded), then
// the leader, then a range through raft (or locally with ?serializable).
absl::Status CheckHealth(etcd::etcdserver::EtcdServer* server, const etcd::http::HealthQuery& q) {
  for (const etcdserverpb::AlarmMember& alarm : server->Alarms()) {
    std::string name = etcdserverpb::AlarmType_Name(alarm.alarm());
    bool excluded = false;
    for (const std::string& e : q.excluded_alarms) excluded = excluded || e == name;
    if (excluded) continue;
    if (name != "NOSPACE" && name != "CORRUPT") name = "UNKNOWN";
    return absl::UnavailableError(absl::StrCat("ALARM ", name));
  }
  if (!q.serializable && !server->HasLeader()) return absl::UnavailableError("RAFT NO LEADER");
  etcdserverpb::RangeRequest range;
  range.set_key(std::string(1, '\0'));
  range.set_keys_only(true);
  range.set_limit(1);
  range.set_serializable(q.serializable);
  etcd::etcdserver::RequestContext ctx;
  ctx.deadline = absl::Now() + absl::Seconds(5);
  absl::StatusOr<etcdserverpb::RangeResponse> r = server->Range(range, ctx);
  // Without auth the read cannot be refused; with auth, etcd's own health
  // check reads as the server, so permission errors do not count.
  if (!r.ok() && r.status().code() != absl::StatusCode::kPermissionDenied &&
      r.status().code() != absl::StatusCode::kUnauthenticated &&
      r.status().code() != absl::StatusCode::kInvalidArgument) {
    return absl::UnavailableError(absl::StrCat("RANGE ERROR:", r.status().message()));
  }
  return absl::OkStatus();
}

etcd::http::MetricsSnapshot Metrics(etcd::etcdserver::EtcdServer* server) {
  etcd::etcdserver::ServerMetrics m = server->Metrics();
  etcd::http::MetricsSnapshot s;
  s.has_leader = m.has_leader;
  s.is_leader = m.is_leader;
  s.leader_changes_seen = m.leader_changes_seen;
  s.proposals_committed = m.proposals_committed;
  s.proposals_applied = m.proposals_applied;
  s.proposals_pending = m.proposals_pending;
  s.proposals_failed = m.proposals_failed;
  s.db_total_size_bytes = m.db_total_size_bytes;
  s.db_total_size_in_use_bytes = m.db_total_size_in_use_bytes;
  s.quota_backend_bytes = m.quota_backend_bytes;
  s.current_revision = m.current_revision;
  s.compact_revision = m.compact_revision;
  s.member_id = server->ID();
  s.cluster_version = etcd::etcdserver::kClusterVersion;
  return s;
}

struct Listener {
  std::unique_ptr<etcd::http::ClientListener> listener;
  std::string url;
  // Serves gRPC as well as HTTP (a --listen-client-urls listener).
  bool grpc = false;
};

// Binds every client, client-HTTP and metrics URL; fails on the first that
// cannot be bound (etcd checks them before touching the data dir).
absl::StatusOr<std::vector<Listener>> BindListeners(const etcd::embed::Config& config,
                                                    etcd::log::Logger& logger) {
  std::vector<Listener> listeners;
  etcd::http::ListenOptions options;
  options.reuse_address = true;
  options.reuse_port = config.socket_reuse_port;
  auto bind = [&](const etcd::types::URLs& urls, bool grpc) -> absl::Status {
    for (const etcd::types::URL& url : urls) {
      if (url.scheme != "http") {
        return absl::UnimplementedError(absl::StrCat(
            "client URL ", url.String(), ": only http:// listeners are supported so far"));
      }
      absl::StatusOr<std::unique_ptr<etcd::http::ClientListener>> listener =
          etcd::http::ClientListener::Listen(url.HostPort(), options);
      if (!listener.ok()) return listener.status();
      listeners.push_back({std::move(*listener), url.String(), grpc});
    }
    return absl::OkStatus();
  };
  // With --listen-client-http-urls, HTTP leaves the client URLs (which then
  // still answer HTTP/1.1 with the same handlers: etcd would refuse it).
  if (absl::Status s = bind(config.listen_client_urls, true); !s.ok()) return s;
  if (absl::Status s = bind(config.listen_client_http_urls, false); !s.ok()) return s;
  if (absl::Status s = bind(config.listen_metrics_urls, false); !s.ok()) return s;
  return listeners;
}

int Serve(const etcd::embed::Config& config, etcd::log::Logger& logger) {
  // Every thread started from here on inherits the blocked signals; the main
  // thread takes them with sigtimedwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::vector<Listener>> listeners = BindListeners(config, logger);
  if (!listeners.ok()) {
    logger.Error("failed to listen on client URLs", {{"error", listeners.status()}});
    std::fprintf(stderr, "etcd: %s\n", std::string(listeners.status().message()).c_str());
    (void)logger.Sync();
    return 1;
  }

  absl::StatusOr<etcd::etcdserver::ServerOptions> options =
      etcd::etcdserver::ServerOptions::FromConfig(config);
  if (!options.ok()) {
    logger.Error("invalid server configuration", {{"error", options.status()}});
    return 1;
  }
  options->logger = &logger;
  etcd::server::PeerGlue peers(&logger);
  options->transport = &peers;
  absl::StatusOr<std::unique_ptr<etcd::etcdserver::EtcdServer>> server =
      etcd::etcdserver::EtcdServer::Start(*options);
  if (!server.ok()) {
    logger.Error("failed to start etcd server", {{"error", server.status()}});
    std::fprintf(stderr, "etcd: %s\n", std::string(server.status().message()).c_str());
    (void)logger.Sync();
    return 1;
  }
  etcd::etcdserver::EtcdServer* member = server->get();
  // The peer port is served from the start, as etcd does (a lone member
  // needs it once members are added).
  {
    std::vector<std::string> addresses;
    for (const etcd::types::URL& url : config.listen_peer_urls) {
      if (url.scheme != "http") {
        logger.Error("failed to listen on peer URLs",
                     {{"error", "only http:// peer URLs are supported so far"}});
        member->Stop();
        return 1;
      }
      addresses.push_back(url.HostPort());
    }
    if (absl::Status s = peers.Attach(member, addresses, config.data_dir + "/member/snap");
        !s.ok()) {
      logger.Error("failed to listen on peer URLs", {{"error", s}});
      std::fprintf(stderr, "etcd: %s\n", std::string(s.message()).c_str());
      member->Stop();
      return 1;
    }
  }
  if (options->initial_corrupt_check) {
    if (absl::Status s = member->CheckInitialCorruption(); !s.ok()) {
      logger.Error("initial corruption check failed", {{"error", s}});
      std::fprintf(stderr, "etcd: %s\n", std::string(s.message()).c_str());
      peers.Stop();
      member->Stop();
      return 1;
    }
  }

  etcd::v3rpc::GrpcServerOptions grpc_options;
  grpc_options.max_request_bytes = config.max_request_bytes;
  grpc_options.max_txn_ops = config.max_txn_ops;
  grpc_options.max_concurrent_streams = config.max_concurrent_streams;
  grpc_options.keepalive_min_time = config.grpc_keepalive_min_time;
  grpc_options.keepalive_interval = config.grpc_keepalive_interval;
  grpc_options.keepalive_timeout = config.grpc_keepalive_timeout;
  grpc_options.progress_notify_interval = config.experimental_watch_progress_notify_interval;
  absl::StatusOr<std::unique_ptr<etcd::v3rpc::GrpcServer>> grpc =
      etcd::v3rpc::GrpcServer::Start(member, grpc_options);
  if (!grpc.ok()) {
    logger.Error("failed to start gRPC server", {{"error", grpc.status()}});
    member->Stop();
    return 1;
  }

  etcd::http::Mux mux;
  etcd::http::EndpointCallbacks callbacks;
  callbacks.cluster_version = [] { return std::string(etcd::etcdserver::kClusterVersion); };
  callbacks.health = [member](const etcd::http::HealthQuery& q) { return CheckHealth(member, q); };
  callbacks.metrics = [member] { return Metrics(member); };
  etcd::http::InstallEndpoints(&mux, std::move(callbacks));
  etcd::http::ConnectionServer http(&mux);

  etcd::v3rpc::GrpcServer* grpc_server = grpc->get();
  for (Listener& l : *listeners) {
    if (l.grpc) {
      l.listener->Start([grpc_server](int fd) { grpc_server->AddConnection(fd); },
                        [&http](int fd) { http.Serve(fd); });
    } else {
      l.listener->Start([](int fd) { ::close(fd); }, [&http](int fd) { http.Serve(fd); });
    }
  }

  bool ready = false;
  int received = 0;
  while (received == 0) {
    if (!ready && member->Ready()) {
      ready = true;
      logger.Info("ready to serve client requests");
      for (const Listener& l : *listeners) {
        if (l.grpc) {
          logger.Warn("serving insecure client requests; this is strongly discouraged!",
                      {{"address", l.url.substr(l.url.find("//") + 2)}});
        }
      }
    }
    if (member->Stopped()) {
      logger.Error("etcd server stopped unexpectedly");
      break;
    }
    timespec timeout{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig > 0) received = sig;
  }

  if (received != 0) {
    logger.Info("received signal; shutting down",
                {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
  }
  for (Listener& l : *listeners) l.listener->Stop();
  http.Stop();
  // Calls still running after two seconds (watch streams, mostly) are
  // cancelled; the member then fails whatever still waits on it.
  (*grpc)->Shutdown(absl::Now() + absl::Seconds(2));
  peers.Stop();
  member->Stop();
  logger.Info("stopped etcd server");
  (void)logger.Sync();
  if (received == 0) return 1;
  // Like etcd: die of the signal that asked us to stop.
  std::signal(received, SIG_DFL);
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  raise(received);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "gateway" || args[0] == "grpc-proxy")) {
    std::fprintf(stderr, "etcd %s: not part of this binary; see bazel run //:grpc-proxy\n",
                 args[0].c_str());
    return 2;
  }

  etcd::embed::ParseResult result =
      etcd::embed::ParseCommandLine(args, etcd::embed::ParseOptions::FromProcess());
  switch (result.outcome) {
    case etcd::embed::ParseOutcome::kHelp:
      std::fputs(etcd::embed::UsageText().c_str(), stderr);
      std::fputs(etcd::embed::FlagsHelpText().c_str(), stdout);
      return result.exit_code();
    case etcd::embed::ParseOutcome::kVersion:
      std::fputs(etcd::embed::VersionText().c_str(), stdout);
      return result.exit_code();
    case etcd::embed::ParseOutcome::kFlagError:
      std::fprintf(stderr, "%s\n", std::string(result.status.message()).c_str());
      std::fputs(etcd::embed::UsageText().c_str(), stderr);
      return result.exit_code();
    case etcd::embed::ParseOutcome::kConfigError:
      LogNotices(etcd::log::Default(), result.notices);
      etcd::log::Warn("failed to verify flags", {{"error", result.status}});
      std::fprintf(stderr, "etcd: %s (see 'etcd --help')\n",
                   std::string(result.status.message()).c_str());
      return result.exit_code();
    case etcd::embed::ParseOutcome::kRun:
      break;
  }

  absl::StatusOr<std::unique_ptr<etcd::log::Logger>> logger = OpenLogger(result.config);
  if (!logger.ok()) {
    etcd::log::Error("failed to set up the logger", {{"error", logger.status()}});
    return 1;
  }
  LogNotices(**logger, result.notices);

  std::vector<std::pair<std::string, std::string>> summary = result.config.Summary();
  std::vector<etcd::log::Field> fields;
  fields.emplace_back("etcd-version", etcd::version::kServerVersion);
  fields.emplace_back("etcd-cpp-version", etcd::version::kProjectVersion);
  for (const auto& [key, value] : summary) fields.emplace_back(key, value);
  (*logger)->Info("starting an etcd server", fields);

  return Serve(result.config, **logger);
}
