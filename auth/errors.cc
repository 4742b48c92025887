#include "auth/errors.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace etcd::auth {
namespace {

constexpr absl::string_view kNoPasswordUser =
    "auth: authentication failed, password was given for no password user";
constexpr absl::string_view kInvalidAuthOpts = "auth: invalid auth options";
constexpr absl::string_view kMissingKey = "auth: missing key data";
constexpr absl::string_view kKeyMismatch = "auth: public and private keys don't match";
constexpr absl::string_view kVerifyOnly = "auth: token signing attempted with verify-only key";
constexpr absl::string_view kPermissionNotGiven = "etcdserver: permission not given";

std::string WithDetail(absl::string_view base, absl::string_view detail) {
  if (detail.empty()) return std::string(base);
  return absl::StrCat(base, ": ", detail);
}

// The message is `base` or `base: ...`.
bool HasBase(const absl::Status& status, absl::string_view base) {
  absl::string_view m = status.message();
  if (!absl::StartsWith(m, base)) return false;
  return m.size() == base.size() || absl::StartsWith(m.substr(base.size()), ": ");
}

}  // namespace

absl::Status NoPasswordUserError() {
  return absl::Status(absl::StatusCode::kUnknown, kNoPasswordUser);
}
absl::Status InvalidAuthOptsError(absl::string_view detail) {
  return absl::InvalidArgumentError(WithDetail(kInvalidAuthOpts, detail));
}
absl::Status MissingKeyError(absl::string_view detail) {
  return absl::InvalidArgumentError(WithDetail(kMissingKey, detail));
}
absl::Status KeyMismatchError(absl::string_view detail) {
  return absl::InvalidArgumentError(WithDetail(kKeyMismatch, detail));
}
absl::Status VerifyOnlyError() { return absl::FailedPreconditionError(kVerifyOnly); }
absl::Status PermissionNotGivenError() { return absl::InvalidArgumentError(kPermissionNotGiven); }

bool IsNoPasswordUser(const absl::Status& status) { return status.message() == kNoPasswordUser; }
bool IsInvalidAuthOpts(const absl::Status& status) { return HasBase(status, kInvalidAuthOpts); }
bool IsMissingKey(const absl::Status& status) { return HasBase(status, kMissingKey); }
bool IsKeyMismatch(const absl::Status& status) { return HasBase(status, kKeyMismatch); }
bool IsVerifyOnly(const absl::Status& status) { return status.message() == kVerifyOnly; }
bool IsPermissionNotGiven(const absl::Status& status) {
  return status.message() == kPermissionNotGiven;
}

}  // namespace etcd::auth
