#include "pkg/types/urls.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace etcd::types {
namespace {

std::string ErrorOf(const std::vector<std::string>& texts) {
  absl::StatusOr<URLs> got = URLs::FromStrings(texts);
  if (got.ok()) return "OK";
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(got.status().message());
}

TEST(URLsTest, ParsesTrimsAndSorts) {
  absl::StatusOr<URLs> urls = URLs::FromStrings({"  http://127.0.0.2:2379 ", "unix://localhost:1",
                                                 "https://[::1]:2380", "\thttp://127.0.0.1:2379"});
  ASSERT_TRUE(urls.ok()) << urls.status();
  EXPECT_EQ(urls->String(),
            "http://127.0.0.1:2379,http://127.0.0.2:2379,https://[::1]:2380,unix://localhost:1");
  EXPECT_EQ(urls->size(), 4u);
  EXPECT_EQ((*urls)[0].host, "127.0.0.1");
  EXPECT_EQ((*urls)[0].port, "2379");
  EXPECT_EQ(urls->StringSlice(),
            (std::vector<std::string>{"http://127.0.0.1:2379", "http://127.0.0.2:2379",
                                      "https://[::1]:2380", "unix://localhost:1"}));
}

TEST(URLsTest, ParseSplitsOnCommas) {
  absl::StatusOr<URLs> urls = URLs::Parse("http://10.0.0.2:2380,http://10.0.0.1:2380");
  ASSERT_TRUE(urls.ok()) << urls.status();
  EXPECT_EQ(urls->String(), "http://10.0.0.1:2380,http://10.0.0.2:2380");

  // String() of a parsed list parses back to the same list.
  absl::StatusOr<URLs> again = URLs::Parse(urls->String());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *urls);
}

TEST(URLsTest, StringKeepsCurrentOrderUntilSort) {
  URLs urls({ParseURL("http://b:2").value(), ParseURL("http://a:1").value()});
  EXPECT_EQ(urls.String(), "http://b:2,http://a:1");
  urls.Sort();
  EXPECT_EQ(urls.String(), "http://a:1,http://b:2");
  EXPECT_EQ(URLs().String(), "");
  EXPECT_TRUE(URLs().StringSlice().empty());
}

TEST(URLsTest, EveryError) {
  EXPECT_EQ(ErrorOf({}), "no valid URLs given");
  EXPECT_EQ(ErrorOf({"://127.0.0.1:2379"}), "parse \"://127.0.0.1:2379\": missing protocol scheme");
  EXPECT_EQ(ErrorOf({"mailto://127.0.0.1:2379"}),
            "URL scheme must be http, https, unix, or unixs: mailto://127.0.0.1:2379");
  EXPECT_EQ(ErrorOf({""}), "URL scheme must be http, https, unix, or unixs: ");
  EXPECT_EQ(ErrorOf({"http://127.0.0.1"}),
            "URL address does not have the form \"host:port\": http://127.0.0.1");
  EXPECT_EQ(ErrorOf({"unix:///tmp/etcd.sock"}),
            "URL address does not have the form \"host:port\": unix:///tmp/etcd.sock");
  EXPECT_EQ(ErrorOf({"http:127.0.0.1:2379"}),
            "URL address does not have the form \"host:port\": http:127.0.0.1:2379");
  EXPECT_EQ(ErrorOf({"http://127.0.0.1:2379/path"}),
            "URL must not contain a path: http://127.0.0.1:2379/path");
  EXPECT_EQ(ErrorOf({"http://127.0.0.1:2379/"}),
            "URL must not contain a path: http://127.0.0.1:2379/");
  // The message names the trimmed text; the first bad URL wins.
  EXPECT_EQ(ErrorOf({"http://a:1", "  ftp://b:2  ", "http://c"}),
            "URL scheme must be http, https, unix, or unixs: ftp://b:2");
  EXPECT_EQ(ErrorOf({"http://a:1", "http://a:1"}), "OK");
}

TEST(URLsTest, ParseOfEmptyStringIsAnEmptyURL) {
  absl::StatusOr<URLs> urls = URLs::Parse("");
  ASSERT_FALSE(urls.ok());
  EXPECT_EQ(urls.status().message(), "URL scheme must be http, https, unix, or unixs: ");
}

}  // namespace
}  // namespace etcd::types
