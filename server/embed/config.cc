#include "server/embed/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "pkg/log/encoder.h"
#include "pkg/log/level.h"
#include "pkg/log/log.h"
#include "server/embed/go_values.h"

namespace etcd::embed {
namespace {

absl::Status Invalid(absl::string_view message) { return absl::InvalidArgumentError(message); }

types::URLs DefaultURLs(const char* text) {
  absl::StatusOr<types::URLs> urls = types::URLs::Parse(text);
  // The defaults are constants of this file; failing here is a bug.
  if (!urls.ok()) std::abort();
  return *std::move(urls);
}

// etcd binds only to IP addresses (and "localhost"), never to other names.
absl::Status CheckBindURLs(const types::URLs& urls) {
  for (const types::URL& url : urls) {
    if (url.scheme == "unix" || url.scheme == "unixs") continue;
    if (url.host == "localhost") continue;
    unsigned char buffer[16];
    if (inet_pton(AF_INET, url.host.c_str(), buffer) != 1 &&
        inet_pton(AF_INET6, url.host.c_str(), buffer) != 1) {
      return Invalid(absl::StrCat("expected IP in URL for binding (", url.String(), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckHostURLs(const types::URLs& urls, absl::string_view flag) {
  for (const types::URL& url : urls) {
    if (url.host.empty()) {
      return Invalid(absl::StrCat(flag, " \"", urls.String(), "\" must be \"host:port\" (",
                                  "unexpected empty host (", url.String(), "))"));
    }
  }
  return absl::OkStatus();
}

// The names Go's crypto/tls gives its cipher suites (secure and insecure),
// plus the two legacy aliases etcd accepts.
const std::set<std::string>& CipherSuiteNames() {
  static const auto* names = new std::set<std::string>{
      "TLS_RSA_WITH_AES_128_CBC_SHA",
      "TLS_RSA_WITH_AES_256_CBC_SHA",
      "TLS_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_RSA_WITH_RC4_128_SHA",
      "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
      "TLS_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
      "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
      "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
  };
  return *names;
}

// 0 for "" (no limit), 12 or 13 for TLS1.2 and TLS1.3.
absl::StatusOr<int> TlsVersion(const std::string& version) {
  if (version.empty()) return 0;
  if (version == "TLS1.2") return 12;
  if (version == "TLS1.3") return 13;
  return Invalid(
      absl::StrCat("unexpected TLS version \"", version, "\" (must be one of: TLS1.2, TLS1.3)"));
}

bool IsJwtSignMethod(absl::string_view method) {
  static constexpr absl::string_view kMethods[] = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                                   "RS512", "PS256", "PS384", "PS512", "ES256",
                                                   "ES384", "ES512", "EdDSA"};
  return std::find(std::begin(kMethods), std::end(kMethods), method) != std::end(kMethods);
}

std::string JoinURLs(const types::URLs& urls) { return urls.String(); }

}  // namespace

absl::StatusOr<AuthTokenOptions> ParseAuthToken(const std::string& value) {
  constexpr char kInvalidOptions[] = "auth: invalid auth options";
  std::vector<std::string> parts = absl::StrSplit(value, ',');
  AuthTokenOptions options;
  options.type = parts[0];
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::vector<std::string> pair = absl::StrSplit(parts[i], '=');
    if (pair.size() != 2) {
      return Invalid(absl::StrCat(kInvalidOptions, ": option \"", parts[i],
                                  "\" is not of the form key=value"));
    }
    for (const auto& seen : pairs) {
      if (seen.first == pair[0]) {
        return Invalid(absl::StrCat(kInvalidOptions, ": option \"", pair[0], "\" is given twice"));
      }
    }
    pairs.emplace_back(pair[0], pair[1]);
  }
  if (options.type == "simple" || options.type.empty()) return options;
  if (options.type != "jwt") {
    return Invalid(absl::StrCat(kInvalidOptions, ": unknown token type \"", options.type,
                                "\" (use simple or jwt)"));
  }
  for (const auto& [key, option] : pairs) {
    if (key == "sign-method") {
      options.sign_method = option;
    } else if (key == "pub-key") {
      options.public_key_file = option;
    } else if (key == "priv-key") {
      options.private_key_file = option;
    } else if (key == "ttl") {
      if (!option.empty()) {
        absl::StatusOr<absl::Duration> ttl = internal::ParseGoDuration(option);
        if (!ttl.ok()) return Invalid(absl::StrCat(kInvalidOptions, ": ", ttl.status().message()));
        options.ttl = *ttl;
      }
    }
    // Unknown keys are ignored, as etcd does (it only warns).
  }
  if (!IsJwtSignMethod(options.sign_method)) {
    return Invalid(absl::StrCat(kInvalidOptions, ": auth: invalid auth signature method \"",
                                options.sign_method, "\""));
  }
  const bool hmac = options.sign_method[0] == 'H';
  if (hmac ? options.private_key_file.empty()
           : options.private_key_file.empty() && options.public_key_file.empty()) {
    return Invalid(absl::StrCat("auth: missing key data (sign-method ", options.sign_method,
                                hmac ? " needs priv-key" : " needs priv-key or pub-key", ")"));
  }
  return options;
}

Config::Config()
    : listen_peer_urls(DefaultURLs(kDefaultListenPeerURLs)),
      listen_client_urls(DefaultURLs(kDefaultListenClientURLs)),
      initial_advertise_peer_urls(DefaultURLs(kDefaultInitialAdvertisePeerURLs)),
      advertise_client_urls(DefaultURLs(kDefaultAdvertiseClientURLs)) {
  initial_cluster = InitialClusterFromName(name);
}

absl::Status Config::Validate() const {
  // Logging first, as etcd sets its logger up before anything else.
  if (logger == "capnslog") return Invalid("--logger=capnslog is removed in v3.5");
  if (logger != "zap") return Invalid(absl::StrCat("unknown logger option \"", logger, "\""));
  if (log_outputs.size() > 1) {
    for (const std::string& output : log_outputs) {
      if (output == "default") {
        return Invalid("multi logoutput for \"default\" is not supported yet");
      }
    }
  }
  for (const std::string& output : log_outputs) {
    if (output == "systemd/journal") {
      return Invalid(
          "--log-outputs=systemd/journal is not supported; use stderr, stdout or a file");
    }
  }
  if (enable_log_rotation) {
    const bool single_file = log_outputs.size() == 1 && log_outputs[0] != "default" &&
                             log_outputs[0] != "stderr" && log_outputs[0] != "stdout" &&
                             log_outputs[0] != "/dev/null";
    if (!single_file) {
      return Invalid(
          "--log-outputs requires a single file path when --log-rotate-config-json is defined");
    }
  }
  {
    std::string level = log_level;
    if (level == absl::AsciiStrToUpper(level)) absl::AsciiStrToLower(&level);
    if (!level.empty() && !log::ParseLevel(level).ok()) {
      return Invalid(absl::StrCat("unknown --log-level \"", log_level,
                                  "\" (use debug, info, warn, error, dpanic, panic or fatal)"));
    }
  }
  if (!log_format.empty() && !log::ParseEncoding(log_format).ok()) {
    return Invalid(absl::StrCat("unknown --log-format \"", log_format, "\" (use json or console)"));
  }

  for (const types::URLs* urls :
       {&listen_peer_urls, &listen_client_urls, &listen_client_http_urls, &listen_metrics_urls}) {
    absl::Status status = CheckBindURLs(*urls);
    if (!status.ok()) return status;
  }
  absl::Status status = CheckHostURLs(initial_advertise_peer_urls, "--initial-advertise-peer-urls");
  if (!status.ok()) return status;
  status = CheckHostURLs(advertise_client_urls, "--advertise-client-urls");
  if (!status.ok()) return status;

  if (initial_cluster_state != kClusterStateNew && initial_cluster_state != kClusterStateExisting) {
    return Invalid(absl::StrCat("unexpected clusterState \"", initial_cluster_state, "\""));
  }
  const int bootstrap_flags =
      !discovery.empty() + !initial_cluster.empty() + !discovery_srv.empty();
  if (bootstrap_flags > 1) {
    return Invalid(
        "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", "
        "\"discovery\" or \"discovery-srv\"");
  }

  if (heartbeat_interval_ms == 0) {
    return Invalid(
        absl::StrCat("--heartbeat-interval must be >0 (set to ", heartbeat_interval_ms, "ms)"));
  }
  if (election_timeout_ms == 0) {
    return Invalid(
        absl::StrCat("--election-timeout must be >0 (set to ", election_timeout_ms, "ms)"));
  }
  // 5 * heartbeat > election, without overflowing.
  if (heartbeat_interval_ms > election_timeout_ms / 5) {
    return Invalid(absl::StrCat("--election-timeout[", election_timeout_ms,
                                "ms] should be at least as 5 times as --heartbeat-interval[",
                                heartbeat_interval_ms, "ms]"));
  }
  if (election_timeout_ms > kMaxElectionMs) {
    return Invalid(absl::StrCat("--election-timeout[", election_timeout_ms,
                                "ms] is too long, and should be set less than ", kMaxElectionMs,
                                "ms"));
  }

  // etcd lets a member that may become a v2 proxy go without advertised
  // client URLs.
  const bool may_be_proxy = proxy != "off" || (!discovery.empty() && discovery_fallback == "proxy");
  if (!listen_client_urls.empty() && advertise_client_urls.empty() && !may_be_proxy) {
    return Invalid(
        "--advertise-client-urls is required when --listen-client-urls is set explicitly");
  }

  if (!auto_compaction_mode.empty() && auto_compaction_mode != "periodic" &&
      auto_compaction_mode != "revision") {
    return Invalid(absl::StrCat("unknown auto-compaction-mode \"", auto_compaction_mode, "\""));
  }
  if (experimental_enable_lease_checkpoint_persist && !experimental_enable_lease_checkpoint) {
    return Invalid(
        "setting experimental-enable-lease-checkpoint-persist requires "
        "experimental-enable-lease-checkpoint");
  }

  absl::StatusOr<int> min_version = TlsVersion(tls_min_version);
  if (!min_version.ok()) return min_version.status();
  absl::StatusOr<int> max_version = TlsVersion(tls_max_version);
  if (!max_version.ok()) return max_version.status();
  if (*max_version != 0 && *min_version > *max_version) {
    return Invalid(absl::StrCat("min version (", tls_min_version, ") is greater than max version (",
                                tls_max_version, ")"));
  }
  if (*min_version == 13 && !cipher_suites.empty()) {
    return Invalid("cipher suites cannot be configured when only TLS1.3 is enabled");
  }

  // Checks etcd makes only when the server starts; failing early is kinder.
  for (const std::string& suite : cipher_suites) {
    if (CipherSuiteNames().count(suite) == 0) {
      return Invalid(absl::StrCat("unexpected TLS cipher suite \"", suite, "\""));
    }
  }
  if (absl::StatusOr<AuthTokenOptions> token = ParseAuthToken(auth_token); !token.ok()) {
    return Invalid(
        absl::StrCat("invalid --auth-token \"", auth_token, "\": ", token.status().message()));
  }
  if (!initial_cluster.empty()) {
    if (absl::StatusOr<types::URLsMap> cluster = InitialClusterMap(); !cluster.ok()) {
      return Invalid(absl::StrCat("invalid --initial-cluster \"", initial_cluster,
                                  "\": ", cluster.status().message()));
    }
  }
  if (absl::StatusOr<AutoCompaction> compaction = AutoCompactionSettings(); !compaction.ok()) {
    return compaction.status();
  }

  // Checks of this implementation (etcd accepts any value here).
  if (metrics != "basic" && metrics != "extensive") {
    return Invalid(absl::StrCat("unknown --metrics \"", metrics, "\" (use basic or extensive)"));
  }
  if (discovery_fallback != "proxy" && discovery_fallback != "exit") {
    return Invalid(absl::StrCat("unknown --discovery-fallback \"", discovery_fallback,
                                "\" (use exit or proxy)"));
  }
  if (proxy != "off") {
    if (proxy != "on" && proxy != "readonly") {
      return Invalid(absl::StrCat("unknown --proxy \"", proxy, "\" (use off, readonly or on)"));
    }
    return Invalid(absl::StrCat("--proxy=", proxy,
                                ": the v2 proxy is not supported; use the grpc-proxy binary"));
  }
  for (absl::string_view stage : absl::StrSplit(v2_deprecation, ',', absl::SkipEmpty())) {
    if (stage != "not-yet" && stage != "write-only" && stage != "write-only-drop-data" &&
        stage != "gone") {
      return Invalid(absl::StrCat("unknown --v2-deprecation \"", stage,
                                  "\" (use not-yet, write-only, write-only-drop-data or gone)"));
    }
  }
  return absl::OkStatus();
}

std::string Config::InitialClusterFromName(const std::string& member_name) const {
  const std::string& key = member_name.empty() ? std::string(kDefaultName) : member_name;
  std::vector<std::string> entries;
  for (const types::URL& url : initial_advertise_peer_urls) {
    entries.push_back(absl::StrCat(key, "=", url.String()));
  }
  return absl::StrJoin(entries, ",");
}

absl::StatusOr<types::URLsMap> Config::InitialClusterMap() const {
  return types::URLsMap::Parse(initial_cluster);
}

absl::StatusOr<AutoCompaction> Config::AutoCompactionSettings() const {
  AutoCompaction out;
  out.mode = auto_compaction_mode.empty() ? "periodic" : auto_compaction_mode;
  // A bare non-negative integer is hours (periodic) or revisions; anything
  // else must be a duration.
  int64_t number;
  if (absl::SimpleAtoi(auto_compaction_retention, &number) && number >= 0 &&
      !auto_compaction_retention.empty() && auto_compaction_retention[0] != '+') {
    if (out.mode == "periodic") {
      out.period = absl::Hours(number);
    } else {
      out.revisions = number;
    }
    return out;
  }
  absl::StatusOr<absl::Duration> duration = internal::ParseGoDuration(auto_compaction_retention);
  if (!duration.ok()) {
    return Invalid(
        absl::StrCat("error parsing AutoCompactionRetention: ", duration.status().message()));
  }
  if (out.mode == "periodic") {
    out.period = *duration;
  } else {
    // etcd reads the duration's nanoseconds as a revision count here.
    out.revisions = absl::ToInt64Nanoseconds(*duration);
  }
  return out;
}

int64_t Config::EffectiveQuotaBackendBytes() const {
  constexpr int64_t kDefaultQuota = int64_t{2} * 1024 * 1024 * 1024;
  return quota_backend_bytes == 0 ? kDefaultQuota : quota_backend_bytes;
}

std::string Config::EffectiveWalDir() const {
  return wal_dir.empty() ? absl::StrCat(data_dir, "/member/wal") : wal_dir;
}

std::vector<std::pair<std::string, std::string>> Config::Summary() const {
  const auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
  const auto duration = [](absl::Duration d) { return log::FormatGoDuration(d); };
  return {
      {"name", name},
      {"data-dir", data_dir},
      {"wal-dir", wal_dir},
      {"member-dir", absl::StrCat(data_dir, "/member")},
      {"force-new-cluster", flag(force_new_cluster)},
      {"heartbeat-interval", duration(absl::Milliseconds(heartbeat_interval_ms))},
      {"election-timeout", duration(absl::Milliseconds(election_timeout_ms))},
      {"initial-election-tick-advance", flag(initial_election_tick_advance)},
      {"snapshot-count", absl::StrCat(snapshot_count)},
      {"max-wals", absl::StrCat(max_wals)},
      {"max-snapshots", absl::StrCat(max_snapshots)},
      {"initial-advertise-peer-urls", JoinURLs(initial_advertise_peer_urls)},
      {"listen-peer-urls", JoinURLs(listen_peer_urls)},
      {"advertise-client-urls", JoinURLs(advertise_client_urls)},
      {"listen-client-urls", JoinURLs(listen_client_urls)},
      {"listen-client-http-urls", JoinURLs(listen_client_http_urls)},
      {"listen-metrics-urls", JoinURLs(listen_metrics_urls)},
      {"cors", absl::StrJoin(cors, ",")},
      {"host-whitelist", absl::StrJoin(host_whitelist, ",")},
      {"initial-cluster", initial_cluster},
      {"initial-cluster-state", initial_cluster_state},
      {"initial-cluster-token", initial_cluster_token},
      {"quota-backend-bytes", absl::StrCat(EffectiveQuotaBackendBytes())},
      {"max-request-bytes", absl::StrCat(max_request_bytes)},
      {"max-txn-ops", absl::StrCat(max_txn_ops)},
      {"pre-vote", flag(pre_vote)},
      {"strict-reconfig-check", flag(strict_reconfig_check)},
      {"auto-compaction-mode", auto_compaction_mode},
      {"auto-compaction-retention", auto_compaction_retention},
      {"auth-token", auth_token},
      {"client-tls", flag(client_tls.Enabled() || client_tls.auto_tls)},
      {"peer-tls", flag(peer_tls.Enabled() || peer_tls.auto_tls)},
      {"log-level", log_level},
      {"log-outputs", absl::StrJoin(log_outputs, ",")},
      {"metrics", metrics},
  };
}

}  // namespace etcd::embed
