#include "pkg/testutil/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/status_matchers.h"

namespace etcd::testutil {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

TEST(TempDirTest, CreatedUnderTestTmpdirAndRemovedWithContents) {
  std::string path;
  {
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("member"));
    path = dir.path();
    const char* base = std::getenv("TEST_TMPDIR");
    ASSERT_NE(base, nullptr);  // bazel test sets it.
    EXPECT_TRUE(absl::StartsWith(path, absl::StrCat(base, "/member.")));
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u);

    ASSERT_EQ(mkdir(dir.Join("a").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(dir.Join("a/b").c_str(), 0755), 0);
    ASSERT_OK(WriteFile(dir.Join("a/b/file"), "x"));
    ASSERT_OK(WriteFile(dir.Join("top"), "y"));
    ASSERT_EQ(symlink("/", dir.Join("root-link").c_str()), 0);  // Not followed.
    // A read-only directory with a file in it.
    ASSERT_EQ(mkdir(dir.Join("ro").c_str(), 0755), 0);
    ASSERT_OK(WriteFile(dir.Join("ro/f"), "z"));
    ASSERT_EQ(chmod(dir.Join("ro").c_str(), 0500), 0);
  }
  EXPECT_FALSE(Exists(path));
}

TEST(TempDirTest, DistinctDirectories) {
  ASSERT_OK_AND_ASSIGN(TempDir a, TempDir::Create());
  ASSERT_OK_AND_ASSIGN(TempDir b, TempDir::Create());
  EXPECT_NE(a.path(), b.path());
  EXPECT_EQ(a.Join("x"), a.path() + "/x");
}

TEST(TempDirTest, MoveTransfersOwnership) {
  ASSERT_OK_AND_ASSIGN(TempDir a, TempDir::Create("move"));
  const std::string path = a.path();
  TempDir b = std::move(a);
  EXPECT_EQ(a.path(), "");  // NOLINT(bugprone-use-after-move): documented state.
  EXPECT_EQ(b.path(), path);
  EXPECT_TRUE(Exists(path));

  ASSERT_OK_AND_ASSIGN(TempDir c, TempDir::Create("move"));
  const std::string replaced = c.path();
  c = std::move(b);  // Removes c's old directory.
  EXPECT_FALSE(Exists(replaced));
  EXPECT_TRUE(Exists(path));
}

TEST(RemoveAllTest, MissingPathIsOkAndFilesAreRemoved) {
  EXPECT_OK(RemoveAll("/nonexistent/really/not/here"));
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  const std::string file = dir.Join("f");
  ASSERT_OK(WriteFile(file, "x"));
  EXPECT_OK(RemoveAll(file));
  EXPECT_FALSE(Exists(file));
  EXPECT_TRUE(Exists(dir.path()));
}

}  // namespace
}  // namespace etcd::testutil
