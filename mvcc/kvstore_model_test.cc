// Long random sequences of puts, deletes, transactions, ranges at any
// revision, compactions and restarts, checked against KvModel after every
// step (see model_checker.h).

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "mvcc/model_checker.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::mvcc {
namespace {

void RunModel(uint64_t seed, int steps, ModelChecker::Options options) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("model"));
  options.dir = dir.path();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ModelChecker> checker, ModelChecker::Create(options));
  RandomChoices choices(seed);
  for (int i = 0; i < steps; ++i) {
    absl::Status status = checker->Step(choices);
    ASSERT_TRUE(status.ok()) << "seed " << seed << " step " << i << ": " << status << "\n"
                             << checker->Trace();
  }
  absl::Status status = checker->CheckAll();
  ASSERT_TRUE(status.ok()) << "seed " << seed << ": " << status << "\n" << checker->Trace();
}

TEST(KvStoreModelTest, SmallKeySpace) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    ModelChecker::Options options;
    options.key_space = 4;
    RunModel(seed, 600, options);
  }
}

TEST(KvStoreModelTest, LargerKeySpaceLongRun) {
  ModelChecker::Options options;
  options.key_space = 40;
  options.batch_limit = 50;
  options.compaction_batch_limit = 10;
  RunModel(/*seed=*/99, 2500, options);
}

TEST(KvStoreModelTest, WithoutRestarts) {
  ModelChecker::Options options;
  options.restarts = false;
  options.key_space = 15;
  RunModel(/*seed=*/7, 1500, options);
}

// A longer exploration on demand: MVCC_MODEL_SEEDS=200 bazel test ... runs
// that many more seeds (with --test_env=MVCC_MODEL_SEEDS=200).
TEST(KvStoreModelTest, ExtraSeedsFromEnvironment) {
  const char* env = std::getenv("MVCC_MODEL_SEEDS");
  const int seeds = env == nullptr ? 0 : std::atoi(env);
  if (seeds <= 0) GTEST_SKIP() << "set MVCC_MODEL_SEEDS to run more seeds";
  for (int seed = 1000; seed < 1000 + seeds; ++seed) {
    ModelChecker::Options options;
    options.key_space = 3 + seed % 20;
    options.batch_limit = 1 + seed % 30;
    options.compaction_batch_limit = 1 + seed % 7;
    RunModel(seed, 400, options);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace etcd::mvcc
