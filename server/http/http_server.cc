#include "server/http/http_server.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace etcd::http {

// A JSON string literal; like Go's encoder, <, > and & are escaped too.
std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
      case '>':
      case '&':
        absl::StrAppendFormat(&out, "\\u%04x", u);
        break;
      default:
        if (u < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", u);
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

namespace {

constexpr int kIdleTimeoutMs = 60 * 1000;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string QueryUnescape(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 &&
               HexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Whether the complete request head at the start of `buffer` has
// "Expect: 100-continue".
bool ExpectsContinue(absl::string_view buffer) {
  size_t end = buffer.find("\r\n\r\n");
  if (end == absl::string_view::npos) return false;
  for (absl::string_view line : absl::StrSplit(buffer.substr(0, end), "\r\n")) {
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(line.substr(0, colon)), "expect") &&
        absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(line.substr(colon + 1)),
                               "100-continue")) {
      return true;
    }
  }
  return false;
}

// Refuses to stream: for Mux::Serve without a connection.
class NoStreamWriter final : public ResponseWriter {
 public:
  bool StartChunked(const Response&) override { return false; }
  bool WriteChunk(absl::string_view) override { return false; }
  bool WaitClosed(absl::Duration) override { return true; }
};

}  // namespace

const char* StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Request Entity Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

std::string Request::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

std::vector<std::string> Request::QueryValues(absl::string_view name) const {
  std::vector<std::string> values;
  for (absl::string_view pair : absl::StrSplit(query, absl::ByAnyChar("&;"), absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (QueryUnescape(kv.first) == name) values.push_back(QueryUnescape(kv.second));
  }
  return values;
}

Response Response::Json(int status, std::string body) {
  Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = std::move(body);
  return response;
}

Response Response::Error(int status, absl::string_view message) {
  Response response;
  response.status = status;
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.body = absl::StrCat(message, "\n");
  return response;
}

void Mux::Handle(std::string path, Handler handler) {
  handlers_[std::move(path)] = std::move(handler);
}

void Mux::HandlePrefix(std::string prefix, StreamingHandler handler) {
  prefix_handlers_[std::move(prefix)] = std::move(handler);
}

std::optional<Response> Mux::Serve(const Request& request, ResponseWriter* writer) const {
  auto it = handlers_.find(request.path);
  if (it != handlers_.end()) return it->second(request);
  // The longest prefix sorts last among those that match.
  const StreamingHandler* best = nullptr;
  for (const auto& [prefix, handler] : prefix_handlers_) {
    if (absl::StartsWith(request.path, prefix)) best = &handler;
  }
  if (best != nullptr) return (*best)(request, writer);
  return Response::Error(404, "404 page not found");
}

Response Mux::Serve(const Request& request) const {
  NoStreamWriter writer;
  std::optional<Response> response = Serve(request, &writer);
  if (!response.has_value()) return Response::Error(500, "Internal Server Error");
  return *std::move(response);
}

long ParseRequest(absl::string_view buffer, size_t max_bytes, Request* request) {
  size_t header_end = buffer.find("\r\n\r\n");
  if (header_end == absl::string_view::npos) {
    return buffer.size() > max_bytes ? -413 : 0;
  }
  absl::string_view head = buffer.substr(0, header_end);
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  std::vector<absl::string_view> parts = absl::StrSplit(lines[0], ' ');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() ||
      !absl::StartsWith(parts[2], "HTTP/1.")) {
    return -400;
  }
  *request = Request();
  request->method = std::string(parts[0]);
  absl::string_view target = parts[1];
  size_t q = target.find('?');
  request->path = std::string(target.substr(0, q));
  if (q != absl::string_view::npos) request->query = std::string(target.substr(q + 1));
  size_t content_length = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos || colon == 0) return -400;
    std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    if (name == "content-length") {
      if (!absl::SimpleAtoi(value, &content_length)) return -400;
    } else if (name == "transfer-encoding" && absl::AsciiStrToLower(value) != "identity") {
      return -501;
    }
    request->headers.emplace_back(std::move(name), std::move(value));
  }
  size_t total = header_end + 4 + content_length;
  if (total > max_bytes) return -413;
  if (buffer.size() < total) return 0;
  request->body = std::string(buffer.substr(header_end + 4, content_length));
  return static_cast<long>(total);
}

std::string SerializeResponse(const Response& response, bool head, bool close) {
  std::string out = absl::StrCat("HTTP/1.1 ", response.status, " ", StatusText(response.status),
                                 "\r\nContent-Type: ", response.content_type,
                                 "\r\nContent-Length: ", response.body.size(), "\r\n");
  for (const auto& [key, value] : response.headers) absl::StrAppend(&out, key, ": ", value, "\r\n");
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head) out += response.body;
  return out;
}

void ConnectionServer::Serve(int fd) {
  absl::MutexLock lock(&mu_);
  ReapLocked();
  if (stopped_) {
    ::close(fd);
    return;
  }
  uint64_t id = next_id_++;
  fds_[id] = fd;
  threads_[id] = std::thread([this, id, fd] {
    Run(fd);
    absl::MutexLock lock(&mu_);
    fds_.erase(id);
    ::close(fd);
    finished_.push_back(id);
  });
}

void ConnectionServer::ReapLocked() {
  for (uint64_t id : finished_) {
    auto it = threads_.find(id);
    if (it == threads_.end()) continue;
    it->second.join();
    threads_.erase(it);
  }
  finished_.clear();
}

void ConnectionServer::Stop() {
  absl::flat_hash_map<uint64_t, std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    for (const auto& [id, fd] : fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
    finished_.clear();
  }
  for (auto& [id, thread] : threads) thread.join();
}

// Chunked responses on one connection, for the thread that serves it.
class ConnectionServer::ConnectionWriter final : public ResponseWriter {
 public:
  ConnectionWriter(ConnectionServer* server, int fd, bool head, bool close)
      : server_(server), fd_(fd), head_(head), close_(close) {}

  bool started() const { return started_; }
  bool broken() const { return broken_; }

  bool StartChunked(const Response& head) override {
    if (started_ || broken_) return false;
    started_ = true;
    std::string out = absl::StrCat("HTTP/1.1 ", head.status, " ", StatusText(head.status),
                                   "\r\nContent-Type: ", head.content_type, "\r\n");
    for (const auto& [key, value] : head.headers) absl::StrAppend(&out, key, ": ", value, "\r\n");
    if (!head_) out += "Transfer-Encoding: chunked\r\n";
    if (close_) out += "Connection: close\r\n";
    out += "\r\n";
    return Send(out);
  }

  bool WriteChunk(absl::string_view data) override {
    if (!started_ || broken_ || server_->Stopped()) return false;
    if (data.empty() || head_) return true;
    return Send(absl::StrCat(absl::Hex(data.size()), "\r\n", data, "\r\n"));
  }

  bool WaitClosed(absl::Duration timeout) override {
    if (broken_ || server_->Stopped()) return true;
    int ms = static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(timeout), 1 << 30));
    pollfd pfd{fd_, POLLRDHUP, 0};
    int ready = ::poll(&pfd, 1, ms < 0 ? 0 : ms);
    if (ready > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
      broken_ = true;
      return true;
    }
    if (ready > 0) {
      // The client already sent its next request: not closed, but poll
      // would not wait for anything new.
      absl::SleepFor(timeout);
    }
    return server_->Stopped();
  }

  // Ends a started chunked body.
  bool Finish() {
    if (broken_ || head_) return !broken_;
    return Send("0\r\n\r\n");
  }

 private:
  bool Send(absl::string_view data) {
    if (!SendAll(fd_, data)) broken_ = true;
    return !broken_;
  }

  ConnectionServer* const server_;
  const int fd_;
  const bool head_;
  const bool close_;
  bool started_ = false;
  bool broken_ = false;
};

bool ConnectionServer::Stopped() {
  absl::MutexLock lock(&mu_);
  return stopped_;
}

void ConnectionServer::Run(int fd) {
  std::string buffer;
  bool continue_sent = false;  // "100 Continue" went out for the pending request
  char chunk[16 * 1024];
  while (true) {
    Request request;
    long used = ParseRequest(buffer, max_request_bytes_, &request);
    if (used < 0) {
      Response error =
          Response::Error(static_cast<int>(-used), StatusText(static_cast<int>(-used)));
      SendAll(fd, SerializeResponse(error, false, true));
      return;
    }
    if (used > 0) {
      buffer.erase(0, static_cast<size_t>(used));
      continue_sent = false;
      bool close = absl::EqualsIgnoreCase(request.Header("connection"), "close");
      bool head = request.method == "HEAD";
      ConnectionWriter writer(this, fd, head, close);
      std::optional<Response> response = mux_->Serve(request, &writer);
      if (response.has_value()) {
        if (writer.started()) return;  // a handler that both streamed and returned
        if (!SendAll(fd, SerializeResponse(*response, head, close)) || close) return;
        continue;
      }
      if (!writer.started()) {
        SendAll(fd, SerializeResponse(Response::Error(500, StatusText(500)), head, true));
        return;
      }
      if (!writer.Finish() || close) return;
      continue;
    }
    // A client that asked to "Expect: 100-continue" (curl, for bodies over
    // 1 MiB) waits for the go-ahead before sending the body.
    if (!continue_sent && ExpectsContinue(buffer)) {
      continue_sent = true;
      if (!SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) return;
    }
    pollfd pfd{fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, kIdleTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return;
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace etcd::http
