#include "pkg/status/status_macros.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace {

int calls = 0;

absl::Status Fail(absl::string_view message) {
  ++calls;
  return absl::InvalidArgumentError(message);
}

absl::Status Succeed() {
  ++calls;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<int>> MakeInt(int value, bool ok) {
  ++calls;
  if (!ok) return absl::NotFoundError("no int");
  return std::make_unique<int>(value);
}

absl::Status TwoSteps(bool first_ok, int* after) {
  RETURN_IF_ERROR(first_ok ? Succeed() : Fail("first"));
  *after = 1;
  RETURN_IF_ERROR(Fail("second"));
  *after = 2;
  return absl::OkStatus();
}

absl::StatusOr<int> Sum(bool a_ok, bool b_ok) {
  ASSIGN_OR_RETURN(std::unique_ptr<int> a, MakeInt(3, a_ok));
  int b = 0;
  ASSIGN_OR_RETURN(auto b_ptr, MakeInt(4, b_ok));
  b = *b_ptr;
  return *a + b;
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtFirstError) {
  int after = 0;
  calls = 0;
  absl::Status s = TwoSteps(false, &after);
  EXPECT_EQ(s.message(), "first");
  EXPECT_EQ(after, 0);
  EXPECT_EQ(calls, 1);

  calls = 0;
  s = TwoSteps(true, &after);
  EXPECT_EQ(s.message(), "second");
  EXPECT_EQ(after, 1);
  EXPECT_EQ(calls, 2);
}

TEST(StatusMacrosTest, AssignOrReturnMovesValueOrReturnsStatus) {
  calls = 0;
  absl::StatusOr<int> ok = Sum(true, true);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 7);
  EXPECT_EQ(calls, 2);

  calls = 0;
  absl::StatusOr<int> bad = Sum(true, false);
  EXPECT_TRUE(absl::IsNotFound(bad.status()));
  EXPECT_EQ(calls, 2);

  calls = 0;
  bad = Sum(false, true);
  EXPECT_TRUE(absl::IsNotFound(bad.status()));
  EXPECT_EQ(calls, 1);
}

}  // namespace
