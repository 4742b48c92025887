// A small HTTP/1.1 server for the member's plain-HTTP endpoints (/version,
// /health, /metrics) and the JSON gateway (/v3/..., server/gateway):
// requests are routed by exact path or by prefix through a Mux, and each
// accepted connection is served on its own thread (gRPC never comes here).
//
//   etcd::http::Mux mux;
//   mux.Handle("/version", [](const etcd::http::Request&) {
//     return etcd::http::Response::Json(200, "{\"etcdserver\":\"3.5.0\"}");
//   });
//   etcd::http::ConnectionServer server(&mux);
//   server.Serve(accepted_fd);   // takes ownership of the socket
//   ...
//   server.Stop();               // closes every connection, joins threads
//
// A prefix handler may stream its response (chunked transfer encoding,
// written while the handler runs) through a ResponseWriter:
//
//   mux.HandlePrefix("/v3/", [](const etcd::http::Request& request,
//                               etcd::http::ResponseWriter* writer)
//                                -> std::optional<etcd::http::Response> {
//     writer->StartChunked(etcd::http::Response::Json(200, ""));
//     while (writer->WriteChunk("{\"tick\":1}\n") &&
//            !writer->WaitClosed(absl::Seconds(1))) {
//     }
//     return std::nullopt;   // the response went through `writer`
//   });
//
// Supported: GET/HEAD/POST/PUT/DELETE/OPTIONS with Content-Length bodies,
// keep-alive (HTTP/1.1 default, "Connection: close" honoured),
// "Expect: 100-continue", requests up to max_request_bytes (1 MiB by
// default). Chunked request bodies get 501; malformed requests get 400 and the
// connection is closed.
//
// Mux is immutable once serving starts (Handle before Serve); ConnectionServer
// is thread-safe.

#ifndef ETCD_SERVER_HTTP_HTTP_SERVER_H_
#define ETCD_SERVER_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcd::http {

struct Request {
  std::string method;  // "GET"
  std::string path;    // "/health", percent-decoding not applied
  std::string query;   // "exclude=NOSPACE" (without '?')
  // Header names lowercased.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first value of header `name` (lowercase), or "".
  std::string Header(absl::string_view name) const;
  // Every value of query parameter `name` (percent- and '+'-decoded).
  std::vector<std::string> QueryValues(absl::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static Response Json(int status, std::string body);
  // Like Go's http.Error: text/plain, the message and a newline.
  static Response Error(int status, absl::string_view message);
};

// "OK", "Not Found", ... for an HTTP status code ("Unknown" if not known).
const char* StatusText(int status);

// Lets a handler stream its response while it runs. Used only from the
// thread that runs the handler, and only during the call.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Sends the status line and headers of `head` (its body is ignored) for a
  // chunked response. At most once. False if the client is gone.
  virtual bool StartChunked(const Response& head) = 0;
  // Sends `data` as one chunk (nothing for empty data) after StartChunked.
  // False once the client is gone or the server is stopping.
  virtual bool WriteChunk(absl::string_view data) = 0;
  // Waits up to `timeout` for the client to close the connection or the
  // server to stop; true if either happened.
  virtual bool WaitClosed(absl::Duration timeout) = 0;
};

using Handler = std::function<Response(const Request&)>;

// `s` as a JSON string literal, quotes included, escaped like Go's
// encoding/json (also <, > and &).
std::string JsonQuote(absl::string_view s);
// Returns the response to send whole, or nullopt once the response was
// started with writer->StartChunked (the end of the body is sent after the
// handler returns).
using StreamingHandler =
    std::function<std::optional<Response>(const Request&, ResponseWriter* writer)>;

// Routes requests by exact path, then by the longest matching prefix.
// Unknown paths get Go's "404 page not found".
class Mux {
 public:
  void Handle(std::string path, Handler handler);
  // Every path that starts with `prefix` (e.g. "/v3/").
  void HandlePrefix(std::string prefix, StreamingHandler handler);

  // Serves `request`; nullopt if a prefix handler streamed the response
  // through `writer`.
  std::optional<Response> Serve(const Request& request, ResponseWriter* writer) const;
  // Serves `request` without a connection: a handler that tries to stream
  // gets a writer that refuses, and its nullopt becomes a 500.
  Response Serve(const Request& request) const;

 private:
  std::map<std::string, Handler> handlers_;
  std::map<std::string, StreamingHandler> prefix_handlers_;
};

// Parses one request from the start of `buffer`. Returns the number of bytes
// it used, 0 when the request is incomplete, or -status (e.g. -400, -413,
// -501) when it cannot be served.
long ParseRequest(absl::string_view buffer, size_t max_bytes, Request* request);

// The wire form of `response` ("HTTP/1.1 200 OK\r\n..."). Without a body for
// HEAD requests.
std::string SerializeResponse(const Response& response, bool head, bool close);

class ConnectionServer {
 public:
  static constexpr size_t kDefaultMaxRequestBytes = 1 << 20;

  // `mux` must outlive this server. Requests larger than
  // `max_request_bytes` (head and body) get 413.
  explicit ConnectionServer(const Mux* mux, size_t max_request_bytes = kDefaultMaxRequestBytes)
      : mux_(mux), max_request_bytes_(max_request_bytes) {}
  ConnectionServer(const ConnectionServer&) = delete;
  ConnectionServer& operator=(const ConnectionServer&) = delete;
  ~ConnectionServer() { Stop(); }

  // Serves HTTP/1.1 on the connected socket `fd` (takes ownership) until the
  // peer closes, asks to close, idles for a minute, or Stop(). After Stop()
  // the socket is closed at once.
  void Serve(int fd);

  // Shuts every connection down and joins their threads. Idempotent.
  void Stop();

 private:
  class ConnectionWriter;

  void Run(int fd);
  bool Stopped() ABSL_LOCKS_EXCLUDED(mu_);
  // Joins threads of connections that have finished.
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Mux* const mux_;
  const size_t max_request_bytes_;
  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  // Live connections: id -> socket (shut down by Stop()).
  absl::flat_hash_map<uint64_t, int> fds_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> finished_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::http

#endif  // ETCD_SERVER_HTTP_HTTP_SERVER_H_
