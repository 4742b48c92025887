// --config-file: etcd.conf.yml keys, precedence over flags and variables,
// errors, and path resolution.

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "server/embed/config_flags.h"

namespace etcd::embed {
namespace {

absl::StatusOr<Config> FromYaml(const std::string& text, std::vector<Notice>* notices = nullptr) {
  return ConfigFromYaml(text, "etcd.conf.yml", ParseOptions(), notices);
}

// Every key of etcd's etcd.conf.yml.sample and the other config file keys.
constexpr char kFullFile[] = R"(# A member of a three-member cluster.
name: 'infra1'
data-dir: /var/lib/etcd/infra1
wal-dir: /wal/infra1
snapshot-count: 10000
heartbeat-interval: 150
election-timeout: 1500
quota-backend-bytes: 4294967296
listen-peer-urls: http://10.0.0.2:2380
listen-client-urls: http://10.0.0.2:2379,http://127.0.0.1:2379
listen-client-http-urls: http://10.0.0.2:2381
listen-metrics-urls: http://127.0.0.1:2382
max-snapshots: 3
max-wals: 4
cors: http://dashboard.example:8080
initial-advertise-peer-urls: http://10.0.0.2:2380
advertise-client-urls: http://10.0.0.2:2379
discovery:
discovery-fallback: 'exit'
discovery-proxy:
discovery-srv:
initial-cluster: infra0=http://10.0.0.1:2380,infra1=http://10.0.0.2:2380,infra2=http://10.0.0.3:2380
initial-cluster-token: 'etcd-cluster-1'
initial-cluster-state: 'existing'
strict-reconfig-check: false
enable-v2: false
enable-pprof: true
proxy: 'off'
proxy-failure-wait: 5000
proxy-refresh-interval: 30000
proxy-dial-timeout: 1000
proxy-write-timeout: 5000
proxy-read-timeout: 0
client-transport-security:
  cert-file: /tls/client.crt
  key-file: /tls/client.key
  client-cert-auth: true
  trusted-ca-file: /tls/ca.crt
  auto-tls: false
peer-transport-security:
  cert-file: /tls/peer.crt
  key-file: /tls/peer.key
  client-cert-auth: yes
  trusted-ca-file: /tls/ca.crt
  auto-tls: false
  allowed-cn: etcd-peer
self-signed-cert-validity: 2
log-level: debug
logger: zap
log-outputs: [stderr]
force-new-cluster: false
auto-compaction-mode: periodic
auto-compaction-retention: "1"
cipher-suites: [
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
]
tls-min-version: 'TLS1.2'
tls-max-version: 'TLS1.3'
max-txn-ops: 256
max-request-bytes: 10485760
grpc-keepalive-min-time: 10000000000
grpc-keepalive-interval: 3600000000000
grpc-keepalive-timeout: 30s
pre-vote: true
auth-token: jwt,pub-key=/tls/jwt.pub,priv-key=/tls/jwt.key,sign-method=RS256,ttl=10m
bcrypt-cost: 12
auth-token-ttl: 600
metrics: extensive
host-whitelist: a.example,b.example
experimental-initial-corrupt-check: true
experimental-corrupt-check-time: 300000000000
experimental-enable-lease-checkpoint: true
experimental-compaction-batch-limit: 200
experimental-watch-progress-notify-interval: 600000000000
unsafe-no-fsync: false
backend-batch-interval: 100000000
backend-batch-limit: 1000
max-concurrent-streams: 1000
)";

TEST(ConfigFileTest, EveryKey) {
  ASSERT_OK_AND_ASSIGN(Config c, FromYaml(kFullFile));
  EXPECT_EQ(c.name, "infra1");
  EXPECT_EQ(c.data_dir, "/var/lib/etcd/infra1");
  EXPECT_EQ(c.wal_dir, "/wal/infra1");
  EXPECT_EQ(c.snapshot_count, 10000u);
  EXPECT_EQ(c.heartbeat_interval_ms, 150u);
  EXPECT_EQ(c.election_timeout_ms, 1500u);
  EXPECT_EQ(c.quota_backend_bytes, 4294967296);
  EXPECT_EQ(c.listen_peer_urls.String(), "http://10.0.0.2:2380");
  EXPECT_EQ(c.listen_client_urls.String(), "http://10.0.0.2:2379,http://127.0.0.1:2379");
  EXPECT_EQ(c.listen_client_http_urls.String(), "http://10.0.0.2:2381");
  EXPECT_EQ(c.listen_metrics_urls.String(), "http://127.0.0.1:2382");
  EXPECT_EQ(c.max_snapshots, 3u);
  EXPECT_EQ(c.max_wals, 4u);
  EXPECT_EQ(c.cors, std::vector<std::string>{"http://dashboard.example:8080"});
  EXPECT_EQ(c.initial_advertise_peer_urls.String(), "http://10.0.0.2:2380");
  EXPECT_EQ(c.advertise_client_urls.String(), "http://10.0.0.2:2379");
  EXPECT_EQ(c.discovery, "");
  EXPECT_EQ(c.discovery_fallback, "exit");
  EXPECT_EQ(c.initial_cluster,
            "infra0=http://10.0.0.1:2380,infra1=http://10.0.0.2:2380,infra2=http://10.0.0.3:2380");
  EXPECT_EQ(c.initial_cluster_token, "etcd-cluster-1");
  EXPECT_EQ(c.initial_cluster_state, "existing");
  EXPECT_FALSE(c.strict_reconfig_check);
  EXPECT_TRUE(c.enable_pprof);
  EXPECT_EQ(c.client_tls.cert_file, "/tls/client.crt");
  EXPECT_EQ(c.client_tls.key_file, "/tls/client.key");
  EXPECT_TRUE(c.client_tls.client_cert_auth);
  EXPECT_EQ(c.client_tls.trusted_ca_file, "/tls/ca.crt");
  EXPECT_EQ(c.peer_tls.cert_file, "/tls/peer.crt");
  EXPECT_TRUE(c.peer_tls.client_cert_auth);
  EXPECT_EQ(c.peer_tls.allowed_cns, std::vector<std::string>{"etcd-peer"});
  EXPECT_EQ(c.self_signed_cert_validity, 2u);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_outputs, std::vector<std::string>{"stderr"});
  EXPECT_EQ(c.auto_compaction_retention, "1");
  EXPECT_EQ(c.cipher_suites, (std::vector<std::string>{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                                       "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}));
  EXPECT_EQ(c.tls_max_version, "TLS1.3");
  EXPECT_EQ(c.max_txn_ops, 256u);
  EXPECT_EQ(c.max_request_bytes, 10485760u);
  EXPECT_EQ(c.grpc_keepalive_min_time, absl::Seconds(10));
  EXPECT_EQ(c.grpc_keepalive_interval, absl::Hours(1));
  EXPECT_EQ(c.grpc_keepalive_timeout, absl::Seconds(30));
  EXPECT_EQ(c.auth_token,
            "jwt,pub-key=/tls/jwt.pub,priv-key=/tls/jwt.key,sign-method=RS256,ttl=10m");
  EXPECT_EQ(c.bcrypt_cost, 12u);
  EXPECT_EQ(c.auth_token_ttl, 600u);
  EXPECT_EQ(c.metrics, "extensive");
  EXPECT_EQ(c.host_whitelist, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_TRUE(c.experimental_initial_corrupt_check);
  EXPECT_EQ(c.experimental_corrupt_check_time, absl::Minutes(5));
  EXPECT_TRUE(c.experimental_enable_lease_checkpoint);
  EXPECT_EQ(c.experimental_compaction_batch_limit, 200);
  EXPECT_EQ(c.experimental_watch_progress_notify_interval, absl::Minutes(10));
  EXPECT_EQ(c.backend_batch_interval, absl::Milliseconds(100));
  EXPECT_EQ(c.backend_batch_limit, 1000);
  EXPECT_EQ(c.max_concurrent_streams, 1000u);
}

TEST(ConfigFileTest, EmptyFileGivesDefaults) {
  ASSERT_OK_AND_ASSIGN(Config c, FromYaml(""));
  EXPECT_EQ(c.name, "default");
  EXPECT_EQ(c.data_dir, "default.etcd");
  EXPECT_EQ(c.initial_cluster, "default=http://localhost:2380");
  EXPECT_TRUE(c.pre_vote);
}

TEST(ConfigFileTest, NullValuesKeepDefaults) {
  ASSERT_OK_AND_ASSIGN(Config c, FromYaml("name:\ndata-dir:\ncors:\ninitial-cluster:\n"
                                          "listen-client-urls: ''\n"));
  EXPECT_EQ(c.name, "default");
  EXPECT_EQ(c.data_dir, "default.etcd");
  EXPECT_EQ(c.cors, std::vector<std::string>{"*"});
  EXPECT_EQ(c.initial_cluster, "default=http://localhost:2380");
  EXPECT_EQ(c.listen_client_urls.String(), "http://localhost:2379");
}

TEST(ConfigFileTest, NameAloneSetsTheInitialCluster) {
  ASSERT_OK_AND_ASSIGN(Config c, FromYaml("name: m7\n"));
  EXPECT_EQ(c.initial_cluster, "m7=http://localhost:2380");
  EXPECT_EQ(c.data_dir, "m7.etcd");
}

TEST(ConfigFileTest, DiscoveryClearsTheDefaultInitialCluster) {
  ASSERT_OK_AND_ASSIGN(Config c, FromYaml("discovery-srv: example.com\n"));
  EXPECT_EQ(c.initial_cluster, "");
}

TEST(ConfigFileTest, UnknownKeysAreIgnoredWithANotice) {
  std::vector<Notice> notices;
  ASSERT_OK_AND_ASSIGN(Config c, FromYaml("name: m1\nbogus-key: 1\n"
                                          "client-transport-security:\n  bogus: 2\n"
                                          "version: true\n",
                                          &notices));
  EXPECT_EQ(c.name, "m1");
  std::vector<std::string> keys;
  for (const Notice& notice : notices) {
    if (notice.message == "ignored unknown key in configuration file") {
      keys.push_back(notice.fields[1].second);
    }
  }
  EXPECT_EQ(keys,
            (std::vector<std::string>{"bogus-key", "client-transport-security.bogus", "version"}));
}

TEST(ConfigFileTest, KeysMatchCaseInsensitively) {
  ASSERT_OK_AND_ASSIGN(Config c, FromYaml("Election-Timeout: 2000\nNAME: m1\n"));
  EXPECT_EQ(c.election_timeout_ms, 2000u);
  EXPECT_EQ(c.name, "m1");
}

TEST(ConfigFileTest, ListsAsSequencesOrCommaSeparated) {
  ASSERT_OK_AND_ASSIGN(Config c, FromYaml("listen-client-urls: [http://127.0.0.1:1, "
                                          "http://127.0.0.2:1]\n"
                                          "advertise-client-urls: http://a:1\n"
                                          "log-outputs: stdout,stderr\n"));
  EXPECT_EQ(c.listen_client_urls.String(), "http://127.0.0.1:1,http://127.0.0.2:1");
  EXPECT_EQ(c.log_outputs, (std::vector<std::string>{"stderr", "stdout"}));
}

TEST(ConfigFileTest, Errors) {
  struct Case {
    const char* yaml;
    const char* error;  // A substring of the message.
  };
  const Case cases[] = {
      {"heartbeat-interval: abc\n",
       "config file etcd.conf.yml: line 1: invalid value \"abc\" for \"heartbeat-interval\": "
       "parse error"},
      {"heartbeat-interval: -5\n", "invalid value \"-5\" for \"heartbeat-interval\": parse error"},
      {"heartbeat-interval: 1.5\n", "for \"heartbeat-interval\": parse error"},
      {"name: [a, b]\n", "invalid value a list for \"name\": expected a single value"},
      {"name: [a\n", "config file etcd.conf.yml: yaml: line "},
      {"- a\n- b\n", "expected a map of settings at the top level"},
      {"strict-reconfig-check: maybe\n", "for \"strict-reconfig-check\": parse error"},
      {"experimental-corrupt-check-time: soon\n", "time: invalid duration \"soon\""},
      {"listen-client-urls: foo\n",
       "invalid value \"foo\" for \"listen-client-urls\": URL scheme must be http, https, unix, "
       "or unixs: foo"},
      {"client-transport-security: yes\n", "\"client-transport-security\" must be a map"},
      {"peer-transport-security:\n  auto-tls: sometimes\n",
       "for \"peer-transport-security.auto-tls\": parse error"},
      {"initial-cluster-state: maybe\n",
       "invalid value \"maybe\" for \"initial-cluster-state\": invalid value"},
      {"election-timeout: 10\n",
       "--election-timeout[10ms] should be at least as 5 times as --heartbeat-interval[100ms]"},
      {"proxy: sideways\n", "invalid value \"sideways\" for \"proxy\": invalid value"},
      {"proxy: on\n", "--proxy=on: the v2 proxy is not supported"},
      {"discovery-fallback: retry\n", "invalid value \"retry\" for \"discovery-fallback\""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Config> got = FromYaml(c.yaml);
    ASSERT_FALSE(got.ok()) << c.yaml;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_TRUE(absl::StrContains(got.status().message(), c.error))
        << c.yaml << " -> " << got.status();
  }
}

class ConfigFileFlagTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("config_file"));
    dir_.emplace(std::move(dir));
    ASSERT_OK(testutil::WriteFile(Join("etcd.yml"), "name: from-file\nmax-wals: 9\n"));
  }

  std::string Join(absl::string_view name) const { return dir_->Join(name); }

  ParseResult Parse(std::vector<std::string> args, std::vector<std::string> env = {}) {
    ParseOptions options;
    options.environment = std::move(env);
    return ParseCommandLine(args, options);
  }

  std::optional<testutil::TempDir> dir_;
};

TEST_F(ConfigFileFlagTest, FileWinsOverFlagsAndVariables) {
  ParseResult result =
      Parse({"--config-file", Join("etcd.yml"), "--name=from-flag", "--election-timeout=1"},
            {"ETCD_MAX_WALS=1", "ETCD_NAME=from-env"});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_EQ(result.config.name, "from-file");
  EXPECT_EQ(result.config.max_wals, 9u);
  EXPECT_EQ(result.config.election_timeout_ms, 1000u);
  EXPECT_EQ(result.config_file, Join("etcd.yml"));
  bool loaded = false;
  for (const Notice& notice : result.notices) {
    loaded |= absl::StartsWith(notice.message, "loaded server configuration");
  }
  EXPECT_TRUE(loaded);
}

TEST_F(ConfigFileFlagTest, FromTheEnvironment) {
  ParseResult result = Parse({}, {"ETCD_CONFIG_FILE=" + Join("etcd.yml")});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_EQ(result.config.name, "from-file");
}

TEST_F(ConfigFileFlagTest, FlagSyntaxIsStillChecked) {
  ParseResult result = Parse({"--config-file", Join("etcd.yml"), "--bogus"});
  EXPECT_EQ(result.outcome, ParseOutcome::kFlagError);
}

TEST_F(ConfigFileFlagTest, MissingFile) {
  ParseResult result = Parse({"--config-file", Join("nope.yml")});
  EXPECT_EQ(result.outcome, ParseOutcome::kConfigError);
  EXPECT_EQ(result.exit_code(), 1);
  EXPECT_EQ(result.status.message(), "open " + Join("nope.yml") + ": No such file or directory");
}

TEST_F(ConfigFileFlagTest, RelativePathsFollowBuildWorkingDirectory) {
  ASSERT_OK(testutil::WriteFile(Join("rel.yml"),
                                "name: m2\nwal-dir: wal\npeer-transport-security:\n"
                                "  cert-file: tls/peer.crt\n"));
  ParseResult result =
      Parse({"--config-file=rel.yml"}, {"BUILD_WORKING_DIRECTORY=" + dir_->path()});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_EQ(result.config_file, Join("rel.yml"));
  EXPECT_EQ(result.config.data_dir, Join("m2.etcd"));
  EXPECT_EQ(result.config.wal_dir, Join("wal"));
  EXPECT_EQ(result.config.peer_tls.cert_file, Join("tls/peer.crt"));

  ASSERT_OK_AND_ASSIGN(Config config, ConfigFromFile("rel.yml", [&] {
                         ParseOptions options;
                         options.environment = {"BUILD_WORKING_DIRECTORY=" + dir_->path()};
                         return options;
                       }()));
  EXPECT_EQ(config.name, "m2");
}

}  // namespace
}  // namespace etcd::embed
