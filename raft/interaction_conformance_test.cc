// Conformance with etcd: runs etcd 3.4's own interaction transcripts
// (raft/testdata/*.txt of Debian's golang-etcd-server-dev, read from where
// the package installs them, never copied) through this library and the
// interaction harness, comparing messages, states, configurations and log
// lines exactly.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "pkg/datadriven/datadriven.h"
#include "raft/rafttest/interaction_env.h"

namespace etcd::raft {
namespace {

constexpr char kEtcdTestdata[] = "/usr/share/gocode/src/go.etcd.io/etcd/raft/testdata";

// The transcripts etcd 3.4 ships.
const char* const kFiles[] = {
    "campaign.txt",
    "campaign_learner_must_vote.txt",
    "confchange_v1_add_single.txt",
    "confchange_v1_remove_leader.txt",
    "confchange_v2_add_double_auto.txt",
    "confchange_v2_add_double_implicit.txt",
    "confchange_v2_add_single_auto.txt",
    "confchange_v2_add_single_explicit.txt",
    "snapshot_succeed_via_app_resp.txt",
};

TEST(InteractionConformanceTest, EtcdTranscriptsAreInstalled) {
  std::vector<std::string> files = datadriven::ListTestFiles(kEtcdTestdata);
  ASSERT_FALSE(files.empty()) << "etcd's raft transcripts are missing from " << kEtcdTestdata
                              << "; run tools/bootstrap.sh (it installs golang-etcd-server-dev)";
  ASSERT_EQ(files.size(), 9u) << "expected exactly etcd 3.4's 9 transcripts in " << kEtcdTestdata;
  for (const char* name : kFiles) {
    EXPECT_NE(std::find(files.begin(), files.end(), absl::StrCat(kEtcdTestdata, "/", name)),
              files.end())
        << name;
  }
}

class EtcdTranscriptTest : public ::testing::TestWithParam<const char*> {};

TEST_P(EtcdTranscriptTest, Matches) {
  const std::string path = absl::StrCat(kEtcdTestdata, "/", GetParam());
  ASSERT_FALSE(datadriven::ListTestFiles(kEtcdTestdata).empty())
      << kEtcdTestdata << " is missing; run tools/bootstrap.sh";
  rafttest::InteractionEnv env;
  datadriven::Options options;
  options.allow_rewrite = false;  // etcd's files, not ours
  datadriven::RunTest(
      path, [&](const datadriven::TestData& d) { return env.Handle(d); }, options);
}

INSTANTIATE_TEST_SUITE_P(Etcd, EtcdTranscriptTest, ::testing::ValuesIn(kFiles),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return datadriven::TestName(info.param);
                         });

}  // namespace
}  // namespace etcd::raft
