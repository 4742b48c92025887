// A child process for tests: spawn a real binary, read what it printed,
// signal it, wait for it.
//
//   etcd::testutil::SubprocessOptions options;
//   options.argv = {etcd_path, "--name", "m1", "--data-dir", dir.Join("m1")};
//   options.env = {{"ETCD_UNSUPPORTED_ARCH", "arm64"}};
//   ASSERT_OK_AND_ASSIGN(std::unique_ptr<etcd::testutil::Subprocess> etcd,
//                        etcd::testutil::Subprocess::Start(options));
//   ASSERT_TRUE(etcd::testutil::WaitUntil(
//       [&] { return absl::StrContains(etcd->ReadStderr(), "ready to serve"); },
//       absl::Seconds(30)));
//   ASSERT_OK(etcd->Kill(SIGTERM));
//   ASSERT_OK_AND_ASSIGN(etcd::testutil::ExitStatus status, etcd->Wait(absl::Seconds(10)));
//
// The child runs in its own process group, with stdin from /dev/null, stdout
// and stderr written to files (read them at any time), default signal
// dispositions, an empty signal mask and no file descriptors inherited
// beyond 0, 1 and 2. Kill() signals the whole group, so helpers the child
// started go too. Destroying a Subprocess that has not been reaped kills the
// group with SIGKILL and reaps the child.
//
// Thread-safe.

#ifndef ETCD_PKG_TESTUTIL_SUBPROCESS_H_
#define ETCD_PKG_TESTUTIL_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcd::testutil {

struct SubprocessOptions {
  // The program and its arguments. argv[0] without a '/' is searched in
  // this process's PATH.
  std::vector<std::string> argv;
  // Variables set in the child on top of this process's environment
  // (replacing ones with the same name).
  std::vector<std::pair<std::string, std::string>> env;
  // Working directory of the child; empty: this process's.
  std::string cwd;
  // Files that receive the child's stdout and stderr (created or
  // truncated). Empty: a new file under $TEST_TMPDIR (or /tmp). The same
  // path for both interleaves them in one file.
  std::string stdout_path;
  std::string stderr_path;
};

// How a process ended.
struct ExitStatus {
  // The exit code if it exited, else -1.
  int code = -1;
  // The signal that terminated it, else 0.
  int signal = 0;

  bool exited() const { return signal == 0; }
  bool success() const { return signal == 0 && code == 0; }
  // As Go prints it: "exit status 3", "signal: killed".
  std::string ToString() const;

  // From a waitpid(2) status.
  static ExitStatus FromWaitStatus(int status);

  friend bool operator==(const ExitStatus& a, const ExitStatus& b) {
    return a.code == b.code && a.signal == b.signal;
  }
};

class Subprocess {
 public:
  // Starts the child. Fails if argv is empty, an output file cannot be
  // created, or the program cannot be executed (e.g. NotFound).
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(SubprocessOptions options);

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Kills the process group with SIGKILL and reaps the child unless that
  // already happened.
  ~Subprocess();

  pid_t pid() const { return pid_; }

  // Sends `signal` to the child's process group. FailedPrecondition once
  // the child has been reaped (its pid may belong to someone else by then).
  absl::Status Kill(int signal);

  // Waits for the child to exit, at most `timeout`; DeadlineExceeded if it
  // is still running then. Once it has exited, every call returns the same
  // status at once.
  absl::StatusOr<ExitStatus> Wait(absl::Duration timeout = absl::InfiniteDuration());

  // Sends SIGTERM, waits up to `grace`, then sends SIGKILL and waits for
  // the end; returns how the child ended.
  absl::StatusOr<ExitStatus> Stop(absl::Duration grace = absl::Seconds(10));

  // Whether the child is still running (reaps it if it has exited).
  bool Alive();

  // What the child has written so far.
  std::string ReadStdout() const;
  std::string ReadStderr() const;
  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }

 private:
  Subprocess(pid_t pid, std::string stdout_path, std::string stderr_path)
      : pid_(pid), stdout_path_(std::move(stdout_path)), stderr_path_(std::move(stderr_path)) {}

  // Reaps the child if it has exited; returns whether it has been reaped.
  bool PollLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const pid_t pid_;
  const std::string stdout_path_;
  const std::string stderr_path_;

  mutable absl::Mutex mu_;
  // Set once waitpid has reaped the child; from then on pid_ must not be
  // signalled.
  std::optional<ExitStatus> exit_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::testutil

#endif  // ETCD_PKG_TESTUTIL_SUBPROCESS_H_
