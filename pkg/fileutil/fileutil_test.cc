#include "pkg/fileutil/fileutil.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "pkg/fileutil/fileutil_testing.h"

namespace etcd::fileutil {
namespace {

using ::etcd::fileutil::testing::MakeTempDir;
using ::etcd::fileutil::testing::ReadFile;
using ::etcd::fileutil::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An open file in a fresh directory, closed at the end of the test.
class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    path_ = dir_ + "/file";
    fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override { close(fd_); }

  struct stat Stat() {
    struct stat st;
    EXPECT_EQ(fstat(fd_, &st), 0);
    return st;
  }

  std::string dir_;
  std::string path_;
  int fd_ = -1;
};

TEST_F(FileTest, SyncsSucceedOnAFile) {
  ASSERT_EQ(write(fd_, "x", 1), 1);
  EXPECT_TRUE(Fsync(fd_).ok());
  EXPECT_TRUE(Fdatasync(fd_).ok());
  EXPECT_TRUE(SyncDir(dir_).ok());
}

TEST(SyncTest, ErrorsNameTheTarget) {
  absl::Status s = Fsync(-1);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("fsync fd -1"));
  EXPECT_THAT(s.message(), HasSubstr("Bad file descriptor"));
  s = SyncDir("/nonexistent/dir");
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/dir"));
}

TEST_F(FileTest, DescriptorErrorsNameThePath) {
  // fallocate on a read-only descriptor fails with EBADF.
  int ro = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(ro, 0);
  absl::Status s = Preallocate(ro, 4096, /*extend_file=*/true);
  close(ro);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(path_));
}

TEST_F(FileTest, PreallocateExtendGrowsSizeAndBlocks) {
  const int64_t size = 1 << 20;
  ASSERT_TRUE(Preallocate(fd_, size, /*extend_file=*/true).ok());
  struct stat st = Stat();
  EXPECT_EQ(st.st_size, size);
  EXPECT_GE(static_cast<int64_t>(st.st_blocks) * 512, size);
}

TEST_F(FileTest, PreallocateKeepSizeAllocatesOnlyBlocks) {
  ASSERT_EQ(write(fd_, "0123456789", 10), 10);
  const int64_t size = 1 << 20;
  ASSERT_TRUE(Preallocate(fd_, size, /*extend_file=*/false).ok());
  struct stat st = Stat();
  EXPECT_EQ(st.st_size, 10);
  EXPECT_GE(static_cast<int64_t>(st.st_blocks) * 512, size);
  EXPECT_EQ(ReadFile(path_), "0123456789");
}

TEST_F(FileTest, PreallocateNeverShrinks) {
  ASSERT_EQ(ftruncate(fd_, 2 << 20), 0);
  ASSERT_TRUE(Preallocate(fd_, 1 << 20, /*extend_file=*/true).ok());
  EXPECT_EQ(Stat().st_size, 2 << 20);
}

TEST_F(FileTest, PreallocateZeroAndNegative) {
  EXPECT_TRUE(Preallocate(fd_, 0, /*extend_file=*/true).ok());
  EXPECT_EQ(Stat().st_size, 0);
  EXPECT_TRUE(absl::IsInvalidArgument(Preallocate(fd_, -1, /*extend_file=*/true)));
}

int UnsupportedFallocate(int, int, off_t, off_t) {
  errno = EOPNOTSUPP;
  return -1;
}

int FullDiskFallocate(int, int, off_t, off_t) {
  errno = ENOSPC;
  return -1;
}

int interrupted_calls = 0;
int InterruptedTwiceFallocate(int fd, int mode, off_t offset, off_t len) {
  if (interrupted_calls++ < 2) {
    errno = EINTR;
    return -1;
  }
  return fallocate(fd, mode, offset, len);
}

TEST_F(FileTest, PreallocateFallsBackWithoutFallocate) {
  ASSERT_TRUE(internal::PreallocateWith(&UnsupportedFallocate, fd_, 1 << 20, true).ok());
  EXPECT_EQ(Stat().st_size, 1 << 20);  // by ftruncate
  // Keeping the size has nothing to fall back to and is not an error.
  ASSERT_TRUE(internal::PreallocateWith(&UnsupportedFallocate, fd_, 4 << 20, false).ok());
  EXPECT_EQ(Stat().st_size, 1 << 20);
}

TEST_F(FileTest, PreallocateReportsOtherErrors) {
  absl::Status s = internal::PreallocateWith(&FullDiskFallocate, fd_, 1 << 20, true);
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("fallocate " + path_));
  EXPECT_THAT(s.message(), HasSubstr("No space left on device"));
}

TEST_F(FileTest, PreallocateRetriesInterruptedCalls) {
  interrupted_calls = 0;
  ASSERT_TRUE(internal::PreallocateWith(&InterruptedTwiceFallocate, fd_, 8192, true).ok());
  EXPECT_EQ(interrupted_calls, 3);
  EXPECT_EQ(Stat().st_size, 8192);
}

TEST_F(FileTest, ZeroToEndZeroesTailKeepingSizeAndOffset) {
  const std::string data(8192, '\xab');
  ASSERT_EQ(write(fd_, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(lseek(fd_, 1000, SEEK_SET), 1000);
  ASSERT_TRUE(ZeroToEnd(fd_).ok());
  EXPECT_EQ(lseek(fd_, 0, SEEK_CUR), 1000);
  struct stat st = Stat();
  EXPECT_EQ(st.st_size, 8192);
  EXPECT_GE(static_cast<int64_t>(st.st_blocks) * 512, 8192);
  const std::string after = ReadFile(path_);
  ASSERT_EQ(after.size(), 8192u);
  EXPECT_EQ(after.substr(0, 1000), std::string(1000, '\xab'));
  EXPECT_EQ(after.substr(1000), std::string(8192 - 1000, '\0'));
}

TEST_F(FileTest, ZeroToEndAtEndChangesNothing) {
  ASSERT_EQ(write(fd_, "abc", 3), 3);
  ASSERT_TRUE(ZeroToEnd(fd_).ok());
  EXPECT_EQ(ReadFile(path_), "abc");
  EXPECT_EQ(lseek(fd_, 0, SEEK_CUR), 3);
}

TEST(DirTest, CreateDirAllCreatesParentsWithMode) {
  const std::string root = MakeTempDir();
  const std::string path = root + "/a/b/c";
  ASSERT_TRUE(CreateDirAll(path, kPrivateDirMode).ok());
  for (const std::string& p : {root + "/a", root + "/a/b", path}) {
    struct stat st;
    ASSERT_EQ(stat(p.c_str(), &st), 0) << p;
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u) << p;
  }
  // Existing directories are fine, trailing and doubled slashes too.
  EXPECT_TRUE(CreateDirAll(path, kPrivateDirMode).ok());
  EXPECT_TRUE(CreateDirAll(root + "//a/b/d/", kPrivateDirMode).ok());
  EXPECT_TRUE(Exist(root + "/a/b/d"));
  EXPECT_FALSE(Exist(path + "/.touch"));  // the writability probe is cleaned up
}

TEST(DirTest, CreateDirAllFailsOnFileInPath) {
  const std::string root = MakeTempDir();
  WriteFile(root + "/file", "x");
  absl::Status s = CreateDirAll(root + "/file/sub", kPrivateDirMode);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(root + "/file"));
  EXPECT_THAT(s.message(), HasSubstr("Not a directory"));
  s = CreateDirAll(root + "/file", kPrivateDirMode);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("Not a directory"));
  EXPECT_TRUE(absl::IsInvalidArgument(CreateDirAll("", kPrivateDirMode)));
}

TEST(DirTest, CreateDirAllFailsOnUnwritableDir) {
  if (geteuid() == 0) GTEST_SKIP() << "root bypasses directory permissions";
  const std::string root = MakeTempDir();
  ASSERT_EQ(mkdir((root + "/ro").c_str(), 0500), 0);
  absl::Status s = CreateDirAll(root + "/ro", kPrivateDirMode);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_FALSE(IsDirWriteable(root + "/ro").ok());
  s = CreateDirAll(root + "/ro/sub", kPrivateDirMode);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  chmod((root + "/ro").c_str(), 0700);
}

TEST(DirTest, CheckDirPermission) {
  const std::string root = MakeTempDir();
  const std::string dir = root + "/data";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0700), 0);
  EXPECT_TRUE(CheckDirPermission(dir, kPrivateDirMode).ok());
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  absl::Status s = CheckDirPermission(dir, kPrivateDirMode);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr(dir));
  EXPECT_THAT(s.message(), HasSubstr("0755"));
  EXPECT_THAT(s.message(), HasSubstr("0700"));
  EXPECT_TRUE(absl::IsNotFound(CheckDirPermission(root + "/missing", kPrivateDirMode)));
  WriteFile(root + "/file", "");
  EXPECT_FALSE(CheckDirPermission(root + "/file", 0600).ok());
}

TEST(DirTest, IsDirWriteableAndExist) {
  const std::string root = MakeTempDir();
  EXPECT_TRUE(IsDirWriteable(root).ok());
  EXPECT_FALSE(Exist(root + "/.touch"));
  absl::Status s = IsDirWriteable(root + "/missing");
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr(root + "/missing/.touch"));
  EXPECT_TRUE(Exist(root));
  EXPECT_FALSE(Exist(root + "/missing"));
  WriteFile(root + "/f", "");
  EXPECT_TRUE(Exist(root + "/f"));
}

TEST(DirTest, DirEmptyAndReadDir) {
  const std::string root = MakeTempDir();
  absl::StatusOr<bool> empty = DirEmpty(root);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(*empty);
  absl::StatusOr<std::vector<std::string>> names = ReadDir(root);
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());

  for (const char* name : {"b", "a", "B", "a.wal", "\xc3\xa9"}) WriteFile(root + "/" + name, "");
  ASSERT_EQ(mkdir((root + "/sub").c_str(), 0700), 0);
  empty = DirEmpty(root);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(*empty);
  names = ReadDir(root);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("B", "a", "a.wal", "b", "sub", "\xc3\xa9"));

  EXPECT_TRUE(absl::IsNotFound(DirEmpty(root + "/missing").status()));
  absl::Status s = ReadDir(root + "/missing").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr(root + "/missing"));
  EXPECT_FALSE(ReadDir(root + "/a").ok());  // not a directory
}

}  // namespace
}  // namespace etcd::fileutil
