// The auth errors that have no client-visible etcd error of their own, with
// predicates to recognise them.
//
//   absl::StatusOr<std::unique_ptr<etcd::auth::TokenProvider>> tp =
//       etcd::auth::NewTokenProvider(flag_auth_token, options);
//   if (etcd::auth::IsInvalidAuthOpts(tp.status())) { ... }  // a bad --auth-token
//
// Everything a client can see comes from //api/rpctypes instead (the store
// returns rpctypes::ToStatus(rpctypes::kErrAuthFailed) and so on, messages
// included, so the server passes them through unchanged). The errors here are
// about configuration (token options, key files), plus the two request errors
// etcd sends with messages of the auth package: a password given for a
// no-password user, and a grant without a permission.
//
// Messages start with etcd's text ("auth: invalid auth options"); the
// configuration errors append ": <detail>" naming the offending option or
// file. Predicates match that prefix.
//
// Pure functions; thread-safe.

#ifndef ETCD_AUTH_ERRORS_H_
#define ETCD_AUTH_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace etcd::auth {

// CheckPassword for a user created with no_password. etcd sends this with
// gRPC code Unknown, which is what the status carries.
absl::Status NoPasswordUserError();
// A malformed --auth-token string, an unknown token type, or a bad JWT
// option (sign-method, ttl, a key file that cannot be read or parsed).
// InvalidArgument.
absl::Status InvalidAuthOptsError(absl::string_view detail);
// A JWT sign method without the key it needs. InvalidArgument.
absl::Status MissingKeyError(absl::string_view detail);
// JWT public and private key files that are not one pair, or a key of the
// wrong type or curve for the sign method. InvalidArgument.
absl::Status KeyMismatchError(absl::string_view detail);
// Assigning a JWT with a provider that only has a public key.
// FailedPrecondition.
absl::Status VerifyOnlyError();
// RoleGrantPermission without a permission (etcd 3.5's
// "etcdserver: permission not given"). InvalidArgument.
absl::Status PermissionNotGivenError();

bool IsNoPasswordUser(const absl::Status& status);
bool IsInvalidAuthOpts(const absl::Status& status);
bool IsMissingKey(const absl::Status& status);
bool IsKeyMismatch(const absl::Status& status);
bool IsVerifyOnly(const absl::Status& status);
bool IsPermissionNotGiven(const absl::Status& status);

}  // namespace etcd::auth

#endif  // ETCD_AUTH_ERRORS_H_
