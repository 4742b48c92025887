#include "e2e/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace etcd::e2e {
namespace {

absl::StatusOr<int> Connect(const std::string& endpoint) {
  std::pair<std::string, std::string> hp = absl::StrSplit(endpoint, absl::MaxSplits(':', 1));
  int port = 0;
  if (!absl::SimpleAtoi(hp.second, &port)) {
    return absl::InvalidArgumentError(absl::StrCat("bad endpoint ", endpoint));
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, hp.first.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to ", endpoint));
  }
  return fd;
}

std::string RequestText(const std::string& method, const std::string& path, const std::string& body,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out = absl::StrCat(method, " ", path,
                                 " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                                 "Content-Type: application/json\r\nContent-Length: ",
                                 body.size(), "\r\n");
  for (const auto& [k, v] : headers) absl::StrAppend(&out, k, ": ", v, "\r\n");
  absl::StrAppend(&out, "\r\n", body);
  return out;
}

bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads what is available within `timeout`; false at EOF or error.
bool ReadSome(int fd, std::string* raw, absl::Duration timeout) {
  pollfd pfd{fd, POLLIN, 0};
  int ready = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (ready <= 0) return true;
  char buf[16384];
  ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;
  raw->append(buf, static_cast<size_t>(n));
  return true;
}

}  // namespace

std::string HttpResult::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

std::vector<std::string> HttpResult::Lines() const {
  return absl::StrSplit(body, '\n', absl::SkipEmpty());
}

HttpResult ParseHttpResponse(absl::string_view raw) {
  HttpResult result;
  size_t end = raw.find("\r\n\r\n");
  if (end == absl::string_view::npos) return result;
  std::vector<absl::string_view> lines = absl::StrSplit(raw.substr(0, end), "\r\n");
  std::vector<absl::string_view> status = absl::StrSplit(lines[0], ' ');
  if (status.size() < 2 || !absl::SimpleAtoi(status[1], &result.status)) return result;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    result.headers.emplace_back(
        absl::AsciiStrToLower(lines[i].substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  absl::string_view body = raw.substr(end + 4);
  result.chunked = absl::EqualsIgnoreCase(result.Header("transfer-encoding"), "chunked");
  if (!result.chunked) {
    result.body = std::string(body);
    return result;
  }
  while (true) {
    size_t line_end = body.find("\r\n");
    if (line_end == absl::string_view::npos) break;
    size_t size = 0;
    absl::string_view hex = body.substr(0, line_end);
    size_t semi = hex.find(';');
    if (semi != absl::string_view::npos) hex = hex.substr(0, semi);
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(hex), &size) || size == 0) break;
    if (body.size() < line_end + 2 + size) break;
    result.body.append(body.data() + line_end + 2, size);
    body.remove_prefix(std::min(body.size(), line_end + 2 + size + 2));
  }
  return result;
}

HttpResult HttpRequest(const std::string& endpoint, const std::string& method,
                       const std::string& path, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       absl::Duration timeout) {
  absl::StatusOr<int> fd = Connect(endpoint);
  if (!fd.ok()) return HttpResult();
  std::string raw;
  if (SendAll(*fd, RequestText(method, path, body, headers))) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline && ReadSome(*fd, &raw, absl::Milliseconds(100))) {
    }
  }
  ::close(*fd);
  return ParseHttpResponse(raw);
}

absl::StatusOr<std::unique_ptr<HttpStream>> HttpStream::Post(
    const std::string& endpoint, const std::string& path, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  absl::StatusOr<int> fd = Connect(endpoint);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<HttpStream> stream(new HttpStream(*fd));
  if (!SendAll(*fd, RequestText("POST", path, body, headers))) {
    return absl::UnavailableError("cannot send the request");
  }
  return stream;
}

HttpStream::~HttpStream() { Close(); }

bool HttpStream::WaitFor(absl::string_view needle, absl::Duration timeout, int count) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::string body = Current().body;
    const std::string wanted(needle);
    int found = 0;
    for (size_t pos = body.find(wanted); pos != std::string::npos;
         pos = body.find(wanted, pos + 1)) {
      ++found;
    }
    if (found >= count) return true;
    if (ended_ || fd_ < 0 || absl::Now() >= deadline) return false;
    if (!ReadSome(fd_, &raw_, absl::Milliseconds(100))) ended_ = true;
  }
}

void HttpStream::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace etcd::e2e
