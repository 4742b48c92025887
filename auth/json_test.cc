#include "auth/json.h"

#include <gtest/gtest.h>

#include <string>

namespace etcd::auth {
namespace {

TEST(Json, ParsesClaims) {
  std::optional<JsonValue> v =
      ParseJson(R"( {"exp":1700000000,"revision":12,"username":"al\"ice","x":[1,true,null,{}]} )");
  ASSERT_TRUE(v.has_value());
  ASSERT_TRUE(v->is_object());
  EXPECT_EQ(v->Find("username")->text(), "al\"ice");
  EXPECT_EQ(v->Find("revision")->AsUint64().value(), 12u);
  EXPECT_EQ(v->Find("exp")->number(), 1700000000.0);
  EXPECT_EQ(v->Find("x")->array().size(), 4u);
  EXPECT_EQ(v->Find("missing"), nullptr);
}

TEST(Json, Numbers) {
  EXPECT_EQ(ParseJson("18446744073709551615")->AsUint64().value(), UINT64_MAX);
  EXPECT_FALSE(ParseJson("18446744073709551616")->AsUint64().has_value());
  EXPECT_EQ(ParseJson("1e3")->AsUint64().value(), 1000u);
  EXPECT_FALSE(ParseJson("1.5")->AsUint64().has_value());
  EXPECT_FALSE(ParseJson("-1")->AsUint64().has_value());
  EXPECT_EQ(ParseJson("-0.5e-2")->number(), -0.005);
  for (const char* bad : {"01", "1.", ".5", "+1", "1e", "-", "0x10", "NaN", "Infinity", "1e999"}) {
    EXPECT_FALSE(ParseJson(bad).has_value()) << bad;
  }
}

TEST(Json, Strings) {
  EXPECT_EQ(ParseJson(R"("a\u00e9\ud83d\ude00\/\n")")->text(), "a\xc3\xa9\xf0\x9f\x98\x80/\n");
  EXPECT_FALSE(ParseJson(R"("\ud83d")").has_value());  // lone high surrogate
  EXPECT_FALSE(ParseJson(R"("\ude00")").has_value());  // lone low surrogate
  EXPECT_FALSE(ParseJson(R"("\x")").has_value());
  EXPECT_FALSE(ParseJson("\"a\nb\"").has_value());  // raw control character
  EXPECT_FALSE(ParseJson("\"abc").has_value());
  EXPECT_EQ(ParseJson("\"\xff\xfe\"")->text(), "\xff\xfe");  // bytes kept
}

TEST(Json, RejectsMalformedAndAmbiguousDocuments) {
  for (const char* bad : {"", "{", "}", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{a:1}", "{} {}",
                          "{\"a\":1,\"a\":2}", "tru", "nul", "[1 2]", "{\"a\":1 \"b\":2}"}) {
    EXPECT_FALSE(ParseJson(bad).has_value()) << bad;
  }
}

TEST(Json, DepthLimit) {
  std::string ok(kMaxJsonDepth, '[');
  ok += std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseJson(ok).has_value());
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  EXPECT_FALSE(ParseJson(deep).has_value());
  std::string very_deep(100000, '[');
  EXPECT_FALSE(ParseJson(very_deep).has_value());
}

TEST(Json, QuoteRoundTrips) {
  std::string all;
  for (int c = 1; c < 128; ++c) all.push_back(static_cast<char>(c));
  all += "\xc3\xa9";
  std::string quoted = JsonQuote(all);
  EXPECT_EQ(quoted.find('<'), std::string::npos);
  EXPECT_EQ(ParseJson(quoted)->text(), all);
  EXPECT_EQ(JsonQuote("a\"b\\c\x01"), "\"a\\\"b\\\\c\\u0001\"");
  EXPECT_EQ(ParseJson(JsonQuote(std::string("a\0b", 3)))->text(), std::string("a\0b", 3));
}

}  // namespace
}  // namespace etcd::auth
