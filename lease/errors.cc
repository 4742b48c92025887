#include "lease/errors.h"

namespace etcd::lease {
namespace {

constexpr char kNotFound[] = "lease not found";
constexpr char kExists[] = "lease already exists";
constexpr char kNotPrimary[] = "not a primary lessor";
constexpr char kTtlTooLarge[] = "too large lease TTL";

}  // namespace

absl::Status LeaseNotFoundError() { return absl::NotFoundError(kNotFound); }
absl::Status LeaseExistsError() { return absl::AlreadyExistsError(kExists); }
absl::Status NotPrimaryError() { return absl::FailedPreconditionError(kNotPrimary); }
absl::Status LeaseTtlTooLargeError() { return absl::OutOfRangeError(kTtlTooLarge); }

bool IsLeaseNotFound(const absl::Status& status) {
  return status.code() == absl::StatusCode::kNotFound && status.message() == kNotFound;
}
bool IsLeaseExists(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAlreadyExists && status.message() == kExists;
}
bool IsNotPrimary(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition && status.message() == kNotPrimary;
}
bool IsLeaseTTLTooLarge(const absl::Status& status) {
  return status.code() == absl::StatusCode::kOutOfRange && status.message() == kTtlTooLarge;
}

}  // namespace etcd::lease
