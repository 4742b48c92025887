#include "pkg/testutil/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pkg/testutil/files.h"

extern char** environ;

namespace etcd::testutil {
namespace {

std::string DefaultOutputPath(absl::string_view stream) {
  static std::atomic<int> counter{0};
  const char* base = std::getenv("TEST_TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  return absl::StrCat(base, "/subprocess-", getpid(), "-", counter.fetch_add(1), ".", stream);
}

// "NAME=value" strings: this process's environment with `overrides` applied.
std::vector<std::string> ChildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::set<std::string> replaced;
  for (const auto& [name, value] : overrides) replaced.insert(name);
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const absl::string_view entry = *e;
    const std::string name(entry.substr(0, entry.find('=')));
    if (replaced.count(name) == 0) env.emplace_back(entry);
  }
  for (const auto& [name, value] : overrides) env.push_back(absl::StrCat(name, "=", value));
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

absl::Status SpawnError(int err, absl::string_view what, absl::string_view program) {
  const std::string message = absl::StrCat(what, " ", program, ": ", strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

// Owns a posix_spawn_file_actions_t and a posix_spawnattr_t.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  posix_spawn_file_actions_t* actions() { return &actions_; }
  posix_spawnattr_t* attr() { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

}  // namespace

std::string ExitStatus::ToString() const {
  if (signal == 0) return absl::StrCat("exit status ", code);
  const char* name = strsignal(signal);
  std::string text = name != nullptr ? name : absl::StrCat("signal ", signal);
  if (!text.empty()) text[0] = absl::ascii_tolower(static_cast<unsigned char>(text[0]));
  return absl::StrCat("signal: ", text);
}

ExitStatus ExitStatus::FromWaitStatus(int status) {
  ExitStatus out;
  if (WIFEXITED(status)) {
    out.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    out.signal = WTERMSIG(status);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(SubprocessOptions options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("Subprocess: empty argv");
  std::string stdout_path =
      options.stdout_path.empty() ? DefaultOutputPath("stdout") : options.stdout_path;
  std::string stderr_path =
      options.stderr_path.empty() ? DefaultOutputPath("stderr") : options.stderr_path;

  // Create the output files here, so a bad path is reported clearly rather
  // than as a failed spawn.
  for (const std::string* path : {&stdout_path, &stderr_path}) {
    const int fd = open(path->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return SpawnError(errno, "create output file", *path);
    close(fd);
  }

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(setup.actions(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(setup.actions(), STDOUT_FILENO, stdout_path.c_str(),
                                   O_WRONLY | O_APPEND, 0);
  if (stderr_path == stdout_path) {
    posix_spawn_file_actions_adddup2(setup.actions(), STDOUT_FILENO, STDERR_FILENO);
  } else {
    posix_spawn_file_actions_addopen(setup.actions(), STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_APPEND, 0);
  }
  posix_spawn_file_actions_addclosefrom_np(setup.actions(), STDERR_FILENO + 1);
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(setup.actions(), options.cwd.c_str());
  }

  sigset_t empty_mask, all_signals;
  sigemptyset(&empty_mask);
  sigfillset(&all_signals);
  posix_spawnattr_setflags(setup.attr(),
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(setup.attr(), 0);
  posix_spawnattr_setsigmask(setup.attr(), &empty_mask);
  posix_spawnattr_setsigdefault(setup.attr(), &all_signals);

  std::vector<std::string> argv_strings = options.argv;
  std::vector<std::string> env_strings = ChildEnvironment(options.env);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);

  pid_t pid;
  const int err =
      posix_spawnp(&pid, argv[0], setup.actions(), setup.attr(), argv.data(), envp.data());
  if (err != 0) return SpawnError(err, "spawn", options.argv[0]);
  return std::unique_ptr<Subprocess>(
      new Subprocess(pid, std::move(stdout_path), std::move(stderr_path)));
}

Subprocess::~Subprocess() {
  absl::MutexLock lock(&mu_);
  if (exit_status_.has_value()) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);  // In case the child left its process group.
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

bool Subprocess::PollLocked() {
  if (exit_status_.has_value()) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    exit_status_ = ExitStatus::FromWaitStatus(status);
    return true;
  }
  if (r < 0) {
    // ECHILD: someone else reaped it (e.g. SIGCHLD ignored); its status is lost.
    exit_status_ = ExitStatus{};
    return true;
  }
  return false;
}

absl::Status Subprocess::Kill(int signal) {
  absl::MutexLock lock(&mu_);
  if (exit_status_.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("process ", pid_, " has already been reaped"));
  }
  if (kill(-pid_, signal) != 0 && kill(pid_, signal) != 0) {
    return absl::InternalError(absl::StrCat("kill ", pid_, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Subprocess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (PollLocked()) return *exit_status_;
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("process ", pid_, " still running after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(std::min(pause, deadline - now));
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

absl::StatusOr<ExitStatus> Subprocess::Stop(absl::Duration grace) {
  if (Alive()) Kill(SIGTERM).IgnoreError();
  absl::StatusOr<ExitStatus> status = Wait(grace);
  if (status.ok()) return status;
  Kill(SIGKILL).IgnoreError();
  return Wait();
}

bool Subprocess::Alive() {
  absl::MutexLock lock(&mu_);
  return !PollLocked();
}

std::string Subprocess::ReadStdout() const { return ReadFile(stdout_path_).value_or(""); }

std::string Subprocess::ReadStderr() const { return ReadFile(stderr_path_).value_or(""); }

}  // namespace etcd::testutil
