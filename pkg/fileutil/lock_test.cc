#include "pkg/fileutil/lock.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "pkg/fileutil/fileutil_testing.h"

namespace etcd::fileutil {
namespace {

using ::etcd::fileutil::testing::MakeTempDir;
using ::etcd::fileutil::testing::WriteFile;
using ::testing::HasSubstr;

// Exit codes of a child that tried the lock.
constexpr int kChildAcquired = 10;
constexpr int kChildSawLocked = 11;
constexpr int kChildOtherError = 12;

// Forks a child that tries to lock `path` and reports the outcome.
int TryLockInChild(const std::string& path) {
  pid_t pid = fork();
  if (pid == 0) {
    absl::StatusOr<LockedFile> lock = TryLockFile(path);
    _exit(lock.ok()                 ? kChildAcquired
          : IsLocked(lock.status()) ? kChildSawLocked
                                    : kChildOtherError);
  }
  int wstatus = 0;
  EXPECT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus));
  return WEXITSTATUS(wstatus);
}

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = MakeTempDir() + "/0000000000000000-0000000000000000.wal";
    WriteFile(path_, "wal");
  }
  std::string path_;
};

TEST_F(LockTest, SecondOpenInSameProcessConflicts) {
  absl::StatusOr<LockedFile> first = TryLockFile(path_);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<LockedFile> second = TryLockFile(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(IsLocked(second.status())) << second.status();
  EXPECT_TRUE(absl::IsUnavailable(second.status()));
  EXPECT_THAT(second.status().message(), HasSubstr(path_));
  EXPECT_THAT(second.status().message(), HasSubstr("file already locked"));

  ASSERT_TRUE(first->Close().ok());
  EXPECT_EQ(first->fd(), -1);
  EXPECT_TRUE(first->Close().ok());  // idempotent
  EXPECT_TRUE(TryLockFile(path_).ok());
}

TEST_F(LockTest, ClosingAnotherDescriptorKeepsTheLock) {
  // The classic POSIX-lock pitfall: any close() of the file by the process
  // drops its fcntl locks. Open-file-description locks survive it.
  absl::StatusOr<LockedFile> lock = TryLockFile(path_);
  ASSERT_TRUE(lock.ok()) << lock.status();
  int other = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(other, 0);
  close(other);
  EXPECT_TRUE(IsLocked(TryLockFile(path_).status()));
  EXPECT_EQ(TryLockInChild(path_), kChildSawLocked);
}

TEST_F(LockTest, ConflictsWithAnotherProcess) {
  {
    absl::StatusOr<LockedFile> lock = TryLockFile(path_);
    ASSERT_TRUE(lock.ok()) << lock.status();
    EXPECT_EQ(TryLockInChild(path_), kChildSawLocked);
  }
  EXPECT_EQ(TryLockInChild(path_), kChildAcquired);
}

TEST_F(LockTest, LockHeldByChildBlocksParentUntilChildExits) {
  int ready[2], release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  pid_t pid = fork();
  if (pid == 0) {
    absl::StatusOr<LockedFile> lock = TryLockFile(path_);
    char c = lock.ok() ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    if (read(release[0], &c, 1) != 1) _exit(1);
    _exit(0);  // the kernel drops the lock with the process
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  EXPECT_TRUE(IsLocked(TryLockFile(path_).status()));
  ASSERT_EQ(write(release[1], "x", 1), 1);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  EXPECT_TRUE(TryLockFile(path_).ok());
  for (int fd : {ready[0], ready[1], release[0], release[1]}) close(fd);
}

TEST_F(LockTest, LockFileWaitsForRelease) {
  absl::StatusOr<LockedFile> holder = TryLockFile(path_);
  ASSERT_TRUE(holder.ok());
  std::atomic<bool> acquired{false};
  absl::Status waiter_status;
  std::thread waiter([&] {
    absl::StatusOr<LockedFile> lock = LockFile(path_);
    waiter_status = lock.status();
    acquired = true;
  });
  // A negative check needs some wait; it can only pass wrongly, never fail
  // wrongly.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(acquired.load());
  ASSERT_TRUE(holder->Close().ok());
  waiter.join();
  EXPECT_TRUE(acquired.load());
  EXPECT_TRUE(waiter_status.ok()) << waiter_status;
}

TEST_F(LockTest, MoveTransfersTheLock) {
  absl::StatusOr<LockedFile> lock = TryLockFile(path_);
  ASSERT_TRUE(lock.ok());
  const int fd = lock->fd();
  LockedFile moved = std::move(*lock);
  EXPECT_EQ(moved.fd(), fd);
  EXPECT_EQ(moved.path(), path_);
  EXPECT_EQ(lock->fd(), -1);
  EXPECT_TRUE(IsLocked(TryLockFile(path_).status()));
  LockedFile target = std::move(moved);
  EXPECT_TRUE(IsLocked(TryLockFile(path_).status()));
  { LockedFile dropped = std::move(target); }
  EXPECT_TRUE(TryLockFile(path_).ok());
}

TEST_F(LockTest, CreatesWithOCreatAndReportsOpenErrors) {
  const std::string created = path_ + ".new";
  absl::StatusOr<LockedFile> lock = TryLockFile(created, O_WRONLY | O_CREAT);
  ASSERT_TRUE(lock.ok()) << lock.status();
  absl::StatusOr<LockedFile> missing = TryLockFile(path_ + ".missing");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_FALSE(IsLocked(missing.status()));
  EXPECT_THAT(missing.status().message(), HasSubstr(path_ + ".missing"));
  EXPECT_FALSE(IsLocked(absl::UnavailableError("lock x: file already locked")));
  EXPECT_FALSE(IsLocked(absl::OkStatus()));
}

}  // namespace
}  // namespace etcd::fileutil
