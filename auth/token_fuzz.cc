// Fuzzes token parsing: arbitrary bytes as simple tokens, JWTs, JWT headers
// and claims (validly signed, so the claim checks are reached), mutations of
// a valid JWT, --auth-token strings, Go durations, base64 and JSON. Every
// answer must be a valid AuthInfo or kErrInvalidAuthToken (never a crash),
// and the codecs must be canonical.

#include <openssl/obj_mac.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "api/rpctypes/rpctypes.h"
#include "auth/base64.h"
#include "auth/clock.h"
#include "auth/errors.h"
#include "auth/json.h"
#include "auth/jwt.h"
#include "auth/simple_token.h"
#include "auth/test_keys.h"
#include "auth/token_provider.h"

namespace etcd::auth {
namespace {

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "token_fuzz: %s\n", what);
    std::abort();
  }
}

struct Env {
  Env() : clock(absl::FromUnixSeconds(1700000000)) {
    TokenProviderOptions options;
    options.clock = &clock;
    simple = std::make_unique<SimpleTokenProvider>(options);
    simple->Enable();
    Require(simple->Assign("alice", 1, {"abcdefghijklmnop", 42}).ok(), "assign");
    hs256 = Make(SignMethod::kHS256, "fuzz secret", "");
    TestKey ec = GenerateEcTestKey(NID_X9_62_prime256v1);
    es256 = Make(SignMethod::kES256, ec.private_pem, ec.public_pem);
    TestKey rsa = GenerateRsaTestKey(2048);
    rs256 = Make(SignMethod::kRS256, rsa.private_pem, rsa.public_pem);
    ps256 = Make(SignMethod::kPS256, rsa.private_pem, "");
    valid_hs = hs256->Assign("bob", 7, {}).value();
    valid_rs = rs256->Assign("bob", 7, {}).value();
  }

  std::unique_ptr<JwtTokenProvider> Make(SignMethod m, std::string priv, std::string pub) {
    JwtOptions o;
    o.sign_method = m;
    o.private_key = std::move(priv);
    o.public_key = std::move(pub);
    auto p = JwtTokenProvider::Create(o, &clock);
    Require(p.ok(), "create provider");
    return *std::move(p);
  }

  ManualClock clock;
  std::unique_ptr<SimpleTokenProvider> simple;
  std::unique_ptr<JwtTokenProvider> hs256, es256, rs256, ps256;
  std::string valid_hs, valid_rs;
};

Env& E() {
  static Env* env = new Env();
  return *env;
}

// OK or kErrInvalidAuthToken, nothing else.
absl::StatusOr<AuthInfo> Check(TokenProvider& p, absl::string_view token) {
  absl::StatusOr<AuthInfo> info = p.Info(token, 9, absl::InfiniteFuture());
  Require(info.ok() || rpctypes::IsInvalidAuthToken(info.status()), "unexpected Info error");
  return info;
}

void AllProviders(absl::string_view token) {
  Env& e = E();
  absl::StatusOr<AuthInfo> s = Check(*e.simple, token);
  if (s.ok()) Require(token == "abcdefghijklmnop.42" && s->username == "alice", "simple");
  for (JwtTokenProvider* p : {e.hs256.get(), e.es256.get(), e.rs256.get(), e.ps256.get()}) {
    (void)Check(*p, token);
  }
}

// Claims signed with the HS256 key: reaches the claim checks.
void SignedClaims(absl::string_view claims) {
  Env& e = E();
  std::string input =
      absl::StrCat(Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})"), ".", Base64UrlEncode(claims));
  std::string token = absl::StrCat(input, ".", Base64UrlEncode(e.hs256->Sign(input).value()));
  absl::StatusOr<AuthInfo> info = Check(*e.hs256, token);
  if (info.ok()) {
    std::optional<JsonValue> parsed = ParseJson(claims);
    Require(parsed.has_value() && parsed->is_object(), "accepted claims are an object");
    const JsonValue* user = parsed->Find("username");
    Require(user != nullptr && user->is_string() && user->text() == info->username, "username");
    Require(parsed->Find("exp") != nullptr, "exp required");
  }
}

// A header of the fuzzer's choosing over valid claims.
void SignedHeader(absl::string_view header) {
  Env& e = E();
  std::string input =
      absl::StrCat(Base64UrlEncode(header), ".",
                   Base64UrlEncode(R"({"exp":1800000000,"revision":3,"username":"carol"})"));
  std::string token = absl::StrCat(input, ".", Base64UrlEncode(e.hs256->Sign(input).value()));
  absl::StatusOr<AuthInfo> info = Check(*e.hs256, token);
  if (info.ok()) {
    std::optional<JsonValue> parsed = ParseJson(header);
    Require(parsed.has_value() && parsed->Find("alg") != nullptr &&
                parsed->Find("alg")->text() == "HS256",
            "accepted header names HS256");
  }
}

// Overwrites bytes of a valid token: only the unchanged token may verify.
void Mutate(const std::string& valid, JwtTokenProvider& p, absl::string_view edits) {
  std::string token = valid;
  for (size_t i = 0; i + 1 < edits.size(); i += 2) {
    size_t pos = static_cast<unsigned char>(edits[i]) * 7 % (token.size() + 1);
    if (pos == token.size()) {
      token.push_back(edits[i + 1]);
    } else {
      token[pos] = edits[i + 1];
    }
  }
  absl::StatusOr<AuthInfo> info = Check(p, token);
  Require(info.ok() == (token == valid), "mutated token accepted");
}

void Codecs(absl::string_view in) {
  if (std::optional<std::string> d = Base64UrlDecode(in)) {
    Require(Base64UrlEncode(*d) == in, "base64url not canonical");
  }
  if (std::optional<std::string> d = Base64StdDecode(in)) {
    Require(Base64StdEncode(*d) == in, "base64 not canonical");
  }
  if (std::optional<JsonValue> v = ParseJson(in); v.has_value() && v->is_string()) {
    std::optional<JsonValue> again = ParseJson(JsonQuote(v->text()));
    Require(again.has_value() && again->text() == v->text(), "JsonQuote round trip");
  }
  absl::StatusOr<TokenSpec> spec = ParseTokenSpec(in);
  Require(spec.ok() || IsInvalidAuthOpts(spec.status()), "ParseTokenSpec error");
  (void)ParseGoDuration(in);
  (void)ParseSignMethod(in);
}

}  // namespace
}  // namespace etcd::auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace etcd::auth;
  if (size == 0 || size > 4096) return 0;
  absl::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      AllProviders(in);
      break;
    case 1:
      SignedClaims(in);
      break;
    case 2:
      SignedHeader(in);
      break;
    case 3:
      Mutate(E().valid_hs, *E().hs256, in);
      break;
    case 4:
      Mutate(E().valid_rs, *E().rs256, in);
      break;
    default:
      Codecs(in);
  }
  return 0;
}
