#include "server/http/http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

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

TEST(MuxTest, PrefixRouting) {
  Mux mux;
  mux.Handle("/v3/exact", [](const Request&) { return Response::Json(200, "exact"); });
  mux.HandlePrefix("/v3/", [](const Request&, ResponseWriter*) -> std::optional<Response> {
    return Response::Json(200, "v3");
  });
  mux.HandlePrefix("/v3/kv/", [](const Request&, ResponseWriter*) -> std::optional<Response> {
    return Response::Json(200, "kv");
  });
  mux.HandlePrefix("/stream/", [](const Request&, ResponseWriter* w) -> std::optional<Response> {
    EXPECT_FALSE(w->StartChunked(Response::Json(200, "")));
    return std::nullopt;
  });
  Request request;
  request.path = "/v3/exact";
  EXPECT_EQ(mux.Serve(request).body, "exact");
  request.path = "/v3/kv/put";
  EXPECT_EQ(mux.Serve(request).body, "kv");
  request.path = "/v3/watch";
  EXPECT_EQ(mux.Serve(request).body, "v3");
  request.path = "/v3";
  EXPECT_EQ(mux.Serve(request).status, 404);
  // Streaming needs a connection.
  request.path = "/stream/x";
  EXPECT_EQ(mux.Serve(request).status, 500);
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

TEST(ConnectionServerTest, ChunkedResponseThenKeepAlive) {
  Mux mux;
  mux.HandlePrefix("/s/", [](const Request&, ResponseWriter* w) -> std::optional<Response> {
    Response head = Response::Json(200, "");
    head.headers.emplace_back("X-A", "b");
    EXPECT_TRUE(w->StartChunked(head));
    EXPECT_TRUE(w->WriteChunk("hello"));
    EXPECT_TRUE(w->WriteChunk(""));
    EXPECT_TRUE(w->WriteChunk(std::string(20, 'x')));
    return std::nullopt;
  });
  mux.Handle("/x", [](const Request& r) { return Response::Json(200, r.method); });
  ConnectionServer server(&mux);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  server.Serve(fds[0]);
  std::string requests = "POST /s/a HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(fds[1], requests.data(), requests.size()),
            static_cast<ssize_t>(requests.size()));
  EXPECT_EQ(
      ReadAll(fds[1]),
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-A: b\r\n"
      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n14\r\nxxxxxxxxxxxxxxxxxxxx\r\n0\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
      "3\r\nConnection: close\r\n\r\nGET");
  ::close(fds[1]);
  server.Stop();
}

// A streaming handler that waits until the client is gone.
Mux WaitingMux(absl::Notification* started, absl::Notification* saw_close) {
  Mux mux;
  mux.HandlePrefix("/w/", [=](const Request&, ResponseWriter* w) -> std::optional<Response> {
    w->StartChunked(Response::Json(200, ""));
    w->WriteChunk("{}");
    started->Notify();
    while (!w->WaitClosed(absl::Milliseconds(20))) {
    }
    EXPECT_FALSE(w->WriteChunk("late"));
    saw_close->Notify();
    return std::nullopt;
  });
  return mux;
}

TEST(ConnectionServerTest, StreamEndsWhenClientCloses) {
  absl::Notification started, saw_close;
  Mux mux = WaitingMux(&started, &saw_close);
  ConnectionServer server(&mux);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  server.Serve(fds[0]);
  std::string request = "POST /w/ HTTP/1.1\r\n\r\n";
  ASSERT_EQ(::write(fds[1], request.data(), request.size()), static_cast<ssize_t>(request.size()));
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_FALSE(saw_close.HasBeenNotified());
  ::close(fds[1]);
  EXPECT_TRUE(saw_close.WaitForNotificationWithTimeout(absl::Seconds(30)));
  server.Stop();
}

TEST(ConnectionServerTest, StopEndsStreams) {
  absl::Notification started, saw_close;
  Mux mux = WaitingMux(&started, &saw_close);
  ConnectionServer server(&mux);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  server.Serve(fds[0]);
  std::string request = "POST /w/ HTTP/1.1\r\n\r\n";
  ASSERT_EQ(::write(fds[1], request.data(), request.size()), static_cast<ssize_t>(request.size()));
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(30)));
  server.Stop();  // joins the connection thread, so the handler has returned
  EXPECT_TRUE(saw_close.HasBeenNotified());
  std::string out = ReadAll(fds[1]);
  EXPECT_EQ(out.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_NE(out.find("\r\n\r\n2\r\n{}\r\n"), std::string::npos) << out;
  ::close(fds[1]);
}

TEST(ConnectionServerTest, ExpectContinue) {
  Mux mux;
  mux.Handle("/x", [](const Request& r) { return Response::Json(200, r.body); });
  ConnectionServer server(&mux);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  server.Serve(fds[0]);
  std::string head =
      "POST /x HTTP/1.1\r\nExpect: 100-continue\r\nConnection: close\r\n"
      "Content-Length: 2\r\n\r\n";
  ASSERT_EQ(::write(fds[1], head.data(), head.size()), static_cast<ssize_t>(head.size()));
  // The go-ahead comes before the body is sent.
  std::string expected = "HTTP/1.1 100 Continue\r\n\r\n";
  std::string got(expected.size(), '\0');
  size_t n = 0;
  while (n < got.size()) {
    ssize_t r = ::read(fds[1], &got[n], got.size() - n);
    ASSERT_GT(r, 0);
    n += static_cast<size_t>(r);
  }
  EXPECT_EQ(got, expected);
  ASSERT_EQ(::write(fds[1], "ok", 2), 2);
  EXPECT_EQ(ReadAll(fds[1]),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            "Connection: close\r\n\r\nok");
  ::close(fds[1]);
  server.Stop();
}

TEST(ConnectionServerTest, MaxRequestBytes) {
  Mux mux;
  mux.Handle("/x", [](const Request& r) { return Response::Json(200, r.body); });
  ConnectionServer server(&mux, 100);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  server.Serve(fds[0]);
  std::string request = "POST /x HTTP/1.1\r\nContent-Length: 200\r\n\r\n" + std::string(200, 'a');
  ASSERT_EQ(::write(fds[1], request.data(), request.size()), static_cast<ssize_t>(request.size()));
  EXPECT_EQ(ReadAll(fds[1]).substr(0, 12), "HTTP/1.1 413");
  ::close(fds[1]);
  server.Stop();
}

}  // namespace
}  // namespace etcd::http
