#include "server/http/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"

namespace etcd::http {
namespace {

int Dial(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

std::string ReadSome(int fd, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, &out[got], n - got);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return out;
}

TEST(ListenerTest, MatchPreface) {
  const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  EXPECT_EQ(ClientListener::MatchPreface(preface, 24), 1);
  EXPECT_EQ(ClientListener::MatchPreface(preface, 5), 0);
  EXPECT_EQ(ClientListener::MatchPreface("PRX", 3), -1);
  EXPECT_EQ(ClientListener::MatchPreface("GET / HTTP/1.1\r\n", 16), -1);
}

TEST(ListenerTest, SplitsByFirstBytesWithoutConsumingThem) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ClientListener> listener,
                       ClientListener::Listen("127.0.0.1:0"));
  ASSERT_GT(listener->port(), 0);
  absl::Mutex mu;
  std::vector<int> http2, http1;
  listener->Start(
      [&](int fd) {
        absl::MutexLock lock(&mu);
        http2.push_back(fd);
      },
      [&](int fd) {
        absl::MutexLock lock(&mu);
        http1.push_back(fd);
      });

  int a = Dial(listener->port());
  // The preface in two pieces: classified only once it is complete.
  ASSERT_EQ(::write(a, "PRI * HTTP/2.0\r\n", 16), 16);
  int b = Dial(listener->port());
  ASSERT_EQ(::write(b, "GET /health HTTP/1.1\r\n\r\n", 24), 24);
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        absl::MutexLock lock(&mu);
        return http1.size() == 1;
      },
      absl::Seconds(10)));
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(http2.empty());
  }
  ASSERT_EQ(::write(a, "\r\nSM\r\n\r\n", 8), 8);
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        absl::MutexLock lock(&mu);
        return http2.size() == 1;
      },
      absl::Seconds(10)));
  listener->Stop();
  int h1, h2;
  {
    absl::MutexLock lock(&mu);
    h1 = http1[0];
    h2 = http2[0];
  }
  EXPECT_EQ(ReadSome(h1, 24), "GET /health HTTP/1.1\r\n\r\n");
  // The HTTP/2 socket is handed over non-blocking, with the preface unread.
  int flags = ::fcntl(h2, F_GETFL);
  EXPECT_TRUE(flags & O_NONBLOCK);
  ::fcntl(h2, F_SETFL, flags & ~O_NONBLOCK);
  EXPECT_EQ(ReadSome(h2, 24), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  for (int fd : {a, b, h1, h2}) ::close(fd);
}

TEST(ListenerTest, SilentConnectionsAreClosedAfterTheSniffTimeout) {
  ListenOptions options;
  options.sniff_timeout = absl::Milliseconds(200);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ClientListener> listener,
                       ClientListener::Listen("127.0.0.1:0", options));
  listener->Start([](int fd) { ::close(fd); }, [](int fd) { ::close(fd); });
  int fd = Dial(listener->port());
  char byte;
  EXPECT_EQ(::read(fd, &byte, 1), 0);  // EOF once the listener gives up
  ::close(fd);
}

TEST(ListenerTest, AddressInUse) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ClientListener> first,
                       ClientListener::Listen("127.0.0.1:0"));
  absl::StatusOr<std::unique_ptr<ClientListener>> second =
      ClientListener::Listen("127.0.0.1:" + std::to_string(first->port()));
  EXPECT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("address already in use"), absl::string_view::npos)
      << second.status();
}

}  // namespace
}  // namespace etcd::http
