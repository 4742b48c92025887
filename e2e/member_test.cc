// This member on its own (no reference needed): the HTTP endpoints on the
// client port, gRPC on the same port, and graceful stop.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "e2e/etcd_process.h"
#include "pkg/testutil/net.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::e2e {
namespace {

// An HTTP/1.1 GET on the member's client endpoint ("127.0.0.1:port").
std::string HttpGet(const std::string& endpoint, const std::string& path) {
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(endpoint.substr(endpoint.find(':') + 1), &port));
  std::string response = testutil::HttpGet(port, path);
  return response.empty() ? "connect failed" : response;
}

TEST(MemberTest, HttpAndGrpcShareTheClientPort) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("member"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> member,
                       EtcdProcess::Start(OurEtcdBinary(), dir.path()));

  std::string version = HttpGet(member->endpoint(), "/version");
  EXPECT_TRUE(absl::StartsWith(version, "HTTP/1.1 200 OK\r\n")) << version;
  EXPECT_TRUE(
      absl::EndsWith(version, "\r\n\r\n{\"etcdserver\":\"3.5.0\",\"etcdcluster\":\"3.5.0\"}"))
      << version;

  std::string health = HttpGet(member->endpoint(), "/health");
  EXPECT_TRUE(absl::StartsWith(health, "HTTP/1.1 200 OK\r\n")) << health;
  EXPECT_TRUE(absl::EndsWith(health, "{\"health\":\"true\",\"reason\":\"\"}")) << health;

  CtlResult put = RunEtcdctl(member->endpoint(), {"put", "k", "v"});
  EXPECT_EQ(put.out, "OK\n") << put.err;

  std::string metrics = HttpGet(member->endpoint(), "/metrics");
  EXPECT_TRUE(absl::StrContains(metrics, "\netcd_server_has_leader 1\n")) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "\netcd_server_is_leader 1\n")) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "\netcd_mvcc_db_total_size_in_bytes ")) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "\netcd_server_proposals_committed_total ")) << metrics;

  EXPECT_TRUE(absl::StartsWith(HttpGet(member->endpoint(), "/nope"), "HTTP/1.1 404 Not Found"));

  CtlResult get = RunEtcdctl(member->endpoint(), {"get", "k", "--print-value-only"});
  EXPECT_EQ(get.out, "v\n") << get.err;

  absl::StatusOr<testutil::ExitStatus> stopped = member->Stop();
  ASSERT_OK(stopped);
  EXPECT_EQ(stopped->signal, SIGTERM) << stopped->ToString();
  EXPECT_TRUE(absl::StrContains(member->Logs(), "received signal; shutting down"))
      << member->Logs();

  // Data survives a restart.
  ASSERT_OK(member->Restart());
  get = RunEtcdctl(member->endpoint(), {"get", "k", "--print-value-only"});
  EXPECT_EQ(get.out, "v\n") << get.err;
}

TEST(MemberTest, SigtermEndsOpenWatchStreams) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("member"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> member,
                       EtcdProcess::Start(OurEtcdBinary(), dir.path()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testutil::Subprocess> watch,
                       StartEtcdctl(member->endpoint(), {"watch", "w", "--prefix"}));
  // The watch may not be registered yet when the first put lands: put
  // until it reports one.
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        RunEtcdctl(member->endpoint(), {"put", "w1", "x"});
        return absl::StartsWith(watch->ReadStdout(), "PUT\nw1\nx\n");
      },
      absl::Seconds(20), absl::Milliseconds(300)))
      << watch->ReadStdout() << watch->ReadStderr();
  ASSERT_OK(member->Kill(SIGTERM));
  ASSERT_OK_AND_ASSIGN(testutil::ExitStatus status, member->process()->Wait(absl::Seconds(20)));
  EXPECT_EQ(status.signal, SIGTERM) << status.ToString() << member->Logs();
  (void)watch->Stop(absl::Seconds(1));
}

TEST(MemberTest, PortInUseFailsClearly) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("member"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> member,
                       EtcdProcess::Start(OurEtcdBinary(), dir.path()));
  testutil::SubprocessOptions options;
  options.argv = {OurEtcdBinary(), "--data-dir=" + dir.Join("second"),
                  "--listen-client-urls=http://" + member->endpoint(),
                  "--advertise-client-urls=http://" + member->endpoint()};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testutil::Subprocess> second,
                       testutil::Subprocess::Start(options));
  ASSERT_OK_AND_ASSIGN(testutil::ExitStatus status, second->Wait(absl::Seconds(30)));
  EXPECT_EQ(status.code, 1);
  EXPECT_TRUE(absl::StrContains(second->ReadStderr(), "bind: address already in use"))
      << second->ReadStderr();
}

}  // namespace
}  // namespace etcd::e2e
