#include "pkg/testutil/tcp_proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "pkg/testutil/status_matchers.h"

namespace etcd::testutil {
namespace {

// Accepts connections on a free port and echoes what they send.
class EchoServer {
 public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 8);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::thread([c] {
          char buf[256];
          ssize_t n;
          while ((n = ::read(c, buf, sizeof(buf))) > 0) (void)!::write(c, buf, n);
          ::close(c);
        }).detach();
      }
    });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_;
  int port_;
  std::thread thread_;
};

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return -1;
  return fd;
}

// What arrives on `fd` within `ms` milliseconds ("" on silence, "<closed>").
std::string ReadFor(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, ms) <= 0) return "";
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  if (n <= 0) return "<closed>";
  return std::string(buf, static_cast<size_t>(n));
}

TEST(TcpProxyTest, PassesBlackholesAndResets) {
  EchoServer echo;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TcpProxy> proxy, TcpProxy::Start(0, echo.port()));
  int fd = Connect(proxy->port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "hi", 2), 2);
  EXPECT_EQ(ReadFor(fd, 5000), "hi");

  proxy->SetMode(TcpProxy::Mode::kBlackhole);
  ASSERT_EQ(::write(fd, "lost", 4), 4);
  EXPECT_EQ(ReadFor(fd, 300), "");  // silence, not a reset

  proxy->SetMode(TcpProxy::Mode::kPass);
  ASSERT_EQ(::write(fd, "back", 4), 4);
  EXPECT_EQ(ReadFor(fd, 5000), "back");
  EXPECT_GT(proxy->forwarded(), 0u);

  proxy->SetMode(TcpProxy::Mode::kReset);
  EXPECT_EQ(ReadFor(fd, 5000), "<closed>");
  ::close(fd);
  int refused = Connect(proxy->port());
  // Accepted by the kernel, then reset by the proxy.
  if (refused >= 0) {
    EXPECT_EQ(ReadFor(refused, 5000), "<closed>");
    ::close(refused);
  }
}

}  // namespace
}  // namespace etcd::testutil
