// Real etcd processes and etcdctl runs for end-to-end tests: a member on
// free loopback ports in its own data dir, killed and restarted at will, and
// etcdctl (Debian's v3.4 by default) run against it.
//
//   ASSERT_OK_AND_ASSIGN(etcd::testutil::TempDir dir, etcd::testutil::TempDir::Create("e2e"));
//   ASSERT_OK_AND_ASSIGN(std::unique_ptr<etcd::e2e::EtcdProcess> member,
//                        etcd::e2e::EtcdProcess::Start(etcd::e2e::OurEtcdBinary(), dir.path()));
//   etcd::e2e::CtlResult put = etcd::e2e::RunEtcdctl(member->endpoint(), {"put", "a", "1"});
//   EXPECT_EQ(put.out, "OK\n");
//   ASSERT_OK(member->Kill(SIGKILL));
//   ASSERT_OK(member->Restart());
//
// Thread-compatible (one test thread drives a process); RunEtcdctl is
// thread-safe.

#ifndef ETCD_E2E_ETCD_PROCESS_H_
#define ETCD_E2E_ETCD_PROCESS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pkg/testutil/subprocess.h"
#include "pkg/testutil/tcp_proxy.h"

namespace etcd::e2e {

// This project's etcd in the test's runfiles.
std::string OurEtcdBinary();
// Debian's etcd and etcdctl (3.4), the live reference.
inline constexpr char kDebianEtcd[] = "/usr/bin/etcd";
inline constexpr char kDebianEtcdctl[] = "/usr/bin/etcdctl";
bool DebianEtcdAvailable();

class EtcdProcess {
 public:
  // Starts `binary` as a one-member cluster named "m1" with data in
  // <dir>/m1.etcd, client and peer URLs on free 127.0.0.1 ports, plus
  // `extra_args`; waits until it logs "ready to serve client requests".
  static absl::StatusOr<std::unique_ptr<EtcdProcess>> Start(
      std::string binary, std::string dir, std::vector<std::string> extra_args = {},
      absl::Duration ready_timeout = absl::Seconds(60));

  // Starts `n` members of one cluster ("m1".."mN", data in
  // <dir>/mI/mI.etcd, free 127.0.0.1 ports, --initial-cluster listing all)
  // and waits until every one is ready.
  // `peer_scheme` "https" gives https:// peer URLs (pass the --peer-* TLS
  // flags in `extra_args`).
  static absl::StatusOr<std::vector<std::unique_ptr<EtcdProcess>>> StartCluster(
      std::string binary, std::string dir, int n, std::vector<std::string> extra_args = {},
      absl::Duration ready_timeout = absl::Seconds(60), const std::string& peer_scheme = "http");

  // Like StartCluster, but every member's peer URL (advertised, and in
  // --initial-cluster) is a TcpProxy in front of its real peer port, so a
  // test can cut or slow the traffic into any member: (*proxies)[i] is
  // member i's.
  static absl::StatusOr<std::vector<std::unique_ptr<EtcdProcess>>> StartClusterBehindProxies(
      std::string binary, std::string dir, int n,
      std::vector<std::unique_ptr<testutil::TcpProxy>>* proxies,
      std::vector<std::string> extra_args = {}, absl::Duration ready_timeout = absl::Seconds(60));

  // Starts one member named `name` with data in <dir>/<name>/<name>.etcd on
  // the given ports, plus `extra_args` (e.g. --initial-cluster and
  // --initial-cluster-state=existing to join a cluster).
  static absl::StatusOr<std::unique_ptr<EtcdProcess>> StartMember(
      std::string binary, std::string dir, std::string name, int client_port, int peer_port,
      std::vector<std::string> extra_args, absl::Duration ready_timeout = absl::Seconds(60));

  ~EtcdProcess() = default;

  // "127.0.0.1:<client port>".
  const std::string& endpoint() const { return endpoint_; }
  const std::string& data_dir() const { return data_dir_; }
  testutil::Subprocess* process() { return process_.get(); }
  std::string Logs() const { return process_ ? process_->ReadStderr() : ""; }

  // Signals the process group; with SIGKILL, also waits for the end.
  absl::Status Kill(int signal);
  // SIGTERM, wait.
  absl::StatusOr<testutil::ExitStatus> Stop(absl::Duration grace = absl::Seconds(20));
  // Starts the same command again (same ports and data dir) and waits
  // until ready. The previous process must have ended.
  absl::Status Restart(absl::Duration ready_timeout = absl::Seconds(60));
  // The same with `extra_args` added for this start only (e.g.
  // --force-new-cluster).
  absl::Status RestartWith(const std::vector<std::string>& extra_args,
                           absl::Duration ready_timeout = absl::Seconds(60));

 private:
  EtcdProcess() = default;
  absl::Status Launch(absl::Duration ready_timeout);
  absl::Status Spawn();
  static absl::StatusOr<std::unique_ptr<EtcdProcess>> Make(std::string binary,
                                                           const std::string& dir,
                                                           const std::string& name,
                                                           int client_port, int peer_port,
                                                           std::vector<std::string> extra_args,
                                                           int advertised_peer_port = 0,
                                                           const std::string& peer_scheme = "http");
  absl::Status WaitReady(absl::Duration ready_timeout);

  std::vector<std::string> argv_;
  std::string dir_;
  std::string data_dir_;
  std::string endpoint_;
  int launches_ = 0;
  std::unique_ptr<testutil::Subprocess> process_;
};

struct CtlResult {
  int code = -1;
  std::string out;
  std::string err;
};

struct CtlOptions {
  // Written to etcdctl's standard input (e.g. a txn).
  std::string stdin_text;
  std::string etcdctl = kDebianEtcdctl;
  absl::Duration timeout = absl::Seconds(30);
};

// Runs `etcdctl --endpoints=<endpoint> args...` with ETCDCTL_API=3.
CtlResult RunEtcdctl(const std::string& endpoint, const std::vector<std::string>& args,
                     const CtlOptions& options = {});

// Starts `etcdctl --endpoints=<endpoint> args...` in the background (for
// watch); read its output with ReadStdout().
absl::StatusOr<std::unique_ptr<testutil::Subprocess>> StartEtcdctl(
    const std::string& endpoint, const std::vector<std::string>& args,
    const std::string& etcdctl = kDebianEtcdctl);

}  // namespace etcd::e2e

#endif  // ETCD_E2E_ETCD_PROCESS_H_
