// Conformance: runs etcd's own confchange transcripts
// (raft/confchange/testdata/*.txt from Debian's golang-etcd-server-dev, read
// in place) against this package.
//
// Commands: "simple", "enter-joint [autoleave=true|false]" and "leave-joint",
// with the changes as input ("v1 l2 r3 u4"). Each file starts from an empty
// tracker (max_inflight 10) with last index 0, which grows by one after every
// command, so a Progress's `next` tells in which step it was created. The
// output is the resulting configuration and progress map, or the error.

#include <gtest/gtest.h>

#include <string>

#include "pkg/datadriven/datadriven.h"
#include "raft/confchange/confchange.h"
#include "raft/confchange/raftpb_helpers.h"
#include "raft/tracker/tracker.h"

namespace etcd::raft::confchange {
namespace {

constexpr char kTestdataDir[] = "/usr/share/gocode/src/go.etcd.io/etcd/raft/confchange/testdata";

class ConfChangeDataDrivenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConfChangeDataDrivenTest, MatchesEtcdTranscript) {
  tracker::ProgressTracker tr(10);
  uint64_t last_index = 0;
  auto handle = [&](const datadriven::TestData& d) -> std::string {
    struct Advance {
      uint64_t& index;
      ~Advance() { ++index; }
    } advance{last_index};

    absl::StatusOr<std::vector<raftpb::ConfChangeSingle>> ccs = ConfChangesFromString(d.input);
    if (!ccs.ok()) return std::string(ccs.status().message());

    Changer changer(tr, last_index);
    absl::StatusOr<ChangeResult> r;
    if (d.cmd == "simple") {
      r = changer.Simple(*ccs);
    } else if (d.cmd == "enter-joint") {
      bool auto_leave = false;
      if (!d.cmd_args.empty()) {
        absl::Status s = d.ScanArgs("autoleave", &auto_leave);
        EXPECT_TRUE(s.ok()) << s;
      }
      r = changer.EnterJoint(auto_leave, *ccs);
    } else if (d.cmd == "leave-joint") {
      if (!ccs->empty()) {
        r = absl::InvalidArgumentError("this command takes no input");
      } else {
        r = changer.LeaveJoint();
      }
    } else {
      return "unknown command";
    }
    if (!r.ok()) return std::string(r.status().message()) + "\n";
    tr.config = std::move(r->config);
    tr.progress = std::move(r->progress);
    return tr.config.String() + "\n" + tracker::ProgressMapString(tr.progress);
  };
  datadriven::Options options;
  options.allow_rewrite = false;  // etcd's files, not ours
  datadriven::RunTest(GetParam(), handle, options);
}

INSTANTIATE_TEST_SUITE_P(Etcd, ConfChangeDataDrivenTest,
                         ::testing::ValuesIn(datadriven::ListTestFiles(kTestdataDir)),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return datadriven::TestName(info.param);
                         });

// The conformance run must not pass vacuously.
TEST(ConfChangeDataDrivenFilesTest, EtcdTranscriptsAreInstalled) {
  EXPECT_EQ(datadriven::ListTestFiles(kTestdataDir).size(), 9u)
      << "expected etcd's confchange transcripts in " << kTestdataDir
      << " (Debian package golang-etcd-server-dev)";
}

}  // namespace
}  // namespace etcd::raft::confchange
