#include "server/embed/config.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/types/urls.h"

namespace etcd::embed {
namespace {

types::URLs URLs(const char* text) { return *types::URLs::Parse(text); }

TEST(ConfigTest, DefaultsAreEtcds) {
  const Config c;
  EXPECT_EQ(c.name, "default");
  EXPECT_EQ(c.data_dir, "");  // "<name>.etcd" once parsed.
  EXPECT_EQ(c.wal_dir, "");
  EXPECT_EQ(c.snapshot_count, 100000u);
  EXPECT_EQ(c.heartbeat_interval_ms, 100u);
  EXPECT_EQ(c.election_timeout_ms, 1000u);
  EXPECT_TRUE(c.initial_election_tick_advance);
  EXPECT_EQ(c.listen_peer_urls.String(), "http://localhost:2380");
  EXPECT_EQ(c.listen_client_urls.String(), "http://localhost:2379");
  EXPECT_TRUE(c.listen_client_http_urls.empty());
  EXPECT_TRUE(c.listen_metrics_urls.empty());
  EXPECT_EQ(c.initial_advertise_peer_urls.String(), "http://localhost:2380");
  EXPECT_EQ(c.advertise_client_urls.String(), "http://localhost:2379");
  EXPECT_EQ(c.initial_cluster, "default=http://localhost:2380");
  EXPECT_EQ(c.initial_cluster_state, "new");
  EXPECT_EQ(c.initial_cluster_token, "etcd-cluster");
  EXPECT_EQ(c.max_snapshots, 5u);
  EXPECT_EQ(c.max_wals, 5u);
  EXPECT_EQ(c.quota_backend_bytes, 0);
  EXPECT_EQ(c.max_txn_ops, 128u);
  EXPECT_EQ(c.max_request_bytes, 1572864u);
  EXPECT_EQ(c.max_concurrent_streams, 4294967295u);
  EXPECT_EQ(c.grpc_keepalive_min_time, absl::Seconds(5));
  EXPECT_EQ(c.grpc_keepalive_interval, absl::Hours(2));
  EXPECT_EQ(c.grpc_keepalive_timeout, absl::Seconds(20));
  EXPECT_EQ(c.backend_batch_interval, absl::ZeroDuration());
  EXPECT_EQ(c.backend_batch_limit, 0);
  EXPECT_EQ(c.backend_bbolt_freelist_type, "map");
  EXPECT_EQ(c.auto_compaction_mode, "periodic");
  EXPECT_EQ(c.auto_compaction_retention, "0");
  EXPECT_TRUE(c.strict_reconfig_check);
  EXPECT_TRUE(c.pre_vote);  // etcd 3.5's default (3.4 had false).
  EXPECT_FALSE(c.enable_v2);
  EXPECT_EQ(c.auth_token, "simple");
  EXPECT_EQ(c.auth_token_ttl, 300u);
  EXPECT_EQ(c.bcrypt_cost, 10u);
  EXPECT_EQ(c.logger, "zap");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.log_outputs, std::vector<std::string>{"default"});
  EXPECT_EQ(c.metrics, "basic");
  EXPECT_FALSE(c.enable_pprof);
  EXPECT_TRUE(c.enable_grpc_gateway);
  EXPECT_EQ(c.cors, std::vector<std::string>{"*"});
  EXPECT_EQ(c.host_whitelist, std::vector<std::string>{"*"});
  EXPECT_EQ(c.tls_min_version, "TLS1.2");
  EXPECT_FALSE(c.force_new_cluster);
  EXPECT_FALSE(c.unsafe_no_fsync);
  EXPECT_FALSE(c.experimental_initial_corrupt_check);
  EXPECT_EQ(c.experimental_corrupt_check_time, absl::ZeroDuration());
  EXPECT_FALSE(c.experimental_enable_lease_checkpoint);
  EXPECT_EQ(c.experimental_compaction_batch_limit, 1000);
  EXPECT_EQ(c.experimental_watch_progress_notify_interval, absl::Minutes(10));
  EXPECT_EQ(c.experimental_warning_apply_duration, absl::Milliseconds(100));
  EXPECT_EQ(c.proxy, "off");
  EXPECT_OK(c.Validate());
  EXPECT_EQ(c.ElectionTicks(), 10);
  EXPECT_TRUE(c.IsNewCluster());
  EXPECT_EQ(c.EffectiveQuotaBackendBytes(), int64_t{2} * 1024 * 1024 * 1024);
}

struct ValidateCase {
  const char* label;
  std::function<void(Config&)> change;
  // Empty: valid. Otherwise the exact error.
  std::string error;
};

TEST(ConfigTest, ValidateTable) {
  const ValidateCase cases[] = {
      {"heartbeat zero", [](Config& c) { c.heartbeat_interval_ms = 0; },
       "--heartbeat-interval must be >0 (set to 0ms)"},
      {"election zero", [](Config& c) { c.election_timeout_ms = 0; },
       "--election-timeout must be >0 (set to 0ms)"},
      {"election < 5 heartbeats", [](Config& c) { c.election_timeout_ms = 499; },
       "--election-timeout[499ms] should be at least as 5 times as --heartbeat-interval[100ms]"},
      {"election = 5 heartbeats", [](Config& c) { c.election_timeout_ms = 500; }, ""},
      {"huge heartbeat does not overflow",
       [](Config& c) { c.heartbeat_interval_ms = UINT64_MAX / 4; },
       "--election-timeout[1000ms] should be at least as 5 times as "
       "--heartbeat-interval[4611686018427387903ms]"},
      {"election too long",
       [](Config& c) {
         c.election_timeout_ms = 50001;
         c.heartbeat_interval_ms = 1000;
       },
       "--election-timeout[50001ms] is too long, and should be set less than 50000ms"},
      {"election at the limit",
       [](Config& c) {
         c.election_timeout_ms = 50000;
         c.heartbeat_interval_ms = 1000;
       },
       ""},
      {"cluster state", [](Config& c) { c.initial_cluster_state = "old"; },
       "unexpected clusterState \"old\""},
      {"existing", [](Config& c) { c.initial_cluster_state = "existing"; }, ""},
      {"bootstrap conflict", [](Config& c) { c.discovery = "https://discovery.example/x"; },
       "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", "
       "\"discovery\" or \"discovery-srv\""},
      {"discovery alone",
       [](Config& c) {
         c.initial_cluster.clear();
         c.discovery_srv = "example.com";
       },
       ""},
      {"bind to a name", [](Config& c) { c.listen_peer_urls = URLs("http://example.com:2380"); },
       "expected IP in URL for binding (http://example.com:2380)"},
      {"bind metrics to a name",
       [](Config& c) { c.listen_metrics_urls = URLs("http://example.com:2381"); },
       "expected IP in URL for binding (http://example.com:2381)"},
      {"bind to IPv6", [](Config& c) { c.listen_client_urls = URLs("https://[::1]:2379"); }, ""},
      {"bind to 0.0.0.0", [](Config& c) { c.listen_client_urls = URLs("http://0.0.0.0:2379"); },
       ""},
      {"bind to unix socket",
       [](Config& c) { c.listen_client_urls = URLs("unix://localhost:1234"); }, ""},
      {"advertise empty host",
       [](Config& c) { c.initial_advertise_peer_urls = URLs("http://:2380"); },
       "--initial-advertise-peer-urls \"http://:2380\" must be \"host:port\" (unexpected empty "
       "host (http://:2380))"},
      {"advertise client empty host",
       [](Config& c) { c.advertise_client_urls = URLs("http://:2379,http://a:2379"); },
       "--advertise-client-urls \"http://:2379,http://a:2379\" must be \"host:port\" "
       "(unexpected empty host (http://:2379))"},
      {"advertise names are fine",
       [](Config& c) { c.advertise_client_urls = URLs("http://etcd.example:2379"); }, ""},
      {"missing advertise client", [](Config& c) { c.advertise_client_urls = types::URLs(); },
       "--advertise-client-urls is required when --listen-client-urls is set explicitly"},
      {"compaction mode", [](Config& c) { c.auto_compaction_mode = "hourly"; },
       "unknown auto-compaction-mode \"hourly\""},
      {"compaction retention", [](Config& c) { c.auto_compaction_retention = "soon"; },
       "error parsing AutoCompactionRetention: time: invalid duration \"soon\""},
      {"lease persist without checkpoint",
       [](Config& c) { c.experimental_enable_lease_checkpoint_persist = true; },
       "setting experimental-enable-lease-checkpoint-persist requires "
       "experimental-enable-lease-checkpoint"},
      {"capnslog", [](Config& c) { c.logger = "capnslog"; },
       "--logger=capnslog is removed in v3.5"},
      {"logger", [](Config& c) { c.logger = "glog"; }, "unknown logger option \"glog\""},
      {"default with others",
       [](Config& c) {
         c.log_outputs = {"default", "stdout"};
       },
       "multi logoutput for \"default\" is not supported yet"},
      {"journal", [](Config& c) { c.log_outputs = {"systemd/journal"}; },
       "--log-outputs=systemd/journal is not supported; use stderr, stdout or a file"},
      {"rotation needs one file", [](Config& c) { c.enable_log_rotation = true; },
       "--log-outputs requires a single file path when --log-rotate-config-json is defined"},
      {"rotation with a file",
       [](Config& c) {
         c.enable_log_rotation = true;
         c.log_outputs = {"/var/log/etcd.log"};
       },
       ""},
      {"log level", [](Config& c) { c.log_level = "verbose"; },
       "unknown --log-level \"verbose\" (use debug, info, warn, error, dpanic, panic or fatal)"},
      {"log level upper case", [](Config& c) { c.log_level = "WARN"; }, ""},
      {"log format", [](Config& c) { c.log_format = "xml"; },
       "unknown --log-format \"xml\" (use json or console)"},
      {"tls version", [](Config& c) { c.tls_min_version = "TLS1.1"; },
       "unexpected TLS version \"TLS1.1\" (must be one of: TLS1.2, TLS1.3)"},
      {"tls min > max",
       [](Config& c) {
         c.tls_min_version = "TLS1.3";
         c.tls_max_version = "TLS1.2";
       },
       "min version (TLS1.3) is greater than max version (TLS1.2)"},
      {"tls1.3 ciphers",
       [](Config& c) {
         c.tls_min_version = "TLS1.3";
         c.cipher_suites = {"TLS_AES_128_GCM_SHA256"};
       },
       "cipher suites cannot be configured when only TLS1.3 is enabled"},
      {"cipher", [](Config& c) { c.cipher_suites = {"TLS_FAKE"}; },
       "unexpected TLS cipher suite \"TLS_FAKE\""},
      {"ciphers",
       [](Config& c) {
         c.cipher_suites = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"};
       },
       ""},
      {"auth token", [](Config& c) { c.auth_token = "oauth"; },
       "invalid --auth-token \"oauth\": auth: invalid auth options: unknown token type \"oauth\" "
       "(use simple or jwt)"},
      {"initial cluster", [](Config& c) { c.initial_cluster = "a=ftp://x:1"; },
       "invalid --initial-cluster \"a=ftp://x:1\": URL scheme must be http, https, unix, or "
       "unixs: ftp://x:1"},
      {"metrics", [](Config& c) { c.metrics = "all"; },
       "unknown --metrics \"all\" (use basic or extensive)"},
      {"proxy", [](Config& c) { c.proxy = "on"; },
       "--proxy=on: the v2 proxy is not supported; use the grpc-proxy binary"},
      {"v2 deprecation", [](Config& c) { c.v2_deprecation = "never"; },
       "unknown --v2-deprecation \"never\" (use not-yet, write-only, write-only-drop-data or "
       "gone)"},
  };
  for (const ValidateCase& c : cases) {
    Config config;
    c.change(config);
    absl::Status status = config.Validate();
    if (c.error.empty()) {
      EXPECT_OK(status) << c.label;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.label;
      EXPECT_EQ(status.message(), c.error) << c.label;
    }
  }
}

TEST(ConfigTest, InitialClusterFromName) {
  Config c;
  EXPECT_EQ(c.InitialClusterFromName("infra0"), "infra0=http://localhost:2380");
  EXPECT_EQ(c.InitialClusterFromName(""), "default=http://localhost:2380");
  c.initial_advertise_peer_urls = URLs("http://10.0.0.2:2380,http://10.0.0.1:2380");
  EXPECT_EQ(c.InitialClusterFromName("m"), "m=http://10.0.0.1:2380,m=http://10.0.0.2:2380");
  c.initial_advertise_peer_urls = types::URLs();
  EXPECT_EQ(c.InitialClusterFromName("m"), "");
}

TEST(ConfigTest, InitialClusterMap) {
  Config c;
  c.initial_cluster = "b=http://10.0.0.2:2380,a=http://10.0.0.1:2380";
  ASSERT_OK_AND_ASSIGN(types::URLsMap map, c.InitialClusterMap());
  EXPECT_EQ(map.size(), 2u);
  ASSERT_NE(map.Find("a"), nullptr);
  EXPECT_EQ(map.Find("a")->String(), "http://10.0.0.1:2380");
}

TEST(ParseAuthTokenTest, Table) {
  struct Case {
    const char* value;
    std::string error;  // Empty: valid.
  };
  const Case cases[] = {
      {"simple", ""},
      {"", ""},
      {"simple,anything=goes", ""},
      {"jwt,pub-key=a.pem,priv-key=a.key,sign-method=RS256,ttl=10m", ""},
      {"jwt,priv-key=k,sign-method=HS256", ""},
      {"jwt,pub-key=a.pem,sign-method=ES384", ""},
      {"jwt,priv-key=k,sign-method=EdDSA,unknown=x", ""},
      {"jwt", "auth: invalid auth options: auth: invalid auth signature method \"\""},
      {"jwt,priv-key=k,sign-method=XS256",
       "auth: invalid auth options: auth: invalid auth signature method \"XS256\""},
      {"jwt,priv-key=k,sign-method=none",
       "auth: invalid auth options: auth: invalid auth signature method \"none\""},
      {"jwt,pub-key=a.pem,sign-method=HS256",
       "auth: missing key data (sign-method HS256 needs priv-key)"},
      {"jwt,sign-method=RS256",
       "auth: missing key data (sign-method RS256 needs priv-key or pub-key)"},
      {"jwt,priv-key=k,sign-method=RS256,ttl=5",
       "auth: invalid auth options: time: missing unit in duration \"5\""},
      {"jwt,sign-method",
       "auth: invalid auth options: option \"sign-method\" is not of the form key=value"},
      {"jwt,a=b=c", "auth: invalid auth options: option \"a=b=c\" is not of the form key=value"},
      {"jwt,ttl=1m,ttl=2m", "auth: invalid auth options: option \"ttl\" is given twice"},
      {"oauth", "auth: invalid auth options: unknown token type \"oauth\" (use simple or jwt)"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AuthTokenOptions> got = ParseAuthToken(c.value);
    if (c.error.empty()) {
      EXPECT_OK(got) << c.value;
    } else {
      ASSERT_FALSE(got.ok()) << c.value;
      EXPECT_EQ(got.status().message(), c.error) << c.value;
    }
  }
  ASSERT_OK_AND_ASSIGN(
      AuthTokenOptions jwt,
      ParseAuthToken("jwt,pub-key=a.pem,priv-key=a.key,sign-method=RS256,ttl=10m"));
  EXPECT_EQ(jwt.type, "jwt");
  EXPECT_EQ(jwt.sign_method, "RS256");
  EXPECT_EQ(jwt.public_key_file, "a.pem");
  EXPECT_EQ(jwt.private_key_file, "a.key");
  EXPECT_EQ(jwt.ttl, absl::Minutes(10));
  ASSERT_OK_AND_ASSIGN(jwt, ParseAuthToken("jwt,priv-key=k,sign-method=HS512"));
  EXPECT_EQ(jwt.ttl, absl::Minutes(5));
}

TEST(ConfigTest, AutoCompactionSettings) {
  struct Case {
    const char* mode;
    const char* retention;
    absl::Duration period;
    int64_t revisions;
  };
  const Case cases[] = {
      {"periodic", "0", absl::ZeroDuration(), 0},       {"periodic", "5", absl::Hours(5), 0},
      {"periodic", "30m", absl::Minutes(30), 0},        {"periodic", "1h30m", absl::Minutes(90), 0},
      {"revision", "1000", absl::ZeroDuration(), 1000}, {"", "2", absl::Hours(2), 0},
  };
  for (const Case& c : cases) {
    Config config;
    config.auto_compaction_mode = c.mode;
    config.auto_compaction_retention = c.retention;
    ASSERT_OK_AND_ASSIGN(AutoCompaction got, config.AutoCompactionSettings());
    EXPECT_EQ(got.period, c.period) << c.mode << " " << c.retention;
    EXPECT_EQ(got.revisions, c.revisions) << c.mode << " " << c.retention;
    EXPECT_EQ(got.enabled(), c.period > absl::ZeroDuration() || c.revisions > 0);
  }
  Config config;
  config.auto_compaction_retention = "-1";
  EXPECT_FALSE(config.AutoCompactionSettings().ok());
}

TEST(ConfigTest, EffectiveValues) {
  Config c;
  c.data_dir = "/d";
  EXPECT_EQ(c.EffectiveWalDir(), "/d/member/wal");
  c.wal_dir = "/w";
  EXPECT_EQ(c.EffectiveWalDir(), "/w");
  c.quota_backend_bytes = 1024;
  EXPECT_EQ(c.EffectiveQuotaBackendBytes(), 1024);
  c.quota_backend_bytes = -1;
  EXPECT_EQ(c.EffectiveQuotaBackendBytes(), -1);
}

TEST(ConfigTest, SummaryNamesTheMainSettings) {
  Config c;
  c.data_dir = "default.etcd";
  bool found_name = false;
  for (const auto& [key, value] : c.Summary()) {
    if (key == "name") {
      found_name = true;
      EXPECT_EQ(value, "default");
    }
    if (key == "initial-cluster") {
      EXPECT_EQ(value, "default=http://localhost:2380");
    }
    if (key == "heartbeat-interval") {
      EXPECT_EQ(value, "100ms");
    }
  }
  EXPECT_TRUE(found_name);
}

}  // namespace
}  // namespace etcd::embed
