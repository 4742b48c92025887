// The project's own interaction transcripts (raft/testdata/*.txt): PreVote,
// CheckQuorum, leader transfer, ReadIndex, learners, snapshots, joint
// configuration changes, proposal forwarding. After an intended change of
// behaviour, regenerate them with
//
//   bazel test //raft:interaction_test --test_env=DATADRIVEN_REWRITE=1
//
// and review the diff line by line before keeping it.

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pkg/datadriven/datadriven.h"
#include "raft/rafttest/interaction_env.h"

namespace etcd::raft {
namespace {

TEST(InteractionTest, Transcripts) {
  std::vector<std::string> files = datadriven::ListTestFiles("raft/testdata");
  ASSERT_GE(files.size(), 8u) << "raft/testdata is missing from the runfiles";
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    rafttest::InteractionEnv env;
    datadriven::RunTest(path, [&](const datadriven::TestData& d) { return env.Handle(d); });
  }
}

}  // namespace
}  // namespace etcd::raft
