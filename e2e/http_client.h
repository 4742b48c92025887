// A minimal HTTP/1.1 client for end-to-end tests of the member's HTTP side
// (the JSON gateway): one request per connection, chunked bodies decoded,
// and streaming responses read incrementally.
//
//   HttpResult r = HttpPost(member->endpoint(), "/v3/kv/put", R"({"key":"Zm9v"})");
//   EXPECT_EQ(r.status, 200);
//
//   ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpStream> watch,
//                        HttpStream::Post(endpoint, "/v3/watch", body));
//   ASSERT_TRUE(watch->WaitFor("\"created\":true", absl::Seconds(15)));
//
// Thread-compatible.

#ifndef ETCD_E2E_HTTP_CLIENT_H_
#define ETCD_E2E_HTTP_CLIENT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace etcd::e2e {

struct HttpResult {
  int status = 0;  // 0 if no response could be read
  // Header names lowercased, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // de-chunked
  bool chunked = false;

  // The first value of header `name` (lowercase), or "".
  std::string Header(absl::string_view name) const;
  // The body's lines (a streamed body holds one JSON object per line).
  std::vector<std::string> Lines() const;
};

// Parses a whole or partial response; a partial chunked body keeps its
// complete chunks.
HttpResult ParseHttpResponse(absl::string_view raw);

// One request with "Connection: close" to "host:port", read to the end (at
// most `timeout`).
HttpResult HttpRequest(const std::string& endpoint, const std::string& method,
                       const std::string& path, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers = {},
                       absl::Duration timeout = absl::Seconds(30));
inline HttpResult HttpPost(const std::string& endpoint, const std::string& path,
                           const std::string& body,
                           const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  return HttpRequest(endpoint, "POST", path, body, headers);
}

// A request whose response is read while it streams.
class HttpStream {
 public:
  static absl::StatusOr<std::unique_ptr<HttpStream>> Post(
      const std::string& endpoint, const std::string& path, const std::string& body,
      const std::vector<std::pair<std::string, std::string>>& headers = {});
  ~HttpStream();
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  // Reads until the de-chunked body contains `needle` `count` times, the
  // server ends the response, or `timeout`; true if found.
  bool WaitFor(absl::string_view needle, absl::Duration timeout, int count = 1);
  // What has arrived so far.
  HttpResult Current() const { return ParseHttpResponse(raw_); }
  // True once the server closed the connection.
  bool ended() const { return ended_; }
  // Closes the connection (the client going away).
  void Close();

 private:
  explicit HttpStream(int fd) : fd_(fd) {}
  int fd_;
  std::string raw_;
  bool ended_ = false;
};

}  // namespace etcd::e2e

#endif  // ETCD_E2E_HTTP_CLIENT_H_
