// The randomized watch test: random writes, compactions, watchers, cancels,
// partial drains and progress requests, with every watcher's output checked
// against the model of all revisions (watch_checker.h).

#include <gtest/gtest.h>

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "mvcc/watch_checker.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::mvcc {
namespace {

class WatchModelTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(WatchModelTest, MatchesModel) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("watch_model"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WatchChecker> checker, WatchChecker::Create(dir.path()));
  RandomChoices choices(GetParam());
  for (int step = 0; step < 600; ++step) {
    absl::Status status = checker->Step(choices);
    ASSERT_TRUE(status.ok()) << "step " << step << ": " << status << "\n" << checker->Trace();
  }
  absl::Status status = checker->Finish();
  ASSERT_TRUE(status.ok()) << status << "\n" << checker->Trace();
}

INSTANTIATE_TEST_SUITE_P(Seeds, WatchModelTest, ::testing::Range<uint64_t>(1, 21));

}  // namespace
}  // namespace etcd::mvcc
