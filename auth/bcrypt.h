// bcrypt password hashes through the system libcrypt (libxcrypt), internal
// to //auth.
//
//   ASSIGN_OR_RETURN(std::string hash, etcd::auth::BcryptHash("s3cret", 10));
//   // hash == "$2b$10$<22 salt chars><31 hash chars>"
//   bool ok = etcd::auth::BcryptVerify(hash, "s3cret");  // true
//
// Compatible with Go's golang.org/x/crypto/bcrypt, which etcd uses: hashes
// etcd wrote ("$2a$") verify here and the "$2b$" hashes written here verify
// in Go. As in every bcrypt, only the first 72 bytes of a password count.
// One difference: libcrypt takes C strings, so a password containing a NUL
// byte cannot be hashed faithfully; BcryptHash rejects it and BcryptVerify
// never accepts it (otherwise "pw\0anything" would match "pw").
//
// Pure functions (each call allocates its own libcrypt state); thread-safe.
// Hashing and verifying take time exponential in the cost by design (cost 10
// is tens of milliseconds): never call them on a latency-critical thread.

#ifndef ETCD_AUTH_BCRYPT_H_
#define ETCD_AUTH_BCRYPT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::auth {

// Go's bcrypt.MinCost, MaxCost and DefaultCost (etcd's --bcrypt-cost).
inline constexpr int kBcryptMinCost = 4;
inline constexpr int kBcryptMaxCost = 31;
inline constexpr int kBcryptDefaultCost = 10;

// A "$2b$" hash of `password` with a fresh random salt. InvalidArgument for
// a cost outside [kBcryptMinCost, kBcryptMaxCost] or a password with a NUL
// byte; Internal if libcrypt fails.
absl::StatusOr<std::string> BcryptHash(absl::string_view password, int cost);

// Whether `password` matches `hash`, a "$2a$", "$2b$" or "$2y$" bcrypt hash.
// False for anything else (malformed or non-bcrypt hashes included). The
// comparison takes the same time whatever the outcome.
bool BcryptVerify(absl::string_view hash, absl::string_view password);

// Whether `hash` looks like a bcrypt hash this module can verify.
bool IsBcryptHash(absl::string_view hash);

}  // namespace etcd::auth

#endif  // ETCD_AUTH_BCRYPT_H_
