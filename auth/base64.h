// Base64 for JSON Web Tokens and hashed passwords (internal to //auth).
//
//   std::string seg = etcd::auth::Base64UrlEncode(R"({"alg":"RS256"})");
//   std::optional<std::string> raw = etcd::auth::Base64UrlDecode(seg);
//
// Base64Url* is RFC 4648 section 5 without padding (JWS compact form, Go's
// base64.RawURLEncoding); Base64Std* is section 4 with '=' padding (Go's
// base64.StdEncoding, which etcd 3.5 uses for AuthUserAddRequest.hashedPassword).
// Decoders are strict: any byte outside the alphabet (whitespace included),
// wrong padding, an impossible length, or non-zero unused bits in the last
// character makes them return nullopt, so every accepted string has exactly
// one encoding.
//
// Pure functions; thread-safe.

#ifndef ETCD_AUTH_BASE64_H_
#define ETCD_AUTH_BASE64_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace etcd::auth {

std::string Base64UrlEncode(absl::string_view data);
std::optional<std::string> Base64UrlDecode(absl::string_view encoded);

std::string Base64StdEncode(absl::string_view data);
std::optional<std::string> Base64StdDecode(absl::string_view encoded);

}  // namespace etcd::auth

#endif  // ETCD_AUTH_BASE64_H_
