#include "pkg/testutil/subprocess.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::testutil {
namespace {

SubprocessOptions Shell(const std::string& script) {
  SubprocessOptions options;
  options.argv = {"/bin/sh", "-c", script};
  return options;
}

TEST(SubprocessTest, CapturesOutputAndExitCode) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Subprocess> p,
                       Subprocess::Start(Shell("echo hi; echo oops >&2; exit 3")));
  ASSERT_OK_AND_ASSIGN(ExitStatus status, p->Wait(absl::Seconds(30)));
  EXPECT_EQ(status.code, 3);
  EXPECT_EQ(status.signal, 0);
  EXPECT_TRUE(status.exited());
  EXPECT_FALSE(status.success());
  EXPECT_EQ(status.ToString(), "exit status 3");
  EXPECT_EQ(p->ReadStdout(), "hi\n");
  EXPECT_EQ(p->ReadStderr(), "oops\n");
  EXPECT_FALSE(p->Alive());
  // Waiting again returns the same status at once.
  ASSERT_OK_AND_ASSIGN(ExitStatus again, p->Wait(absl::ZeroDuration()));
  EXPECT_EQ(again, status);
}

TEST(SubprocessTest, KillASleepingChild) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Subprocess> p, Subprocess::Start(Shell("exec sleep 60")));
  EXPECT_TRUE(p->Alive());
  absl::StatusOr<ExitStatus> early = p->Wait(absl::Milliseconds(50));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), absl::StatusCode::kDeadlineExceeded);

  ASSERT_OK(p->Kill(SIGTERM));
  ASSERT_OK_AND_ASSIGN(ExitStatus status, p->Wait(absl::Seconds(30)));
  EXPECT_EQ(status.signal, SIGTERM);
  EXPECT_EQ(status.code, -1);
  EXPECT_FALSE(status.exited());
  EXPECT_EQ(status.ToString(), "signal: terminated");
  EXPECT_FALSE(p->Alive());
  // The pid is no longer ours to signal.
  EXPECT_EQ(p->Kill(SIGKILL).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SubprocessTest, KillReachesTheWholeProcessGroup) {
  // The shell starts a grandchild, prints its pid and waits for it.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Subprocess> p,
                       Subprocess::Start(Shell("sleep 60 & echo $!; wait")));
  int grandchild = 0;
  ASSERT_TRUE(WaitUntil(
      [&] { return absl::SimpleAtoi(absl::StripAsciiWhitespace(p->ReadStdout()), &grandchild); },
      absl::Seconds(30)));
  ASSERT_OK(p->Kill(SIGKILL));
  ASSERT_OK_AND_ASSIGN(ExitStatus status, p->Wait(absl::Seconds(30)));
  EXPECT_EQ(status.ToString(), "signal: killed");
  // The grandchild is gone or a zombie waiting for its new parent.
  EXPECT_TRUE(WaitUntil(
      [&] {
        absl::StatusOr<std::string> stat = ReadFile(absl::StrCat("/proc/", grandchild, "/stat"));
        if (!stat.ok()) return true;
        const size_t paren = stat->rfind(')');
        return paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] == 'Z';
      },
      absl::Seconds(30)));
}

TEST(SubprocessTest, StopSendsTermThenKill) {
  // Ignores SIGTERM, so Stop must fall back to SIGKILL.
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Subprocess> p,
      Subprocess::Start(Shell("trap '' TERM; echo ready; while :; do sleep 1; done")));
  ASSERT_TRUE(WaitUntil([&] { return p->ReadStdout() == "ready\n"; }, absl::Seconds(30)));
  ASSERT_OK_AND_ASSIGN(ExitStatus status, p->Stop(absl::Milliseconds(200)));
  EXPECT_EQ(status.signal, SIGKILL);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Subprocess> polite,
                       Subprocess::Start(Shell("exec sleep 60")));
  ASSERT_OK_AND_ASSIGN(ExitStatus term, polite->Stop());
  EXPECT_EQ(term.signal, SIGTERM);
}

TEST(SubprocessTest, DestructorKillsAndReaps) {
  pid_t pid;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Subprocess> p, Subprocess::Start(Shell("exec sleep 60")));
    pid = p->pid();
    EXPECT_EQ(kill(pid, 0), 0);
  }
  // Reaped: the pid no longer exists (not even as a zombie).
  EXPECT_NE(kill(pid, 0), 0);
}

TEST(SubprocessTest, EnvironmentAndWorkingDirectory) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("cwd"));
  setenv("ETCD_TESTUTIL_INHERITED", "from-parent", 1);
  setenv("ETCD_TESTUTIL_REPLACED", "old", 1);
  SubprocessOptions options =
      Shell("echo \"$ETCD_TESTUTIL_INHERITED $ETCD_TESTUTIL_REPLACED $ETCD_TESTUTIL_ADDED\"; pwd");
  options.env = {{"ETCD_TESTUTIL_REPLACED", "new"}, {"ETCD_TESTUTIL_ADDED", "a=b"}};
  options.cwd = dir.path();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Subprocess> p, Subprocess::Start(options));
  ASSERT_OK_AND_ASSIGN(ExitStatus status, p->Wait(absl::Seconds(30)));
  EXPECT_TRUE(status.success()) << status.ToString();
  char real[4096];
  ASSERT_NE(realpath(dir.path().c_str(), real), nullptr);
  EXPECT_EQ(p->ReadStdout(), absl::StrCat("from-parent new a=b\n", real, "\n"));
}

TEST(SubprocessTest, OutputToChosenFilesAndCombined) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("out"));
  SubprocessOptions options = Shell("echo one; echo two >&2; echo three");
  options.stdout_path = dir.Join("both.log");
  options.stderr_path = dir.Join("both.log");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Subprocess> p, Subprocess::Start(options));
  ASSERT_OK(p->Wait(absl::Seconds(30)));
  EXPECT_EQ(p->stdout_path(), dir.Join("both.log"));
  EXPECT_EQ(ReadFile(dir.Join("both.log")).value(), "one\ntwo\nthree\n");
}

TEST(SubprocessTest, NoInheritedDescriptorsAndNullStdin) {
  // A descriptor without close-on-exec in the parent.
  const int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 3);
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Subprocess> p,
      Subprocess::Start(Shell(absl::StrCat("if [ -e /proc/self/fd/", fd,
                                           " ]; then echo leaked; else echo clean; fi; cat"))));
  ASSERT_OK(p->Wait(absl::Seconds(30)));
  close(fd);
  EXPECT_EQ(p->ReadStdout(), "clean\n");  // And `cat` read an empty stdin.
}

TEST(SubprocessTest, StartErrors) {
  EXPECT_EQ(Subprocess::Start(SubprocessOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);

  SubprocessOptions missing;
  missing.argv = {"/nonexistent/program"};
  EXPECT_EQ(Subprocess::Start(missing).status().code(), absl::StatusCode::kNotFound);

  SubprocessOptions not_in_path;
  not_in_path.argv = {"etcd-testutil-no-such-program"};
  EXPECT_EQ(Subprocess::Start(not_in_path).status().code(), absl::StatusCode::kNotFound);

  SubprocessOptions bad_output = Shell("true");
  bad_output.stdout_path = "/nonexistent/dir/out";
  EXPECT_EQ(Subprocess::Start(bad_output).status().code(), absl::StatusCode::kNotFound);
}

TEST(SubprocessTest, SearchesPathForBareNames) {
  SubprocessOptions options;
  options.argv = {"sh", "-c", "echo found"};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Subprocess> p, Subprocess::Start(options));
  ASSERT_OK_AND_ASSIGN(ExitStatus status, p->Wait(absl::Seconds(30)));
  EXPECT_TRUE(status.success());
  EXPECT_EQ(p->ReadStdout(), "found\n");
}

TEST(ExitStatusTest, FromWaitStatus) {
  EXPECT_EQ(ExitStatus::FromWaitStatus(0).ToString(), "exit status 0");
  EXPECT_TRUE(ExitStatus::FromWaitStatus(0).success());
  EXPECT_EQ(ExitStatus::FromWaitStatus(7 << 8).code, 7);
  EXPECT_EQ(ExitStatus::FromWaitStatus(SIGKILL).signal, SIGKILL);
}

}  // namespace
}  // namespace etcd::testutil
