#include "server/embed/go_values.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "pkg/testutil/status_matchers.h"

namespace etcd::embed::internal {
namespace {

TEST(ParseGoBoolTest, AcceptsGoSpellingsOnly) {
  for (const char* text : {"1", "t", "T", "TRUE", "true", "True"}) {
    ASSERT_OK_AND_ASSIGN(bool value, ParseGoBool(text));
    EXPECT_TRUE(value) << text;
  }
  for (const char* text : {"0", "f", "F", "FALSE", "false", "False"}) {
    ASSERT_OK_AND_ASSIGN(bool value, ParseGoBool(text));
    EXPECT_FALSE(value) << text;
  }
  for (const char* text : {"", "yes", "no", "tRUE", "2", " true", "on"}) {
    absl::StatusOr<bool> value = ParseGoBool(text);
    ASSERT_FALSE(value.ok()) << text;
    EXPECT_EQ(value.status().message(), "parse error");
  }
}

struct UintCase {
  const char* text;
  int bits;
  uint64_t want;
  const char* error;  // nullptr: success.
};

TEST(ParseGoUintTest, Table) {
  const UintCase cases[] = {
      {"0", 64, 0, nullptr},
      {"100000", 64, 100000, nullptr},
      {"0x10", 64, 16, nullptr},
      {"0X1f", 64, 31, nullptr},
      {"010", 64, 8, nullptr},
      {"0o17", 64, 15, nullptr},
      {"0b101", 64, 5, nullptr},
      {"1_000", 64, 1000, nullptr},
      {"0x_1f", 64, 31, nullptr},
      {"18446744073709551615", 64, UINT64_MAX, nullptr},
      {"4294967295", 32, UINT32_MAX, nullptr},
      {"18446744073709551616", 64, 0, "value out of range"},
      {"4294967296", 32, 0, "value out of range"},
      {"", 64, 0, "parse error"},
      {"-1", 64, 0, "parse error"},
      {"+1", 64, 0, "parse error"},
      {"1e3", 64, 0, "parse error"},
      {"abc", 64, 0, "parse error"},
      {"09", 64, 0, "parse error"},
      {"0x", 64, 0, "parse error"},
      {"_1", 64, 0, "parse error"},
      {"1__0", 64, 0, "parse error"},
      {"10_", 64, 0, "parse error"},
      {" 1", 64, 0, "parse error"},
  };
  for (const UintCase& c : cases) {
    absl::StatusOr<uint64_t> got = ParseGoUint(c.text, c.bits);
    if (c.error == nullptr) {
      ASSERT_OK(got) << c.text;
      EXPECT_EQ(*got, c.want) << c.text;
    } else {
      ASSERT_FALSE(got.ok()) << c.text;
      EXPECT_EQ(got.status().message(), c.error) << c.text;
    }
  }
}

TEST(ParseGoIntTest, Table) {
  struct Case {
    const char* text;
    int64_t want;
    const char* error;
  };
  const Case cases[] = {
      {"0", 0, nullptr},
      {"-5", -5, nullptr},
      {"+5", 5, nullptr},
      {"-0x10", -16, nullptr},
      {"-1_000", -1000, nullptr},
      {"9223372036854775807", INT64_MAX, nullptr},
      {"-9223372036854775808", INT64_MIN, nullptr},
      {"9223372036854775808", 0, "value out of range"},
      {"-9223372036854775809", 0, "value out of range"},
      {"", 0, "parse error"},
      {"-", 0, "parse error"},
      {"--1", 0, "parse error"},
      {"1.5", 0, "parse error"},
      {"-_1", 0, "parse error"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<int64_t> got = ParseGoInt(c.text, 64);
    if (c.error == nullptr) {
      ASSERT_OK(got) << c.text;
      EXPECT_EQ(*got, c.want) << c.text;
    } else {
      ASSERT_FALSE(got.ok()) << c.text;
      EXPECT_EQ(got.status().message(), c.error) << c.text;
    }
  }
}

TEST(ParseGoDurationTest, Valid) {
  struct Case {
    const char* text;
    absl::Duration want;
  };
  const Case cases[] = {
      {"0", absl::ZeroDuration()},
      {"-0", absl::ZeroDuration()},
      {"5s", absl::Seconds(5)},
      {"2h", absl::Hours(2)},
      {"1h30m", absl::Minutes(90)},
      {"1.5h", absl::Minutes(90)},
      {".5s", absl::Milliseconds(500)},
      {"1.s", absl::Seconds(1)},
      {"300ms", absl::Milliseconds(300)},
      {"10us", absl::Microseconds(10)},
      {"10\xC2\xB5s", absl::Microseconds(10)},
      {"10\xCE\xBCs", absl::Microseconds(10)},
      {"7ns", absl::Nanoseconds(7)},
      {"-1m", absl::Minutes(-1)},
      {"+3s", absl::Seconds(3)},
      {"1h2m3s4ms", absl::Hours(1) + absl::Minutes(2) + absl::Seconds(3) + absl::Milliseconds(4)},
      {"9223372036854775807ns", absl::Nanoseconds(INT64_MAX)},
  };
  for (const Case& c : cases) {
    ASSERT_OK_AND_ASSIGN(absl::Duration got, ParseGoDuration(c.text));
    EXPECT_EQ(got, c.want) << c.text;
  }
}

TEST(ParseGoDurationTest, InvalidWithGoMessages) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"", "time: invalid duration \"\""},
      {"5", "time: missing unit in duration \"5\""},
      {"1h5", "time: missing unit in duration \"1h5\""},
      {"5x", "time: unknown unit \"x\" in duration \"5x\""},
      {"5 s", "time: unknown unit \" s\" in duration \"5 s\""},
      {"s", "time: invalid duration \"s\""},
      {".s", "time: invalid duration \".s\""},
      {"-", "time: invalid duration \"-\""},
      {"inf", "time: invalid duration \"inf\""},
      {"9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\""},
      {"3000000h", "time: invalid duration \"3000000h\""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<absl::Duration> got = ParseGoDuration(c.text);
    ASSERT_FALSE(got.ok()) << c.text;
    EXPECT_EQ(got.status().message(), c.error) << c.text;
  }
}

TEST(ShortDurationTest, DropsZeroComponents) {
  EXPECT_EQ(ShortDuration(absl::Hours(2)), "2h");
  EXPECT_EQ(ShortDuration(absl::Minutes(10)), "10m");
  EXPECT_EQ(ShortDuration(absl::Minutes(90)), "1h30m");
  EXPECT_EQ(ShortDuration(absl::Seconds(5)), "5s");
  EXPECT_EQ(ShortDuration(absl::Seconds(65)), "1m5s");
  EXPECT_EQ(ShortDuration(absl::Milliseconds(100)), "100ms");
  EXPECT_EQ(ShortDuration(absl::ZeroDuration()), "0s");
}

TEST(GoQuoteTest, EscapesLikeGo) {
  EXPECT_EQ(GoQuote("abc"), "\"abc\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote("\n\t\x01"), "\"\\n\\t\\x01\"");
  EXPECT_EQ(GoQuote(""), "\"\"");
}

}  // namespace
}  // namespace etcd::embed::internal
