#include "server/http/http_server.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace etcd::http {
namespace {

constexpr size_t kMaxRequestBytes = 1 << 20;
constexpr int kIdleTimeoutMs = 60 * 1000;

const char* StatusText(int status) {
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
    case 413:
      return "Request Entity Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

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

}  // namespace

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

Response Mux::Serve(const Request& request) const {
  auto it = handlers_.find(request.path);
  if (it == handlers_.end()) return Response::Error(404, "404 page not found");
  return it->second(request);
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

void ConnectionServer::Run(int fd) {
  std::string buffer;
  char chunk[16 * 1024];
  while (true) {
    Request request;
    long used = ParseRequest(buffer, kMaxRequestBytes, &request);
    if (used < 0) {
      Response error =
          Response::Error(static_cast<int>(-used), StatusText(static_cast<int>(-used)));
      SendAll(fd, SerializeResponse(error, false, true));
      return;
    }
    if (used > 0) {
      buffer.erase(0, static_cast<size_t>(used));
      bool close = absl::EqualsIgnoreCase(request.Header("connection"), "close");
      Response response = mux_->Serve(request);
      if (!SendAll(fd, SerializeResponse(response, request.method == "HEAD", close)) || close) {
        return;
      }
      continue;
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
