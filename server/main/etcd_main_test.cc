// Runs the real etcd binary: exit statuses and messages for bad flags and
// configurations, --help, --version, and a valid configuration that serves
// until SIGTERM.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/net.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/subprocess.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd {
namespace {

struct RunOutput {
  int code = -1;
  std::string out;
  std::string err;
};

RunOutput RunEtcd(std::vector<std::string> args,
                  std::vector<std::pair<std::string, std::string>> env = {}) {
  testutil::SubprocessOptions options;
  options.argv = {testutil::RunfilePath("server/main/etcd")};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = std::move(env);
  RunOutput run;
  absl::StatusOr<std::unique_ptr<testutil::Subprocess>> etcd = testutil::Subprocess::Start(options);
  EXPECT_OK(etcd);
  if (!etcd.ok()) return run;
  absl::StatusOr<testutil::ExitStatus> status = (*etcd)->Wait(absl::Seconds(60));
  EXPECT_OK(status);
  if (!status.ok()) return run;
  EXPECT_TRUE(status->exited()) << status->ToString();
  run.code = status->code;
  run.out = (*etcd)->ReadStdout();
  run.err = (*etcd)->ReadStderr();
  return run;
}

TEST(EtcdMainTest, UnknownFlagExitsTwoWithUsage) {
  RunOutput run = RunEtcd({"--bogus"});
  EXPECT_EQ(run.code, 2);
  EXPECT_TRUE(absl::StartsWith(run.err, "flag provided but not defined: -bogus\n")) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "Usage:")) << run.err;
  EXPECT_EQ(run.out, "");
}

TEST(EtcdMainTest, BadValuesExitTwo) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--heartbeat-interval=abc"},
       "invalid value \"abc\" for flag -heartbeat-interval: parse error"},
      {{"--name"}, "flag needs an argument: -name"},
      {{"--listen-client-urls", "foo"},
       "invalid value \"foo\" for flag -listen-client-urls: URL scheme must be http, https, "
       "unix, or unixs: foo"},
      {{"--pre-vote=perhaps"}, "invalid boolean value \"perhaps\" for -pre-vote: parse error"},
      {{"--initial-cluster-state=old"},
       "invalid value \"old\" for flag -initial-cluster-state: invalid value"},
  };
  for (const auto& [args, error] : cases) {
    RunOutput run = RunEtcd(args);
    EXPECT_EQ(run.code, 2) << args[0];
    EXPECT_TRUE(absl::StartsWith(run.err, error + "\n")) << run.err;
  }
}

TEST(EtcdMainTest, InvalidConfigurationExitsOne) {
  RunOutput run = RunEtcd({"--election-timeout=400"});
  EXPECT_EQ(run.code, 1);
  EXPECT_TRUE(absl::StrContains(run.err, "\"msg\":\"failed to verify flags\"")) << run.err;
  EXPECT_TRUE(absl::StrContains(
      run.err,
      "--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]"))
      << run.err;

  run = RunEtcd({"--name=b"}, {{"ETCD_NAME", "a"}});
  EXPECT_EQ(run.code, 1);
  EXPECT_TRUE(absl::StrContains(run.err,
                                "conflicting environment variable \\\"ETCD_NAME\\\" is "
                                "shadowed by corresponding command-line flag"))
      << run.err;

  run = RunEtcd({"stray"});
  EXPECT_EQ(run.code, 1);
  EXPECT_TRUE(absl::StrContains(run.err, "'stray' is not a valid flag")) << run.err;
}

TEST(EtcdMainTest, HelpAndVersionExitZero) {
  RunOutput run = RunEtcd({"--help"});
  EXPECT_EQ(run.code, 0);
  EXPECT_TRUE(absl::StrContains(run.out, "  --name 'default'\n")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "  --listen-client-urls 'http://localhost:2379'\n"));
  EXPECT_TRUE(absl::StrContains(run.err, "Usage:")) << run.err;

  run = RunEtcd({"-h"});
  EXPECT_EQ(run.code, 0);

  run = RunEtcd({"--version"});
  EXPECT_EQ(run.code, 0);
  EXPECT_TRUE(absl::StartsWith(run.out, "etcd Version: 3.5.0\nGit SHA: ")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "\nGo OS/Arch: linux/")) << run.out;
}

using testutil::HttpGet;

TEST(EtcdMainTest, ValidConfigurationServesUntilSigterm) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("etcd_main"));
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, testutil::FreePorts(2));
  std::string client = absl::StrCat("http://127.0.0.1:", ports[0]);
  std::string peer = absl::StrCat("http://127.0.0.1:", ports[1]);
  testutil::SubprocessOptions options;
  options.argv = {testutil::RunfilePath("server/main/etcd"),
                  "--name",
                  "m1",
                  "--listen-client-urls=" + client,
                  "--advertise-client-urls=" + client,
                  "--listen-peer-urls=" + peer,
                  "--initial-advertise-peer-urls=" + peer,
                  "--initial-cluster=m1=" + peer};
  options.env = {{"BUILD_WORKING_DIRECTORY", dir.path()}, {"ETCD_MAX_WALS", "3"}};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testutil::Subprocess> etcd,
                       testutil::Subprocess::Start(options));
  ASSERT_TRUE(testutil::WaitUntil(
      [&] { return absl::StrContains(etcd->ReadStderr(), "ready to serve client requests"); },
      absl::Seconds(60)))
      << etcd->ReadStderr();
  std::string err = etcd->ReadStderr();
  EXPECT_TRUE(absl::StrContains(err, "\"msg\":\"starting an etcd server\"")) << err;
  EXPECT_TRUE(absl::StrContains(err, "\"name\":\"m1\"")) << err;
  EXPECT_TRUE(absl::StrContains(err, absl::StrCat("\"data-dir\":\"", dir.path(), "/m1.etcd\"")))
      << err;
  EXPECT_TRUE(absl::StrContains(err, "\"max-wals\":\"3\"")) << err;
  EXPECT_TRUE(absl::StrContains(err, "recognized and used environment variable")) << err;

  std::string version = HttpGet(ports[0], "/version");
  EXPECT_TRUE(absl::EndsWith(version, "{\"etcdserver\":\"3.5.0\",\"etcdcluster\":\"3.5.0\"}"))
      << version;

  ASSERT_OK(etcd->Kill(SIGTERM));
  ASSERT_OK_AND_ASSIGN(testutil::ExitStatus status, etcd->Wait(absl::Seconds(30)));
  EXPECT_EQ(status.signal, SIGTERM) << status.ToString();
  EXPECT_TRUE(absl::StrContains(etcd->ReadStderr(), "received signal; shutting down"));
}

TEST(EtcdMainTest, ConfigFile) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("etcd_main"));
  // The configured client port is taken: the file's settings are used (and
  // the member exits 1 before touching its data dir).
  int busy = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(busy, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(busy, 1), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(busy, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ASSERT_OK(testutil::WriteFile(
      dir.Join("etcd.yml"),
      absl::StrCat("name: from-file\nlog-level: warn\nlisten-client-urls: http://127.0.0.1:", port,
                   "\nadvertise-client-urls: http://127.0.0.1:", port, "\n")));
  RunOutput run = RunEtcd({"--config-file=etcd.yml", "--name=ignored"},
                          {{"BUILD_WORKING_DIRECTORY", dir.path()}});
  ::close(busy);
  EXPECT_EQ(run.code, 1);
  // At warn level the summary is not logged, but the error is.
  EXPECT_FALSE(absl::StrContains(run.err, "starting an etcd server")) << run.err;
  EXPECT_TRUE(absl::StrContains(
      run.err, absl::StrCat("listen tcp 127.0.0.1:", port, ": bind: address already in use")))
      << run.err;

  ASSERT_OK(testutil::WriteFile(dir.Join("bad.yml"), "heartbeat-interval: often\n"));
  run = RunEtcd({"--config-file", dir.Join("bad.yml")});
  EXPECT_EQ(run.code, 1);
  EXPECT_TRUE(
      absl::StrContains(run.err, "invalid value \\\"often\\\" for \\\"heartbeat-interval\\\""))
      << run.err;
}

}  // namespace
}  // namespace etcd
