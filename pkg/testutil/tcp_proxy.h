// A fault-injecting TCP proxy for tests: put it in front of a server's port
// and cut, blackhole or slow the traffic through it.
//
//   ASSERT_OK_AND_ASSIGN(auto proxy, etcd::testutil::TcpProxy::Start(0, real_port));
//   // clients connect to 127.0.0.1:proxy->port()
//   proxy->SetMode(etcd::testutil::TcpProxy::Mode::kBlackhole);  // bytes vanish
//   proxy->SetMode(etcd::testutil::TcpProxy::Mode::kPass);       // heal
//
// Modes: kPass forwards both ways (after SetDelay's delay per chunk);
// kBlackhole keeps connections open but discards everything both ways (a
// network partition as TCP sees it: no resets, just silence); kReset closes
// every connection and resets new ones (a crashed host or a firewall
// reject). Thread-safe. Two threads per connection: for tests only.

#ifndef ETCD_PKG_TESTUTIL_TCP_PROXY_H_
#define ETCD_PKG_TESTUTIL_TCP_PROXY_H_

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcd::testutil {

class TcpProxy {
 public:
  enum class Mode { kPass, kBlackhole, kReset };

  // Listens on 127.0.0.1:listen_port (0: any free port) and forwards to
  // 127.0.0.1:target_port.
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int listen_port, int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  void SetMode(Mode mode);
  // Delay before each forwarded chunk (kPass).
  void SetDelay(absl::Duration delay);
  // Bytes forwarded so far, both directions.
  uint64_t forwarded() const { return forwarded_.load(); }

 private:
  TcpProxy(int listen_fd, int port, int target_port);
  void AcceptLoop();
  void Pump(int from, int to);
  void CloseConnectionsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int listen_fd_;
  const int port_;
  const int target_port_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> forwarded_{0};
  mutable absl::Mutex mu_;
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kPass;
  absl::Duration delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace etcd::testutil

#endif  // ETCD_PKG_TESTUTIL_TCP_PROXY_H_
