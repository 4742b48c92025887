#include "pkg/types/url.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"

namespace etcd::types {
namespace {

URL MustParse(const std::string& text) {
  absl::StatusOr<URL> url = ParseURL(text);
  EXPECT_TRUE(url.ok()) << text << ": " << url.status();
  return url.ok() ? *url : URL{};
}

TEST(URLTest, SplitsTheParts) {
  const URL u = MustParse("HTTPS://user:pw@example.com:8443/v3/kv?x=1&y#frag");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.user_info, "user:pw");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, "8443");
  EXPECT_EQ(u.path, "/v3/kv");
  EXPECT_EQ(u.raw_query, "x=1&y");
  EXPECT_EQ(u.fragment, "frag");
  EXPECT_EQ(u.opaque, "");
  EXPECT_EQ(u.HostPort(), "example.com:8443");
  EXPECT_EQ(u.String(), "https://user:pw@example.com:8443/v3/kv?x=1&y#frag");
}

TEST(URLTest, IPv6LiteralsKeepBracketsOnlyInText) {
  const URL u = MustParse("http://[fe80::1%25eth0]:2380");
  EXPECT_EQ(u.host, "fe80::1%25eth0");
  EXPECT_EQ(u.port, "2380");
  EXPECT_EQ(u.HostPort(), "[fe80::1%25eth0]:2380");
  EXPECT_EQ(u.String(), "http://[fe80::1%25eth0]:2380");

  const URL no_port = MustParse("http://[::1]");
  EXPECT_EQ(no_port.host, "::1");
  EXPECT_EQ(no_port.port, "");
  EXPECT_EQ(no_port.String(), "http://[::1]");
}

TEST(URLTest, OpaqueAndRelative) {
  const URL mail = MustParse("mailto:someone@example.com");
  EXPECT_EQ(mail.scheme, "mailto");
  EXPECT_EQ(mail.opaque, "someone@example.com");
  EXPECT_EQ(mail.host, "");
  EXPECT_EQ(mail.String(), "mailto:someone@example.com");

  const URL relative = MustParse("/just/a/path");
  EXPECT_EQ(relative.scheme, "");
  EXPECT_EQ(relative.path, "/just/a/path");
  EXPECT_EQ(relative.String(), "/just/a/path");

  const URL empty = MustParse("");
  EXPECT_EQ(empty, URL{});
  EXPECT_EQ(empty.String(), "");
}

TEST(URLTest, RoundTrips) {
  for (const char* text : {
           "http://127.0.0.1:2379",
           "https://10.0.0.1:2380",
           "unix://localhost:2379",
           "unixs://localhost:12345",
           "http://[2001:db8::1]:2380",
           "http://:2379",
           "http://host",
           "http://host/",
           "http:///path",
           "http://u@h:1?q#f",
           "//host:1/p",
           "a/b",
           "?only-query",
           "#only-fragment",
           "mailto:x?y#z",
       }) {
    const URL u = MustParse(text);
    EXPECT_EQ(u.String(), text);
    EXPECT_EQ(MustParse(u.String()), u) << text;
  }
}

TEST(URLTest, Errors) {
  struct Case {
    const char* input;
    const char* message;
  };
  for (const Case& c : {
           Case{"://127.0.0.1:2379", "parse \"://127.0.0.1:2379\": missing protocol scheme"},
           Case{"127.0.0.1:2379",
                "parse \"127.0.0.1:2379\": first path segment in URL cannot contain colon"},
           Case{"http://a b:1", "parse \"http://a b:1\": invalid character \" \" in host name"},
           Case{"http://host:12ab",
                "parse \"http://host:12ab\": invalid port \":12ab\" after host"},
           Case{"http://host:", "parse \"http://host:\": invalid port \":\" after host"},
           Case{"http://[::1", "parse \"http://[::1\": missing ']' in host"},
           Case{"http://[::1]x:1", "parse \"http://[::1]x:1\": invalid port \"x:1\" after host"},
           Case{"http://a:b:80", "parse \"http://a:b:80\": too many colons in address"},
           Case{"http://a]b:80", "parse \"http://a]b:80\": unexpected '[' or ']' in host"},
           Case{"http://h%zz:1", "parse \"http://h%zz:1\": invalid URL escape \"%zz\""},
           Case{"%^", "parse \"%^\": invalid URL escape \"%^\""},
           Case{"http://x:1/a%2", "parse \"http://x:1/a%2\": invalid URL escape \"%2\""},
           Case{"http://us er@h:1", "parse \"http://us er@h:1\": net/url: invalid userinfo"},
           Case{"//@//", "parse \"//@//\": empty user info before '@'"},
           Case{"http://[]:1", "parse \"http://[]:1\": empty IPv6 literal \"[]\""},
           Case{"http://h:1/\n",
                "parse \"http://h:1/\n\": net/url: invalid control character in URL"},
       }) {
    absl::StatusOr<URL> got = ParseURL(c.input);
    ASSERT_FALSE(got.ok()) << c.input;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message(), c.message);
  }
}

}  // namespace
}  // namespace etcd::types
