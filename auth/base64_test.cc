#include "auth/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace etcd::auth {
namespace {

TEST(Base64Url, Rfc4648Vectors) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    data.push_back(static_cast<char>(i * 37 + 11));
    std::optional<std::string> back = Base64UrlDecode(Base64UrlEncode(data));
    ASSERT_TRUE(back.has_value()) << i;
    EXPECT_EQ(*back, data);
  }
}

TEST(Base64Url, RejectsNonCanonicalInput) {
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());   // padding
  EXPECT_FALSE(Base64UrlDecode("Zm9v+").has_value());  // std alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm9/").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());     // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());    // non-zero unused bits
  EXPECT_FALSE(Base64UrlDecode("Zm 9").has_value());  // whitespace
  EXPECT_FALSE(Base64UrlDecode(std::string("Zm\0v", 4)).has_value());
  EXPECT_EQ(Base64UrlDecode("").value(), "");
}

TEST(Base64Std, PaddedRoundTrip) {
  EXPECT_EQ(Base64StdEncode("f"), "Zg==");
  EXPECT_EQ(Base64StdEncode("fo"), "Zm8=");
  EXPECT_EQ(Base64StdEncode("\xfb\xff"), "+/8=");
  EXPECT_EQ(Base64StdDecode("Zm9vYg==").value(), "foob");
  EXPECT_EQ(Base64StdDecode("Zm9vYmE=").value(), "fooba");
  EXPECT_EQ(Base64StdDecode("+/8=").value(), "\xfb\xff");
  EXPECT_FALSE(Base64StdDecode("Zm9vYg").has_value());  // missing padding
  EXPECT_FALSE(Base64StdDecode("Zm9v====").has_value());
  EXPECT_FALSE(Base64StdDecode("Zg=a").has_value());
  EXPECT_FALSE(Base64StdDecode("-_8=").has_value());  // url alphabet
}

}  // namespace
}  // namespace etcd::auth
