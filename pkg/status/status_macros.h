// Early-return helpers for absl::Status and absl::StatusOr (Debian's Abseil
// 20220623 ships none).
//
//   absl::StatusOr<Config> Load(const std::string& path) {
//     ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     RETURN_IF_ERROR(Validate(text));
//     return Parse(text);
//   }
//
// Both evaluate their argument exactly once. ASSIGN_OR_RETURN declares or
// assigns its left-hand side, so it cannot be the sole statement of an
// unbraced if/else.

#ifndef ETCD_PKG_STATUS_STATUS_MACROS_H_
#define ETCD_PKG_STATUS_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ETCD_STATUS_CONCAT_INNER_(a, b) a##b
#define ETCD_STATUS_CONCAT_(a, b) ETCD_STATUS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                                             \
  do {                                                                    \
    ::absl::Status etcd_status_macro_status_ = (expr);                    \
    if (!etcd_status_macro_status_.ok()) return etcd_status_macro_status_; \
  } while (false)

// `ASSIGN_OR_RETURN(lhs, expr)`: evaluates the StatusOr `expr`; on error
// returns its status, otherwise moves the value into `lhs` (a declaration
// such as `auto x` or an existing variable).
#define ASSIGN_OR_RETURN(lhs, expr) \
  ETCD_ASSIGN_OR_RETURN_IMPL_(ETCD_STATUS_CONCAT_(etcd_statusor_, __LINE__), lhs, expr)

#define ETCD_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // ETCD_PKG_STATUS_STATUS_MACROS_H_
