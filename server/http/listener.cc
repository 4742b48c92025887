#include "server/http/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace etcd::http {
namespace {

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kPrefaceSize = sizeof(kPreface) - 1;

// Go's form: "listen tcp 127.0.0.1:2379: bind: address already in use".
absl::Status Errno(absl::string_view what) {
  std::string text = std::strerror(errno);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return absl::UnavailableError(absl::StrCat(what, ": ", text));
}

}  // namespace

int ClientListener::MatchPreface(const char* data, size_t size) {
  size_t n = size < kPrefaceSize ? size : kPrefaceSize;
  if (std::memcmp(data, kPreface, n) != 0) return -1;
  return n == kPrefaceSize ? 1 : 0;
}

absl::StatusOr<std::unique_ptr<ClientListener>> ClientListener::Listen(const std::string& host_port,
                                                                       ListenOptions options) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("missing port in address ", host_port));
  }
  std::string host = host_port.substr(0, colon);
  std::string port = host_port.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* result = nullptr;
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen tcp ", host_port, ": ", ::gai_strerror(rc)));
  }
  int fd = -1;
  absl::Status error = absl::UnavailableError(absl::StrCat("listen tcp ", host_port));
  // Like Go's net.Listen("tcp", "localhost:2379"): IPv4 first, so that
  // clients dialing 127.0.0.1 (etcdctl's default) reach a "localhost" member.
  std::vector<addrinfo*> candidates;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) candidates.push_back(ai);
  }
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET) candidates.push_back(ai);
  }
  for (addrinfo* ai : candidates) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    if (options.reuse_address) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (options.reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      error = Errno(absl::StrCat("listen tcp ", host_port, ": bind"));
    } else if (::listen(fd, 1024) != 0) {
      error = Errno(absl::StrCat("listen tcp ", host_port, ": listen"));
    } else {
      break;
    }
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(result);
  if (fd < 0) return error;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int bound_port = addr.ss_family == AF_INET6
                       ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                       : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    absl::Status status = Errno("pipe");
    ::close(fd);
    return status;
  }
  return std::unique_ptr<ClientListener>(
      new ClientListener(fd, bound_port, options, pipe_fds[0], pipe_fds[1]));
}

ClientListener::~ClientListener() {
  Stop();
  ::close(fd_);
  ::close(wake_read_);
  ::close(wake_write_);
}

void ClientListener::Start(ConnectionHandler on_http2, ConnectionHandler on_http1) {
  on_http2_ = std::move(on_http2);
  on_http1_ = std::move(on_http1);
  thread_ = std::thread([this] { Run(); });
}

void ClientListener::Stop() {
  if (stopped_) return;
  stopped_ = true;
  char byte = 0;
  (void)!::write(wake_write_, &byte, 1);
  if (thread_.joinable()) thread_.join();
}

void ClientListener::Run() {
  struct Pending {
    int fd;
    absl::Time deadline;
    // Some bytes of the preface arrived, not all: re-peeked on a short timer
    // instead of polled (the bytes stay readable, poll would spin).
    bool partial;
  };
  std::vector<Pending> pending;
  std::vector<pollfd> pfds;
  std::vector<size_t> polled;  // index into pending of pfds[2 + i]
  while (true) {
    pfds.clear();
    polled.clear();
    pfds.push_back({wake_read_, POLLIN, 0});
    pfds.push_back({fd_, POLLIN, 0});
    absl::Time now = absl::Now();
    absl::Time next_deadline = absl::InfiniteFuture();
    bool any_partial = false;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (pending[i].partial) {
        any_partial = true;
      } else {
        pfds.push_back({pending[i].fd, POLLIN, 0});
        polled.push_back(i);
      }
      if (pending[i].deadline < next_deadline) next_deadline = pending[i].deadline;
    }
    int timeout_ms = -1;
    if (next_deadline != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(next_deadline - now) + 1);
      if (timeout_ms < 0) timeout_ms = 0;
    }
    if (any_partial && (timeout_ms < 0 || timeout_ms > 5)) timeout_ms = 5;
    int ready = ::poll(pfds.data(), pfds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) break;
    if (pfds[0].revents != 0) break;
    now = absl::Now();
    std::vector<bool> readable(pending.size(), false);
    for (size_t j = 0; j < polled.size(); ++j) readable[polled[j]] = pfds[2 + j].revents != 0;
    std::vector<Pending> still_pending;
    for (size_t i = 0; i < pending.size(); ++i) {
      Pending p = pending[i];
      if (!readable[i] && !p.partial) {
        if (now >= p.deadline) {
          ::close(p.fd);
        } else {
          still_pending.push_back(p);
        }
        continue;
      }
      char buf[kPrefaceSize];
      ssize_t n = ::recv(p.fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        if (now >= p.deadline) {
          ::close(p.fd);
        } else {
          still_pending.push_back(p);
        }
        continue;
      }
      if (n <= 0) {
        ::close(p.fd);
        continue;
      }
      int match = MatchPreface(buf, static_cast<size_t>(n));
      if (match == 1) {
        int flags = ::fcntl(p.fd, F_GETFL);
        ::fcntl(p.fd, F_SETFL, flags | O_NONBLOCK);
        on_http2_(p.fd);
      } else if (match < 0) {
        on_http1_(p.fd);
      } else if (now >= p.deadline) {
        ::close(p.fd);
      } else {
        p.partial = true;
        still_pending.push_back(p);
      }
    }
    pending.swap(still_pending);
    if (pfds[1].revents & POLLIN) {
      while (true) {
        int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) break;
        int one = 1;
        ::setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        pending.push_back({conn, now + options_.sniff_timeout, false});
      }
    }
  }
  for (const Pending& p : pending) ::close(p.fd);
}

}  // namespace etcd::http
