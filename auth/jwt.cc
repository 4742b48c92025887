// OpenSSL 3 deprecates the EC_KEY accessors used to name a key's curve; they
// are the ones BoringSSL shares, so keep them and silence the warnings.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/rpctypes/rpctypes.h"
#include "auth/base64.h"
#include "auth/errors.h"
#include "auth/json.h"

namespace etcd::auth {
namespace {

enum class Family { kRsa, kPss, kEcdsa, kHmac };

struct MethodInfo {
  SignMethod method;
  absl::string_view name;
  Family family;
  int hash_bits;  // 256, 384, 512
};

constexpr MethodInfo kMethods[] = {
    {SignMethod::kRS256, "RS256", Family::kRsa, 256},
    {SignMethod::kRS384, "RS384", Family::kRsa, 384},
    {SignMethod::kRS512, "RS512", Family::kRsa, 512},
    {SignMethod::kPS256, "PS256", Family::kPss, 256},
    {SignMethod::kPS384, "PS384", Family::kPss, 384},
    {SignMethod::kPS512, "PS512", Family::kPss, 512},
    {SignMethod::kES256, "ES256", Family::kEcdsa, 256},
    {SignMethod::kES384, "ES384", Family::kEcdsa, 384},
    {SignMethod::kES512, "ES512", Family::kEcdsa, 512},
    {SignMethod::kHS256, "HS256", Family::kHmac, 256},
    {SignMethod::kHS384, "HS384", Family::kHmac, 384},
    {SignMethod::kHS512, "HS512", Family::kHmac, 512},
};

const MethodInfo& MethodOf(SignMethod method) {
  for (const MethodInfo& m : kMethods) {
    if (m.method == method) return m;
  }
  return kMethods[0];  // unreachable: every enumerator is listed
}

const EVP_MD* Digest(const MethodInfo& m) {
  switch (m.hash_bits) {
    case 384:
      return EVP_sha384();
    case 512:
      return EVP_sha512();
    default:
      return EVP_sha256();
  }
}

// The curve ES<n> requires, and the bytes of r and s on it.
int CurveNid(const MethodInfo& m) {
  switch (m.hash_bits) {
    case 384:
      return NID_secp384r1;
    case 512:
      return NID_secp521r1;
    default:
      return NID_X9_62_prime256v1;
  }
}
int CoordinateBytes(const MethodInfo& m) {
  switch (m.hash_bits) {
    case 384:
      return 48;
    case 512:
      return 66;
    default:
      return 32;
  }
}

absl::Status InvalidToken() { return rpctypes::ToStatus(rpctypes::kErrInvalidAuthToken); }

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// Refuses to prompt for the passphrase of an encrypted PEM.
int NoPassphrase(char*, int, int, void*) { return -1; }

BioPtr MemBio(absl::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

PkeyPtr ReadPrivateKey(absl::string_view pem) {
  BioPtr bio = MemBio(pem);
  if (!bio) return nullptr;
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  return key;
}

// A SubjectPublicKeyInfo, or the key of a certificate.
PkeyPtr ReadPublicKey(absl::string_view pem) {
  {
    BioPtr bio = MemBio(pem);
    if (!bio) return nullptr;
    PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
    ERR_clear_error();
    if (key) return key;
  }
  BioPtr bio = MemBio(pem);
  if (!bio) return nullptr;
  std::unique_ptr<X509, X509Deleter> cert(
      PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!cert) return nullptr;
  PkeyPtr key(X509_get_pubkey(cert.get()));
  ERR_clear_error();
  return key;
}

// DER of the public half of `key`, to compare two keys.
std::string PublicDer(EVP_PKEY* key) {
  int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) {
    ERR_clear_error();
    return "";
  }
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_PUBKEY(key, &p) != len) {
    ERR_clear_error();
    return "";
  }
  return der;
}

int EcCurveNid(EVP_PKEY* key) {
  const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(key);
  if (ec == nullptr) return NID_undef;
  const EC_GROUP* group = EC_KEY_get0_group(ec);
  return group == nullptr ? NID_undef : EC_GROUP_get_curve_name(group);
}

// Whether `key` fits `m`: an RSA key of at least 1024 bits, or an EC key on
// the method's curve.
absl::Status CheckKeyType(EVP_PKEY* key, const MethodInfo& m, absl::string_view which) {
  switch (m.family) {
    case Family::kRsa:
    case Family::kPss:
      if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        return KeyMismatchError(absl::StrCat(which, " is not an RSA key, as ", m.name, " needs"));
      }
      if (EVP_PKEY_bits(key) < 1024) {
        return KeyMismatchError(
            absl::StrCat(which, " has ", EVP_PKEY_bits(key), " bits; RSA keys need at least 1024"));
      }
      return absl::OkStatus();
    case Family::kEcdsa:
      if (EVP_PKEY_base_id(key) != EVP_PKEY_EC || EcCurveNid(key) != CurveNid(m)) {
        return KeyMismatchError(absl::StrCat(which, " is not an EC key on ",
                                             OBJ_nid2sn(CurveNid(m)), ", as ", m.name, " needs"));
      }
      return absl::OkStatus();
    case Family::kHmac:
      break;
  }
  return absl::OkStatus();
}

// DER ECDSA-Sig-Value -> r||s, each `n` bytes.
std::optional<std::string> DerToJose(absl::string_view der, int n) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) {
    ERR_clear_error();
    return std::nullopt;
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(static_cast<size_t>(2 * n), '\0');
  unsigned char* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, n) != n || BN_bn2binpad(s, o + n, n) != n) {
    ERR_clear_error();
    return std::nullopt;
  }
  return out;
}

// r||s -> DER ECDSA-Sig-Value; nullopt unless exactly 2n bytes.
std::optional<std::string> JoseToDer(absl::string_view raw, int n) {
  if (raw.size() != static_cast<size_t>(2 * n)) return std::nullopt;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(p, n, nullptr);
  BIGNUM* s = BN_bin2bn(p + n, n, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return std::nullopt;
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* d = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &d) != len) {
    ERR_clear_error();
    return std::nullopt;
  }
  return der;
}

// Sets RSASSA-PSS padding on a DigestSign/DigestVerify context.
bool SetPss(EVP_PKEY_CTX* pctx, int salt_len) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_len) > 0;
}

absl::StatusOr<std::string> ReadKeyFile(const std::string& option, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidAuthOptsError(absl::StrCat(option, ": cannot read ", path));
  }
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad()) return InvalidAuthOptsError(absl::StrCat(option, ": cannot read ", path));
  return data.str();
}

// A JSON number claim as seconds, or nullopt for another type.
std::optional<double> NumericClaim(const JsonValue* v) {
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->number();
}

}  // namespace

absl::string_view SignMethodName(SignMethod method) { return MethodOf(method).name; }

std::optional<SignMethod> ParseSignMethod(absl::string_view name) {
  for (const MethodInfo& m : kMethods) {
    if (m.name == name) return m.method;
  }
  return std::nullopt;
}

absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text) {
  const absl::Status bad =
      absl::InvalidArgumentError(absl::StrCat("time: invalid duration \"", text, "\""));
  absl::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return absl::ZeroDuration();
  if (s.empty()) return bad;
  constexpr uint64_t kMax = uint64_t{1} << 63;
  uint64_t total = 0;
  while (!s.empty()) {
    // Integer part.
    uint64_t v = 0;
    size_t i = 0;
    bool overflow = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (v > kMax / 10) overflow = true;
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kMax) overflow = true;
      ++i;
    }
    bool had_int = i > 0;
    s.remove_prefix(i);
    // Fraction.
    uint64_t frac = 0;
    double scale = 1;
    bool had_frac = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      i = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (frac < (uint64_t{1} << 62) / 10) {  // digits past this add nothing
          frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
          scale *= 10;
        }
        ++i;
      }
      had_frac = i > 0;
      s.remove_prefix(i);
    }
    if (overflow || (!had_int && !had_frac)) return bad;
    // Unit.
    i = 0;
    while (i < s.size() && s[i] != '.' && !(s[i] >= '0' && s[i] <= '9')) ++i;
    absl::string_view unit = s.substr(0, i);
    s.remove_prefix(i);
    uint64_t unit_ns;
    if (unit == "ns") {
      unit_ns = 1;
    } else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") {
      unit_ns = 1000;
    } else if (unit == "ms") {
      unit_ns = 1000 * 1000;
    } else if (unit == "s") {
      unit_ns = 1000 * 1000 * 1000;
    } else if (unit == "m") {
      unit_ns = uint64_t{60} * 1000 * 1000 * 1000;
    } else if (unit == "h") {
      unit_ns = uint64_t{3600} * 1000 * 1000 * 1000;
    } else {
      return bad;
    }
    if (v > kMax / unit_ns) return bad;
    v *= unit_ns;
    if (frac > 0) {
      v +=
          static_cast<uint64_t>(static_cast<double>(frac) * (static_cast<double>(unit_ns) / scale));
      if (v > kMax) return bad;
    }
    total += v;
    if (total > kMax) return bad;
  }
  if (!negative && total == kMax) return bad;
  int64_t ns = negative ? -static_cast<int64_t>(total - 1) - 1 : static_cast<int64_t>(total);
  return absl::Nanoseconds(ns);
}

absl::StatusOr<JwtOptions> ParseJwtOptions(const std::map<std::string, std::string>& options) {
  JwtOptions out;
  auto get = [&options](const char* name) -> std::string {
    auto it = options.find(name);
    return it == options.end() ? std::string() : it->second;
  };
  if (std::string ttl = get("ttl"); !ttl.empty()) {
    absl::StatusOr<absl::Duration> d = ParseGoDuration(ttl);
    if (!d.ok()) return InvalidAuthOptsError(absl::StrCat("ttl: ", d.status().message()));
    if (*d <= absl::ZeroDuration()) {
      return InvalidAuthOptsError(absl::StrCat("ttl: must be positive, got \"", ttl, "\""));
    }
    out.ttl = *d;
  }
  if (std::string path = get("pub-key"); !path.empty()) {
    absl::StatusOr<std::string> data = ReadKeyFile("pub-key", path);
    if (!data.ok()) return data.status();
    out.public_key = *std::move(data);
  }
  if (std::string path = get("priv-key"); !path.empty()) {
    absl::StatusOr<std::string> data = ReadKeyFile("priv-key", path);
    if (!data.ok()) return data.status();
    out.private_key = *std::move(data);
  }
  std::string method = get("sign-method");
  std::optional<SignMethod> m = ParseSignMethod(method);
  if (!m.has_value()) {
    return InvalidAuthOptsError(absl::StrCat(
        "sign-method \"", method,
        "\" is not one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, "
        "HS256, HS384, HS512"));
  }
  out.sign_method = *m;
  return out;
}

absl::StatusOr<std::unique_ptr<JwtTokenProvider>> JwtTokenProvider::Create(
    const JwtOptions& options, Clock* clock) {
  if (options.ttl <= absl::ZeroDuration()) {
    return InvalidAuthOptsError("ttl: must be positive");
  }
  const MethodInfo& m = MethodOf(options.sign_method);
  std::unique_ptr<JwtTokenProvider> p(new JwtTokenProvider(options.sign_method, options.ttl,
                                                           clock != nullptr ? clock : RealClock()));
  if (m.family == Family::kHmac) {
    if (options.private_key.empty()) {
      return MissingKeyError(absl::StrCat(m.name, " needs priv-key, the shared secret"));
    }
    p->hmac_secret_ = options.private_key;
    return p;
  }
  PkeyPtr priv;
  PkeyPtr pub;
  if (!options.private_key.empty()) {
    priv = ReadPrivateKey(options.private_key);
    if (!priv) return InvalidAuthOptsError("priv-key: not an unencrypted PEM private key");
    if (absl::Status s = CheckKeyType(priv.get(), m, "priv-key"); !s.ok()) return s;
  }
  if (!options.public_key.empty()) {
    pub = ReadPublicKey(options.public_key);
    if (!pub) return InvalidAuthOptsError("pub-key: not a PEM public key or certificate");
    if (absl::Status s = CheckKeyType(pub.get(), m, "pub-key"); !s.ok()) return s;
  }
  if (!priv && !pub) {
    return MissingKeyError(absl::StrCat(m.name, " needs priv-key or pub-key"));
  }
  if (priv && pub) {
    std::string a = PublicDer(priv.get());
    if (a.empty() || a != PublicDer(pub.get())) {
      return KeyMismatchError("pub-key is not the public half of priv-key");
    }
  }
  p->verify_only_ = !priv;
  p->key_ = priv ? priv.release() : pub.release();
  if (m.family == Family::kEcdsa) p->ec_coordinate_bytes_ = CoordinateBytes(m);
  return p;
}

JwtTokenProvider::~JwtTokenProvider() {
  EVP_PKEY_free(key_);
  OPENSSL_cleanse(hmac_secret_.data(), hmac_secret_.size());
}

absl::StatusOr<std::string> JwtTokenProvider::Sign(absl::string_view signing_input) const {
  const MethodInfo& m = MethodOf(method_);
  if (m.family == Family::kHmac) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (HMAC(Digest(m), hmac_secret_.data(), static_cast<int>(hmac_secret_.size()),
             reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
             mac, &mac_len) == nullptr) {
      ERR_clear_error();
      return absl::InternalError("auth: HMAC failed");
    }
    return std::string(reinterpret_cast<char*>(mac), mac_len);
  }
  if (verify_only_) return VerifyOnlyError();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  size_t len = 0;
  bool ok = ctx && EVP_DigestSignInit(ctx.get(), &pctx, Digest(m), nullptr, key_) == 1 &&
            (m.family != Family::kPss || SetPss(pctx, RSA_PSS_SALTLEN_DIGEST)) &&
            EVP_DigestSign(ctx.get(), nullptr, &len,
                           reinterpret_cast<const unsigned char*>(signing_input.data()),
                           signing_input.size()) == 1;
  std::string sig(len, '\0');
  ok = ok && EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                            reinterpret_cast<const unsigned char*>(signing_input.data()),
                            signing_input.size()) == 1;
  if (!ok) {
    ERR_clear_error();
    return absl::InternalError(absl::StrCat("auth: signing with ", m.name, " failed"));
  }
  sig.resize(len);
  if (m.family == Family::kEcdsa) {
    std::optional<std::string> raw = DerToJose(sig, ec_coordinate_bytes_);
    if (!raw.has_value()) return absl::InternalError("auth: bad ECDSA signature encoding");
    return *std::move(raw);
  }
  return sig;
}

bool JwtTokenProvider::Verify(absl::string_view signing_input, absl::string_view signature) const {
  const MethodInfo& m = MethodOf(method_);
  if (m.family == Family::kHmac) {
    absl::StatusOr<std::string> expected = Sign(signing_input);
    return expected.ok() && expected->size() == signature.size() &&
           CRYPTO_memcmp(expected->data(), signature.data(), signature.size()) == 0;
  }
  std::string der;
  if (m.family == Family::kEcdsa) {
    std::optional<std::string> d = JoseToDer(signature, ec_coordinate_bytes_);
    if (!d.has_value()) return false;
    der = *std::move(d);
    signature = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, Digest(m), nullptr, key_) == 1 &&
            (m.family != Family::kPss || SetPss(pctx, RSA_PSS_SALTLEN_AUTO)) &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  ERR_clear_error();
  return ok;
}

absl::StatusOr<AuthInfo> JwtTokenProvider::Info(absl::string_view token, uint64_t revision,
                                                absl::Time deadline) {
  if (token.size() > kMaxJwtLength) return InvalidToken();
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return InvalidToken();

  std::optional<std::string> header_json = Base64UrlDecode(parts[0]);
  if (!header_json.has_value()) return InvalidToken();
  std::optional<JsonValue> header = ParseJson(*header_json);
  if (!header.has_value() || !header->is_object()) return InvalidToken();
  const JsonValue* alg = header->Find("alg");
  if (alg == nullptr || !alg->is_string() || alg->text() != SignMethodName(method_)) {
    return InvalidToken();
  }

  std::optional<std::string> signature = Base64UrlDecode(parts[2]);
  if (!signature.has_value()) return InvalidToken();
  absl::string_view signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!Verify(signing_input, *signature)) return InvalidToken();

  std::optional<std::string> claims_json = Base64UrlDecode(parts[1]);
  if (!claims_json.has_value()) return InvalidToken();
  std::optional<JsonValue> claims = ParseJson(*claims_json);
  if (!claims.has_value() || !claims->is_object()) return InvalidToken();

  const double now = static_cast<double>(absl::ToUnixSeconds(clock_->Now()));
  std::optional<double> exp = NumericClaim(claims->Find("exp"));
  if (!exp.has_value() || !(now < *exp)) return InvalidToken();
  if (const JsonValue* nbf = claims->Find("nbf"); nbf != nullptr) {
    std::optional<double> v = NumericClaim(nbf);
    if (!v.has_value() || now < *v) return InvalidToken();
  }
  if (const JsonValue* iat = claims->Find("iat"); iat != nullptr) {
    std::optional<double> v = NumericClaim(iat);
    if (!v.has_value() || now < *v) return InvalidToken();
  }
  const JsonValue* username = claims->Find("username");
  if (username == nullptr || !username->is_string()) return InvalidToken();
  const JsonValue* rev = claims->Find("revision");
  std::optional<uint64_t> rev_value = rev == nullptr ? std::nullopt : rev->AsUint64();
  if (!rev_value.has_value()) return InvalidToken();
  return AuthInfo{username->text(), *rev_value};
}

absl::StatusOr<std::string> JwtTokenProvider::Assign(absl::string_view username, uint64_t revision,
                                                     const AssignParams& params) {
  const MethodInfo& m = MethodOf(method_);
  if (verify_only_) return VerifyOnlyError();
  int64_t exp = absl::ToUnixSeconds(clock_->Now() + ttl_);
  std::string header = absl::StrCat("{\"alg\":\"", m.name, "\",\"typ\":\"JWT\"}");
  std::string claims = absl::StrCat("{\"exp\":", exp, ",\"revision\":", revision,
                                    ",\"username\":", JsonQuote(username), "}");
  std::string token = absl::StrCat(Base64UrlEncode(header), ".", Base64UrlEncode(claims));
  absl::StatusOr<std::string> sig = Sign(token);
  if (!sig.ok()) return sig.status();
  absl::StrAppend(&token, ".", Base64UrlEncode(*sig));
  return token;
}

}  // namespace etcd::auth
