// A minimal HTTP/1.1 server for raftexample's key-value API: one request per
// connection (the answer carries "Connection: close"), bodies sized by
// Content-Length, no chunked encoding, no keep-alive.
//
//   HttpServer server([](const HttpRequest& req) {
//     return HttpResponse{200, "hello\n"};
//   });
//   RETURN_IF_ERROR(server.Start("127.0.0.1", 12380));
//   ...
//   server.Stop();   // also done by the destructor
//
// Requests that do not parse, or exceed the limits below, are answered with
// 400 and never reach the handler.
//
// Thread-safety: the handler is called from several worker threads at once.
// Start and Stop are called from one thread.

#ifndef ETCD_RAFT_EXAMPLE_HTTP_H_
#define ETCD_RAFT_EXAMPLE_HTTP_H_

#include <cstddef>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::raftexample {

// Limits on what a request may hold.
inline constexpr size_t kMaxHeaderBytes = 8 * 1024;  // request line + headers
inline constexpr size_t kMaxBodyBytes = 1 << 20;

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // the request target, e.g. "/key"
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string body;
};

enum class ParseResult {
  kComplete,    // *request holds it; *consumed bytes of the buffer were used
  kIncomplete,  // a prefix of a valid request: read more
  kBad,         // not a request we accept: *error says why
};

// Parses the request at the front of `buffer`: "METHOD SP target SP
// HTTP/1.x", header lines, an empty line, and Content-Length bytes of body.
// Lines end in CRLF (a bare LF is accepted too). Rejects Transfer-Encoding,
// duplicate or malformed Content-Length, targets not starting with '/',
// control characters, and anything over the limits above.
ParseResult ParseHttpRequest(absl::string_view buffer, HttpRequest* request, size_t* consumed,
                             std::string* error);

// "HTTP/1.1 <status> <reason>" with Content-Length and Connection: close.
std::string FormatHttpResponse(const HttpResponse& response);

// A client call for tests and tools: connects to host:port, writes
// `raw_request` as is, reads the answer until the server closes the
// connection and returns its status code and body. Unavailable if the
// connection fails or the answer is not an HTTP response.
absl::StatusOr<HttpResponse> HttpRoundTrip(const std::string& host, int port,
                                           absl::string_view raw_request, int timeout_ms = 10000);

// A well-formed request with a Content-Length body, for HttpRoundTrip.
std::string FormatHttpRequest(absl::string_view method, absl::string_view target,
                              absl::string_view body = "");

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Connections are served by `workers` threads; a client that sends
  // nothing for `io_timeout` is disconnected.
  explicit HttpServer(Handler handler, int workers = 4, int io_timeout_ms = 5000);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on host:port (an IPv4 or IPv6 literal, or a name) and starts the
  // workers.
  absl::Status Start(const std::string& host, int port);

  // Stops accepting, waits for requests in progress and joins the workers.
  // Idempotent.
  void Stop();

 private:
  void Serve();
  void ServeConnection(int fd);

  const Handler handler_;
  const int workers_;
  const int io_timeout_ms_;
  int listen_fd_ = -1;
  std::vector<std::thread> threads_;
};

}  // namespace etcd::raftexample

#endif  // ETCD_RAFT_EXAMPLE_HTTP_H_
