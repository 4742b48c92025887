#include "pkg/testutil/net.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "pkg/testutil/status_matchers.h"

namespace etcd::testutil {
namespace {

// Binds and listens on 127.0.0.1:port; returns the fd or -1.
int Listen(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 1) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(FreePortTest, PortIsBindable) {
  ASSERT_OK_AND_ASSIGN(int port, FreePort());
  EXPECT_GT(port, 0);
  EXPECT_LT(port, 65536);
  const int fd = Listen(port);
  EXPECT_GE(fd, 0) << "port " << port;
  if (fd >= 0) close(fd);
}

TEST(FreePortTest, PortsAreDistinctAndAllBindableAtOnce) {
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, FreePorts(20));
  ASSERT_EQ(ports.size(), 20u);
  EXPECT_EQ(std::set<int>(ports.begin(), ports.end()).size(), 20u);
  std::vector<int> fds;
  for (int port : ports) {
    const int fd = Listen(port);
    EXPECT_GE(fd, 0) << "port " << port;
    if (fd >= 0) fds.push_back(fd);
  }
  for (int fd : fds) close(fd);
}

TEST(FreePortTest, NeverRepeatsWithinTheProcess) {
  std::set<int> seen;
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(std::vector<int> ports, FreePorts(3));
    for (int port : ports) EXPECT_TRUE(seen.insert(port).second) << "port " << port << " repeated";
  }
  ASSERT_OK_AND_ASSIGN(int one, FreePort());
  EXPECT_EQ(seen.count(one), 0u);
}

TEST(FreePortTest, ZeroPorts) {
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, FreePorts(0));
  EXPECT_TRUE(ports.empty());
}

}  // namespace
}  // namespace etcd::testutil
