// The etcd member binary. It reads its configuration as etcd does (flags,
// ETCD_* variables, --config-file) and exits like etcd on bad input: 2 for
// flag errors, 1 for configuration errors, 0 for --help and --version. With
// a valid configuration it binds the client listeners, starts the member
// (server/etcdserver), serves gRPC and HTTP on each client URL (one port for
// both, server/http/listener.h; https:// through server/tls), HTTP only on
// --listen-client-http-urls, /metrics and /health on --listen-metrics-urls,
// and runs until SIGINT or SIGTERM, then stops
// gracefully and re-raises the signal, as etcd does.

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "api/etcdserverpb/rpc.pb.h"
#include "api/version/version.h"
#include "pkg/log/log.h"
#include "server/embed/config.h"
#include "server/embed/config_flags.h"
#include "server/etcdserver/etcdserver.h"
#include "server/gateway/gateway.h"
#include "server/http/handlers.h"
#include "server/http/http_server.h"
#include "server/http/listener.h"
#include "server/main/peers.h"
#include "server/tls/peer_identity.h"
#include "server/tls/tls.h"
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

etcd::http::MetricsSnapshot Metrics(etcd::etcdserver::EtcdServer* server,
                                    etcd::server::PeerGlue* peers) {
  etcd::etcdserver::ServerMetrics m = server->Metrics();
  etcd::http::MetricsSnapshot s;
  for (const auto& [id, stats] : peers->PeerStats()) {
    etcd::http::PeerMetrics p;
    p.id = id;
    p.active = stats.connected;
    p.disconnects = stats.disconnects;
    p.sent_bytes = stats.sent_bytes;
    p.send_failures = stats.failures;
    p.snapshots_sent = stats.snapshots_sent;
    p.snapshot_failures = stats.snapshot_failures;
    s.peers.push_back(p);
  }
  s.has_leader = m.has_leader;
  s.is_leader = m.is_leader;
  s.leader_changes_seen = m.leader_changes_seen;
  s.proposals_committed = m.proposals_committed;
  s.proposals_applied = m.proposals_applied;
  s.proposals_pending = m.proposals_pending;
  s.proposals_failed = m.proposals_failed;
  s.slow_apply = m.slow_apply_total;
  s.wal_fsync.bucket_counts = m.wal_fsync_buckets;
  s.wal_fsync.sum = m.wal_fsync_seconds;
  s.wal_fsync.count = m.wal_fsync_count;
  s.backend_commit.bucket_counts = m.backend_commit_buckets;
  s.backend_commit.sum = m.backend_commit_seconds;
  s.backend_commit.count = m.backend_commit_count;
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
  enum class Kind {
    kClient,      // --listen-client-urls: gRPC, and HTTP unless kClientHttp exist
    kClientHttp,  // --listen-client-http-urls: HTTP only
    kMetrics,     // --listen-metrics-urls: /metrics and /health only
  };
  std::unique_ptr<etcd::http::ClientListener> listener;
  std::string url;
  Kind kind = Kind::kClient;
  // Serves TLS (an https:// URL) and/or plaintext (an http:// URL). Like
  // etcd, an http:// and an https:// client URL with the same host and port
  // share one listener, which tells TLS from plaintext per connection.
  bool secure = false;
  bool insecure = false;
  // Set when secure: decrypts connections before they reach a server.
  std::unique_ptr<etcd::tls::Terminator> tls;
};

struct Listeners {
  // Shared by every https:// listener; declared first so that it outlives
  // their terminators.
  std::unique_ptr<etcd::tls::ServerContext> tls_context;
  std::vector<Listener> list;
};

// The client TLS context: from --cert-file/--key-file, or --auto-tls
// certificates in <data-dir>/fixtures/client (made once, then reused).
absl::StatusOr<std::unique_ptr<etcd::tls::ServerContext>> ClientTlsContext(
    const etcd::embed::Config& config, etcd::log::Logger& logger) {
  etcd::tls::ServerOptions options;
  options.cert_file = config.client_tls.cert_file;
  options.key_file = config.client_tls.key_file;
  if (config.client_tls.auto_tls && !options.cert_file.empty()) {
    logger.Warn("ignoring client auto TLS since certs given");
  } else if (config.client_tls.auto_tls) {
    std::vector<std::string> hosts;
    for (const etcd::types::URL& url : config.listen_client_urls) hosts.push_back(url.HostPort());
    std::string dir = config.data_dir + "/fixtures/client";
    absl::StatusOr<etcd::tls::SelfCertFiles> files =
        etcd::tls::SelfCert(dir, hosts, static_cast<int>(config.self_signed_cert_validity));
    if (!files.ok()) return files.status();
    options.cert_file = files->cert_file;
    options.key_file = files->key_file;
  }
  options.trusted_ca_file = config.client_tls.trusted_ca_file;
  options.client_cert_auth = config.client_tls.client_cert_auth;
  options.crl_file = config.client_tls.crl_file;
  options.allowed_hostnames = config.client_tls.allowed_hostnames;
  options.min_version = config.tls_min_version;
  options.max_version = config.tls_max_version;
  options.cipher_suites = config.cipher_suites;
  logger.Info("starting with client TLS",
              {{"cert-file", options.cert_file},
               {"key-file", options.key_file},
               {"trusted-ca-file", options.trusted_ca_file},
               {"client-cert-auth", options.client_cert_auth ? "true" : "false"},
               {"crl-file", options.crl_file}});
  return etcd::tls::ServerContext::Create(options);
}

// Binds every client, client-HTTP and metrics URL; fails on the first that
// cannot be bound or secured (etcd checks them before touching the data dir).
absl::StatusOr<Listeners> BindListeners(const etcd::embed::Config& config,
                                        etcd::log::Logger& logger) {
  Listeners listeners;
  etcd::http::ListenOptions options;
  options.reuse_address = true;
  options.reuse_port = config.socket_reuse_port;
  bool have_tls = !config.client_tls.cert_file.empty() && !config.client_tls.key_file.empty();
  auto bind = [&](const etcd::types::URLs& urls, Listener::Kind kind) -> absl::Status {
    for (const etcd::types::URL& url : urls) {
      if (url.scheme != "http" && url.scheme != "https") {
        return absl::UnimplementedError(absl::StrCat(
            "URL ", url.String(), ": only http:// and https:// listeners are supported"));
      }
      if (url.scheme == "https" && !have_tls && !config.client_tls.auto_tls) {
        // etcd's messages: per-URL for client URLs, transport's for metrics.
        if (kind == Listener::Kind::kMetrics) {
          return absl::InvalidArgumentError(
              absl::StrCat("cannot listen on TLS for ", url.HostPort(),
                           ": KeyFile and CertFile are not presented"));
        }
        return absl::InvalidArgumentError(
            absl::StrCat("TLS key/cert (--cert-file, --key-file) must be provided for client url ",
                         url.String(), " with HTTPS scheme"));
      }
      if (url.scheme == "http" && kind == Listener::Kind::kClient) {
        if (have_tls) {
          logger.Warn(
              "scheme is HTTP while key and cert files are present; ignoring key and cert "
              "files",
              {{"client-url", url.String()}});
        }
        if (config.client_tls.client_cert_auth) {
          logger.Warn(
              "scheme is HTTP while --client-cert-auth is enabled; ignoring client cert "
              "auth for this URL",
              {{"client-url", url.String()}});
        }
      }
      if (url.scheme == "https" && listeners.tls_context == nullptr) {
        absl::StatusOr<std::unique_ptr<etcd::tls::ServerContext>> context =
            ClientTlsContext(config, logger);
        if (!context.ok()) return context.status();
        listeners.tls_context = std::move(*context);
      }
      bool secure = url.scheme == "https";
      bool merged = false;
      for (Listener& l : listeners.list) {
        if (l.kind == kind && l.url.substr(l.url.find("//") + 2) == url.HostPort()) {
          l.secure = l.secure || secure;
          l.insecure = l.insecure || !secure;
          merged = true;
        }
      }
      if (merged) continue;
      absl::StatusOr<std::unique_ptr<etcd::http::ClientListener>> listener =
          etcd::http::ClientListener::Listen(url.HostPort(), options);
      if (!listener.ok()) return listener.status();
      listeners.list.push_back(
          {std::move(*listener), url.String(), kind, secure, !secure, nullptr});
    }
    return absl::OkStatus();
  };
  if (absl::Status s = bind(config.listen_client_urls, Listener::Kind::kClient); !s.ok()) return s;
  if (absl::Status s = bind(config.listen_client_http_urls, Listener::Kind::kClientHttp); !s.ok()) {
    return s;
  }
  if (absl::Status s = bind(config.listen_metrics_urls, Listener::Kind::kMetrics); !s.ok()) {
    return s;
  }
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

  absl::StatusOr<Listeners> listeners = BindListeners(config, logger);
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
  absl::StatusOr<std::optional<etcd::transport::PeerTls>> peer_tls =
      etcd::server::PeerTlsFromConfig(config);
  if (!peer_tls.ok()) {
    logger.Error("invalid peer TLS configuration", {{"error", peer_tls.status()}});
    std::fprintf(stderr, "etcd: %s\n", std::string(peer_tls.status().message()).c_str());
    (void)logger.Sync();
    return 1;
  }
  etcd::server::PeerGlue peers(&logger, std::move(*peer_tls));
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
    // (PeerTlsFromConfig checked the schemes: all https:// with TLS, or
    // all http://.)
    for (const etcd::types::URL& url : config.listen_peer_urls) {
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
  callbacks.metrics = [member, &peers] { return Metrics(member, &peers); };
  etcd::http::InstallEndpoints(&mux, std::move(callbacks));
  // etcd's gRPC-JSON gateway on /v3/ and /v3beta/, calling the gRPC server
  // in process. Destroyed after `http` (declared before it).
  std::unique_ptr<etcd::gateway::Gateway> gateway;
  if (config.enable_grpc_gateway) {
    gateway = std::make_unique<etcd::gateway::Gateway>((*grpc)->InProcessChannel());
    gateway->Install(&mux);
  }
  // JSON carries bytes in base64 (a third bigger): let gateway bodies through
  // and leave the real --max-request-bytes check to the gRPC server.
  etcd::http::ConnectionServer http(
      &mux, std::max<uint64_t>(etcd::http::ConnectionServer::kDefaultMaxRequestBytes,
                               2 * config.max_request_bytes + 512 * 1024));

  // --listen-metrics-urls serve /metrics and /health only (etcd's
  // HandleMetricsHealth), through the same handlers and counters.
  etcd::http::Mux metrics_mux;
  for (const char* path : {"/metrics", "/health"}) {
    metrics_mux.Handle(path, [&mux](const etcd::http::Request& r) { return mux.Serve(r); });
  }
  etcd::http::ConnectionServer metrics_http(&metrics_mux);

  etcd::v3rpc::GrpcServer* grpc_server = grpc->get();
  bool split_http = !config.listen_client_http_urls.empty();
  for (Listener& l : listeners->list) {
    etcd::http::ClientListener::ConnectionHandler on_http2 = [](int fd) { ::close(fd); };
    etcd::http::ClientListener::ConnectionHandler on_http1 = [&http](int fd) { http.Serve(fd); };
    if (l.kind == Listener::Kind::kClient) {
      on_http2 = [grpc_server](int fd) { grpc_server->AddConnection(fd); };
      // Like etcd 3.5: with --listen-client-http-urls the client URLs carry
      // gRPC only.
      if (split_http) on_http1 = [](int fd) { ::close(fd); };
    } else if (l.kind == Listener::Kind::kMetrics) {
      on_http1 = [&metrics_http](int fd) { metrics_http.Serve(fd); };
    }
    if (l.secure && l.insecure) {
      // Plaintext HTTP/2 was sniffed by the listener; everything else is
      // TLS when it opens with a handshake record, else plaintext HTTP/1.1.
      l.tls =
          std::make_unique<etcd::tls::Terminator>(listeners->tls_context.get(), on_http2, on_http1);
      if (absl::Status s = l.tls->Start(); !s.ok()) {
        logger.Error("failed to start TLS", {{"error", s}});
        for (Listener& started : listeners->list) started.listener->Stop();
        (*grpc)->Shutdown(absl::Now());
        member->Stop();
        return 1;
      }
      etcd::tls::Terminator* tls = l.tls.get();
      l.listener->Start(
          [on_http2](int fd) {
            etcd::tls::SetPeerCommonName(fd, "");
            on_http2(fd);
          },
          [tls, on_http1](int fd) {
            unsigned char first = 0;
            if (::recv(fd, &first, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && first == 0x16) {
              tls->Serve(fd);
            } else {
              on_http1(fd);
            }
          });
    } else if (l.secure) {
      l.tls = std::make_unique<etcd::tls::Terminator>(listeners->tls_context.get(),
                                                      std::move(on_http2), std::move(on_http1));
      if (absl::Status s = l.tls->Start(); !s.ok()) {
        logger.Error("failed to start TLS", {{"error", s}});
        for (Listener& started : listeners->list) started.listener->Stop();
        (*grpc)->Shutdown(absl::Now());
        member->Stop();
        return 1;
      }
      etcd::tls::Terminator* tls = l.tls.get();
      // The TLS client hello is never the HTTP/2 preface; a plaintext
      // preface on a TLS port is refused by the terminator.
      l.listener->Start([tls](int fd) { tls->Serve(fd); }, [tls](int fd) { tls->Serve(fd); });
    } else {
      // The terminator records TLS clients' certificate names; a plaintext
      // socket must not inherit one from an earlier socket of that number.
      l.listener->Start(
          [on_http2 = std::move(on_http2)](int fd) {
            etcd::tls::SetPeerCommonName(fd, "");
            on_http2(fd);
          },
          std::move(on_http1));
    }
  }

  bool ready = false;
  int received = 0;
  while (received == 0) {
    if (!ready && member->Ready()) {
      ready = true;
      logger.Info("ready to serve client requests");
      for (const Listener& l : listeners->list) {
        std::string address = l.url.substr(l.url.find("//") + 2);
        if (l.kind == Listener::Kind::kMetrics) {
          logger.Info("serving metrics", {{"address", l.url}});
        } else {
          if (l.secure) logger.Info("serving client traffic securely", {{"address", address}});
          if (l.insecure) {
            logger.Warn("serving insecure client requests; this is strongly discouraged!",
                        {{"address", address}});
          }
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
  for (Listener& l : listeners->list) l.listener->Stop();
  http.Stop();
  metrics_http.Stop();
  // Calls still running after two seconds (watch streams, mostly) are
  // cancelled; the member then fails whatever still waits on it.
  (*grpc)->Shutdown(absl::Now() + absl::Seconds(2));
  // After gRPC's goodbye has gone out through them.
  for (Listener& l : listeners->list) {
    if (l.tls != nullptr) l.tls->Stop();
  }
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
  // Debian's Abseil is built without NDEBUG, so every mutex operation would
  // also run deadlock detection under a global lock (~13% of the CPU per
  // put). The library tests keep it on; the member turns it off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
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
