#include "pkg/testutil/status_matchers.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace etcd::testutil {
namespace {

int evaluations = 0;

absl::StatusOr<std::unique_ptr<int>> MakeInt(bool ok) {
  ++evaluations;
  if (!ok) return absl::NotFoundError("no int");
  return std::make_unique<int>(5);
}

absl::Status Fail() { return absl::InternalError("boom"); }

TEST(StatusMatchersTest, PassOnOk) {
  evaluations = 0;
  EXPECT_OK(absl::OkStatus());
  ASSERT_OK(MakeInt(true));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<int> v, MakeInt(true));
  EXPECT_EQ(*v, 5);
  EXPECT_EQ(evaluations, 2);
}

TEST(StatusMatchersTest, FailuresPrintTheStatus) {
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(Fail()), "Fail() is not OK: INTERNAL: boom");
  EXPECT_FATAL_FAILURE(ASSERT_OK(Fail()), "INTERNAL: boom");
}

void AssignOrFail(bool* reached) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<int> v, MakeInt(false));
  *reached = true;
}

TEST(StatusMatchersTest, AssertOkAndAssignStopsOnError) {
  static bool reached = false;
  EXPECT_FATAL_FAILURE(AssignOrFail(&reached), "NOT_FOUND: no int");
  EXPECT_FALSE(reached);
}

}  // namespace
}  // namespace etcd::testutil
