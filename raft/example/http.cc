#include "raft/example/http.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "raft/example/net_util.h"

namespace etcd::raftexample {
namespace {

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

bool HasControlChar(absl::string_view s) {
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return true;
  }
  return false;
}

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace

ParseResult ParseHttpRequest(absl::string_view buffer, HttpRequest* request, size_t* consumed,
                             std::string* error) {
  size_t pos = 0;
  bool first = true;
  bool have_length = false;
  size_t content_length = 0;
  for (;;) {
    const size_t nl = buffer.find('\n', pos);
    if (nl == absl::string_view::npos) {
      if (buffer.size() > kMaxHeaderBytes) {
        *error = "request header too large";
        return ParseResult::kBad;
      }
      return ParseResult::kIncomplete;
    }
    if (nl + 1 > kMaxHeaderBytes) {
      *error = "request header too large";
      return ParseResult::kBad;
    }
    absl::string_view line = buffer.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (HasControlChar(line)) {
      *error = "control character in request header";
      return ParseResult::kBad;
    }
    if (first) {
      first = false;
      std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
      if (parts.size() != 3) {
        *error = "malformed request line";
        return ParseResult::kBad;
      }
      if (parts[0].empty() || parts[0].size() > 16 ||
          !std::all_of(parts[0].begin(), parts[0].end(), IsTokenChar)) {
        *error = "malformed method";
        return ParseResult::kBad;
      }
      if (parts[1].empty() || parts[1][0] != '/') {
        *error = "request target must start with '/'";
        return ParseResult::kBad;
      }
      if (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0") {
        *error = "unsupported HTTP version";
        return ParseResult::kBad;
      }
      request->method = std::string(parts[0]);
      request->target = std::string(parts[1]);
      continue;
    }
    if (line.empty()) break;  // end of the header section
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0 ||
        !std::all_of(line.begin(), line.begin() + colon, IsTokenChar)) {
      *error = "malformed header line";
      return ParseResult::kBad;
    }
    const absl::string_view name = line.substr(0, colon);
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      *error = "Transfer-Encoding is not supported";
      return ParseResult::kBad;
    }
    if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      size_t n = 0;
      if (have_length || value.empty() || value.size() > 9 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          !absl::SimpleAtoi(value, &n)) {
        *error = "invalid Content-Length";
        return ParseResult::kBad;
      }
      if (n > kMaxBodyBytes) {
        *error = "request body too large";
        return ParseResult::kBad;
      }
      have_length = true;
      content_length = n;
    }
  }
  if (buffer.size() - pos < content_length) return ParseResult::kIncomplete;
  request->body = std::string(buffer.substr(pos, content_length));
  *consumed = pos + content_length;
  return ParseResult::kComplete;
}

std::string FormatHttpResponse(const HttpResponse& response) {
  std::string out = absl::StrCat("HTTP/1.1 ", response.status, " ", ReasonPhrase(response.status),
                                 "\r\nConnection: close\r\n");
  if (response.status != 204) {
    absl::StrAppend(&out, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: ",
                    response.body.size(), "\r\n\r\n", response.body);
  } else {
    out.append("\r\n");
  }
  return out;
}

absl::StatusOr<HttpResponse> HttpRoundTrip(const std::string& host, int port,
                                           absl::string_view raw_request, int timeout_ms) {
  absl::StatusOr<int> fd = Dial(host, port, timeout_ms);
  if (!fd.ok()) return fd.status();
  std::string answer;
  if (WriteAll(*fd, raw_request)) {
    // Half-close so that a server waiting for more of a partial request
    // sees the end at once.
    shutdown(*fd, SHUT_WR);
  }
  char chunk[4096];
  for (;;) {
    const ssize_t n = recv(*fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(chunk, static_cast<size_t>(n));
  }
  close(*fd);
  const size_t header_end = answer.find("\r\n\r\n");
  HttpResponse response;
  if (!absl::StartsWith(answer, "HTTP/1.1 ") || header_end == std::string::npos ||
      answer.size() < 12 || !absl::SimpleAtoi(answer.substr(9, 3), &response.status)) {
    return absl::UnavailableError(
        absl::StrCat("not an HTTP response: \"", answer.substr(0, 64), "\""));
  }
  response.body = answer.substr(header_end + 4);
  return response;
}

std::string FormatHttpRequest(absl::string_view method, absl::string_view target,
                              absl::string_view body) {
  return absl::StrCat(method, " ", target,
                      " HTTP/1.1\r\nHost: raftexample\r\nContent-Length: ", body.size(), "\r\n\r\n",
                      body);
}

HttpServer::HttpServer(Handler handler, int workers, int io_timeout_ms)
    : handler_(std::move(handler)), workers_(workers), io_timeout_ms_(io_timeout_ms) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start(const std::string& host, int port) {
  absl::StatusOr<int> fd = Listen(host, port);
  if (!fd.ok()) return fd.status();
  listen_fd_ = *fd;
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { Serve(); });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (listen_fd_ < 0) return;
  // Wakes the workers blocked in accept (they then see EINVAL).
  shutdown(listen_fd_, SHUT_RDWR);
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  CloseFd(&listen_fd_);
}

void HttpServer::Serve() {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      return;  // shut down
    }
    ServeConnection(fd);
    close(fd);
  }
}

void HttpServer::ServeConnection(int fd) {
  SetIoTimeout(fd, io_timeout_ms_);
  std::string buffer;
  char chunk[4096];
  HttpRequest request;
  std::string error;
  size_t consumed = 0;
  for (;;) {
    const ParseResult result = ParseHttpRequest(buffer, &request, &consumed, &error);
    if (result == ParseResult::kBad) {
      WriteAll(fd, FormatHttpResponse({400, error + "\n"}));
      // Closing with unread input would reset the connection and could
      // destroy the answer before the client reads it: drain a little first.
      shutdown(fd, SHUT_WR);
      for (size_t drained = 0; drained < kMaxBodyBytes;) {
        const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) break;
        drained += static_cast<size_t>(n);
      }
      return;
    }
    if (result == ParseResult::kComplete) break;
    const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Closed or timed out: answer a partial request, if there is one.
      if (!buffer.empty()) WriteAll(fd, FormatHttpResponse({400, "incomplete request\n"}));
      return;
    }
    buffer.append(chunk, static_cast<size_t>(n));
  }
  WriteAll(fd, FormatHttpResponse(handler_(request)));
}

}  // namespace etcd::raftexample
