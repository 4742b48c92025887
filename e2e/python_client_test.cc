// A third-party client library against the member: Debian's python3-etcd3
// (0.12) runs e2e/testdata/etcd3_client.py (KV, watches, leases, txns and the
// library's lock) against this project's etcd, and the same script against
// Debian's etcd 3.4 so that a script bug fails on both. Skipped when
// /usr/bin/python3 cannot import etcd3 (or, for the reference run, when
// Debian's etcd is not installed).

#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "e2e/etcd_process.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/subprocess.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::e2e {
namespace {

constexpr char kPython[] = "/usr/bin/python3";

// Runs /usr/bin/python3 with `args`; loopback traffic bypasses any proxy.
absl::StatusOr<std::unique_ptr<testutil::Subprocess>> StartPython(std::vector<std::string> args) {
  testutil::SubprocessOptions options;
  options.argv = {kPython};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = {{"no_proxy", "127.0.0.1,localhost"},
                 {"no_grpc_proxy", "127.0.0.1,localhost"},
                 {"PYTHONDONTWRITEBYTECODE", "1"}};
  return testutil::Subprocess::Start(std::move(options));
}

bool PythonEtcd3Available() {
  absl::StatusOr<std::unique_ptr<testutil::Subprocess>> p = StartPython({"-c", "import etcd3"});
  if (!p.ok()) return false;
  absl::StatusOr<testutil::ExitStatus> status = (*p)->Wait(absl::Seconds(60));
  return status.ok() && status->success();
}

class PythonClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PythonEtcd3Available()) {
      GTEST_SKIP() << kPython << " cannot import etcd3 (Debian's python3-etcd3 is not installed)";
    }
  }

  // Starts `binary` as a fresh member and runs the script against it.
  void RunScriptAgainst(const std::string& binary) {
    ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("python"));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> member,
                         EtcdProcess::Start(binary, dir.path()));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<testutil::Subprocess> script,
                         StartPython({testutil::RunfilePath("e2e/testdata/etcd3_client.py"),
                                      "--endpoint", member->endpoint()}));
    // The script stops itself after 120 s; this is only a backstop.
    absl::StatusOr<testutil::ExitStatus> status = script->Wait(absl::Seconds(180));
    if (!status.ok()) {
      (void)script->Kill(SIGKILL);
      status = script->Wait(absl::Seconds(10));
    }
    ASSERT_OK(status.status());
    EXPECT_TRUE(status->success())
        << binary << ": the script " << status->ToString() << "\nstdout:\n"
        << script->ReadStdout() << "\nstderr:\n"
        << script->ReadStderr() << "\nmember log (tail):\n"
        << Tail(member->Logs());
    EXPECT_NE(script->ReadStdout().find("OK\n"), std::string::npos) << script->ReadStdout();
  }

  static std::string Tail(const std::string& text) {
    constexpr size_t kMax = 4000;
    return text.size() <= kMax ? text : text.substr(text.size() - kMax);
  }
};

TEST_F(PythonClientTest, OurEtcd) { RunScriptAgainst(OurEtcdBinary()); }

TEST_F(PythonClientTest, DebianEtcdReference) {
  if (!DebianEtcdAvailable()) {
    GTEST_SKIP() << "Debian's etcd (" << kDebianEtcd << ") is not installed";
  }
  RunScriptAgainst(kDebianEtcd);
}

}  // namespace
}  // namespace etcd::e2e
