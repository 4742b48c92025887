// SIGKILL the member while etcdctl clients write, restart it, and check
// that every write that was acknowledged is there, and that revisions did
// not go backwards.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "e2e/etcd_process.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "re2/re2.h"

namespace etcd::e2e {
namespace {

int64_t Revision(const std::string& endpoint) {
  CtlResult r = RunEtcdctl(endpoint, {"get", "nothing-here", "-w", "json"});
  int64_t rev = 0;
  RE2::PartialMatch(r.out, R"re("revision":(\d+))re", &rev);
  return rev;
}

TEST(CrashTest, AcknowledgedWritesSurviveSigkill) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("crash"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> member,
                       EtcdProcess::Start(OurEtcdBinary(), dir.path()));
  absl::Mutex mu;
  std::vector<std::string> acknowledged;
  int64_t last_rev = 0;
  for (int round = 0; round < 3; ++round) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; !stop.load(); ++i) {
          std::string key = absl::StrCat("crash/", round, "/", w, "/", i);
          CtlOptions options;
          options.timeout = absl::Seconds(10);
          CtlResult r = RunEtcdctl(member->endpoint(), {"put", key, "v"}, options);
          if (r.code == 0 && r.out == "OK\n") {
            absl::MutexLock lock(&mu);
            acknowledged.push_back(key);
          }
        }
      });
    }
    // Let some writes land, then kill the member mid-load.
    absl::SleepFor(absl::Milliseconds(1500 + 500 * round));
    ASSERT_OK(member->Kill(SIGKILL));
    stop.store(true);
    for (std::thread& t : writers) t.join();
    ASSERT_OK(member->Restart());

    CtlResult all = RunEtcdctl(member->endpoint(), {"get", "crash/", "--prefix", "--keys-only"});
    ASSERT_EQ(all.code, 0) << all.err;
    absl::flat_hash_set<std::string> present;
    for (absl::string_view line : absl::StrSplit(all.out, '\n', absl::SkipEmpty())) {
      present.insert(std::string(line));
    }
    absl::MutexLock lock(&mu);
    ASSERT_FALSE(acknowledged.empty()) << "no write was acknowledged in round " << round;
    for (const std::string& key : acknowledged) {
      EXPECT_TRUE(present.contains(key)) << "acknowledged write lost: " << key;
    }
    int64_t rev = Revision(member->endpoint());
    EXPECT_GE(rev, last_rev) << "revision went backwards";
    EXPECT_GE(rev, static_cast<int64_t>(acknowledged.size()) + 1);
    last_rev = rev;
  }
  (void)member->Stop();
}

}  // namespace
}  // namespace etcd::e2e
