// Which listener serves what: --listen-client-urls (gRPC, plus HTTP unless
// --listen-client-http-urls is given, as in etcd 3.5),
// --listen-client-http-urls (HTTP only) and --listen-metrics-urls (/metrics
// and /health only), over http:// and https://.

#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "e2e/etcd_process.h"
#include "pkg/testutil/net.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "server/tls/test_certs.h"

namespace etcd::e2e {
namespace {

bool Is200(const std::string& response) { return absl::StartsWith(response, "HTTP/1.1 200"); }

class ListenersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!DebianEtcdAvailable()) GTEST_SKIP() << "Debian's etcdctl not installed";
    ::signal(SIGPIPE, SIG_IGN);
    absl::StatusOr<testutil::TempDir> dir = testutil::TempDir::Create("e2e-listeners");
    ASSERT_OK(dir.status());
    dir_ = std::make_unique<testutil::TempDir>(std::move(*dir));
    ASSERT_OK_AND_ASSIGN(std::vector<int> ports, testutil::FreePorts(2));
    http_port_ = ports[0];
    metrics_port_ = ports[1];
  }

  std::unique_ptr<testutil::TempDir> dir_;
  int http_port_ = 0;
  int metrics_port_ = 0;
};

TEST_F(ListenersTest, ClientUrlsServeGrpcAndHttpByDefault) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> member,
                       EtcdProcess::Start(OurEtcdBinary(), dir_->path()));
  int client_port = std::stoi(member->endpoint().substr(member->endpoint().rfind(':') + 1));
  EXPECT_EQ(RunEtcdctl(member->endpoint(), {"put", "k", "v"}).out, "OK\n");
  std::string health = testutil::HttpGet(client_port, "/health");
  EXPECT_TRUE(Is200(health)) << health;
  EXPECT_TRUE(Is200(testutil::HttpGet(client_port, "/metrics")));
}

TEST_F(ListenersTest, SplitHttpAndMetricsListeners) {
  std::string http_url = absl::StrCat("http://127.0.0.1:", http_port_);
  std::string metrics_url = absl::StrCat("http://127.0.0.1:", metrics_port_);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> member,
                       EtcdProcess::Start(OurEtcdBinary(), dir_->path(),
                                          {"--listen-client-http-urls=" + http_url,
                                           "--listen-metrics-urls=" + metrics_url}));
  int client_port = std::stoi(member->endpoint().substr(member->endpoint().rfind(':') + 1));
  EXPECT_TRUE(absl::StrContains(member->Logs(), "serving metrics")) << member->Logs();

  // The client URL: gRPC only.
  CtlResult put = RunEtcdctl(member->endpoint(), {"put", "k", "v"});
  EXPECT_EQ(put.out, "OK\n") << put.err;
  EXPECT_EQ(testutil::HttpGet(client_port, "/health"), "");

  // The client HTTP URL: every HTTP endpoint, no gRPC.
  std::string health = testutil::HttpGet(http_port_, "/health");
  EXPECT_TRUE(Is200(health)) << health;
  EXPECT_TRUE(absl::StrContains(health, "{\"health\":\"true\",\"reason\":\"\"}")) << health;
  std::string version = testutil::HttpGet(http_port_, "/version");
  EXPECT_TRUE(Is200(version) && absl::StrContains(version, "\"etcdserver\":")) << version;
  CtlResult over_http = RunEtcdctl(absl::StrCat("127.0.0.1:", http_port_),
                                   {"--dial-timeout=2s", "--command-timeout=3s", "get", "k"});
  EXPECT_NE(over_http.code, 0) << over_http.out;

  // The metrics URL: /metrics and /health only.
  std::string metrics = testutil::HttpGet(metrics_port_, "/metrics");
  EXPECT_TRUE(Is200(metrics)) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "\netcd_server_has_leader 1\n")) << metrics;
  // The put went through a WAL sync; the process figures are there.
  EXPECT_TRUE(
      absl::StrContains(metrics, "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"}"))
      << metrics;
  EXPECT_FALSE(absl::StrContains(metrics, "\netcd_disk_wal_fsync_duration_seconds_count 0\n"))
      << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "\nprocess_open_fds ")) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "\nprocess_resident_memory_bytes ")) << metrics;
  EXPECT_TRUE(Is200(testutil::HttpGet(metrics_port_, "/health")));
  std::string not_here = testutil::HttpGet(metrics_port_, "/version");
  EXPECT_TRUE(absl::StartsWith(not_here, "HTTP/1.1 404")) << not_here;
  CtlResult over_metrics = RunEtcdctl(absl::StrCat("127.0.0.1:", metrics_port_),
                                      {"--dial-timeout=2s", "--command-timeout=3s", "get", "k"});
  EXPECT_NE(over_metrics.code, 0) << over_metrics.out;
}

TEST_F(ListenersTest, HttpsHttpAndMetricsListenersUseTheClientCertificate) {
  ASSERT_OK_AND_ASSIGN(tls::TestPki pki, tls::MakeTestPki(dir_->path()));
  std::string http_url = absl::StrCat("https://127.0.0.1:", http_port_);
  std::string metrics_url = absl::StrCat("https://127.0.0.1:", metrics_port_);
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<EtcdProcess> member,
      EtcdProcess::Start(
          OurEtcdBinary(), dir_->path(),
          {"--listen-client-http-urls=" + http_url, "--listen-metrics-urls=" + metrics_url,
           "--cert-file=" + pki.server_cert, "--key-file=" + pki.server_key}));
  // The plain client URL still serves gRPC in the clear.
  EXPECT_EQ(RunEtcdctl(member->endpoint(), {"put", "k", "v"}).out, "OK\n");

  absl::StatusOr<std::string> health = tls::HttpsGet(http_port_, "/health", pki.ca_cert);
  ASSERT_OK(health.status());
  EXPECT_TRUE(Is200(*health)) << *health;
  absl::StatusOr<std::string> metrics = tls::HttpsGet(metrics_port_, "/metrics", pki.ca_cert);
  ASSERT_OK(metrics.status());
  EXPECT_TRUE(Is200(*metrics)) << *metrics;
  EXPECT_TRUE(absl::StrContains(*metrics, "etcd_server_has_leader 1")) << *metrics;
  EXPECT_FALSE(Is200(testutil::HttpGet(metrics_port_, "/metrics")));
}

TEST_F(ListenersTest, HttpsMetricsUrlWithoutCertificateIsRefused) {
  std::string metrics_url = absl::StrCat("https://127.0.0.1:", metrics_port_);
  absl::StatusOr<std::unique_ptr<EtcdProcess>> member = EtcdProcess::Start(
      OurEtcdBinary(), dir_->path(), {"--listen-metrics-urls=" + metrics_url}, absl::Seconds(20));
  ASSERT_FALSE(member.ok());
  EXPECT_TRUE(absl::StrContains(member.status().message(),
                                absl::StrCat("cannot listen on TLS for 127.0.0.1:", metrics_port_,
                                             ": KeyFile and CertFile are not presented")))
      << member.status();
}

}  // namespace
}  // namespace etcd::e2e
