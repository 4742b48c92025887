// googletest assertions for absl::Status and absl::StatusOr.
//
//   EXPECT_OK(store.Put("k", "v"));
//   ASSERT_OK(dir.status());
//   ASSERT_OK_AND_ASSIGN(int port, etcd::testutil::FreePort());
//
// Each evaluates its argument once and prints the status on failure.
// ASSERT_OK_AND_ASSIGN declares or assigns its left-hand side, so it cannot
// be the sole statement of an unbraced if/else; like every ASSERT_*, it can
// only be used in functions returning void.

#ifndef ETCD_PKG_TESTUTIL_STATUS_MATCHERS_H_
#define ETCD_PKG_TESTUTIL_STATUS_MATCHERS_H_

#include <gtest/gtest.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace etcd::testutil::internal {

inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

template <typename S>
::testing::AssertionResult IsOk(const char* expression, const S& value) {
  const absl::Status& status = StatusOf(value);
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expression << " is not OK: " << status;
}

}  // namespace etcd::testutil::internal

#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::etcd::testutil::internal::IsOk, expr)
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::etcd::testutil::internal::IsOk, expr)

#define ETCD_TESTUTIL_CONCAT_INNER_(a, b) a##b
#define ETCD_TESTUTIL_CONCAT_(a, b) ETCD_TESTUTIL_CONCAT_INNER_(a, b)

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                                          \
  ETCD_ASSERT_OK_AND_ASSIGN_IMPL_(ETCD_TESTUTIL_CONCAT_(etcd_testutil_statusor_, __LINE__), lhs, \
                                  expr)

#define ETCD_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr)                \
  auto statusor = (expr);                                                   \
  ASSERT_PRED_FORMAT1(::etcd::testutil::internal::IsOk, statusor) << #expr; \
  lhs = std::move(statusor).value()

#endif  // ETCD_PKG_TESTUTIL_STATUS_MATCHERS_H_
