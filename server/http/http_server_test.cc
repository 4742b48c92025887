#include "server/http/http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace etcd::http {
namespace {

TEST(ParseRequestTest, IncompleteThenComplete) {
  Request request;
  EXPECT_EQ(ParseRequest("GET /health HTTP/1.1\r\nHost: x\r\n", 1024, &request), 0);
  std::string text = "GET /health?exclude=NOSPACE&exclude=CORRUPT HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(ParseRequest(text + "GET", 1024, &request), static_cast<long>(text.size()));
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/health");
  EXPECT_EQ(request.Header("host"), "x");
  EXPECT_EQ(request.QueryValues("exclude"), (std::vector<std::string>{"NOSPACE", "CORRUPT"}));
}

TEST(ParseRequestTest, BodyAndErrors) {
  Request request;
  std::string text = "POST /v3/kv/put HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  EXPECT_EQ(ParseRequest(text.substr(0, text.size() - 1), 1024, &request), 0);
  EXPECT_EQ(ParseRequest(text, 1024, &request), static_cast<long>(text.size()));
  EXPECT_EQ(request.body, "hello");
  EXPECT_EQ(ParseRequest("garbage\r\n\r\n", 1024, &request), -400);
  EXPECT_EQ(ParseRequest("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 1024, &request),
            -501);
  EXPECT_EQ(ParseRequest("GET / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 1024, &request), -413);
  EXPECT_EQ(ParseRequest(std::string(2000, 'a'), 1024, &request), -413);
}

TEST(SerializeResponseTest, Shape) {
  Response response = Response::Json(200, "{}");
  EXPECT_EQ(SerializeResponse(response, false, false),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(SerializeResponse(response, true, true),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            "Connection: close\r\n\r\n");
}

TEST(MuxTest, NotFound) {
  Mux mux;
  mux.Handle("/a", [](const Request&) { return Response::Json(200, "a"); });
  Request request;
  request.path = "/a";
  EXPECT_EQ(mux.Serve(request).body, "a");
  request.path = "/b";
  Response response = mux.Serve(request);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "404 page not found\n");
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(ConnectionServerTest, KeepAliveThenClose) {
  Mux mux;
  mux.Handle("/x", [](const Request& r) { return Response::Json(200, r.method); });
  ConnectionServer server(&mux);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  server.Serve(fds[0]);
  std::string requests =
      "GET /x HTTP/1.1\r\n\r\nPUT /x HTTP/1.1\r\nContent-Length: 1\r\n\r\nzGET /x "
      "HTTP/1.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(fds[1], requests.data(), requests.size()),
            static_cast<ssize_t>(requests.size()));
  std::string out = ReadAll(fds[1]);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\nGET"
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\nPUT"
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            "3\r\nConnection: close\r\n\r\nGET");
  ::close(fds[1]);
  server.Stop();
}

TEST(ConnectionServerTest, StopClosesIdleConnections) {
  Mux mux;
  ConnectionServer server(&mux);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  server.Serve(fds[0]);
  server.Stop();
  EXPECT_EQ(ReadAll(fds[1]), "");
  ::close(fds[1]);
  int more[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, more), 0);
  server.Serve(more[0]);  // closed at once after Stop
  EXPECT_EQ(ReadAll(more[1]), "");
  ::close(more[1]);
}

}  // namespace
}  // namespace etcd::http
