#include "pkg/types/urlsmap.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace etcd::types {
namespace {

TEST(URLsMapTest, ParsesInitialCluster) {
  absl::StatusOr<URLsMap> m = URLsMap::Parse(
      "mem1=http://10.0.0.1:2379,mem1=http://128.193.4.20:2379,mem2=http://10.0.0.2:2379,"
      "default=http://127.0.0.1:2379");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->size(), 3u);
  ASSERT_NE(m->Find("mem1"), nullptr);
  EXPECT_EQ(m->Find("mem1")->String(), "http://10.0.0.1:2379,http://128.193.4.20:2379");
  EXPECT_EQ(m->Find("mem2")->String(), "http://10.0.0.2:2379");
  EXPECT_EQ(m->Find("default")->String(), "http://127.0.0.1:2379");
  EXPECT_EQ(m->Find("mem3"), nullptr);
}

TEST(URLsMapTest, IPv6WithZones) {
  absl::StatusOr<URLsMap> m = URLsMap::Parse(
      "mem1=http://[2001:db8::1]:2380,mem1=http://[fe80::6e40:8ff:feb1:58e4%25en0]:2380,"
      "mem2=http://[fe80::92e2:baff:fe7c:3224%25ext0]:2380");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->Find("mem1")->String(),
            "http://[2001:db8::1]:2380,http://[fe80::6e40:8ff:feb1:58e4%25en0]:2380");
  EXPECT_EQ(m->Find("mem2")->urls()[0].host, "fe80::92e2:baff:fe7c:3224%25ext0");
}

TEST(URLsMapTest, StringIsSortedPairsAndRoundTrips) {
  URLsMap m;
  m.Set("ghi", URLs::FromStrings({"http://3.3.3.3:1234", "http://127.0.0.1:2380"}).value());
  m.Set("abc", URLs::FromStrings({"http://1.1.1.1:1111", "http://0.0.0.0:0000"}).value());
  m.Set("def", URLs::FromStrings({"http://2.2.2.2:2222"}).value());
  m.Set("none", URLs());
  const std::string want =
      "abc=http://0.0.0.0:0000,abc=http://1.1.1.1:1111,def=http://2.2.2.2:2222,"
      "ghi=http://127.0.0.1:2380,ghi=http://3.3.3.3:1234";
  EXPECT_EQ(m.String(), want);
  EXPECT_EQ(m.AllURLs(), (std::vector<std::string>{"http://0.0.0.0:0000", "http://1.1.1.1:1111",
                                                   "http://127.0.0.1:2380", "http://2.2.2.2:2222",
                                                   "http://3.3.3.3:1234"}));

  absl::StatusOr<URLsMap> parsed = URLsMap::Parse(want);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->String(), want);
  EXPECT_EQ(parsed->size(), 3u);  // "none" had no URLs to print.
}

TEST(URLsMapTest, EmptyStringAndEmptyEntries) {
  absl::StatusOr<URLsMap> empty = URLsMap::Parse("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(empty->String(), "");

  absl::StatusOr<URLsMap> gaps = URLsMap::Parse(",a=http://h:1,,");
  ASSERT_TRUE(gaps.ok()) << gaps.status();
  EXPECT_EQ(gaps->String(), "a=http://h:1");
}

TEST(URLsMapTest, MalformedEntries) {
  struct Case {
    const char* input;
    const char* message;
  };
  for (const Case& c : {
           Case{"%^", "URL scheme must be http, https, unix, or unixs: "},
           Case{"mem1=,mem2=http://128.193.4.20:2379",
                "URL scheme must be http, https, unix, or unixs: "},
           Case{"mem1,mem2=http://128.193.4.20:2379",
                "URL scheme must be http, https, unix, or unixs: "},
           Case{"default=http://localhost/",
                "URL address does not have the form \"host:port\": http://localhost/"},
           Case{"default=http://localhost:2380/",
                "URL must not contain a path: http://localhost:2380/"},
           // Names are checked in sorted order: "a" fails before "b".
           Case{"b=ftp://x:1,a=http://y",
                "URL address does not have the form \"host:port\": http://y"},
       }) {
    absl::StatusOr<URLsMap> got = URLsMap::Parse(c.input);
    ASSERT_FALSE(got.ok()) << c.input;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message(), c.message) << c.input;
  }
}

TEST(URLsMapTest, FromStringMap) {
  absl::StatusOr<URLsMap> m =
      URLsMap::FromStringMap({{"host0", "http://127.0.0.1:2380;http://127.0.0.1:2379"},
                              {"host1", "http://127.0.0.1:2381"}},
                             ";");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->String(),
            "host0=http://127.0.0.1:2379,host0=http://127.0.0.1:2380,host1=http://127.0.0.1:2381");

  absl::StatusOr<URLsMap> empty = URLsMap::FromStringMap({}, ",");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  absl::StatusOr<URLsMap> bad = URLsMap::FromStringMap({{"x", "http://h:1,"}}, ",");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "URL scheme must be http, https, unix, or unixs: ");
}

}  // namespace
}  // namespace etcd::types
