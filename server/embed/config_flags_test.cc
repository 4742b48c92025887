#include "server/embed/config_flags.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "pkg/testutil/status_matchers.h"

namespace etcd::embed {
namespace {

ParseResult ParseArgs(std::vector<std::string> args, std::vector<std::string> env = {}) {
  ParseOptions options;
  options.environment = std::move(env);
  return ParseCommandLine(args, options);
}

// The notice with `message`, or nullptr.
const Notice* FindNotice(const ParseResult& result, absl::string_view message) {
  for (const Notice& notice : result.notices) {
    if (notice.message == message) return &notice;
  }
  return nullptr;
}

TEST(ParseCommandLineTest, NoFlagsGiveEtcdsDefaults) {
  ParseResult result = ParseArgs({});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_EQ(result.exit_code(), 0);
  const Config& c = result.config;
  EXPECT_EQ(c.name, "default");
  EXPECT_EQ(c.data_dir, "default.etcd");
  EXPECT_EQ(c.initial_cluster, "default=http://localhost:2380");
  EXPECT_EQ(c.listen_client_urls.String(), "http://localhost:2379");
  EXPECT_EQ(c.advertise_client_urls.String(), "http://localhost:2379");
  ASSERT_NE(FindNotice(result, "'data-dir' was empty; using default"), nullptr);
}

TEST(ParseCommandLineTest, EveryFlagKind) {
  ParseResult result = ParseArgs({
      "--name=m1",  // string
      "--data-dir",
      "/var/lib/etcd",                                                    // string, separate value
      "-snapshot-count=5000",                                             // uint, single dash
      "--heartbeat-interval=50",                                          // uint
      "--election-timeout=0x1f4",                                         // uint, hex like Go
      "--quota-backend-bytes=-1",                                         // int64
      "--backend-batch-limit=10",                                         // int
      "--max-concurrent-streams=100",                                     // uint32
      "--grpc-keepalive-interval=90m",                                    // duration
      "--backend-batch-interval=10ms",                                    // duration
      "--pre-vote=false",                                                 // bool with value
      "--force-new-cluster",                                              // bool alone
      "--listen-client-urls=http://127.0.0.1:2379,http://10.0.0.1:2379",  // URL list
      "--advertise-client-urls=http://10.0.0.1:2379",
      "--initial-cluster-state=existing",  // choice
      "--v2-deprecation=write-only",       // multi choice
      "--cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA",
      "--host-whitelist=b.example,a.example,b.example",  // unique strings
      "--log-outputs=stdout,stderr",                     // unique strings
      "--cors=http://a.example:80",                      // URL strings
      "--peer-cert-allowed-cn=a,b",                      // strings
      "--cert-file=c.crt",
      "--key-file=c.key",
      "--client-cert-auth",
      "--peer-trusted-ca-file=ca.crt",
      "--peer-auto-tls",
      "--experimental-peer-skip-client-san-verification",
      "--auth-token=jwt,priv-key=k,sign-method=HS256",
      "--log-level=debug",
      "--experimental-corrupt-check-time=3m",
      "--experimental-compaction-batch-limit=500",
      "--unsafe-no-fsync",
  });
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  const Config& c = result.config;
  EXPECT_EQ(c.name, "m1");
  EXPECT_EQ(c.data_dir, "/var/lib/etcd");
  EXPECT_EQ(c.snapshot_count, 5000u);
  EXPECT_EQ(c.heartbeat_interval_ms, 50u);
  EXPECT_EQ(c.election_timeout_ms, 500u);
  EXPECT_EQ(c.quota_backend_bytes, -1);
  EXPECT_EQ(c.backend_batch_limit, 10);
  EXPECT_EQ(c.max_concurrent_streams, 100u);
  EXPECT_EQ(c.grpc_keepalive_interval, absl::Minutes(90));
  EXPECT_EQ(c.backend_batch_interval, absl::Milliseconds(10));
  EXPECT_FALSE(c.pre_vote);
  EXPECT_TRUE(c.force_new_cluster);
  EXPECT_EQ(c.listen_client_urls.String(), "http://10.0.0.1:2379,http://127.0.0.1:2379");
  EXPECT_EQ(c.initial_cluster_state, "existing");
  EXPECT_EQ(c.v2_deprecation, "write-only");
  EXPECT_EQ(c.cipher_suites, (std::vector<std::string>{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                                       "TLS_RSA_WITH_AES_128_CBC_SHA"}));
  EXPECT_EQ(c.host_whitelist, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(c.log_outputs, (std::vector<std::string>{"stderr", "stdout"}));
  EXPECT_EQ(c.cors, std::vector<std::string>{"http://a.example:80"});
  EXPECT_EQ(c.peer_tls.allowed_cns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.client_tls.cert_file, "c.crt");
  EXPECT_EQ(c.client_tls.key_file, "c.key");
  EXPECT_TRUE(c.client_tls.client_cert_auth);
  EXPECT_TRUE(c.client_tls.Enabled());
  EXPECT_EQ(c.peer_tls.trusted_ca_file, "ca.crt");
  EXPECT_TRUE(c.peer_tls.auto_tls);
  EXPECT_TRUE(c.peer_tls.skip_client_san_verification);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.experimental_corrupt_check_time, absl::Minutes(3));
  EXPECT_EQ(c.experimental_compaction_batch_limit, 500);
  EXPECT_TRUE(c.unsafe_no_fsync);
  // --name changed and --initial-cluster did not: the cluster follows the name.
  EXPECT_EQ(c.initial_cluster, "m1=http://localhost:2380");
}

TEST(ParseCommandLineTest, FlagErrorsExitTwo) {
  struct Case {
    std::vector<std::string> args;
    const char* error;
  };
  const Case cases[] = {
      {{"--bogus"}, "flag provided but not defined: -bogus"},
      {{"--debug"}, "flag provided but not defined: -debug"},  // Removed in etcd 3.5.
      {{"--name"}, "flag needs an argument: -name"},
      {{"--heartbeat-interval=abc"},
       "invalid value \"abc\" for flag -heartbeat-interval: parse error"},
      {{"--snapshot-count=1e3"}, "invalid value \"1e3\" for flag -snapshot-count: parse error"},
      {{"--max-concurrent-streams=-1"},
       "invalid value \"-1\" for flag -max-concurrent-streams: parse error"},
      {{"--strict-reconfig-check=maybe"},
       "invalid boolean value \"maybe\" for -strict-reconfig-check: parse error"},
      {{"--grpc-keepalive-min-time=5"},
       "invalid value \"5\" for flag -grpc-keepalive-min-time: time: missing unit in duration "
       "\"5\""},
      {{"--initial-cluster-state=foo"},
       "invalid value \"foo\" for flag -initial-cluster-state: invalid value"},
      {{"--listen-client-urls=foo"},
       "invalid value \"foo\" for flag -listen-client-urls: URL scheme must be http, https, "
       "unix, or unixs: foo"},
      {{"--listen-peer-urls=http://10.0.0.1:2380/path"},
       "invalid value \"http://10.0.0.1:2380/path\" for flag -listen-peer-urls: URL must not "
       "contain a path: http://10.0.0.1:2380/path"},
      {{"--discovery-fallback=retry"},
       "invalid value \"retry\" for flag -discovery-fallback: invalid value"},
      {{"---name=x"}, "bad flag syntax: ---name=x"},
  };
  for (const Case& c : cases) {
    ParseResult result = ParseArgs(c.args);
    EXPECT_EQ(result.outcome, ParseOutcome::kFlagError) << c.args[0];
    EXPECT_EQ(result.exit_code(), 2) << c.args[0];
    EXPECT_EQ(result.status.message(), c.error) << c.args[0];
  }
}

TEST(ParseCommandLineTest, ConfigErrorsExitOne) {
  struct Case {
    std::vector<std::string> args;
    const char* error;
  };
  const Case cases[] = {
      {{"extra"}, "'extra' is not a valid flag"},
      {{"--name=a", "--", "--name=b"}, "'--name=b' is not a valid flag"},
      {{"--election-timeout=400"},
       "--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]"},
      {{"--election-timeout=60000", "--heartbeat-interval=1000"},
       "--election-timeout[60000ms] is too long, and should be set less than 50000ms"},
      {{"--auto-compaction-mode=foo"}, "unknown auto-compaction-mode \"foo\""},
      {{"--listen-peer-urls=http://example.com:2380"},
       "expected IP in URL for binding (http://example.com:2380)"},
      {{"--listen-client-urls=http://10.0.0.1:2379"},
       "--advertise-client-urls is required when --listen-client-urls is set explicitly"},
      {{"--initial-advertise-peer-urls=http://:2380"},
       "--initial-advertise-peer-urls \"http://:2380\" must be \"host:port\" (unexpected empty "
       "host (http://:2380))"},
      {{"--log-level=loud"},
       "unknown --log-level \"loud\" (use debug, info, warn, error, dpanic, panic or fatal)"},
      {{"--logger=capnslog"}, "--logger=capnslog is removed in v3.5"},
      {{"--initial-cluster=default=http://localhost:2380", "--discovery-srv=example.com"},
       "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", "
       "\"discovery\" or \"discovery-srv\""},
      {{"--auth-token=jwt,sign-method=RS256"},
       "invalid --auth-token \"jwt,sign-method=RS256\": auth: missing key data (sign-method "
       "RS256 needs priv-key or pub-key)"},
  };
  for (const Case& c : cases) {
    ParseResult result = ParseArgs(c.args);
    EXPECT_EQ(result.outcome, ParseOutcome::kConfigError) << c.args[0];
    EXPECT_EQ(result.exit_code(), 1) << c.args[0];
    EXPECT_EQ(result.status.message(), c.error) << c.args[0];
  }
}

TEST(ParseCommandLineTest, HelpAndVersion) {
  for (const char* help : {"-h", "--help", "-help"}) {
    ParseResult result = ParseArgs({"--name=x", help, "--bogus"});
    EXPECT_EQ(result.outcome, ParseOutcome::kHelp) << help;
    EXPECT_EQ(result.exit_code(), 0);
  }
  ParseResult result = ParseArgs({"--version"});
  EXPECT_EQ(result.outcome, ParseOutcome::kVersion);
  EXPECT_EQ(result.exit_code(), 0);
  // Version wins over a bad configuration, as in etcd; not over bad flags.
  EXPECT_EQ(ParseArgs({"--version", "--election-timeout=1"}).outcome, ParseOutcome::kVersion);
  EXPECT_EQ(ParseArgs({"--version", "--bogus"}).outcome, ParseOutcome::kFlagError);
  EXPECT_EQ(ParseArgs({"--version=false", "--election-timeout=1"}).outcome,
            ParseOutcome::kConfigError);
}

TEST(ParseCommandLineTest, ListenClientURLsWithoutAdvertiseFromEnvironmentToo) {
  ParseResult result = ParseArgs({}, {"ETCD_LISTEN_CLIENT_URLS=http://10.0.0.1:2379"});
  EXPECT_EQ(result.outcome, ParseOutcome::kConfigError);
  result = ParseArgs({"--listen-client-urls=http://10.0.0.1:2379",
                      "--advertise-client-urls=http://10.0.0.1:2379"});
  EXPECT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
}

TEST(ParseCommandLineTest, EnvironmentVariablesSetFlags) {
  ParseResult result = ParseArgs(
      {"--name=m1"}, {"ETCD_HEARTBEAT_INTERVAL=20", "ETCD_ELECTION_TIMEOUT=200",
                      "ETCD_INITIAL_CLUSTER_STATE=existing", "ETCD_PRE_VOTE=false",
                      "ETCD_EXPERIMENTAL_CORRUPT_CHECK_TIME=1m", "ETCD_LOG_OUTPUTS=stdout",
                      "ETCD_SNAPSHOT_COUNT=",  // Empty: not used.
                      "PATH=/usr/bin"});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_EQ(result.config.heartbeat_interval_ms, 20u);
  EXPECT_EQ(result.config.election_timeout_ms, 200u);
  EXPECT_EQ(result.config.initial_cluster_state, "existing");
  EXPECT_FALSE(result.config.pre_vote);
  EXPECT_EQ(result.config.experimental_corrupt_check_time, absl::Minutes(1));
  EXPECT_EQ(result.config.log_outputs, std::vector<std::string>{"stdout"});
  EXPECT_EQ(result.config.snapshot_count, 100000u);
  const Notice* used = FindNotice(result, "recognized and used environment variable");
  ASSERT_NE(used, nullptr);
  EXPECT_EQ(used->level, log::Level::kInfo);
  int recognized = 0;
  for (const Notice& notice : result.notices) {
    recognized += notice.message == "recognized and used environment variable";
  }
  EXPECT_EQ(recognized, 6);
}

TEST(ParseCommandLineTest, CommandLineFlagShadowingAVariableIsAnError) {
  ParseResult result = ParseArgs({"--name=bar"}, {"ETCD_NAME=foo"});
  EXPECT_EQ(result.outcome, ParseOutcome::kConfigError);
  EXPECT_EQ(result.exit_code(), 1);
  EXPECT_EQ(result.status.message(),
            "conflicting environment variable \"ETCD_NAME\" is shadowed by corresponding "
            "command-line flag (either unset environment variable or disable flag)");
  // Even an empty variable conflicts, as in etcd.
  EXPECT_EQ(ParseArgs({"--name=bar"}, {"ETCD_NAME="}).outcome, ParseOutcome::kConfigError);
  // Other variables are still fine.
  EXPECT_EQ(ParseArgs({"--name=bar"}, {"ETCD_MAX_WALS=3"}).outcome, ParseOutcome::kRun);
}

TEST(ParseCommandLineTest, BadEnvironmentValues) {
  ParseResult result = ParseArgs({}, {"ETCD_ELECTION_TIMEOUT=abc"});
  EXPECT_EQ(result.outcome, ParseOutcome::kConfigError);
  EXPECT_EQ(result.status.message(),
            "invalid value \"abc\" for ETCD_ELECTION_TIMEOUT: parse error");
  // Values are validated like flags afterwards.
  result = ParseArgs({}, {"ETCD_ELECTION_TIMEOUT=1"});
  EXPECT_EQ(result.status.message(),
            "--election-timeout[1ms] should be at least as 5 times as --heartbeat-interval[100ms]");
}

TEST(ParseCommandLineTest, UnknownAndSpecialVariables) {
  ParseResult result = ParseArgs({}, {"ETCD_BOGUS=1", "ETCD_VERSION=1", "HOME=/root"});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  const Notice* unknown = FindNotice(result, "unrecognized environment variable");
  ASSERT_NE(unknown, nullptr);
  EXPECT_EQ(unknown->level, log::Level::kWarn);
  ASSERT_EQ(unknown->fields.size(), 1u);
  EXPECT_EQ(unknown->fields[0].second, "ETCD_BOGUS=1");
  EXPECT_NE(FindNotice(result, "cannot set special environment variable"), nullptr);
  int unrecognized = 0;
  for (const Notice& notice : result.notices) {
    unrecognized += notice.message == "unrecognized environment variable";
  }
  EXPECT_EQ(unrecognized, 1);  // Not ETCD_VERSION, not HOME.
}

TEST(ParseCommandLineTest, DiscoveryClearsTheDefaultInitialCluster) {
  ParseResult result = ParseArgs({"--discovery-srv=example.com"});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_EQ(result.config.initial_cluster, "");
  result = ParseArgs({"--discovery=https://discovery.example/abc"});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_EQ(result.config.initial_cluster, "");
}

TEST(ParseCommandLineTest, InitialClusterFollowsNameAndAdvertisedPeers) {
  ParseResult result =
      ParseArgs({"--name=infra0", "--initial-advertise-peer-urls=http://10.0.0.1:2380",
                 "--listen-peer-urls=http://10.0.0.1:2380"});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_EQ(result.config.initial_cluster, "infra0=http://10.0.0.1:2380");
  EXPECT_EQ(result.config.data_dir, "infra0.etcd");
  // An explicit --initial-cluster is kept as given.
  result = ParseArgs({"--name=infra0",
                      "--initial-cluster=infra0=http://10.0.0.1:2380,"
                      "infra1=http://10.0.0.2:2380"});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_EQ(result.config.initial_cluster,
            "infra0=http://10.0.0.1:2380,infra1=http://10.0.0.2:2380");
  // The default name keeps the default cluster even with other peer URLs, as
  // etcd does (the server then reports the mismatch).
  result = ParseArgs({"--initial-advertise-peer-urls=http://10.0.0.1:2380"});
  EXPECT_EQ(result.config.initial_cluster, "default=http://localhost:2380");
}

TEST(ParseCommandLineTest, FinalDefaults) {
  ParseResult result = ParseArgs({"--snapshot-count=0", "--bcrypt-cost=40"});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_EQ(result.config.snapshot_count, 100000u);
  EXPECT_EQ(result.config.bcrypt_cost, 10u);
  EXPECT_NE(FindNotice(result, "use default bcrypt cost instead of the invalid given cost"),
            nullptr);
  EXPECT_EQ(ParseArgs({"--bcrypt-cost=4"}).config.bcrypt_cost, 4u);
  result = ParseArgs({"--raft-read-timeout=1s", "--raft-write-timeout=7s"});
  EXPECT_EQ(result.config.raft_read_timeout, absl::Seconds(5));
  EXPECT_EQ(result.config.raft_write_timeout, absl::Seconds(7));
  EXPECT_NE(FindNotice(result, "raft-read-timeout increased to minimum value: 5s"), nullptr);
}

TEST(ParseCommandLineTest, IgnoredLegacyFlags) {
  ParseResult result = ParseArgs({"--snapshot", "-v", "--peer-election-timeout=5"});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_NE(FindNotice(result, "ignored a flag that is no longer supported"), nullptr);
}

TEST(ParseCommandLineTest, RelativePathsFollowBuildWorkingDirectory) {
  const std::vector<std::string> args = {"--name=m1",
                                         "--wal-dir=wal",
                                         "--cert-file=tls/c.crt",
                                         "--key-file=/abs/c.key",
                                         "--peer-trusted-ca-file=ca.crt",
                                         "--log-outputs=stderr,logs/etcd.log"};
  ParseResult result = ParseArgs(args, {"BUILD_WORKING_DIRECTORY=/home/me/src/"});
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  const Config& c = result.config;
  EXPECT_EQ(c.data_dir, "/home/me/src/m1.etcd");
  EXPECT_EQ(c.wal_dir, "/home/me/src/wal");
  EXPECT_EQ(c.client_tls.cert_file, "/home/me/src/tls/c.crt");
  EXPECT_EQ(c.client_tls.key_file, "/abs/c.key");
  EXPECT_EQ(c.peer_tls.trusted_ca_file, "/home/me/src/ca.crt");
  EXPECT_EQ(c.client_tls.crl_file, "");
  EXPECT_EQ(c.log_outputs, (std::vector<std::string>{"/home/me/src/logs/etcd.log", "stderr"}));

  // Without it, paths stay relative to the process's working directory.
  result = ParseArgs(args);
  ASSERT_EQ(result.outcome, ParseOutcome::kRun) << result.status;
  EXPECT_EQ(result.config.data_dir, "m1.etcd");
  EXPECT_EQ(result.config.wal_dir, "wal");
  EXPECT_EQ(result.config.client_tls.cert_file, "tls/c.crt");
}

TEST(FlagsHelpTextTest, ListsEveryVisibleFlagWithItsDefault) {
  const std::string help = FlagsHelpText();
  for (const char* line :
       {"  --name 'default'\n", "  --data-dir '${name}.etcd'\n", "  --snapshot-count '100000'\n",
        "  --heartbeat-interval '100'\n", "  --election-timeout '1000'\n",
        "  --listen-peer-urls 'http://localhost:2380'\n",
        "  --initial-cluster 'default=http://localhost:2380'\n",
        "  --initial-cluster-state 'new'\n", "  --grpc-keepalive-interval '2h'\n",
        "  --backend-batch-interval ''\n", "  --pre-vote 'true'\n", "  --logger 'zap'\n",
        "  --experimental-watch-progress-notify-interval '10m'\n",
        "  --max-concurrent-streams '4294967295'\n", "  --auth-token 'simple'\n", "  --cors '*'\n",
        "  --wal-dir ''\n"}) {
    EXPECT_TRUE(absl::StrContains(help, line)) << line;
  }
  for (const std::string& name : KnownFlagNames()) {
    if (name == "config-file" || name == "version") continue;
    ASSERT_OK_AND_ASSIGN(std::string shown, FlagDefaultText(name));
    const bool ignored = shown.empty() && !absl::StrContains(help, absl::StrCat("--", name, " "));
    if (ignored) continue;  // Legacy flags are accepted but not listed.
    EXPECT_TRUE(absl::StrContains(help, absl::StrCat("  --", name, " '"))) << name;
  }
  EXPECT_TRUE(absl::StrContains(UsageText(), "etcd --config-file"));
}

TEST(KnownFlagNamesTest, SortedAndComplete) {
  const std::vector<std::string> names = KnownFlagNames();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (const char* name : {"name", "config-file", "version", "listen-client-http-urls",
                           "experimental-initial-corrupt-check", "unsafe-no-fsync", "snapshot"}) {
    EXPECT_TRUE(std::binary_search(names.begin(), names.end(), name)) << name;
  }
  EXPECT_EQ(FlagDefaultText("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST(VersionTextTest, EtcdShape) {
  const std::string text = VersionText();
  EXPECT_TRUE(absl::StartsWith(text, "etcd Version: 3.5.0\nGit SHA: ")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\nGo Version: ")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\nGo OS/Arch: linux/")) << text;
}

}  // namespace
}  // namespace etcd::embed
