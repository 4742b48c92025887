#include "pkg/testutil/files.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::testutil {
namespace {

TEST(FilesTest, WriteThenReadRoundTrips) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("files"));
  const std::string path = dir.Join("f.bin");
  const std::string contents("binary\0data\n", 12);
  ASSERT_OK(WriteFile(path, contents));
  ASSERT_OK_AND_ASSIGN(std::string got, ReadFile(path));
  EXPECT_EQ(got, contents);

  // Truncates what was there.
  ASSERT_OK(WriteFile(path, "x"));
  EXPECT_EQ(ReadFile(path).value(), "x");
  ASSERT_OK(WriteFile(path, ""));
  EXPECT_EQ(ReadFile(path).value(), "");

  // Larger than one read buffer.
  const std::string big(200000, 'z');
  ASSERT_OK(WriteFile(path, big));
  EXPECT_EQ(ReadFile(path).value(), big);
}

TEST(FilesTest, Errors) {
  absl::StatusOr<std::string> missing = ReadFile("/nonexistent/file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "/nonexistent/file"));

  EXPECT_EQ(WriteFile("/nonexistent/dir/file", "x").code(), absl::StatusCode::kNotFound);
}

TEST(FilesTest, RunfilePathFindsDataDeps) {
  const std::string path = RunfilePath("pkg/testutil/testdata/hello.txt");
  ASSERT_OK_AND_ASSIGN(std::string contents, ReadFile(path));
  EXPECT_EQ(contents, "hello from testdata\n");
  EXPECT_TRUE(absl::EndsWith(path, "/etcd_cpp/pkg/testutil/testdata/hello.txt")) << path;
}

}  // namespace
}  // namespace etcd::testutil
