// The harness's own behaviour, beyond what the transcripts exercise: errors,
// several commands in one case, quiet mode, and driving it from code.

#include "raft/rafttest/interaction_env.h"

#include "gtest/gtest.h"
#include "pkg/datadriven/datadriven.h"

namespace etcd::raft::rafttest {
namespace {

void RunScript(InteractionEnv* env, const char* script) {
  datadriven::RunTestFromString(script,
                                [&](const datadriven::TestData& d) { return env->Handle(d); });
}

TEST(InteractionEnvTest, ErrorsAreOutput) {
  InteractionEnv env;
  RunScript(&env, R"(
frobnicate 1
----
unknown command

log-level loud
----
log levels must be either of [DEBUG INFO WARN ERROR FATAL NONE]

add-nodes 1 voters=(1) index=1
----
index must be specified as > 1 due to bootstrap
)");
}

TEST(InteractionEnvTest, SeveralCommandsInOneCase) {
  InteractionEnv env;
  RunScript(&env, R"(
log-level none
----
ok

add-nodes 1 voters=(1) index=2
campaign 1
propose 1 x
----
ok

log-level info
raft-log 1
----
log is empty: first index=3, last index=2
)");
}

TEST(InteractionEnvTest, DrivenFromCode) {
  InteractionEnv env;
  env.logger().SetLevel("none");
  raftpb::Snapshot snap;
  snap.mutable_metadata()->mutable_conf_state()->add_voters(1);
  snap.mutable_metadata()->mutable_conf_state()->add_voters(2);
  snap.mutable_metadata()->set_index(2);
  ASSERT_TRUE(env.AddNodes(2, Config(), snap).ok());
  ASSERT_TRUE(env.Campaign(0).ok());
  ASSERT_TRUE(env.Stabilize({}).ok());
  EXPECT_EQ(env.nodes()[0]->raw_node->raft().state(), StateType::kLeader);
  ASSERT_TRUE(env.Propose(0, "data").ok());
  ASSERT_TRUE(env.Stabilize({}).ok());
  // Both state machines applied the entry.
  EXPECT_EQ(env.nodes()[0]->history.back().data(), "data");
  EXPECT_EQ(env.nodes()[1]->history.back().data(), "data");
  EXPECT_TRUE(env.messages().empty());
}

}  // namespace
}  // namespace etcd::raft::rafttest
