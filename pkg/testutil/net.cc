#include "pkg/testutil/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace etcd::testutil {
namespace {

ABSL_CONST_INIT absl::Mutex handed_out_mu(absl::kConstInit);

absl::flat_hash_set<int>& HandedOut() ABSL_EXCLUSIVE_LOCKS_REQUIRED(handed_out_mu) {
  static auto* const ports = new absl::flat_hash_set<int>();
  return *ports;
}

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Binds a socket to 127.0.0.1:0; returns the fd and the port.
absl::Status BindLoopback(int* fd, int* port) {
  *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*fd < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(*fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(*fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    absl::Status status = Errno("bind 127.0.0.1:0");
    close(*fd);
    return status;
  }
  *port = ntohs(addr.sin_port);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> FreePort() {
  absl::StatusOr<std::vector<int>> ports = FreePorts(1);
  if (!ports.ok()) return ports.status();
  return (*ports)[0];
}

absl::StatusOr<std::vector<int>> FreePorts(int n) {
  // Every socket stays bound until all ports are chosen, so the kernel
  // cannot hand the same port out twice.
  std::vector<int> fds;
  std::vector<int> ports;
  absl::Status status;
  {
    absl::MutexLock lock(&handed_out_mu);
    // Ports this process already handed out are skipped; the bound sockets
    // of skipped ports are kept until the end too, so each try gets a new one.
    for (int tries = 0; static_cast<int>(ports.size()) < n && tries < 100 * n + 100; ++tries) {
      int fd, port;
      status = BindLoopback(&fd, &port);
      if (!status.ok()) break;
      fds.push_back(fd);
      if (HandedOut().insert(port).second) ports.push_back(port);
    }
  }
  for (int fd : fds) close(fd);
  if (!status.ok()) return status;
  if (static_cast<int>(ports.size()) < n) {
    return absl::ResourceExhaustedError(
        absl::StrCat("found only ", ports.size(), " of ", n, " free ports"));
  }
  return ports;
}

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  std::string request = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                                     "\r\nConnection: close\r\n\r\n");
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  return response;
}

}  // namespace etcd::testutil
