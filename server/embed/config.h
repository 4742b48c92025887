// The configuration of one etcd member: every etcd 3.5 server flag, with
// etcd's names, defaults and validation.
//
//   etcd::embed::Config config;          // etcd's defaults
//   config.name = "infra0";
//   config.initial_cluster = "infra0=http://10.0.0.1:2380";
//   absl::Status status = config.Validate();
//   // e.g. "--election-timeout[400ms] should be at least as 5 times as
//   //       --heartbeat-interval[100ms]"
//
// Most programs get a Config from the command line instead (config_flags.h:
// flags, ETCD_* variables and --config-file, as etcd reads them).
//
// Fields are named after their flag ("--max-txn-ops" is max_txn_ops) and
// hold what the flag holds: milliseconds where etcd's flag counts
// milliseconds, absl::Duration where it takes a Go duration, URL lists as
// validated types::URLs. A default-constructed Config holds etcd's defaults.
// Some settings are accepted for compatibility but have no effect in this
// implementation; docs/configuration.md lists them.
//
// Config is a plain value type; thread-compatible.

#ifndef ETCD_SERVER_EMBED_CONFIG_H_
#define ETCD_SERVER_EMBED_CONFIG_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pkg/types/urls.h"
#include "pkg/types/urlsmap.h"

namespace etcd::embed {

inline constexpr char kDefaultName[] = "default";
inline constexpr char kDefaultListenPeerURLs[] = "http://localhost:2380";
inline constexpr char kDefaultListenClientURLs[] = "http://localhost:2379";
inline constexpr char kDefaultInitialAdvertisePeerURLs[] = "http://localhost:2380";
inline constexpr char kDefaultAdvertiseClientURLs[] = "http://localhost:2379";
inline constexpr char kDefaultInitialCluster[] = "default=http://localhost:2380";
inline constexpr char kClusterStateNew[] = "new";
inline constexpr char kClusterStateExisting[] = "existing";
inline constexpr uint64_t kDefaultSnapshotCount = 100000;
inline constexpr uint64_t kDefaultSnapshotCatchUpEntries = 5000;
inline constexpr uint64_t kDefaultMaxRequestBytes = 1572864;  // 1.5 MiB
// The longest election timeout etcd accepts.
inline constexpr uint64_t kMaxElectionMs = 50000;
inline constexpr uint64_t kDefaultBcryptCost = 10;
inline constexpr uint64_t kMinBcryptCost = 4;
inline constexpr uint64_t kMaxBcryptCost = 31;
inline constexpr char kDefaultLogRotationConfig[] =
    R"({"maxsize": 100, "maxage": 0, "maxbackups": 0, "localtime": false, "compress": false})";

// TLS settings of one side (client or peer) of the member.
struct TransportSecurity {
  // The server's certificate and key (PEM files).
  std::string cert_file;
  std::string key_file;
  // Certificate and key this member presents when it is the TLS client
  // (to peers, or to its own client port); cert_file/key_file when empty.
  std::string client_cert_file;
  std::string client_key_file;
  // Require and verify client certificates against trusted_ca_file.
  bool client_cert_auth = false;
  std::string trusted_ca_file;
  // Certificate revocation list checked for client certificates.
  std::string crl_file;
  // Generate a self-signed certificate at start when no cert/key is given.
  bool auto_tls = false;
  // Accepted client certificate common names (peer side only); empty: any.
  std::vector<std::string> allowed_cns;
  // Accepted client certificate SAN host names; empty: any.
  std::vector<std::string> allowed_hostnames;
  // Peer side: do not check client certificates' SANs against the remote
  // address (--experimental-peer-skip-client-san-verification).
  bool skip_client_san_verification = false;

  // No certificate and no key configured.
  bool Empty() const { return cert_file.empty() && key_file.empty(); }
  // A certificate and a key are configured.
  bool Enabled() const { return !cert_file.empty() && !key_file.empty(); }
};

// --auth-token, decomposed: "simple", or "jwt" with its options
// ("jwt,pub-key=a.pem,priv-key=a.key,sign-method=RS256,ttl=10m").
struct AuthTokenOptions {
  // "simple", "jwt", or "" (no tokens: auth with tokens is impossible).
  std::string type;
  // JWT only.
  std::string sign_method;
  std::string public_key_file;
  std::string private_key_file;
  // JWT lifetime; 5 minutes unless given as ttl=.
  absl::Duration ttl = absl::Minutes(5);
};

// Parses an --auth-token value with etcd's rules. Errors are
// InvalidArgument and carry etcd's sentinel text, e.g.
// `auth: invalid auth options` (bad syntax, duplicated or unknown option,
// unknown type) or `auth: invalid auth signature method`. Key files are only
// named here, not read.
absl::StatusOr<AuthTokenOptions> ParseAuthToken(const std::string& value);

// --auto-compaction-mode and --auto-compaction-retention, interpreted.
struct AutoCompaction {
  // "periodic" or "revision".
  std::string mode;
  // Periodic mode: the retention window; zero disables compaction.
  absl::Duration period = absl::ZeroDuration();
  // Revision mode: how many revisions to keep; zero disables compaction.
  int64_t revisions = 0;

  bool enabled() const { return period > absl::ZeroDuration() || revisions > 0; }
};

struct Config {
  // Every field at etcd's default; initial_cluster is computed from the
  // default name and advertised peer URLs.
  Config();

  // ---- Member -------------------------------------------------------------

  // Human-readable name of this member; its key in initial_cluster.
  std::string name = kDefaultName;
  // Data directory. Empty until parsing fills in "<name>.etcd".
  std::string data_dir;
  // Dedicated WAL directory; empty: "<data_dir>/member/wal".
  std::string wal_dir;
  // Committed entries between snapshots; 0 means the default, as in etcd.
  uint64_t snapshot_count = kDefaultSnapshotCount;
  // Entries kept after a snapshot for slow followers to catch up.
  uint64_t snapshot_catchup_entries = kDefaultSnapshotCatchUpEntries;
  // Raft tick (heartbeat) and election timeout, in milliseconds.
  uint64_t heartbeat_interval_ms = 100;
  uint64_t election_timeout_ms = 1000;
  // Fast-forward election ticks at start so the first election is quick.
  bool initial_election_tick_advance = true;
  types::URLs listen_peer_urls;
  // gRPC and (unless listen_client_http_urls is set) HTTP.
  types::URLs listen_client_urls;
  // HTTP-only client listeners; when set, HTTP leaves listen_client_urls.
  types::URLs listen_client_http_urls;
  // Extra listeners for /metrics and /health.
  types::URLs listen_metrics_urls;
  // Snapshot and WAL files kept; 0 keeps all.
  uint64_t max_snapshots = 5;
  uint64_t max_wals = 5;
  // Backend size that raises the NOSPACE alarm; 0 means the default (2 GiB).
  int64_t quota_backend_bytes = 0;
  // bbolt's freelist type ("map" or "array"); no effect on this LMDB backend.
  std::string backend_bbolt_freelist_type = "map";
  // Backend commit interval and operation limit; zero means the default.
  absl::Duration backend_batch_interval = absl::ZeroDuration();
  int64_t backend_batch_limit = 0;
  uint64_t max_txn_ops = 128;
  uint64_t max_request_bytes = kDefaultMaxRequestBytes;
  uint32_t max_concurrent_streams = UINT32_MAX;
  bool enable_grpc_gateway = true;
  absl::Duration grpc_keepalive_min_time = absl::Seconds(5);
  absl::Duration grpc_keepalive_interval = absl::Hours(2);
  absl::Duration grpc_keepalive_timeout = absl::Seconds(20);
  bool socket_reuse_port = false;
  bool socket_reuse_address = false;
  // Read and write timeouts of peer connections (at least 5s in etcd).
  absl::Duration raft_read_timeout = absl::Seconds(5);
  absl::Duration raft_write_timeout = absl::Seconds(5);

  // ---- Clustering ---------------------------------------------------------

  types::URLs initial_advertise_peer_urls;
  types::URLs advertise_client_urls;
  // "name=url,..." as given; see InitialClusterMap().
  std::string initial_cluster = kDefaultInitialCluster;
  // "new" or "existing".
  std::string initial_cluster_state = kClusterStateNew;
  std::string initial_cluster_token = "etcd-cluster";
  // Discovery (v2 discovery service and DNS SRV); accepted, not implemented.
  std::string discovery;
  // "proxy" or "exit".
  std::string discovery_fallback = "proxy";
  std::string discovery_proxy;
  std::string discovery_srv;
  std::string discovery_srv_name;
  bool strict_reconfig_check = true;
  bool pre_vote = true;
  // "periodic" or "revision", and the retention ("0" disables; see
  // AutoCompactionSettings()).
  std::string auto_compaction_mode = "periodic";
  std::string auto_compaction_retention = "0";
  // The v2 API is not served; these are accepted for compatibility.
  bool enable_v2 = false;
  std::string experimental_enable_v2v3;
  std::string v2_deprecation = "not-yet";

  // ---- v2 proxy (only "off" is supported) --------------------------------

  std::string proxy = "off";
  uint64_t proxy_failure_wait_ms = 5000;
  uint64_t proxy_refresh_interval_ms = 30000;
  uint64_t proxy_dial_timeout_ms = 1000;
  uint64_t proxy_write_timeout_ms = 5000;
  uint64_t proxy_read_timeout_ms = 0;

  // ---- Security -----------------------------------------------------------

  TransportSecurity client_tls;
  TransportSecurity peer_tls;
  // Years of validity of auto-TLS certificates.
  uint64_t self_signed_cert_validity = 1;
  // Go names of the allowed TLS cipher suites, in order; empty: defaults.
  std::vector<std::string> cipher_suites;
  // "TLS1.2" or "TLS1.3"; tls_max_version may be empty (no maximum).
  std::string tls_min_version = "TLS1.2";
  std::string tls_max_version;
  // Allowed CORS origins; "*" allows all.
  std::vector<std::string> cors = {"*"};
  // Accepted HTTP Host headers on insecure listeners; "*" allows all.
  std::vector<std::string> host_whitelist = {"*"};

  // ---- Auth ---------------------------------------------------------------

  std::string auth_token = "simple";
  uint64_t bcrypt_cost = kDefaultBcryptCost;
  // Lifetime of simple tokens, in seconds.
  uint64_t auth_token_ttl = 300;

  // ---- Profiling, monitoring and logging ----------------------------------

  bool enable_pprof = false;
  // "basic" or "extensive".
  std::string metrics = "basic";
  // Only "zap" (etcd's structured logger format).
  std::string logger = "zap";
  // "default"/"stderr", "stdout", "/dev/null" or file paths.
  std::vector<std::string> log_outputs = {"default"};
  std::string log_level = "info";
  // "json" or "console".
  std::string log_format = "json";
  bool enable_log_rotation = false;
  std::string log_rotation_config_json = kDefaultLogRotationConfig;
  bool experimental_enable_distributed_tracing = false;
  std::string experimental_distributed_tracing_address = "localhost:4317";
  std::string experimental_distributed_tracing_service_name = "etcd";
  std::string experimental_distributed_tracing_instance_id;
  int64_t experimental_distributed_tracing_sampling_rate = 0;

  // ---- Experimental -------------------------------------------------------

  bool experimental_initial_corrupt_check = false;
  // Zero disables the periodic corruption check.
  absl::Duration experimental_corrupt_check_time = absl::ZeroDuration();
  bool experimental_compact_hash_check_enabled = false;
  absl::Duration experimental_compact_hash_check_time = absl::Minutes(1);
  bool experimental_enable_lease_checkpoint = false;
  bool experimental_enable_lease_checkpoint_persist = false;
  int64_t experimental_compaction_batch_limit = 1000;
  absl::Duration experimental_compaction_sleep_interval = absl::Milliseconds(10);
  absl::Duration experimental_watch_progress_notify_interval = absl::Minutes(10);
  absl::Duration experimental_downgrade_check_time = absl::Seconds(5);
  absl::Duration experimental_warning_apply_duration = absl::Milliseconds(100);
  absl::Duration experimental_warning_unary_request_duration = absl::Milliseconds(300);
  bool experimental_memory_mlock = false;
  bool experimental_txn_mode_write_with_shared_buffer = true;
  uint64_t experimental_bootstrap_defrag_threshold_megabytes = 0;
  int64_t experimental_max_learners = 1;
  bool experimental_stop_grpc_service_on_defrag = false;

  // ---- Unsafe -------------------------------------------------------------

  bool force_new_cluster = false;
  bool unsafe_no_fsync = false;

  // ---- Methods ------------------------------------------------------------

  // etcd's checks (embed.Config.Validate) plus those etcd only makes when
  // the server starts (auth token, cipher suites, initial cluster syntax,
  // log level), with etcd's error texts where etcd has one. InvalidArgument.
  absl::Status Validate() const;

  // "name=url" for each advertised peer URL, under `member_name` ("default"
  // when empty); "" without advertised peer URLs.
  std::string InitialClusterFromName(const std::string& member_name) const;

  // initial_cluster parsed.
  absl::StatusOr<types::URLsMap> InitialClusterMap() const;

  // The auto-compaction settings; an error for a retention etcd cannot
  // parse (`error parsing AutoCompactionRetention: ...`).
  absl::StatusOr<AutoCompaction> AutoCompactionSettings() const;

  bool IsNewCluster() const { return initial_cluster_state == kClusterStateNew; }
  // Election timeout in ticks.
  int ElectionTicks() const {
    return static_cast<int>(election_timeout_ms / heartbeat_interval_ms);
  }
  // The quota the backend enforces: 2 GiB for 0; negative means no quota.
  int64_t EffectiveQuotaBackendBytes() const;
  // The WAL directory in use: wal_dir, else "<data_dir>/member/wal".
  std::string EffectiveWalDir() const;

  // The main settings as (key, value) pairs with etcd's log field names,
  // for the "starting an etcd server" log entry.
  std::vector<std::pair<std::string, std::string>> Summary() const;
};

}  // namespace etcd::embed

#endif  // ETCD_SERVER_EMBED_CONFIG_H_
