// etcd's "jwt" tokens: JSON Web Tokens (RFC 7519, JWS compact form) signed by
// the member, so any member holding the public key can verify them without
// shared state.
//
//   ASSIGN_OR_RETURN(etcd::auth::JwtOptions opts, etcd::auth::ParseJwtOptions(
//       {{"sign-method", "ES256"}, {"priv-key", "/k/ec.pem"}, {"ttl", "10m"}}));
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::auth::JwtTokenProvider> jwt,
//                    etcd::auth::JwtTokenProvider::Create(opts));
//   std::string token = jwt->Assign("alice", /*revision=*/7, {}).value();
//   // eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3...In0.<signature>
//   etcd::auth::AuthInfo who = jwt->Info(token, 0, absl::InfiniteFuture()).value();
//   // who == {"alice", 7}
//
// Tokens are what etcd's jwt.go (golang-jwt) produces: the header
// {"alg":"<method>","typ":"JWT"} and the claims
// {"exp":<unix seconds>,"revision":<auth revision>,"username":"<name>"}, so
// tokens verify across this project and etcd given the same key.
//
// Sign methods (etcd's --auth-token sign-method): RS256, RS384, RS512
// (RSASSA-PKCS1-v1_5), PS256, PS384, PS512 (RSASSA-PSS, salt length = hash
// length when signing, any when verifying, like golang-jwt), ES256, ES384,
// ES512 (ECDSA on P-256, P-384, P-521, signatures as JOSE's fixed-size r||s),
// HS256, HS384, HS512 (HMAC with the bytes of the priv-key file as secret).
// Keys are PEM files: a private key in PKCS#8 or the traditional RSA/EC form
// (unencrypted), a public key as SubjectPublicKeyInfo or an X.509
// certificate. With only a public key the provider verifies but cannot
// assign (IsVerifyOnly). Implemented over OpenSSL's EVP interface, in the
// subset BoringSSL shares.
//
// Verification (Info) rejects with rpctypes' kErrInvalidAuthToken anything
// but a token of exactly three base64url (unpadded) segments whose header is
// a JSON object with "alg" equal to the configured method, whose signature
// verifies under the configured key with that method, and whose claims are a
// JSON object with a string "username", a non-negative integral "revision",
// a numeric "exp" in the future, and, when present, numeric "nbf" and "iat"
// not in the future. The algorithm is never taken from the token: "none",
// and an HS256 token made with the RSA public key as HMAC secret (the
// key-confusion attack), fail the "alg" check. Tokens longer than
// kMaxJwtLength are rejected unread.
//
// Differences from etcd: "exp" is required (golang-jwt accepts tokens without
// it, though etcd never makes one); a repeated JSON member name is rejected;
// keys are checked when the provider is created (type and curve must fit the
// method; a given public and private key must be one pair; RSA keys need at
// least 1024 bits) instead of failing at the first token; a ttl <= 0 is
// refused.
//
// Thread-safe; keys are immutable after Create.

#ifndef ETCD_AUTH_JWT_H_
#define ETCD_AUTH_JWT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "auth/token_provider.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace etcd::auth {

inline constexpr size_t kMaxJwtLength = 16 * 1024;
inline constexpr absl::Duration kDefaultJwtTtl = absl::Minutes(5);

enum class SignMethod {
  kRS256,
  kRS384,
  kRS512,
  kPS256,
  kPS384,
  kPS512,
  kES256,
  kES384,
  kES512,
  kHS256,
  kHS384,
  kHS512,
};

// "RS256", ...
absl::string_view SignMethodName(SignMethod method);
// The method named exactly `name`, if it is one of the above.
std::optional<SignMethod> ParseSignMethod(absl::string_view name);

struct JwtOptions {
  SignMethod sign_method = SignMethod::kRS256;
  // PEM text of the public key or certificate; may be empty.
  std::string public_key;
  // PEM text of the private key, or the HMAC secret; may be empty.
  std::string private_key;
  // Lifetime of an assigned token.
  absl::Duration ttl = kDefaultJwtTtl;
};

// The options of "jwt,..." (etcd's jwtOptions.ParseWithDefaults): reads the
// pub-key and priv-key files, parses ttl as a Go duration ("10m", "1h30m";
// default 5m) and requires a known sign-method. IsInvalidAuthOpts on any
// error, naming the option. Unknown option names are ignored here
// (NewTokenProvider logs them).
absl::StatusOr<JwtOptions> ParseJwtOptions(const std::map<std::string, std::string>& options);

// Go's time.ParseDuration, for the ttl option: a sequence of decimal numbers
// with optional fraction and a unit (ns, us, µs, ms, s, m, h), optionally
// signed; "0" alone is zero. InvalidArgument otherwise.
absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text);

class JwtTokenProvider final : public TokenProvider {
 public:
  // Checks and loads the keys: IsMissingKey without the key the method
  // needs (an HMAC secret is the private key), IsKeyMismatch for a key of
  // the wrong type, curve or size, or a public key that is not the private
  // key's, InvalidArgument for a PEM that cannot be parsed. `clock` (not
  // owned; RealClock() when null) is read for "exp", "nbf" and "iat".
  static absl::StatusOr<std::unique_ptr<JwtTokenProvider>> Create(const JwtOptions& options,
                                                                  Clock* clock = nullptr);
  ~JwtTokenProvider() override;

  // `revision` is ignored: the token's own claim is reported.
  absl::StatusOr<AuthInfo> Info(absl::string_view token, uint64_t revision,
                                absl::Time deadline) override;
  // IsVerifyOnly without a private key.
  absl::StatusOr<std::string> Assign(absl::string_view username, uint64_t revision,
                                     const AssignParams& params) override;
  void Enable() override {}
  void Disable() override {}
  void InvalidateUser(absl::string_view username) override {}
  absl::StatusOr<std::string> GenTokenPrefix() override { return std::string(); }
  absl::string_view type() const override { return "jwt"; }

  SignMethod sign_method() const { return method_; }
  bool verify_only() const { return verify_only_; }
  absl::Duration ttl() const { return ttl_; }

  // The JWS signature of `signing_input` ("<header>.<claims>"), raw bytes.
  // Exposed for tests that build tokens by hand. IsVerifyOnly without a
  // private key.
  absl::StatusOr<std::string> Sign(absl::string_view signing_input) const;
  // Whether `signature` (raw bytes) is valid for `signing_input`.
  bool Verify(absl::string_view signing_input, absl::string_view signature) const;

 private:
  JwtTokenProvider(SignMethod method, absl::Duration ttl, Clock* clock)
      : method_(method), ttl_(ttl), clock_(clock) {}

  const SignMethod method_;
  const absl::Duration ttl_;
  Clock* const clock_;
  bool verify_only_ = false;
  // The asymmetric key (private when we can sign, else public); null for HMAC.
  EVP_PKEY* key_ = nullptr;
  std::string hmac_secret_;
  // Bytes of r and of s in an ECDSA signature (32, 48, 66).
  int ec_coordinate_bytes_ = 0;
};

}  // namespace etcd::auth

#endif  // ETCD_AUTH_JWT_H_
