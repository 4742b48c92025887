#include "auth/bcrypt.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "pkg/testutil/status_matchers.h"

namespace etcd::auth {
namespace {

// Written by Go's golang.org/x/crypto/bcrypt (the library etcd uses).
constexpr char kGoHashCost4[] = "$2a$04$HLQ7n2R02hNuUDEsUGndO.JCVR3f/R/L447GHjFo99ZzHohW6im4m";
constexpr char kGoPassword[] = "etcd-password";
// Go's hash of the 100-byte password "abc...zabc...v".
constexpr char kGoLongHash[] = "$2a$04$BNXkwSgZE2qR/67A2mjrseb.wW7Q9zaYMP9c0K07hgxIb6Rizz4LC";

std::string LongPassword(int n) {
  std::string p;
  for (int i = 0; i < n; ++i) p.push_back(static_cast<char>('a' + i % 26));
  return p;
}

TEST(Bcrypt, HashThenVerify) {
  ASSERT_OK_AND_ASSIGN(std::string hash, BcryptHash("s3cret", kBcryptMinCost));
  EXPECT_TRUE(absl::StartsWith(hash, "$2b$04$")) << hash;
  EXPECT_EQ(hash.size(), 60u);
  EXPECT_TRUE(IsBcryptHash(hash));
  EXPECT_TRUE(BcryptVerify(hash, "s3cret"));
  EXPECT_FALSE(BcryptVerify(hash, "s3cres"));
  EXPECT_FALSE(BcryptVerify(hash, ""));
}

TEST(Bcrypt, SaltsDiffer) {
  ASSERT_OK_AND_ASSIGN(std::string a, BcryptHash("pw", kBcryptMinCost));
  ASSERT_OK_AND_ASSIGN(std::string b, BcryptHash("pw", kBcryptMinCost));
  EXPECT_NE(a, b);
}

TEST(Bcrypt, EmptyPasswordHashes) {
  ASSERT_OK_AND_ASSIGN(std::string hash, BcryptHash("", kBcryptMinCost));
  EXPECT_TRUE(BcryptVerify(hash, ""));
  EXPECT_FALSE(BcryptVerify(hash, "x"));
}

TEST(Bcrypt, VerifiesGoHashes) {
  EXPECT_TRUE(BcryptVerify(kGoHashCost4, kGoPassword));
  EXPECT_FALSE(BcryptVerify(kGoHashCost4, "etcd-passwordX"));
  EXPECT_TRUE(BcryptVerify(kGoLongHash, LongPassword(100)));
}

TEST(Bcrypt, OnlyFirst72BytesCount) {
  EXPECT_TRUE(BcryptVerify(kGoLongHash, LongPassword(72)));
  EXPECT_TRUE(BcryptVerify(kGoLongHash, LongPassword(72) + "anything else"));
  EXPECT_FALSE(BcryptVerify(kGoLongHash, LongPassword(71)));
  // Far beyond libcrypt's own passphrase limit.
  ASSERT_OK_AND_ASSIGN(std::string hash, BcryptHash(LongPassword(5000), kBcryptMinCost));
  EXPECT_TRUE(BcryptVerify(hash, LongPassword(72)));
}

TEST(Bcrypt, NulBytesAreNeverAccepted) {
  ASSERT_OK_AND_ASSIGN(std::string hash, BcryptHash("pw", kBcryptMinCost));
  EXPECT_FALSE(BcryptVerify(hash, std::string("pw\0suffix", 9)));
  EXPECT_FALSE(BcryptHash(std::string("p\0w", 3), kBcryptMinCost).ok());
}

TEST(Bcrypt, RejectsBadCostAndForeignHashes) {
  EXPECT_FALSE(BcryptHash("pw", 3).ok());
  EXPECT_FALSE(BcryptHash("pw", 32).ok());
  EXPECT_FALSE(BcryptVerify("", ""));
  EXPECT_FALSE(BcryptVerify("*0", ""));
  // A DES crypt of "pw" and an MD5-crypt: libcrypt would accept them, we do not.
  EXPECT_FALSE(BcryptVerify("abJnggxhB/yWI", "pw"));
  EXPECT_FALSE(BcryptVerify("$1$salt$qJH7.N4xYta3aEG/dfqo/0", "password"));
  std::string truncated(kGoHashCost4);
  truncated.pop_back();
  EXPECT_FALSE(BcryptVerify(truncated, kGoPassword));
  EXPECT_FALSE(IsBcryptHash("$2x$04$HLQ7n2R02hNuUDEsUGndO.JCVR3f/R/L447GHjFo99ZzHohW6im4m"));
}

}  // namespace
}  // namespace etcd::auth
