#include "raft/example/http.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "pkg/testutil/net.h"
#include "pkg/testutil/status_matchers.h"

namespace etcd::raftexample {
namespace {

ParseResult Parse(absl::string_view text, HttpRequest* req = nullptr, size_t* consumed = nullptr) {
  HttpRequest scratch;
  size_t used = 0;
  std::string error;
  return ParseHttpRequest(text, req ? req : &scratch, consumed ? consumed : &used, &error);
}

TEST(ParseHttpRequestTest, GetAndPut) {
  HttpRequest req;
  size_t consumed = 0;
  const std::string get = "GET /foo HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(Parse(get, &req, &consumed), ParseResult::kComplete);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/foo");
  EXPECT_EQ(req.body, "");
  EXPECT_EQ(consumed, get.size());

  const std::string put = "PUT /k HTTP/1.0\nContent-Length: 3\nX-Other:  y \n\nbarEXTRA";
  ASSERT_EQ(Parse(put, &req, &consumed), ParseResult::kComplete);
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.body, "bar");
  EXPECT_EQ(consumed, put.size() - 5);
}

TEST(ParseHttpRequestTest, EveryPrefixIsIncomplete) {
  const std::string put = FormatHttpRequest("PUT", "/key", "some value");
  for (size_t n = 0; n < put.size(); ++n) {
    EXPECT_EQ(Parse(put.substr(0, n)), ParseResult::kIncomplete) << n;
  }
  EXPECT_EQ(Parse(put), ParseResult::kComplete);
}

TEST(ParseHttpRequestTest, BadRequests) {
  const std::string bad[] = {
      "\r\n\r\n",
      "GET\r\n\r\n",
      "GET /a\r\n\r\n",
      "GET /a HTTP/1.1 extra\r\n\r\n",
      "GET  /a HTTP/1.1\r\n\r\n",
      "GET a HTTP/1.1\r\n\r\n",
      "GET /a HTTP/2.0\r\n\r\n",
      "G(T /a HTTP/1.1\r\n\r\n",
      "GET /a\x01 HTTP/1.1\r\n\r\n",
      "GET /a HTTP/1.1\r\nno colon\r\n\r\n",
      "GET /a HTTP/1.1\r\n: empty name\r\n\r\n",
      "GET /a HTTP/1.1\r\nBad Name: x\r\n\r\n",
      "PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "PUT /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "PUT /a HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
      "PUT /a HTTP/1.1\r\nContent-Length:\r\n\r\n",
      "PUT /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
      "PUT /a HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
      absl::StrCat("PUT /a HTTP/1.1\r\nContent-Length: ", kMaxBodyBytes + 1, "\r\n\r\n"),
      absl::StrCat("GET /", std::string(kMaxHeaderBytes, 'a'), " HTTP/1.1\r\n\r\n"),
      absl::StrCat("GET /a HTTP/1.1\r\nX: ", std::string(kMaxHeaderBytes, 'a')),
  };
  for (const std::string& text : bad) {
    EXPECT_EQ(Parse(text), ParseResult::kBad) << text.substr(0, 80);
  }
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(port_, testutil::FreePort());
    server_ = std::make_unique<HttpServer>(
        [](const HttpRequest& req) {
          return HttpResponse{req.method == "PUT" ? 204 : 200,
                              absl::StrCat(req.method, " ", req.target, " ", req.body)};
        },
        /*workers=*/2, /*io_timeout_ms=*/500);
    ASSERT_OK(server_->Start("127.0.0.1", port_));
  }

  absl::StatusOr<HttpResponse> Call(absl::string_view raw) {
    return HttpRoundTrip("127.0.0.1", port_, raw);
  }

  int port_ = 0;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesRequests) {
  ASSERT_OK_AND_ASSIGN(HttpResponse get, Call(FormatHttpRequest("GET", "/k")));
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "GET /k ");
  ASSERT_OK_AND_ASSIGN(HttpResponse put, Call(FormatHttpRequest("PUT", "/k", "v")));
  EXPECT_EQ(put.status, 204);
  EXPECT_EQ(put.body, "");
}

TEST_F(HttpServerTest, BadInputGets400AndServerKeepsServing) {
  const std::string garbage[] = {
      "GARBAGE\r\n\r\n",
      std::string("\0\1\2\3\r\n\r\n", 8),
      "PUT /k HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort",  // then EOF
      "GET /k HTTP/1.1\r\n",                                 // then EOF
      std::string(3 * kMaxHeaderBytes, 'x'),
  };
  for (const std::string& g : garbage) {
    ASSERT_OK_AND_ASSIGN(HttpResponse r, Call(g));
    EXPECT_EQ(r.status, 400) << g.substr(0, 40);
  }
  // A client that says nothing gets no answer.
  EXPECT_FALSE(Call("").ok());
  ASSERT_OK_AND_ASSIGN(HttpResponse ok, Call(FormatHttpRequest("GET", "/still-up")));
  EXPECT_EQ(ok.status, 200);
}

TEST_F(HttpServerTest, StopIsIdempotent) {
  server_->Stop();
  server_->Stop();
  EXPECT_FALSE(Call(FormatHttpRequest("GET", "/k")).ok());
}

}  // namespace
}  // namespace etcd::raftexample
