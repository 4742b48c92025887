#include "auth/bcrypt.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace etcd::auth {
namespace {

// Bytes of a password bcrypt reads; the rest never influences the hash.
constexpr size_t kMaxPasswordBytes = 72;
// "$2b$10$" + 22 salt characters + 31 hash characters.
constexpr size_t kHashLength = 60;

std::string Truncate(absl::string_view password) {
  return std::string(password.substr(0, kMaxPasswordBytes));
}

}  // namespace

bool IsBcryptHash(absl::string_view hash) {
  if (hash.size() != kHashLength) return false;
  if (!absl::StartsWith(hash, "$2a$") && !absl::StartsWith(hash, "$2b$") &&
      !absl::StartsWith(hash, "$2y$")) {
    return false;
  }
  if (!absl::ascii_isdigit(static_cast<unsigned char>(hash[4])) ||
      !absl::ascii_isdigit(static_cast<unsigned char>(hash[5])) || hash[6] != '$') {
    return false;
  }
  for (char c : hash.substr(7)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '/') return false;
  }
  return true;
}

absl::StatusOr<std::string> BcryptHash(absl::string_view password, int cost) {
  if (cost < kBcryptMinCost || cost > kBcryptMaxCost) {
    return absl::InvalidArgumentError(absl::StrCat("bcrypt: cost ", cost, " is outside [",
                                                   kBcryptMinCost, ", ", kBcryptMaxCost, "]"));
  }
  if (password.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("bcrypt: password contains a NUL byte");
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // Null random bytes: libcrypt draws the salt from the kernel's CSPRNG.
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting,
                       sizeof(setting)) == nullptr) {
    return absl::InternalError("bcrypt: crypt_gensalt_rn failed");
  }
  auto data = std::make_unique<crypt_data>();  // zeroed, as crypt_rn requires
  std::string phrase = Truncate(password);
  const char* hash = crypt_rn(phrase.c_str(), setting, data.get(), sizeof(crypt_data));
  OPENSSL_cleanse(phrase.data(), phrase.size());
  if (hash == nullptr) return absl::InternalError("bcrypt: crypt_rn failed");
  std::string out(hash);
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return out;
}

bool BcryptVerify(absl::string_view hash, absl::string_view password) {
  if (!IsBcryptHash(hash)) return false;
  if (password.find('\0') != absl::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();
  std::string phrase = Truncate(password);
  std::string setting(hash);
  const char* computed = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  OPENSSL_cleanse(phrase.data(), phrase.size());
  bool ok = computed != nullptr && absl::string_view(computed).size() == hash.size() &&
            CRYPTO_memcmp(computed, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return ok;
}

}  // namespace etcd::auth
