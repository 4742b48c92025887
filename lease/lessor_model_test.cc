#include "lease/lessor_model.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::lease {
namespace {

struct Variant {
  std::string name;
  CheckerOptions options;
};

class LessorModelTest : public ::testing::TestWithParam<Variant> {};

// Random operations against the reference model, compared after every step.
TEST_P(LessorModelTest, AgreesWithTheModel) {
  constexpr int kSeeds = 6;
  constexpr int kSteps = 1500;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("lessor_model"));
    CheckerOptions options = GetParam().options;
    options.dir = dir.path();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<LessorChecker> checker, LessorChecker::Create(options));
    RandomChoices choices(seed * 7919 + GetParam().name.size());
    for (int i = 0; i < kSteps; ++i) {
      absl::Status status = checker->Step(choices);
      ASSERT_TRUE(status.ok()) << "seed " << seed << " step " << i << ": " << status << "\n"
                               << checker->Trace();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, LessorModelTest,
    ::testing::Values(
        Variant{"plain", CheckerOptions{.checkpointing = false}},
        Variant{"checkpoints", CheckerOptions{.checkpointing = true, .max_checkpoint_batch = 2}},
        // With a revoke rate of 4 and up to 12 leases, promotions spread
        // piled-up expiries.
        Variant{"spread", CheckerOptions{.checkpointing = true, .revoke_rate = 4, .max_id = 12}}),
    [](const ::testing::TestParamInfo<Variant>& info) { return info.param.name; });

}  // namespace
}  // namespace etcd::lease
