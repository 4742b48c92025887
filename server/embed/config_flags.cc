#include "server/embed/config_flags.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "api/version/version.h"
#include "server/embed/flag_set.h"
#include "server/embed/go_values.h"
#include "server/embed/yaml_tree.h"

extern char** environ;

namespace etcd::embed {
namespace {

using internal::FlagSection;
using internal::FlagSet;
using internal::YamlNode;

// Flags of etcd 3.4 and earlier that etcd 3.5 still accepts and ignores.
constexpr const char* kIgnoredFlags[] = {
    "cluster-active-size",
    "cluster-remove-delay",
    "cluster-sync-interval",
    "config",
    "force",
    "max-result-buffer",
    "max-retry-attempts",
    "peer-heartbeat-interval",
    "peer-election-timeout",
    "retry-interval",
    "snapshot",
    "v",
    "vv",
};

// Registers every etcd 3.5 server flag, bound to `c`, in --help order.
void RegisterFlags(Config* c, std::string* config_file, bool* print_version, FlagSet* fs) {
  // Member.
  const FlagSection member = FlagSection::kMember;
  fs->String("name", &c->name, member, "Human-readable name of this member.");
  fs->String("data-dir", &c->data_dir, member, "Directory of the member's data.", "${name}.etcd");
  fs->String("wal-dir", &c->wal_dir, member,
             "Dedicated directory for the write-ahead log (default: inside the data dir).");
  fs->Uint("snapshot-count", &c->snapshot_count, member,
           "Committed transactions that trigger a snapshot to disk.");
  fs->Uint("heartbeat-interval", &c->heartbeat_interval_ms, member,
           "Time between heartbeats, in milliseconds.");
  fs->Uint("election-timeout", &c->election_timeout_ms, member,
           "Time without a leader before an election starts, in milliseconds; at least 5\n"
           "heartbeat intervals and at most 50000.");
  fs->Bool("initial-election-tick-advance", &c->initial_election_tick_advance, member,
           "Fast-forward election ticks at start, so the first election happens sooner.");
  fs->URLs("listen-peer-urls", &c->listen_peer_urls, member,
           "URLs to listen on for peer traffic (comma-separated).");
  fs->URLs("listen-client-urls", &c->listen_client_urls, member,
           "URLs to listen on for client gRPC traffic, and for client HTTP unless\n"
           "--listen-client-http-urls is given.");
  fs->URLs("listen-client-http-urls", &c->listen_client_http_urls, member,
           "URLs to listen on for client HTTP only; when given, HTTP is no longer served on\n"
           "--listen-client-urls.");
  fs->Uint("max-snapshots", &c->max_snapshots, member, "Snapshot files to keep (0 keeps all).");
  fs->Uint("max-wals", &c->max_wals, member, "WAL files to keep (0 keeps all).");
  fs->Int("quota-backend-bytes", &c->quota_backend_bytes, member,
          "Backend size that raises the NOSPACE alarm (0 means the default, 2 GiB).");
  fs->String("backend-bbolt-freelist-type", &c->backend_bbolt_freelist_type, member,
             "bbolt freelist type (array or map); accepted, no effect on this LMDB backend.");
  fs->Duration("backend-batch-interval", &c->backend_batch_interval, member,
               "Longest time before the backend commits its batch transaction.", "''");
  fs->Int("backend-batch-limit", &c->backend_batch_limit, member,
          "Most operations before the backend commits its batch transaction.");
  fs->Uint("max-txn-ops", &c->max_txn_ops, member, "Most operations allowed in one transaction.");
  fs->Uint("max-request-bytes", &c->max_request_bytes, member,
           "Largest client request accepted, in bytes.");
  fs->Uint32("max-concurrent-streams", &c->max_concurrent_streams, member,
             "Most concurrent gRPC streams per client connection.");
  fs->Bool("enable-grpc-gateway", &c->enable_grpc_gateway, member,
           "Serve the JSON gateway to the gRPC API under /v3/.");
  fs->Duration("grpc-keepalive-min-time", &c->grpc_keepalive_min_time, member,
               "Shortest interval a client may wait between pings.");
  fs->Duration("grpc-keepalive-interval", &c->grpc_keepalive_interval, member,
               "Interval of server pings that check a connection is alive (0 disables).");
  fs->Duration("grpc-keepalive-timeout", &c->grpc_keepalive_timeout, member,
               "Time to wait for a ping reply before closing the connection (0 disables).");
  fs->Bool("socket-reuse-port", &c->socket_reuse_port, member,
           "Set SO_REUSEPORT on listeners, so a port in use can be bound again.");
  fs->Bool("socket-reuse-address", &c->socket_reuse_address, member,
           "Set SO_REUSEADDR on listeners, so an address in TIME_WAIT can be bound.");
  fs->Duration("raft-read-timeout", &c->raft_read_timeout, member,
               "Read timeout of each peer connection.");
  fs->Duration("raft-write-timeout", &c->raft_write_timeout, member,
               "Write timeout of each peer connection.");

  // Clustering.
  const FlagSection cluster = FlagSection::kClustering;
  fs->URLs("initial-advertise-peer-urls", &c->initial_advertise_peer_urls, cluster,
           "This member's peer URLs, as announced to the rest of the cluster.");
  fs->String("initial-cluster", &c->initial_cluster, cluster,
             "The cluster to bootstrap, as name=peer-url pairs separated by commas.\n"
             "Follows --name and --initial-advertise-peer-urls when not given.");
  fs->Choice("initial-cluster-state", &c->initial_cluster_state, {"new", "existing"}, cluster,
             "'new' to bootstrap a new cluster, 'existing' to join one. Ignored once the\n"
             "member has data.");
  fs->String("initial-cluster-token", &c->initial_cluster_token, cluster,
             "Token that makes the cluster ID unique to this cluster while bootstrapping;\n"
             "give every cluster its own to keep clusters from talking to each other.");
  fs->URLs("advertise-client-urls", &c->advertise_client_urls, cluster,
           "This member's client URLs, as announced to clients. They must be reachable\n"
           "by the clients; required when --listen-client-urls is given.");
  fs->String("discovery", &c->discovery, cluster,
             "Discovery service URL to bootstrap the cluster with (not supported yet).");
  fs->Choice("discovery-fallback", &c->discovery_fallback, {"proxy", "exit"}, cluster,
             "What to do when discovery fails: 'exit' or 'proxy'.");
  fs->String("discovery-proxy", &c->discovery_proxy, cluster,
             "HTTP proxy for the discovery service.");
  fs->String("discovery-srv", &c->discovery_srv, cluster,
             "DNS domain whose SRV records list the cluster (not supported yet).");
  fs->String("discovery-srv-name", &c->discovery_srv_name, cluster,
             "Suffix of the SRV names queried with --discovery-srv.");
  fs->Bool("strict-reconfig-check", &c->strict_reconfig_check, cluster,
           "Reject membership changes that would lose quorum.");
  fs->Bool("pre-vote", &c->pre_vote, cluster,
           "Run raft's pre-vote phase before elections, so a rejoining member does not\n"
           "disrupt the cluster.");
  fs->String("auto-compaction-retention", &c->auto_compaction_retention, cluster,
             "History to keep when compacting automatically; 0 disables auto compaction.");
  fs->String("auto-compaction-mode", &c->auto_compaction_mode, cluster,
             "'periodic': the retention is a duration (a bare number means hours, e.g. '5'\n"
             "or '30m'); 'revision': the retention is a number of revisions.");
  fs->Bool("enable-v2", &c->enable_v2, cluster,
           "Serve the v2 API (not supported: accepted and ignored).");
  fs->Choice("v2-deprecation", &c->v2_deprecation,
             {"not-yet", "write-only", "write-only-drop-data", "gone"}, cluster,
             "Stage of the v2 store deprecation (accepted; there is no v2 store here).",
             /*multi=*/true);

  // Security.
  const FlagSection security = FlagSection::kSecurity;
  fs->String("cert-file", &c->client_tls.cert_file, security,
             "TLS certificate of the client listeners.");
  fs->String("key-file", &c->client_tls.key_file, security, "TLS key of the client listeners.");
  fs->Bool("client-cert-auth", &c->client_tls.client_cert_auth, security,
           "Require client certificates signed by --trusted-ca-file.");
  fs->String("client-cert-file", &c->client_tls.client_cert_file, security,
             "Certificate this member presents as a client of its own client port\n"
             "(default: --cert-file).");
  fs->String("client-key-file", &c->client_tls.client_key_file, security,
             "Key for --client-cert-file (default: --key-file).");
  fs->String("client-crl-file", &c->client_tls.crl_file, security,
             "Certificate revocation list for client certificates.");
  fs->Strings("client-cert-allowed-hostname", &c->client_tls.allowed_hostnames, false, security,
              "Comma-separated SAN host names a client certificate must carry.");
  fs->String("trusted-ca-file", &c->client_tls.trusted_ca_file, security,
             "CA certificates that sign client certificates.");
  fs->Bool("auto-tls", &c->client_tls.auto_tls, security,
           "Serve clients TLS with a generated self-signed certificate.");
  fs->String("peer-cert-file", &c->peer_tls.cert_file, security,
             "TLS certificate of the peer listeners.");
  fs->String("peer-key-file", &c->peer_tls.key_file, security, "TLS key of the peer listeners.");
  fs->Bool("peer-client-cert-auth", &c->peer_tls.client_cert_auth, security,
           "Require peer certificates signed by --peer-trusted-ca-file.");
  fs->String("peer-trusted-ca-file", &c->peer_tls.trusted_ca_file, security,
             "CA certificates that sign peer certificates.");
  fs->Strings("peer-cert-allowed-cn", &c->peer_tls.allowed_cns, false, security,
              "Comma-separated common names a peer certificate must have one of.");
  fs->Strings("peer-cert-allowed-hostname", &c->peer_tls.allowed_hostnames, false, security,
              "Comma-separated SAN host names a peer certificate must carry.");
  fs->Bool("peer-auto-tls", &c->peer_tls.auto_tls, security,
           "Serve peers TLS with a generated self-signed certificate when no peer\n"
           "certificate and key are given.");
  fs->String("peer-client-cert-file", &c->peer_tls.client_cert_file, security,
             "Certificate presented when connecting to peers (default: --peer-cert-file).");
  fs->String("peer-client-key-file", &c->peer_tls.client_key_file, security,
             "Key for --peer-client-cert-file (default: --peer-key-file).");
  fs->Uint("self-signed-cert-validity", &c->self_signed_cert_validity, security,
           "Validity of generated certificates (--auto-tls, --peer-auto-tls), in years.");
  fs->String("peer-crl-file", &c->peer_tls.crl_file, security,
             "Certificate revocation list for peer certificates.");
  fs->Strings("cipher-suites", &c->cipher_suites, false, security,
              "Comma-separated TLS cipher suites (Go names) for clients and peers; empty\n"
              "means the library defaults.");
  fs->URLStrings("cors", &c->cors, {"*"}, security,
                 "Comma-separated origins allowed for CORS (* allows all).");
  fs->Strings("host-whitelist", &c->host_whitelist, true, security,
              "Comma-separated Host header values accepted on insecure listeners (* allows\n"
              "all).");
  fs->String("tls-min-version", &c->tls_min_version, security,
             "Lowest TLS version accepted: TLS1.2 or TLS1.3.");
  fs->String("tls-max-version", &c->tls_max_version, security,
             "Highest TLS version accepted: TLS1.2 or TLS1.3 (empty: no limit).");

  // Auth.
  const FlagSection auth = FlagSection::kAuth;
  fs->String("auth-token", &c->auth_token, auth,
             "Token type and options: 'simple', or 'jwt,pub-key=<file>,priv-key=<file>,\n"
             "sign-method=<RS256|...>,ttl=<duration>'.");
  fs->Uint("bcrypt-cost", &c->bcrypt_cost, auth, "bcrypt cost of password hashes, from 4 to 31.");
  fs->Uint("auth-token-ttl", &c->auth_token_ttl, auth, "Lifetime of simple tokens, in seconds.");

  // Profiling and monitoring.
  const FlagSection monitoring = FlagSection::kMonitoring;
  fs->Bool("enable-pprof", &c->enable_pprof, monitoring,
           "Serve profiling data under /debug/pprof/ on the client URLs.");
  fs->String("metrics", &c->metrics, monitoring,
             "Detail of exported metrics: 'basic', or 'extensive' to add gRPC histograms.");
  fs->URLs("listen-metrics-urls", &c->listen_metrics_urls, monitoring,
           "Extra URLs to serve /metrics and /health on.");

  // Logging.
  const FlagSection logging = FlagSection::kLogging;
  fs->String("logger", &c->logger, logging, "Logger: only 'zap' (structured logging).");
  fs->Strings("log-outputs", &c->log_outputs, true, logging,
              "Where logs go: 'default' (stderr), 'stderr', 'stdout', or file paths,\n"
              "comma-separated.");
  fs->String("log-level", &c->log_level, logging,
             "Lowest level logged: debug, info, warn, error, panic or fatal.");
  fs->String("log-format", &c->log_format, logging, "Log line format: json or console.");
  fs->Bool("enable-log-rotation", &c->enable_log_rotation, logging,
           "Rotate the log file (needs exactly one file in --log-outputs).");
  fs->String("log-rotation-config-json", &c->log_rotation_config_json, logging,
             "Log rotation settings as JSON: maxsize (MB), maxage (days), maxbackups,\n"
             "localtime, compress.");

  // Distributed tracing.
  const FlagSection tracing = FlagSection::kTracing;
  fs->Bool("experimental-enable-distributed-tracing", &c->experimental_enable_distributed_tracing,
           tracing, "Export OpenTelemetry traces (accepted; not implemented).");
  fs->String("experimental-distributed-tracing-address",
             &c->experimental_distributed_tracing_address, tracing,
             "Address of the trace collector.");
  fs->String("experimental-distributed-tracing-service-name",
             &c->experimental_distributed_tracing_service_name, tracing,
             "Service name in traces; the same on every member.");
  fs->String("experimental-distributed-tracing-instance-id",
             &c->experimental_distributed_tracing_instance_id, tracing,
             "Instance ID in traces; unique per member.");
  fs->Int("experimental-distributed-tracing-sampling-rate",
          &c->experimental_distributed_tracing_sampling_rate, tracing,
          "Spans sampled per million (0 disables).");

  // v2 proxy.
  const FlagSection proxy = FlagSection::kProxy;
  fs->Choice("proxy", &c->proxy, {"off", "readonly", "on"}, proxy,
             "v2 proxy mode: 'off', 'readonly' or 'on'; only 'off' is supported.");
  fs->Uint("proxy-failure-wait", &c->proxy_failure_wait_ms, proxy,
           "Time an endpoint stays failed, in milliseconds.");
  fs->Uint("proxy-refresh-interval", &c->proxy_refresh_interval_ms, proxy,
           "Endpoint refresh interval, in milliseconds.");
  fs->Uint("proxy-dial-timeout", &c->proxy_dial_timeout_ms, proxy,
           "Dial timeout, in milliseconds.");
  fs->Uint("proxy-write-timeout", &c->proxy_write_timeout_ms, proxy,
           "Write timeout, in milliseconds.");
  fs->Uint("proxy-read-timeout", &c->proxy_read_timeout_ms, proxy,
           "Read timeout, in milliseconds (0: none).");

  // Experimental.
  const FlagSection experimental = FlagSection::kExperimental;
  fs->Bool("experimental-initial-corrupt-check", &c->experimental_initial_corrupt_check,
           experimental, "Compare data hashes with the peers before serving any traffic.");
  fs->Duration("experimental-corrupt-check-time", &c->experimental_corrupt_check_time, experimental,
               "Interval of cluster corruption checks (0s disables).");
  fs->Bool("experimental-compact-hash-check-enabled", &c->experimental_compact_hash_check_enabled,
           experimental, "Let the leader compare the followers' hashes after compactions.");
  fs->Duration("experimental-compact-hash-check-time", &c->experimental_compact_hash_check_time,
               experimental, "Interval of the leader's compaction hash checks.");
  fs->String("experimental-enable-v2v3", &c->experimental_enable_v2v3, experimental,
             "Serve v2 requests from the v3 store under this prefix (not supported).");
  fs->Bool("experimental-enable-lease-checkpoint", &c->experimental_enable_lease_checkpoint,
           experimental,
           "Let the leader checkpoint lease TTLs to the followers, so a leader change does\n"
           "not reset them.");
  fs->Bool("experimental-enable-lease-checkpoint-persist",
           &c->experimental_enable_lease_checkpoint_persist, experimental,
           "Persist lease checkpoints (needs --experimental-enable-lease-checkpoint).");
  fs->Int("experimental-compaction-batch-limit", &c->experimental_compaction_batch_limit,
          experimental, "Most revisions deleted in one compaction batch.");
  fs->Duration("experimental-compaction-sleep-interval", &c->experimental_compaction_sleep_interval,
               experimental, "Pause between compaction batches.");
  fs->Bool("experimental-peer-skip-client-san-verification",
           &c->peer_tls.skip_client_san_verification, experimental,
           "Do not check the SANs of peer client certificates.");
  fs->Duration("experimental-watch-progress-notify-interval",
               &c->experimental_watch_progress_notify_interval, experimental,
               "Interval of progress notifications to watchers that asked for them.");
  fs->Duration("experimental-downgrade-check-time", &c->experimental_downgrade_check_time,
               experimental, "Interval of downgrade status checks.");
  fs->Bool("experimental-memory-mlock", &c->experimental_memory_mlock, experimental,
           "Lock the member's memory (the backend's pages) in RAM.");
  fs->Duration("experimental-warning-apply-duration", &c->experimental_warning_apply_duration,
               experimental, "Applying a request slower than this logs a warning.");
  fs->Duration("experimental-warning-unary-request-duration",
               &c->experimental_warning_unary_request_duration, experimental,
               "Serving a unary request slower than this logs a warning.");
  fs->Bool("experimental-txn-mode-write-with-shared-buffer",
           &c->experimental_txn_mode_write_with_shared_buffer, experimental,
           "Let write transactions use the shared read buffer for their read checks.");
  fs->Uint("experimental-bootstrap-defrag-threshold-megabytes",
           &c->experimental_bootstrap_defrag_threshold_megabytes, experimental,
           "Defragment at start when that frees at least this many megabytes (0: never).");
  fs->Int("experimental-max-learners", &c->experimental_max_learners, experimental,
          "Most learners the cluster may have.");
  fs->Bool("experimental-stop-grpc-service-on-defrag", &c->experimental_stop_grpc_service_on_defrag,
           experimental, "Report the gRPC health service as not serving while defragmenting.");
  fs->Uint("experimental-snapshot-catchup-entries", &c->snapshot_catchup_entries, experimental,
           "Entries kept after a snapshot for slow followers to catch up from.");

  // Unsafe.
  const FlagSection unsafe = FlagSection::kUnsafe;
  fs->Bool("force-new-cluster", &c->force_new_cluster, unsafe,
           "Restart as a new one-member cluster, keeping the data.");
  fs->Bool("unsafe-no-fsync", &c->unsafe_no_fsync, unsafe,
           "Never fsync: fast, and loses data on a crash.");

  // Hidden.
  fs->String("config-file", config_file, FlagSection::kHidden, "Server configuration file (YAML).");
  fs->Bool("version", print_version, FlagSection::kHidden, "Print the version and exit.");
  for (const char* name : kIgnoredFlags) fs->Ignored(name);
}

// ETCD_<NAME> for a flag name.
std::string EnvName(absl::string_view flag) {
  std::string out = absl::StrCat("ETCD_", absl::StrReplaceAll(flag, {{"-", "_"}}));
  absl::AsciiStrToUpper(&out);
  return out;
}

Notice MakeNotice(log::Level level, std::string message,
                  std::vector<std::pair<std::string, std::string>> fields = {}) {
  return Notice{level, std::move(message), std::move(fields)};
}

std::string Lookup(const std::vector<std::string>& environment, absl::string_view key) {
  for (const std::string& entry : environment) {
    const size_t eq = entry.find('=');
    if (eq != std::string::npos && absl::string_view(entry).substr(0, eq) == key) {
      return entry.substr(eq + 1);
    }
  }
  return "";
}

std::string Resolve(const std::string& working_dir, const std::string& path) {
  if (working_dir.empty() || path.empty() || path[0] == '/') return path;
  std::string base = working_dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base == "/" ? "/" + path : absl::StrCat(base, "/", path);
}

// etcd's SetFlagsFromEnv: every flag not on the command line takes its
// ETCD_* variable; a variable shadowed by a command-line flag is an error.
absl::Status ApplyEnvironment(const std::vector<std::string>& environment, FlagSet* fs,
                              std::vector<Notice>* notices) {
  std::map<std::string, std::string> values;
  for (const std::string& entry : environment) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    values.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  std::map<std::string, bool> shadowed;  // Variable name -> flag set on the command line.
  std::vector<const internal::Flag*> flags;
  for (const auto& flag : fs->flags()) {
    flags.push_back(flag.get());
    if (fs->IsSet(flag->name)) shadowed[EnvName(flag->name)] = true;
  }
  std::sort(flags.begin(), flags.end(),
            [](const internal::Flag* a, const internal::Flag* b) { return a->name < b->name; });

  absl::Status set_error;
  std::map<std::string, bool> used;
  for (const internal::Flag* flag : flags) {
    const std::string key = EnvName(flag->name);
    if (shadowed.count(key) > 0 || key == "ETCD_VERSION") continue;
    auto it = values.find(key);
    if (it == values.end() || it->second.empty()) continue;
    used[key] = true;
    absl::Status status = fs->Set(flag->name, it->second);
    if (!status.ok()) {
      set_error = absl::InvalidArgumentError(absl::StrCat(
          "invalid value ", internal::GoQuote(it->second), " for ", key, ": ", status.message()));
      continue;
    }
    notices->push_back(MakeNotice(log::Level::kInfo, "recognized and used environment variable",
                                  {{"variable-name", key}, {"variable-value", it->second}}));
  }
  for (const std::string& entry : environment) {
    const std::string key = entry.substr(0, entry.find('='));
    if (used.count(key) > 0 || key == "ETCD_VERSION") continue;
    if (shadowed.count(key) > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "conflicting environment variable \"", key,
          "\" is shadowed by corresponding command-line flag (either unset environment "
          "variable or disable flag)"));
    }
    if (absl::StartsWith(key, "ETCD_")) {
      notices->push_back(MakeNotice(log::Level::kWarn, "unrecognized environment variable",
                                    {{"environment-variable", entry}}));
    }
  }
  return set_error;
}

absl::StatusOr<std::string> ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return absl::NotFoundError(absl::StrCat("open ", path, ": ", std::strerror(error)));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("read ", path, ": I/O error"));
  return buffer.str();
}

// The nested TLS keys of the config file and the flags they stand for.
const std::map<std::string, std::string>& SecurityKeys(bool peer) {
  static const auto* client = new std::map<std::string, std::string>{
      {"cert-file", "cert-file"},
      {"key-file", "key-file"},
      {"client-cert-file", "client-cert-file"},
      {"client-key-file", "client-key-file"},
      {"client-cert-auth", "client-cert-auth"},
      {"trusted-ca-file", "trusted-ca-file"},
      {"auto-tls", "auto-tls"},
      {"crl-file", "client-crl-file"},
      {"allowed-hostname", "client-cert-allowed-hostname"},
  };
  static const auto* peers = new std::map<std::string, std::string>{
      {"cert-file", "peer-cert-file"},
      {"key-file", "peer-key-file"},
      {"client-cert-file", "peer-client-cert-file"},
      {"client-key-file", "peer-client-key-file"},
      {"client-cert-auth", "peer-client-cert-auth"},
      {"trusted-ca-file", "peer-trusted-ca-file"},
      {"auto-tls", "peer-auto-tls"},
      {"crl-file", "peer-crl-file"},
      {"allowed-cn", "peer-cert-allowed-cn"},
      {"allowed-hostname", "peer-cert-allowed-hostname"},
      {"skip-client-san-verification", "experimental-peer-skip-client-san-verification"},
  };
  return peer ? *peers : *client;
}

std::string DescribeYamlValue(const YamlNode& node) {
  switch (node.kind) {
    case YamlNode::Kind::kScalar:
      return internal::GoQuote(node.scalar);
    case YamlNode::Kind::kSequence:
      return "a list";
    case YamlNode::Kind::kMap:
      return "a map";
    case YamlNode::Kind::kNull:
      return "null";
  }
  return "?";
}

// Loads the YAML `text` of the file `path` into `config` (which starts at
// the defaults), as etcd's configFromFile does; no validation.
absl::Status LoadConfigText(absl::string_view text, const std::string& path, Config* config,
                            std::vector<Notice>* notices) {
  const auto file_error = [&](absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat("config file ", path, ": ", message));
  };
  absl::StatusOr<YamlNode> root = internal::ParseYaml(text);
  if (!root.ok()) return file_error(root.status().message());
  if (root->kind == YamlNode::Kind::kScalar || root->kind == YamlNode::Kind::kSequence) {
    return file_error("expected a map of settings at the top level");
  }

  std::string unused_config_file;
  bool unused_version = false;
  FlagSet fs;
  RegisterFlags(config, &unused_config_file, &unused_version, &fs);
  const std::string default_initial_cluster = config->initial_cluster;

  const auto apply = [&](const std::string& key, const std::string& flag_name,
                         const YamlNode& value) -> absl::Status {
    internal::Flag* flag = fs.Lookup(flag_name);
    absl::Status status = flag->value->SetFromYaml(value);
    if (!status.ok()) {
      return file_error(absl::StrCat("line ", value.line, ": invalid value ",
                                     DescribeYamlValue(value), " for \"", key,
                                     "\": ", status.message()));
    }
    return absl::OkStatus();
  };
  const auto unknown = [&](const std::string& key) {
    notices->push_back(MakeNotice(log::Level::kWarn, "ignored unknown key in configuration file",
                                  {{"path", path}, {"key", key}}));
  };

  for (const auto& [raw_key, value] : root->entries) {
    // Keys match flags case-insensitively, as etcd's JSON decoding does.
    const std::string key = absl::AsciiStrToLower(raw_key);
    if (key == "client-transport-security" || key == "peer-transport-security") {
      if (value.kind == YamlNode::Kind::kNull) continue;
      if (value.kind != YamlNode::Kind::kMap) {
        return file_error(absl::StrCat("line ", value.line, ": \"", raw_key, "\" must be a map"));
      }
      const auto& names = SecurityKeys(key == "peer-transport-security");
      for (const auto& [raw_sub_key, sub_value] : value.entries) {
        const std::string sub_key = absl::AsciiStrToLower(raw_sub_key);
        auto it = names.find(sub_key);
        if (it == names.end()) {
          unknown(absl::StrCat(raw_key, ".", raw_sub_key));
          continue;
        }
        absl::Status status = apply(absl::StrCat(raw_key, ".", raw_sub_key), it->second, sub_value);
        if (!status.ok()) return status;
      }
      continue;
    }
    const internal::Flag* flag = fs.Lookup(key);
    if (flag == nullptr || flag->section == FlagSection::kHidden) {
      unknown(raw_key);
      continue;
    }
    absl::Status status = apply(raw_key, key, value);
    if (!status.ok()) return status;
  }

  // A discovery setting replaces the default initial cluster.
  if ((!config->discovery.empty() || !config->discovery_srv.empty()) &&
      config->initial_cluster == default_initial_cluster) {
    config->initial_cluster.clear();
  }
  if (config->initial_cluster_state.empty()) config->initial_cluster_state = kClusterStateNew;
  if (config->self_signed_cert_validity == 0) config->self_signed_cert_validity = 1;
  return absl::OkStatus();
}

absl::Status LoadConfigFile(const std::string& path, Config* config, std::vector<Notice>* notices) {
  absl::StatusOr<std::string> text = ReadFileText(path);
  if (!text.ok()) return absl::InvalidArgumentError(text.status().message());
  return LoadConfigText(*text, path, config, notices);
}

// What etcd does between parsing and starting the server.
void Finalize(const std::string& working_dir, Config* c, std::vector<Notice>* notices) {
  if (c->name != kDefaultName && c->initial_cluster == kDefaultInitialCluster) {
    c->initial_cluster = c->InitialClusterFromName(c->name);
  }
  if (c->data_dir.empty()) {
    c->data_dir = absl::StrCat(c->name, ".etcd");
    notices->push_back(MakeNotice(log::Level::kWarn, "'data-dir' was empty; using default",
                                  {{"data-dir", c->data_dir}}));
  }
  if (c->snapshot_count == 0) {
    c->snapshot_count = kDefaultSnapshotCount;
    notices->push_back(
        MakeNotice(log::Level::kInfo, "updated snapshot count to default",
                   {{"given-snapshot-count", "0"},
                    {"updated-snapshot-count", absl::StrCat(kDefaultSnapshotCount)}}));
  }
  // Peer connection timeouts have etcd's 5s as their minimum.
  for (auto [timeout, name] : {std::pair(&c->raft_read_timeout, "raft-read-timeout"),
                               std::pair(&c->raft_write_timeout, "raft-write-timeout")}) {
    if (*timeout < absl::Seconds(5)) {
      *timeout = absl::Seconds(5);
      notices->push_back(
          MakeNotice(log::Level::kInfo, absl::StrCat(name, " increased to minimum value: 5s")));
    }
  }
  if (c->bcrypt_cost < kMinBcryptCost || c->bcrypt_cost > kMaxBcryptCost) {
    notices->push_back(MakeNotice(log::Level::kWarn,
                                  "use default bcrypt cost instead of the invalid given cost",
                                  {{"given-cost", absl::StrCat(c->bcrypt_cost)},
                                   {"default-cost", absl::StrCat(kDefaultBcryptCost)}}));
    c->bcrypt_cost = kDefaultBcryptCost;
  }
  if (working_dir.empty()) return;
  for (std::string* path : {&c->data_dir, &c->wal_dir}) *path = Resolve(working_dir, *path);
  for (TransportSecurity* tls : {&c->client_tls, &c->peer_tls}) {
    for (std::string* path : {&tls->cert_file, &tls->key_file, &tls->client_cert_file,
                              &tls->client_key_file, &tls->trusted_ca_file, &tls->crl_file}) {
      *path = Resolve(working_dir, *path);
    }
  }
  for (std::string& output : c->log_outputs) {
    if (output != "default" && output != "stderr" && output != "stdout" &&
        output != "systemd/journal") {
      output = Resolve(working_dir, output);
    }
  }
}

absl::Status Prefixed(absl::string_view prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

}  // namespace

ParseOptions ParseOptions::FromProcess() {
  ParseOptions options;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    options.environment.emplace_back(*entry);
  }
  return options;
}

int ParseResult::exit_code() const {
  switch (outcome) {
    case ParseOutcome::kRun:
    case ParseOutcome::kHelp:
    case ParseOutcome::kVersion:
      return 0;
    case ParseOutcome::kFlagError:
      return 2;
    case ParseOutcome::kConfigError:
      return 1;
  }
  return 1;
}

ParseResult ParseCommandLine(absl::Span<const std::string> args, const ParseOptions& options) {
  ParseResult result;
  const auto fail = [&result](ParseOutcome outcome, absl::Status status) {
    result.outcome = outcome;
    result.status = std::move(status);
    return std::move(result);
  };

  std::string config_file;
  bool print_version = false;
  FlagSet fs;
  RegisterFlags(&result.config, &config_file, &print_version, &fs);
  FlagSet::ParseOutcome parsed;
  if (absl::Status status = fs.Parse(args, &parsed); !status.ok()) {
    return fail(ParseOutcome::kFlagError, status);
  }
  for (const std::string& name : parsed.ignored) {
    result.notices.push_back(MakeNotice(log::Level::kWarn,
                                        "ignored a flag that is no longer supported",
                                        {{"flag", absl::StrCat("-", name)}}));
  }
  if (parsed.help) {
    result.outcome = ParseOutcome::kHelp;
    return result;
  }
  if (!parsed.positional.empty()) {
    return fail(ParseOutcome::kConfigError,
                absl::InvalidArgumentError(
                    absl::StrCat("'", parsed.positional[0], "' is not a valid flag")));
  }
  if (print_version) {
    result.outcome = ParseOutcome::kVersion;
    return result;
  }

  const std::string working_dir = Lookup(options.environment, "BUILD_WORKING_DIRECTORY");
  if (config_file.empty()) config_file = Lookup(options.environment, "ETCD_CONFIG_FILE");
  if (!config_file.empty()) {
    result.config_file = Resolve(working_dir, config_file);
    Config from_file;
    if (absl::Status status = LoadConfigFile(result.config_file, &from_file, &result.notices);
        !status.ok()) {
      return fail(ParseOutcome::kConfigError, status);
    }
    result.config = std::move(from_file);
    result.notices.push_back(MakeNotice(
        log::Level::kInfo,
        "loaded server configuration, other configuration command line flags and environment "
        "variables will be ignored if provided",
        {{"path", result.config_file}}));
  } else {
    if (const std::string version = Lookup(options.environment, "ETCD_VERSION"); !version.empty()) {
      result.notices.push_back(MakeNotice(log::Level::kWarn,
                                          "cannot set special environment variable",
                                          {{"key", "ETCD_VERSION"}, {"value", version}}));
    }
    if (absl::Status status = ApplyEnvironment(options.environment, &fs, &result.notices);
        !status.ok()) {
      return fail(ParseOutcome::kConfigError, status);
    }
    Config& c = result.config;
    const bool may_be_proxy =
        c.proxy != "off" || (!c.discovery.empty() && c.discovery_fallback == "proxy");
    // Listening on chosen client URLs means advertising them must be a choice too.
    if (fs.IsSet("listen-client-urls") && !fs.IsSet("advertise-client-urls") && !may_be_proxy) {
      c.advertise_client_urls = types::URLs();
    }
    if ((!c.discovery.empty() || !c.discovery_srv.empty() || !c.discovery_srv_name.empty()) &&
        !fs.IsSet("initial-cluster")) {
      c.initial_cluster.clear();
    }
  }

  if (absl::Status status = result.config.Validate(); !status.ok()) {
    return fail(ParseOutcome::kConfigError, status);
  }
  Finalize(working_dir, &result.config, &result.notices);
  result.outcome = ParseOutcome::kRun;
  return result;
}

absl::StatusOr<Config> ConfigFromFile(const std::string& path, const ParseOptions& options,
                                      std::vector<Notice>* notices) {
  const std::string working_dir = Lookup(options.environment, "BUILD_WORKING_DIRECTORY");
  const std::string resolved = Resolve(working_dir, path);
  absl::StatusOr<std::string> text = ReadFileText(resolved);
  if (!text.ok()) return absl::InvalidArgumentError(text.status().message());
  return ConfigFromYaml(*text, resolved, options, notices);
}

absl::StatusOr<Config> ConfigFromYaml(absl::string_view text, const std::string& path,
                                      const ParseOptions& options, std::vector<Notice>* notices) {
  std::vector<Notice> ignored;
  if (notices == nullptr) notices = &ignored;
  Config config;
  absl::Status status = LoadConfigText(text, path, &config, notices);
  if (!status.ok()) return status;
  status = config.Validate();
  if (!status.ok()) return Prefixed(absl::StrCat("config file ", path, ": "), status);
  Finalize(Lookup(options.environment, "BUILD_WORKING_DIRECTORY"), &config, notices);
  return config;
}

std::string UsageText() {
  return R"(Usage:

  etcd [flags]
    Start an etcd member.

  etcd --version
    Print the version and exit.

  etcd -h | --help
    Print this help and exit.

  etcd --config-file <path>
    Read the configuration from a YAML file instead; every other flag and ETCD_*
    variable is then ignored.

  Flags may also be given as ETCD_<FLAG> environment variables (ETCD_NAME,
  ETCD_LISTEN_CLIENT_URLS, ...); a flag on the command line may not also be set
  in the environment.

  The gRPC proxy is a separate program: bazel run //:grpc-proxy.
)";
}

std::string FlagsHelpText() {
  static constexpr std::pair<FlagSection, const char*> kSections[] = {
      {FlagSection::kMember, "Member"},
      {FlagSection::kClustering, "Clustering"},
      {FlagSection::kSecurity, "Security"},
      {FlagSection::kAuth, "Auth"},
      {FlagSection::kMonitoring, "Profiling and monitoring"},
      {FlagSection::kLogging, "Logging"},
      {FlagSection::kTracing, "Distributed tracing (experimental)"},
      {FlagSection::kProxy, "v2 proxy (not supported)"},
      {FlagSection::kExperimental, "Experimental"},
      {FlagSection::kUnsafe, "Unsafe"},
  };
  Config defaults;
  std::string config_file;
  bool version = false;
  FlagSet fs;
  RegisterFlags(&defaults, &config_file, &version, &fs);
  std::string out;
  for (const auto& [section, title] : kSections) {
    absl::StrAppend(&out, "\n", title, ":\n");
    for (const auto& flag : fs.flags()) {
      if (flag->section != section) continue;
      const std::string shown =
          flag->default_text == "''" ? "''" : absl::StrCat("'", flag->default_text, "'");
      absl::StrAppend(&out, "  --", flag->name, " ", shown, "\n");
      for (absl::string_view line : absl::StrSplit(flag->help, '\n')) {
        absl::StrAppend(&out, "    ", line, "\n");
      }
    }
  }
  absl::StrAppend(&out,
                  "\nUnsafe flags can break the guarantees of the consensus protocol; use them "
                  "only to recover\na cluster you cannot repair otherwise.\n");
  return out;
}

std::string VersionText() {
#if defined(__x86_64__)
  constexpr char kArch[] = "amd64";
#elif defined(__aarch64__)
  constexpr char kArch[] = "arm64";
#elif defined(__i386__)
  constexpr char kArch[] = "386";
#else
  constexpr char kArch[] = "unknown";
#endif
#if defined(__clang__)
  constexpr char kCompiler[] = "clang " __clang_version__;
#elif defined(__GNUC__)
  constexpr char kCompiler[] = "GCC " __VERSION__;
#else
  constexpr char kCompiler[] = "unknown";
#endif
  return absl::StrCat("etcd Version: ", version::kServerVersion, "\n",
                      "Git SHA: Not provided (etcd-cpp ", version::kProjectVersion, ")\n",
                      "Go Version: not applicable (C++, ", kCompiler, ")\n", "Go OS/Arch: linux/",
                      kArch, "\n");
}

std::vector<std::string> KnownFlagNames() {
  Config defaults;
  std::string config_file;
  bool version = false;
  FlagSet fs;
  RegisterFlags(&defaults, &config_file, &version, &fs);
  std::vector<std::string> names;
  for (const auto& flag : fs.flags()) names.push_back(flag->name);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::string> FlagDefaultText(absl::string_view name) {
  Config defaults;
  std::string config_file;
  bool version = false;
  FlagSet fs;
  RegisterFlags(&defaults, &config_file, &version, &fs);
  const internal::Flag* flag = fs.Lookup(name);
  if (flag == nullptr) return absl::NotFoundError(absl::StrCat("no flag --", name));
  return flag->default_text == "''" ? std::string() : flag->default_text;
}

}  // namespace etcd::embed
