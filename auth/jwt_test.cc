#include "auth/jwt.h"

#include <gtest/gtest.h>
#include <openssl/obj_mac.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/rpctypes/rpctypes.h"
#include "auth/base64.h"
#include "auth/clock.h"
#include "auth/errors.h"
#include "auth/test_keys.h"
#include "auth/token_provider.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::auth {
namespace {

constexpr absl::Time kNoDeadline = absl::InfiniteFuture();

struct Keys {
  TestKey rsa = GenerateRsaTestKey(2048);
  TestKey rsa_other = GenerateRsaTestKey(2048);
  TestKey ec256 = GenerateEcTestKey(NID_X9_62_prime256v1);
  TestKey ec256_other = GenerateEcTestKey(NID_X9_62_prime256v1);
  TestKey ec384 = GenerateEcTestKey(NID_secp384r1);
  TestKey ec521 = GenerateEcTestKey(NID_secp521r1);
};

const Keys& K() {
  static const Keys* keys = new Keys();
  return *keys;
}

const std::vector<SignMethod>& AllMethods() {
  static const auto* m = new std::vector<SignMethod>{
      SignMethod::kRS256, SignMethod::kRS384, SignMethod::kRS512, SignMethod::kPS256,
      SignMethod::kPS384, SignMethod::kPS512, SignMethod::kES256, SignMethod::kES384,
      SignMethod::kES512, SignMethod::kHS256, SignMethod::kHS384, SignMethod::kHS512};
  return *m;
}

// The generated key pair `method` needs (HMAC: a secret).
std::pair<std::string, std::string> KeyFor(SignMethod method) {
  switch (method) {
    case SignMethod::kES256:
      return {K().ec256.private_pem, K().ec256.public_pem};
    case SignMethod::kES384:
      return {K().ec384.private_pem, K().ec384.public_pem};
    case SignMethod::kES512:
      return {K().ec521.private_pem, K().ec521.public_pem};
    case SignMethod::kHS256:
    case SignMethod::kHS384:
    case SignMethod::kHS512:
      return {"a shared secret of some length", ""};
    default:
      return {K().rsa.private_pem, K().rsa.public_pem};
  }
}

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() : clock_(absl::FromUnixSeconds(1700000000)) {}

  std::unique_ptr<JwtTokenProvider> Make(SignMethod method, std::string priv, std::string pub,
                                         absl::Duration ttl = absl::Minutes(5)) {
    JwtOptions o;
    o.sign_method = method;
    o.private_key = std::move(priv);
    o.public_key = std::move(pub);
    o.ttl = ttl;
    absl::StatusOr<std::unique_ptr<JwtTokenProvider>> p = JwtTokenProvider::Create(o, &clock_);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  }
  std::unique_ptr<JwtTokenProvider> Make(SignMethod method) {
    auto [priv, pub] = KeyFor(method);
    return Make(method, priv, pub);
  }

  absl::Status Create(SignMethod method, std::string priv, std::string pub) {
    JwtOptions o;
    o.sign_method = method;
    o.private_key = std::move(priv);
    o.public_key = std::move(pub);
    return JwtTokenProvider::Create(o, &clock_).status();
  }

  // "<b64 header>.<b64 claims>.<b64 signature by signer>".
  static std::string Forge(absl::string_view header, absl::string_view claims,
                           const JwtTokenProvider& signer) {
    std::string input = absl::StrCat(Base64UrlEncode(header), ".", Base64UrlEncode(claims));
    absl::StatusOr<std::string> sig = signer.Sign(input);
    EXPECT_TRUE(sig.ok()) << sig.status();
    return absl::StrCat(input, ".", Base64UrlEncode(sig.value_or("")));
  }

  std::string Claims(absl::string_view extra = "") {
    return absl::StrCat("{\"exp\":", absl::ToUnixSeconds(clock_.Now()) + 60,
                        ",\"revision\":5,\"username\":\"alice\"", extra, "}");
  }

  ManualClock clock_;
};

TEST(SignMethodTest, Names) {
  for (SignMethod m : AllMethods()) {
    EXPECT_EQ(ParseSignMethod(SignMethodName(m)), m);
  }
  for (const char* bad : {"", "none", "None", "EdDSA", "rs256", "RS256 ", "HS1"}) {
    EXPECT_FALSE(ParseSignMethod(bad).has_value()) << bad;
  }
}

TEST(GoDurationTest, ParsesGoSyntax) {
  EXPECT_EQ(ParseGoDuration("10m").value(), absl::Minutes(10));
  EXPECT_EQ(ParseGoDuration("1h30m").value(), absl::Minutes(90));
  EXPECT_EQ(ParseGoDuration("1.5h").value(), absl::Minutes(90));
  EXPECT_EQ(ParseGoDuration("300ms").value(), absl::Milliseconds(300));
  EXPECT_EQ(ParseGoDuration("2us").value(), absl::Microseconds(2));
  EXPECT_EQ(ParseGoDuration("2\xc2\xb5s").value(), absl::Microseconds(2));
  EXPECT_EQ(ParseGoDuration(".5s").value(), absl::Milliseconds(500));
  EXPECT_EQ(ParseGoDuration("-1s").value(), absl::Seconds(-1));
  EXPECT_EQ(ParseGoDuration("0").value(), absl::ZeroDuration());
  EXPECT_EQ(ParseGoDuration("2562047h").value(), absl::Hours(2562047));
  for (const char* bad :
       {"", "10", "forever", "1x", "inf", "1h-1m", ".s", "-", "9999999999h", "1.5", "m"}) {
    EXPECT_FALSE(ParseGoDuration(bad).ok()) << bad;
  }
}

TEST(JwtOptionsTest, ParsesAndReadsFiles) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("jwt"));
  ASSERT_OK(testutil::WriteFile(dir.Join("priv.pem"), K().rsa.private_pem));
  ASSERT_OK(testutil::WriteFile(dir.Join("pub.pem"), K().rsa.public_pem));
  ASSERT_OK_AND_ASSIGN(JwtOptions o, ParseJwtOptions({{"sign-method", "PS384"},
                                                      {"priv-key", dir.Join("priv.pem")},
                                                      {"pub-key", dir.Join("pub.pem")},
                                                      {"ttl", "1h"}}));
  EXPECT_EQ(o.sign_method, SignMethod::kPS384);
  EXPECT_EQ(o.ttl, absl::Hours(1));
  EXPECT_EQ(o.private_key, K().rsa.private_pem);
  EXPECT_EQ(o.public_key, K().rsa.public_pem);
  ASSERT_OK_AND_ASSIGN(JwtOptions d, ParseJwtOptions({{"sign-method", "HS256"}}));
  EXPECT_EQ(d.ttl, kDefaultJwtTtl);
}

// etcd's TestJWTBad, option by option.
TEST(JwtOptionsTest, BadOptions) {
  const std::vector<std::map<std::string, std::string>> bad = {
      {},
      {{"sign-method", "invalid"}},
      {{"sign-method", "none"}},
      {{"sign-method", "RS256"}, {"ttl", "forever"}},
      {{"sign-method", "RS256"}, {"ttl", "0s"}},
      {{"sign-method", "RS256"}, {"ttl", "-5m"}},
      {{"sign-method", "HS256"}, {"pub-key", "/nonexistent/missing-file"}},
      {{"sign-method", "HS256"}, {"priv-key", "/nonexistent/missing-file"}},
  };
  for (const auto& opts : bad) {
    absl::Status s = ParseJwtOptions(opts).status();
    EXPECT_TRUE(IsInvalidAuthOpts(s)) << s;
  }
}

TEST_F(JwtTest, CreateChecksKeys) {
  const Keys& k = K();
  // No key at all.
  EXPECT_TRUE(IsMissingKey(Create(SignMethod::kRS256, "", "")));
  EXPECT_TRUE(IsMissingKey(Create(SignMethod::kES256, "", "")));
  EXPECT_TRUE(IsMissingKey(Create(SignMethod::kHS256, "", "")));
  EXPECT_TRUE(IsMissingKey(Create(SignMethod::kHS256, "", k.rsa.public_pem)));
  // A private key where a public one belongs, and the reverse.
  EXPECT_FALSE(Create(SignMethod::kRS256, k.rsa.private_pem, k.rsa.private_pem).ok());
  EXPECT_FALSE(Create(SignMethod::kRS256, k.rsa.public_pem, k.rsa.public_pem).ok());
  EXPECT_FALSE(Create(SignMethod::kES256, k.ec256.private_pem, k.ec256.private_pem).ok());
  EXPECT_FALSE(Create(SignMethod::kES256, k.ec256.public_pem, k.ec256.public_pem).ok());
  EXPECT_FALSE(Create(SignMethod::kRS256, "not a pem", "").ok());
  // Wrong key type or curve for the method.
  EXPECT_TRUE(IsKeyMismatch(Create(SignMethod::kRS256, k.ec256.private_pem, "")));
  EXPECT_TRUE(IsKeyMismatch(Create(SignMethod::kPS256, "", k.ec256.public_pem)));
  EXPECT_TRUE(IsKeyMismatch(Create(SignMethod::kES256, k.rsa.private_pem, "")));
  EXPECT_TRUE(IsKeyMismatch(Create(SignMethod::kES256, k.ec384.private_pem, "")));
  EXPECT_TRUE(IsKeyMismatch(Create(SignMethod::kES512, "", k.ec256.public_pem)));
  // Two keys that are not one pair.
  EXPECT_TRUE(IsKeyMismatch(Create(SignMethod::kRS256, k.rsa.private_pem, k.rsa_other.public_pem)));
  EXPECT_TRUE(
      IsKeyMismatch(Create(SignMethod::kES256, k.ec256.private_pem, k.ec256_other.public_pem)));
  // Too small an RSA key.
  EXPECT_TRUE(IsKeyMismatch(Create(SignMethod::kRS256, GenerateRsaTestKey(768).private_pem, "")));
  // Good ones, the certificate as public key included (etcd's tests use one).
  EXPECT_OK(Create(SignMethod::kRS256, k.rsa.private_pem, k.rsa.certificate_pem));
  EXPECT_OK(Create(SignMethod::kES256, k.ec256.private_pem, k.ec256.certificate_pem));
  EXPECT_OK(Create(SignMethod::kHS256, "secret", ""));
}

TEST_F(JwtTest, EncryptedPrivateKeyIsRefusedWithoutPrompting) {
  ASSERT_OK_AND_ASSIGN(std::string pem,
                       testutil::ReadFile(testutil::RunfilePath("auth/testdata/rsa.key")));
  // Pretend-encrypted traditional PEM: OpenSSL would ask for a passphrase.
  std::string encrypted = pem;
  encrypted.insert(
      encrypted.find('\n') + 1,
      "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n");
  EXPECT_FALSE(Create(SignMethod::kRS256, encrypted, "").ok());
}

// Every method: assign, then verify with the same provider, with a
// verify-only provider (public key or certificate), and reject with a
// provider holding another key.
TEST_F(JwtTest, AllMethodsRoundTrip) {
  for (SignMethod m : AllMethods()) {
    SCOPED_TRACE(SignMethodName(m));
    auto [priv, pub] = KeyFor(m);
    std::unique_ptr<JwtTokenProvider> jwt = Make(m, priv, pub, absl::Hours(1));
    ASSERT_NE(jwt, nullptr);
    ASSERT_OK_AND_ASSIGN(std::string token, jwt->Assign("abc", 123, {}));
    ASSERT_OK_AND_ASSIGN(AuthInfo info, jwt->Info(token, 7, kNoDeadline));
    EXPECT_EQ(info.username, "abc");
    EXPECT_EQ(info.revision, 123u);  // the claim, not the store's revision
    EXPECT_TRUE(rpctypes::IsInvalidAuthToken(jwt->Info("aaa", 120, kNoDeadline).status()));

    // The claims are exactly etcd's.
    std::vector<std::string> parts = absl::StrSplit(token, '.');
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(Base64UrlDecode(parts[0]).value(),
              absl::StrCat("{\"alg\":\"", SignMethodName(m), "\",\"typ\":\"JWT\"}"));
    EXPECT_EQ(Base64UrlDecode(parts[1]).value(),
              absl::StrCat("{\"exp\":", absl::ToUnixSeconds(clock_.Now()) + 3600,
                           ",\"revision\":123,\"username\":\"abc\"}"));

    if (!pub.empty()) {
      std::unique_ptr<JwtTokenProvider> verifier = Make(m, "", pub);
      ASSERT_NE(verifier, nullptr);
      EXPECT_TRUE(verifier->verify_only());
      ASSERT_OK_AND_ASSIGN(AuthInfo v, verifier->Info(token, 0, kNoDeadline));
      EXPECT_EQ(v, (AuthInfo{"abc", 123}));
      EXPECT_TRUE(IsVerifyOnly(verifier->Assign("abc", 123, {}).status()));
    }
    std::unique_ptr<JwtTokenProvider> stranger;
    switch (m) {
      case SignMethod::kES256:
        stranger = Make(m, K().ec256_other.private_pem, "");
        break;
      case SignMethod::kES384:
      case SignMethod::kES512:
        continue;  // one key per curve is enough
      case SignMethod::kHS256:
      case SignMethod::kHS384:
      case SignMethod::kHS512:
        stranger = Make(m, "another secret", "");
        break;
      default:
        stranger = Make(m, K().rsa_other.private_pem, "");
    }
    EXPECT_TRUE(rpctypes::IsInvalidAuthToken(stranger->Info(token, 0, kNoDeadline).status()));
  }
}

TEST_F(JwtTest, CertificateVerifiesTokens) {
  std::unique_ptr<JwtTokenProvider> signer = Make(SignMethod::kRS256);
  std::unique_ptr<JwtTokenProvider> verifier =
      Make(SignMethod::kRS256, "", K().rsa.certificate_pem);
  ASSERT_OK_AND_ASSIGN(std::string token, signer->Assign("u", 1, {}));
  EXPECT_TRUE(verifier->Info(token, 0, kNoDeadline).ok());
}

// Tokens made by Go's golang-jwt (what etcd uses) verify here, with keys in
// the traditional PEM forms openssl writes.
TEST_F(JwtTest, VerifiesTokensMadeByGo) {
  auto read = [](const char* name) {
    return testutil::ReadFile(testutil::RunfilePath(absl::StrCat("auth/testdata/", name))).value();
  };
  std::map<std::string, std::pair<std::string, std::string>> keys = {
      {"RS", {read("rsa.key"), read("rsa.pub")}},
      {"PS", {read("rsa.key"), read("rsa.pub")}},
      {"ES256", {read("ec256.key"), read("ec256.pub")}},
      {"ES384", {read("ec384.key"), read("ec384.pub")}},
      {"ES512", {read("ec521.key"), read("ec521.pub")}},
      {"HS", {read("hmac.key"), ""}},
  };
  std::string lines = read("go_tokens.txt");
  int checked = 0;
  for (absl::string_view line : absl::StrSplit(lines, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    ASSERT_EQ(f.size(), 2u);
    SCOPED_TRACE(f[0]);
    auto it = keys.find(f[0]);
    if (it == keys.end()) it = keys.find(f[0].substr(0, 2));
    ASSERT_NE(it, keys.end());
    std::optional<SignMethod> m = ParseSignMethod(f[0]);
    ASSERT_TRUE(m.has_value());
    clock_.Set(absl::FromUnixSeconds(1999999999));
    std::unique_ptr<JwtTokenProvider> jwt = Make(*m, it->second.first, it->second.second);
    ASSERT_NE(jwt, nullptr);
    ASSERT_OK_AND_ASSIGN(AuthInfo info, jwt->Info(f[1], 0, kNoDeadline));
    EXPECT_EQ(info, (AuthInfo{"gopher", 42}));
    if (!it->second.second.empty()) {
      std::unique_ptr<JwtTokenProvider> verifier = Make(*m, "", it->second.second);
      EXPECT_TRUE(verifier->Info(f[1], 0, kNoDeadline).ok());
    }
    clock_.Set(absl::FromUnixSeconds(2000000000));  // exp has come
    EXPECT_TRUE(rpctypes::IsInvalidAuthToken(jwt->Info(f[1], 0, kNoDeadline).status()));
    ++checked;
  }
  EXPECT_EQ(checked, 12);
}

TEST_F(JwtTest, ExpiredTokens) {
  std::unique_ptr<JwtTokenProvider> jwt =
      Make(SignMethod::kES256, K().ec256.private_pem, "", absl::Minutes(10));
  ASSERT_OK_AND_ASSIGN(std::string token, jwt->Assign("u", 1, {}));
  clock_.Advance(absl::Minutes(10) - absl::Seconds(1));
  EXPECT_TRUE(jwt->Info(token, 0, kNoDeadline).ok());
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(rpctypes::IsInvalidAuthToken(jwt->Info(token, 0, kNoDeadline).status()));
}

TEST_F(JwtTest, MalformedTokens) {
  std::unique_ptr<JwtTokenProvider> jwt = Make(SignMethod::kRS256);
  ASSERT_OK_AND_ASSIGN(std::string good, jwt->Assign("alice", 5, {}));
  std::vector<std::string> parts = absl::StrSplit(good, '.');
  const std::vector<std::string> bad = {
      "",
      ".",
      "..",
      "...",
      "a.b.c",
      parts[0],
      absl::StrCat(parts[0], ".", parts[1]),
      absl::StrCat(good, "."),
      absl::StrCat(good, ".", parts[2]),
      absl::StrCat(" ", good),
      absl::StrCat(good, "="),
      absl::StrCat(parts[0], "=.", parts[1], ".", parts[2]),
      absl::StrCat(parts[0], ".", parts[1], ".", parts[2].substr(1)),
      absl::StrCat(parts[0], ".", parts[1], ".", parts[2].substr(0, parts[2].size() - 1)),
      absl::StrCat(parts[0], ".", parts[1], ".", Base64UrlEncode("")),
      std::string(kMaxJwtLength + 1, 'a'),
      absl::StrCat(good, std::string("\0", 1)),
  };
  for (const std::string& t : bad) {
    EXPECT_TRUE(rpctypes::IsInvalidAuthToken(jwt->Info(t, 0, kNoDeadline).status()))
        << testing::PrintToString(t);
  }
  EXPECT_TRUE(jwt->Info(good, 0, kNoDeadline).ok());
}

TEST_F(JwtTest, TamperedClaimsFailTheSignature) {
  std::unique_ptr<JwtTokenProvider> jwt = Make(SignMethod::kPS256);
  ASSERT_OK_AND_ASSIGN(std::string good, jwt->Assign("alice", 5, {}));
  std::vector<std::string> parts = absl::StrSplit(good, '.');
  std::string claims = Base64UrlDecode(parts[1]).value();
  std::string more = claims;
  more.replace(more.find("\"revision\":5"), 12, "\"revision\":6");
  std::string root = claims;
  root.replace(root.find("alice"), 5, "root\"");
  root.erase(root.find("root\"") + 4, 1);
  for (const std::string& c : {more, root}) {
    std::string forged = absl::StrCat(parts[0], ".", Base64UrlEncode(c), ".", parts[2]);
    EXPECT_TRUE(rpctypes::IsInvalidAuthToken(jwt->Info(forged, 0, kNoDeadline).status())) << c;
  }
}

TEST_F(JwtTest, AlgNoneIsRejected) {
  std::unique_ptr<JwtTokenProvider> jwt = Make(SignMethod::kRS256);
  ASSERT_OK_AND_ASSIGN(std::string good, jwt->Assign("alice", 5, {}));
  std::vector<std::string> parts = absl::StrSplit(good, '.');
  for (const char* header : {R"({"alg":"none","typ":"JWT"})", R"({"alg":"None"})",
                             R"({"alg":"NONE"})", R"({"typ":"JWT"})", R"({"alg":null})"}) {
    std::string h = Base64UrlEncode(header);
    for (const std::string& t :
         {absl::StrCat(h, ".", parts[1], "."), absl::StrCat(h, ".", parts[1], ".", parts[2])}) {
      EXPECT_TRUE(rpctypes::IsInvalidAuthToken(jwt->Info(t, 0, kNoDeadline).status())) << header;
    }
  }
}

// The classic key-confusion attack: an HS256 token whose HMAC secret is the
// server's RSA (or EC) public key, presented to a server configured for
// RS256. A verifier that picked the algorithm from the token would accept it.
TEST_F(JwtTest, KeyConfusionIsRejected) {
  struct Case {
    SignMethod configured;
    std::string public_pem;
  };
  for (const Case& c : {Case{SignMethod::kRS256, K().rsa.public_pem},
                        Case{SignMethod::kES256, K().ec256.public_pem},
                        Case{SignMethod::kRS256, K().rsa.certificate_pem}}) {
    std::unique_ptr<JwtTokenProvider> server = Make(c.configured, "", c.public_pem);
    for (SignMethod hs : {SignMethod::kHS256, SignMethod::kHS384, SignMethod::kHS512}) {
      std::unique_ptr<JwtTokenProvider> attacker = Make(hs, c.public_pem, "");
      ASSERT_OK_AND_ASSIGN(std::string token, attacker->Assign("root", 99, {}));
      EXPECT_TRUE(rpctypes::IsInvalidAuthToken(server->Info(token, 0, kNoDeadline).status()));
      // Even with the header claiming the configured algorithm.
      std::string claims = Claims();
      std::string lying = Forge(absl::StrCat("{\"alg\":\"", SignMethodName(c.configured), "\"}"),
                                claims, *attacker);
      EXPECT_TRUE(rpctypes::IsInvalidAuthToken(server->Info(lying, 0, kNoDeadline).status()));
    }
  }
}

TEST_F(JwtTest, OtherAlgorithmsWithTheSameKeyAreRejected) {
  std::unique_ptr<JwtTokenProvider> rs256 = Make(SignMethod::kRS256);
  std::unique_ptr<JwtTokenProvider> ps256 = Make(SignMethod::kPS256);
  std::unique_ptr<JwtTokenProvider> rs512 = Make(SignMethod::kRS512);
  ASSERT_OK_AND_ASSIGN(std::string t, rs256->Assign("u", 1, {}));
  EXPECT_FALSE(ps256->Info(t, 0, kNoDeadline).ok());
  EXPECT_FALSE(rs512->Info(t, 0, kNoDeadline).ok());
  // The header renamed: the signature no longer fits the method.
  std::vector<std::string> parts = absl::StrSplit(t, '.');
  std::string renamed =
      absl::StrCat(Base64UrlEncode(R"({"alg":"PS256","typ":"JWT"})"), ".", parts[1], ".", parts[2]);
  EXPECT_FALSE(ps256->Info(renamed, 0, kNoDeadline).ok());
}

TEST_F(JwtTest, EcdsaSignatureMustBeRawFixedSize) {
  std::unique_ptr<JwtTokenProvider> es = Make(SignMethod::kES256);
  ASSERT_OK_AND_ASSIGN(std::string t, es->Assign("u", 1, {}));
  std::vector<std::string> parts = absl::StrSplit(t, '.');
  std::string raw = Base64UrlDecode(parts[2]).value();
  ASSERT_EQ(raw.size(), 64u);
  std::string head = absl::StrCat(parts[0], ".", parts[1], ".");
  // One byte short, one extra, and r and s swapped.
  for (const std::string& sig :
       {raw.substr(1), raw + "x", raw.substr(32) + raw.substr(0, 32), std::string(64, '\0')}) {
    EXPECT_FALSE(es->Info(head + Base64UrlEncode(sig), 0, kNoDeadline).ok());
  }
}

TEST_F(JwtTest, ClaimsAreValidated) {
  std::unique_ptr<JwtTokenProvider> jwt = Make(SignMethod::kHS256);
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  auto ok = [&](absl::string_view claims) {
    return jwt->Info(Forge(header, claims, *jwt), 0, kNoDeadline);
  };
  ASSERT_OK_AND_ASSIGN(AuthInfo info, ok(Claims()));
  EXPECT_EQ(info, (AuthInfo{"alice", 5}));
  // Optional claims in the past are fine; extra claims are ignored.
  EXPECT_TRUE(ok(Claims(absl::StrCat(",\"nbf\":", now, ",\"iat\":", now - 5, ",\"x\":[1]"))).ok());
  EXPECT_EQ(
      ok(absl::StrCat("{\"exp\":", now + 9, ".5,\"revision\":1e2,\"username\":\"b\"}")).value(),
      (AuthInfo{"b", 100}));
  const std::vector<std::string> bad = {
      absl::StrCat("{\"revision\":5,\"username\":\"a\"}"),                    // no exp
      absl::StrCat("{\"exp\":", now, ",\"revision\":5,\"username\":\"a\"}"),  // exp == now
      absl::StrCat("{\"exp\":\"", now + 60, "\",\"revision\":5,\"username\":\"a\"}"),
      absl::StrCat("{\"exp\":", now + 60, ",\"username\":\"a\"}"),  // no revision
      absl::StrCat("{\"exp\":", now + 60, ",\"revision\":5}"),      // no username
      absl::StrCat("{\"exp\":", now + 60, ",\"revision\":5,\"username\":7}"),
      absl::StrCat("{\"exp\":", now + 60, ",\"revision\":\"5\",\"username\":\"a\"}"),
      absl::StrCat("{\"exp\":", now + 60, ",\"revision\":-1,\"username\":\"a\"}"),
      absl::StrCat("{\"exp\":", now + 60, ",\"revision\":1.5,\"username\":\"a\"}"),
      absl::StrCat("{\"exp\":", now + 60, ",\"revision\":18446744073709551616,\"username\":\"a\"}"),
      Claims(absl::StrCat(",\"nbf\":", now + 1)),
      Claims(absl::StrCat(",\"iat\":", now + 1)),
      Claims(",\"nbf\":\"0\""),
      Claims(",\"username\":\"root\""),  // repeated member
      "[]",
      "\"claims\"",
      "",
      "{",
  };
  for (const std::string& claims : bad) {
    EXPECT_TRUE(rpctypes::IsInvalidAuthToken(ok(claims).status())) << claims;
  }
  // Headers that are not objects, or lack a string alg.
  for (const char* h : {"[]", "{}", "{\"alg\":1}", "{\"alg\":\"HS256\",\"alg\":\"HS256\"}", ""}) {
    EXPECT_FALSE(jwt->Info(Forge(h, Claims(), *jwt), 0, kNoDeadline).ok()) << h;
  }
}

TEST_F(JwtTest, OddUserNamesRoundTrip) {
  std::unique_ptr<JwtTokenProvider> jwt = Make(SignMethod::kHS512);
  for (const std::string& name :
       {std::string("a\"b\\c"), std::string("<script>&"), std::string("\xc3\xa9t\xc3\xa9"),
        std::string("tab\there"), std::string("nul\0byte", 8), std::string()}) {
    ASSERT_OK_AND_ASSIGN(std::string token, jwt->Assign(name, 1, {}));
    ASSERT_OK_AND_ASSIGN(AuthInfo info, jwt->Info(token, 0, kNoDeadline));
    EXPECT_EQ(info.username, name);
  }
}

TEST(TokenSpecTest, ParsesEtcdOptionStrings) {
  ASSERT_OK_AND_ASSIGN(TokenSpec s, ParseTokenSpec("jwt,pub-key=/a,priv-key=/b,sign-method=RS256"));
  EXPECT_EQ(s.type, "jwt");
  EXPECT_EQ(s.options.size(), 3u);
  EXPECT_EQ(s.options["pub-key"], "/a");
  ASSERT_OK_AND_ASSIGN(TokenSpec simple, ParseTokenSpec("simple"));
  EXPECT_EQ(simple.type, "simple");
  EXPECT_TRUE(simple.options.empty());
  for (const char* bad : {"jwt,foo", "jwt,a=b=c", "jwt,ttl=1m,ttl=2m", "simple,", "jwt,,"}) {
    EXPECT_TRUE(IsInvalidAuthOpts(ParseTokenSpec(bad).status())) << bad;
  }
}

TEST(NewTokenProviderTest, FromFlagValues) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("jwt"));
  ASSERT_OK(testutil::WriteFile(dir.Join("priv.pem"), K().ec384.private_pem));
  ASSERT_OK(testutil::WriteFile(dir.Join("pub.pem"), K().ec384.public_pem));
  TokenProviderOptions options;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TokenProvider> jwt,
                       NewTokenProvider(absl::StrCat("jwt,pub-key=", dir.Join("pub.pem"),
                                                     ",priv-key=", dir.Join("priv.pem"),
                                                     ",sign-method=ES384,ttl=10m,extra=1"),
                                        options));
  EXPECT_EQ(jwt->type(), "jwt");
  EXPECT_EQ(static_cast<JwtTokenProvider*>(jwt.get())->ttl(), absl::Minutes(10));
  ASSERT_OK_AND_ASSIGN(std::string token, jwt->Assign("u", 3, {}));
  EXPECT_EQ(jwt->Info(token, 0, kNoDeadline).value(), (AuthInfo{"u", 3}));
  EXPECT_EQ(jwt->GenTokenPrefix().value(), "");

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TokenProvider> simple,
                       NewTokenProvider("simple,whatever=1", options));
  EXPECT_EQ(simple->type(), "simple");

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TokenProvider> nop, NewTokenProvider("", options));
  EXPECT_EQ(nop->type(), "");
  EXPECT_TRUE(rpctypes::IsAuthFailed(nop->Assign("u", 1, {"p", 1}).status()));
  EXPECT_TRUE(rpctypes::IsInvalidAuthToken(nop->Info("p.1", 1, kNoDeadline).status()));

  for (const std::string& bad :
       {std::string("unknown"), std::string("jwt"), std::string("jwt,sign-method=RS256"),
        std::string("jwt,sign-method=RS256,priv-key=") + dir.Join("missing.pem"),
        std::string("jwt,sign-method=ES256,priv-key=") + dir.Join("priv.pem"),
        std::string("JWT,sign-method=HS256")}) {
    EXPECT_FALSE(NewTokenProvider(bad, options).ok()) << bad;
  }
}

}  // namespace
}  // namespace etcd::auth
