#include "pkg/log/encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace etcd::log {
namespace {

// 2026-11-23T19:00:00.123Z
absl::Time FixedTime() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 19, 0, 0), absl::UTCTimeZone()) +
         absl::Milliseconds(123);
}

std::string Json(absl::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string JsonLine(const Entry& entry) {
  std::string out;
  EncodeJson(entry, absl::UTCTimeZone(), &out);
  return out;
}

std::string ConsoleLine(const Entry& entry) {
  std::string out;
  EncodeConsole(entry, absl::UTCTimeZone(), &out);
  return out;
}

TEST(EncoderTest, JsonShapeLikeEtcd) {
  const std::vector<Field> fields = {{"address", "127.0.0.1:2379"}, {"count", 3}};
  Entry entry{FixedTime(), Level::kInfo, "embed/serve.cc:88", "ready to serve client requests",
              "",          fields};
  EXPECT_EQ(JsonLine(entry),
            "{\"level\":\"info\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"caller\":\"embed/"
            "serve.cc:88\",\"msg\":\"ready to serve client requests\",\"address\":\"127.0.0.1:"
            "2379\",\"count\":3}\n");

  entry.caller = "";
  entry.fields = {};
  EXPECT_EQ(JsonLine(entry),
            "{\"level\":\"info\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"msg\":\"ready to serve "
            "client requests\"}\n");
}

TEST(EncoderTest, ConsoleShapeLikeZap) {
  const std::vector<Field> fields = {{"k", "v"}};
  Entry entry{FixedTime(), Level::kWarn, "", "message", "", fields};
  EXPECT_EQ(ConsoleLine(entry), "2026-11-23T19:00:00.123Z\twarn\tmessage\t{\"k\":\"v\"}\n");

  entry.caller = "log/x.cc:7";
  EXPECT_EQ(ConsoleLine(entry),
            "2026-11-23T19:00:00.123Z\twarn\tlog/x.cc:7\tmessage\t{\"k\":\"v\"}\n");

  // No fields: no trailing tab; the message is written as is.
  entry.fields = {};
  entry.message = "say \"hi\"";
  EXPECT_EQ(ConsoleLine(entry), "2026-11-23T19:00:00.123Z\twarn\tlog/x.cc:7\tsay \"hi\"\n");
}

TEST(EncoderTest, ContextComesBeforeFields) {
  const std::vector<Field> fields = {{"b", 2}};
  Entry entry{FixedTime(), Level::kError, "", "m", "\"a\":1", fields};
  EXPECT_EQ(JsonLine(entry),
            "{\"level\":\"error\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"msg\":\"m\",\"a\":1,\"b\":"
            "2}\n");
  EXPECT_EQ(ConsoleLine(entry), "2026-11-23T19:00:00.123Z\terror\tm\t{\"a\":1,\"b\":2}\n");

  entry.fields = {};
  EXPECT_EQ(JsonLine(entry),
            "{\"level\":\"error\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"msg\":\"m\",\"a\":1}\n");
  EXPECT_EQ(ConsoleLine(entry), "2026-11-23T19:00:00.123Z\terror\tm\t{\"a\":1}\n");
}

TEST(EncoderTest, FieldKinds) {
  const std::vector<std::string> urls = {"http://a:1", "http://b:2"};
  const std::string owned = "owned";
  // Fields borrow: the status must outlive them.
  const absl::Status not_found = absl::NotFoundError("etcdserver: member not found");
  const std::vector<Field> fields = {
      {"s", owned},
      {"b", true},
      {"f", false},
      {"neg", -42},
      {"i64", int64_t{-9223372036854775807 - 1}},
      {"u64", uint64_t{18446744073709551615u}},
      {"c", 'A'},
      {"d", 1.5},
      {"tiny", 0.000001},
      {"whole", 100.0},
      {"nan", std::nan("")},
      {"inf", std::numeric_limits<double>::infinity()},
      {"ninf", -std::numeric_limits<double>::infinity()},
      {"took", absl::Milliseconds(1500)},
      {"error", not_found},
      {"ok", absl::OkStatus()},
      {"urls", urls},
      {"none", std::vector<std::string>()},
  };
  std::string out;
  EXPECT_TRUE(AppendJsonFields(fields, &out));
  EXPECT_EQ(out,
            "\"s\":\"owned\",\"b\":true,\"f\":false,\"neg\":-42,\"i64\":-9223372036854775808,"
            "\"u64\":18446744073709551615,\"c\":65,\"d\":1.5,\"tiny\":0.000001,\"whole\":100,"
            "\"nan\":\"NaN\",\"inf\":\"+Inf\",\"ninf\":\"-Inf\",\"took\":\"1.5s\","
            "\"error\":\"etcdserver: member not found\",\"urls\":[\"http://a:1\",\"http://b:2\"],"
            "\"none\":[]");

  std::string nothing;
  const std::vector<Field> skipped = {{"ok", absl::OkStatus()}};
  EXPECT_FALSE(AppendJsonFields(skipped, &nothing));
  EXPECT_EQ(nothing, "");
}

TEST(EncoderTest, JsonEscaping) {
  EXPECT_EQ(Json("plain"), "\"plain\"");
  EXPECT_EQ(Json("q\"b\\s/"), "\"q\\\"b\\\\s/\"");
  EXPECT_EQ(Json("a\nb\rc\td"), "\"a\\nb\\rc\\td\"");
  EXPECT_EQ(Json(absl::string_view("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(Json("<&>"), "\"<&>\"");  // zap leaves HTML characters alone.
  // Valid UTF-8 passes through: é, €, 😀.
  EXPECT_EQ(Json("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"),
            "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
  // Each byte that is not valid UTF-8 becomes one U+FFFD escape.
  EXPECT_EQ(Json("a\xFF"
                 "b"),
            "\"a\\ufffdb\"");
  EXPECT_EQ(Json("\xC3"), "\"\\ufffd\"");                                   // Truncated.
  EXPECT_EQ(Json("\xC0\xAF"), "\"\\ufffd\\ufffd\"");                        // Overlong '/'.
  EXPECT_EQ(Json("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");             // Surrogate.
  EXPECT_EQ(Json("\xF4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // > U+10FFFF.
  EXPECT_EQ(Json("\xE2\x82"), "\"\\ufffd\\ufffd\"");
}

TEST(EncoderTest, KeysAndMessagesAreEscapedInJson) {
  const std::vector<Field> fields = {{"k\"ey", "v\nal"}};
  Entry entry{FixedTime(), Level::kDebug, "", "line1\nline2\xFF", "", fields};
  EXPECT_EQ(
      JsonLine(entry),
      "{\"level\":\"debug\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"msg\":\"line1\\nline2\\ufffd\","
      "\"k\\\"ey\":\"v\\nal\"}\n");
}

TEST(EncoderTest, FormatTime) {
  EXPECT_EQ(FormatTimestamp(FixedTime(), absl::UTCTimeZone()), "2026-11-23T19:00:00.123Z");
  EXPECT_EQ(FormatTimestamp(FixedTime(), absl::FixedTimeZone(3600)),
            "2026-11-23T20:00:00.123+0100");
  EXPECT_EQ(FormatTimestamp(FixedTime(), absl::FixedTimeZone(-(7 * 3600 + 30 * 60))),
            "2026-11-23T11:30:00.123-0730");
  // Milliseconds are truncated, not rounded.
  EXPECT_EQ(FormatTimestamp(FixedTime() + absl::Microseconds(999), absl::UTCTimeZone()),
            "2026-11-23T19:00:00.123Z");
  EXPECT_EQ(FormatTimestamp(absl::UnixEpoch(), absl::UTCTimeZone()), "1970-01-01T00:00:00.000Z");
}

TEST(EncoderTest, FormatDurationLikeGo) {
  EXPECT_EQ(FormatGoDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatGoDuration(absl::Milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatGoDuration(absl::Minutes(2) + absl::Seconds(3)), "2m3s");
  EXPECT_EQ(FormatGoDuration(absl::Hours(1)), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(absl::Milliseconds(100)), "100ms");
  EXPECT_EQ(FormatGoDuration(absl::Microseconds(100)), "100\xC2\xB5s");
  EXPECT_EQ(FormatGoDuration(absl::Nanoseconds(5)), "5ns");
  EXPECT_EQ(FormatGoDuration(-absl::Seconds(2)), "-2s");
  EXPECT_EQ(FormatGoDuration(absl::Minutes(2)), "2m0s");
  EXPECT_EQ(FormatGoDuration(absl::Hours(25) + absl::Milliseconds(1)), "25h0m0.001s");
  EXPECT_EQ(FormatGoDuration(absl::Microseconds(1500)), "1.5ms");
  EXPECT_EQ(FormatGoDuration(absl::Nanoseconds(1234)), "1.234\xC2\xB5s");
  EXPECT_EQ(FormatGoDuration(absl::Seconds(59) + absl::Nanoseconds(1)), "59.000000001s");
}

TEST(EncoderTest, ShortCaller) {
  EXPECT_EQ(ShortCaller("server/etcdserver/server.cc", 42), "etcdserver/server.cc:42");
  EXPECT_EQ(ShortCaller("log/log.cc", 1), "log/log.cc:1");
  EXPECT_EQ(ShortCaller("main.cc", 9), "main.cc:9");
  EXPECT_EQ(ShortCaller("/abs/path/to/file.cc", 3), "to/file.cc:3");
}

}  // namespace
}  // namespace etcd::log
