// A small HTTP/1.1 server for the member's plain-HTTP endpoints (/version,
// /health, /metrics): requests are routed by exact path through a Mux, and
// each accepted connection is served on its own thread (these endpoints see
// a handful of monitoring connections, not client traffic; gRPC never comes
// here).
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
// Supported: GET/HEAD/POST/PUT/DELETE with Content-Length bodies, keep-alive
// (HTTP/1.1 default, "Connection: close" honoured), requests up to 1 MiB.
// Chunked request bodies get 501; malformed requests get 400 and the
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
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

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

using Handler = std::function<Response(const Request&)>;

// Routes requests by exact path. Unknown paths get Go's "404 page not
// found".
class Mux {
 public:
  void Handle(std::string path, Handler handler);
  Response Serve(const Request& request) const;

 private:
  std::map<std::string, Handler> handlers_;
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
  // `mux` must outlive this server.
  explicit ConnectionServer(const Mux* mux) : mux_(mux) {}
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
  void Run(int fd);
  // Joins threads of connections that have finished.
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Mux* const mux_;
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
