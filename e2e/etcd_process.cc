#include "e2e/etcd_process.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/net.h"
#include "pkg/testutil/poll.h"

namespace etcd::e2e {

std::string OurEtcdBinary() { return testutil::RunfilePath("server/main/etcd"); }

bool DebianEtcdAvailable() {
  return ::access(kDebianEtcd, X_OK) == 0 && ::access(kDebianEtcdctl, X_OK) == 0;
}

absl::StatusOr<std::unique_ptr<EtcdProcess>> EtcdProcess::Start(std::string binary, std::string dir,
                                                                std::vector<std::string> extra_args,
                                                                absl::Duration ready_timeout) {
  absl::StatusOr<std::vector<int>> ports = testutil::FreePorts(2);
  if (!ports.ok()) return ports.status();
  std::unique_ptr<EtcdProcess> p(new EtcdProcess());
  p->dir_ = dir;
  p->data_dir_ = absl::StrCat(dir, "/m1.etcd");
  p->endpoint_ = absl::StrCat("127.0.0.1:", (*ports)[0]);
  std::string client = absl::StrCat("http://", p->endpoint_);
  std::string peer = absl::StrCat("http://127.0.0.1:", (*ports)[1]);
  p->argv_ = {std::move(binary),
              "--name=m1",
              "--data-dir=" + p->data_dir_,
              "--listen-client-urls=" + client,
              "--advertise-client-urls=" + client,
              "--listen-peer-urls=" + peer,
              "--initial-advertise-peer-urls=" + peer,
              "--initial-cluster=m1=" + peer};
  p->argv_.insert(p->argv_.end(), extra_args.begin(), extra_args.end());
  if (absl::Status s = p->Launch(ready_timeout); !s.ok()) return s;
  return p;
}

absl::StatusOr<std::vector<std::unique_ptr<EtcdProcess>>> EtcdProcess::StartCluster(
    std::string binary, std::string dir, int n, std::vector<std::string> extra_args,
    absl::Duration ready_timeout, const std::string& peer_scheme) {
  absl::StatusOr<std::vector<int>> ports = testutil::FreePorts(2 * n);
  if (!ports.ok()) return ports.status();
  std::vector<std::string> initial;
  for (int i = 0; i < n; ++i) {
    initial.push_back(
        absl::StrCat("m", i + 1, "=", peer_scheme, "://127.0.0.1:", (*ports)[2 * i + 1]));
  }
  std::vector<std::unique_ptr<EtcdProcess>> members;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> args = {"--initial-cluster=" + absl::StrJoin(initial, ","),
                                      "--initial-cluster-token=e2e-cluster"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    absl::StatusOr<std::unique_ptr<EtcdProcess>> p =
        Make(binary, dir, absl::StrCat("m", i + 1), (*ports)[2 * i], (*ports)[2 * i + 1],
             std::move(args), 0, peer_scheme);
    if (!p.ok()) return p.status();
    if (absl::Status s = (*p)->Spawn(); !s.ok()) return s;
    members.push_back(std::move(*p));
  }
  for (auto& p : members) {
    if (absl::Status s = p->WaitReady(ready_timeout); !s.ok()) return s;
  }
  return members;
}

absl::StatusOr<std::vector<std::unique_ptr<EtcdProcess>>> EtcdProcess::StartClusterBehindProxies(
    std::string binary, std::string dir, int n,
    std::vector<std::unique_ptr<testutil::TcpProxy>>* proxies, std::vector<std::string> extra_args,
    absl::Duration ready_timeout) {
  absl::StatusOr<std::vector<int>> ports = testutil::FreePorts(2 * n);
  if (!ports.ok()) return ports.status();
  proxies->clear();
  std::vector<std::string> initial;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<std::unique_ptr<testutil::TcpProxy>> proxy =
        testutil::TcpProxy::Start(0, (*ports)[2 * i + 1]);
    if (!proxy.ok()) return proxy.status();
    initial.push_back(absl::StrCat("m", i + 1, "=http://127.0.0.1:", (*proxy)->port()));
    proxies->push_back(std::move(*proxy));
  }
  std::vector<std::unique_ptr<EtcdProcess>> members;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> args = {"--initial-cluster=" + absl::StrJoin(initial, ","),
                                      "--initial-cluster-token=e2e-cluster"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    absl::StatusOr<std::unique_ptr<EtcdProcess>> p =
        Make(binary, dir, absl::StrCat("m", i + 1), (*ports)[2 * i], (*ports)[2 * i + 1],
             std::move(args), (*proxies)[i]->port());
    if (!p.ok()) return p.status();
    if (absl::Status s = (*p)->Spawn(); !s.ok()) return s;
    members.push_back(std::move(*p));
  }
  for (auto& p : members) {
    if (absl::Status s = p->WaitReady(ready_timeout); !s.ok()) return s;
  }
  return members;
}

absl::StatusOr<std::unique_ptr<EtcdProcess>> EtcdProcess::Make(
    std::string binary, const std::string& dir, const std::string& name, int client_port,
    int peer_port, std::vector<std::string> extra_args, int advertised_peer_port,
    const std::string& peer_scheme) {
  std::unique_ptr<EtcdProcess> p(new EtcdProcess());
  p->dir_ = absl::StrCat(dir, "/", name);
  if (::mkdir(p->dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno, absl::StrCat("mkdir ", p->dir_));
  }
  p->data_dir_ = absl::StrCat(p->dir_, "/", name, ".etcd");
  p->endpoint_ = absl::StrCat("127.0.0.1:", client_port);
  std::string client = absl::StrCat("http://", p->endpoint_);
  std::string peer = absl::StrCat(peer_scheme, "://127.0.0.1:", peer_port);
  std::string advertised =
      absl::StrCat(peer_scheme, "://127.0.0.1:",
                   advertised_peer_port != 0 ? advertised_peer_port : peer_port);
  p->argv_ = {std::move(binary),
              "--name=" + name,
              "--data-dir=" + p->data_dir_,
              "--listen-client-urls=" + client,
              "--advertise-client-urls=" + client,
              "--listen-peer-urls=" + peer,
              "--initial-advertise-peer-urls=" + advertised};
  p->argv_.insert(p->argv_.end(), extra_args.begin(), extra_args.end());
  return p;
}

absl::StatusOr<std::unique_ptr<EtcdProcess>> EtcdProcess::StartMember(
    std::string binary, std::string dir, std::string name, int client_port, int peer_port,
    std::vector<std::string> extra_args, absl::Duration ready_timeout) {
  absl::StatusOr<std::unique_ptr<EtcdProcess>> p =
      Make(std::move(binary), dir, name, client_port, peer_port, std::move(extra_args));
  if (!p.ok()) return p.status();
  if (absl::Status s = (*p)->Launch(ready_timeout); !s.ok()) return s;
  return p;
}

absl::Status EtcdProcess::Launch(absl::Duration ready_timeout) {
  if (absl::Status s = Spawn(); !s.ok()) return s;
  return WaitReady(ready_timeout);
}

absl::Status EtcdProcess::Spawn() {
  testutil::SubprocessOptions options;
  options.argv = argv_;
  options.cwd = dir_;
  options.stderr_path = absl::StrCat(dir_, "/etcd.", launches_, ".log");
  options.stdout_path = options.stderr_path;
  ++launches_;
  absl::StatusOr<std::unique_ptr<testutil::Subprocess>> process =
      testutil::Subprocess::Start(options);
  if (!process.ok()) return process.status();
  process_ = std::move(*process);
  return absl::OkStatus();
}

absl::Status EtcdProcess::WaitReady(absl::Duration ready_timeout) {
  bool ready = testutil::WaitUntil(
      [&] {
        return !process_->Alive() ||
               absl::StrContains(process_->ReadStderr(), "ready to serve client requests");
      },
      ready_timeout, absl::Milliseconds(50));
  if (!ready || !process_->Alive()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "etcd did not become ready (", absl::StrJoin(argv_, " "), "):\n", process_->ReadStderr()));
  }
  return absl::OkStatus();
}

absl::Status EtcdProcess::Kill(int signal) {
  absl::Status s = process_->Kill(signal);
  if (!s.ok()) return s;
  if (signal == SIGKILL) {
    absl::StatusOr<testutil::ExitStatus> status = process_->Wait(absl::Seconds(30));
    if (!status.ok()) return status.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<testutil::ExitStatus> EtcdProcess::Stop(absl::Duration grace) {
  return process_->Stop(grace);
}

absl::Status EtcdProcess::Restart(absl::Duration ready_timeout) {
  if (process_ != nullptr && process_->Alive()) {
    return absl::FailedPreconditionError("etcd is still running");
  }
  return Launch(ready_timeout);
}

absl::Status EtcdProcess::RestartWith(const std::vector<std::string>& extra_args,
                                      absl::Duration ready_timeout) {
  const std::vector<std::string> argv = argv_;
  argv_.insert(argv_.end(), extra_args.begin(), extra_args.end());
  absl::Status s = Restart(ready_timeout);
  argv_ = argv;
  return s;
}

namespace {

std::vector<std::string> CtlArgv(const std::string& etcdctl, const std::string& endpoint,
                                 const std::vector<std::string>& args) {
  std::vector<std::string> argv = {etcdctl, "--endpoints=" + endpoint, "--dial-timeout=5s",
                                   "--command-timeout=20s"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

}  // namespace

CtlResult RunEtcdctl(const std::string& endpoint, const std::vector<std::string>& args,
                     const CtlOptions& options) {
  CtlResult result;
  testutil::SubprocessOptions sub;
  std::vector<std::string> argv = CtlArgv(options.etcdctl, endpoint, args);
  std::string input_path;
  if (!options.stdin_text.empty()) {
    // Subprocess reads /dev/null: feed stdin through the shell.
    const char* tmp = std::getenv("TEST_TMPDIR");
    static std::atomic<int> counter{0};
    input_path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/etcdctl_stdin.", ::getpid(), ".",
                              counter.fetch_add(1));
    if (!testutil::WriteFile(input_path, options.stdin_text).ok()) return result;
    std::vector<std::string> quoted;
    for (const std::string& a : argv) quoted.push_back(ShellQuote(a));
    sub.argv = {"/bin/sh", "-c", absl::StrCat(absl::StrJoin(quoted, " "), " < ", input_path)};
  } else {
    sub.argv = std::move(argv);
  }
  sub.env = {{"ETCDCTL_API", "3"}};
  absl::StatusOr<std::unique_ptr<testutil::Subprocess>> process =
      testutil::Subprocess::Start(std::move(sub));
  if (!process.ok()) {
    result.err = process.status().ToString();
    return result;
  }
  absl::StatusOr<testutil::ExitStatus> status = (*process)->Wait(options.timeout);
  if (!status.ok()) {
    (void)(*process)->Stop(absl::Seconds(1));
    result.err = absl::StrCat("etcdctl timed out: ", (*process)->ReadStderr());
    return result;
  }
  result.code = status->exited() ? status->code : 128 + status->signal;
  result.out = (*process)->ReadStdout();
  result.err = (*process)->ReadStderr();
  if (!input_path.empty()) ::unlink(input_path.c_str());
  return result;
}

absl::StatusOr<std::unique_ptr<testutil::Subprocess>> StartEtcdctl(
    const std::string& endpoint, const std::vector<std::string>& args, const std::string& etcdctl) {
  testutil::SubprocessOptions sub;
  sub.argv = CtlArgv(etcdctl, endpoint, args);
  sub.env = {{"ETCDCTL_API", "3"}};
  return testutil::Subprocess::Start(std::move(sub));
}

}  // namespace etcd::e2e
