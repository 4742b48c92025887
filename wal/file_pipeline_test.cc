#include "wal/file_pipeline.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "pkg/fileutil/lock.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "wal/fault_file_system.h"

namespace etcd::wal::internal {
namespace {

using ::etcd::testutil::TempDir;

TEST(FilePipelineTest, HandsOutLockedPreallocatedFiles) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pipeline"));
  FilePipeline pipeline(FileSystem::Default(), dir.path(), 64 * 1024);
  ASSERT_OK_AND_ASSIGN(FilePipeline::PreparedFile first, pipeline.Open());
  EXPECT_EQ(first.path, dir.Join("0.tmp"));
  ASSERT_OK_AND_ASSIGN(int64_t size, first.file->Size());
  EXPECT_EQ(size, 64 * 1024);
  EXPECT_TRUE(fileutil::IsLocked(fileutil::TryLockFile(first.path).status()));
  ASSERT_OK(FileSystem::Default()->Rename(first.path, dir.Join("a.wal")));

  ASSERT_OK_AND_ASSIGN(FilePipeline::PreparedFile second, pipeline.Open());
  EXPECT_EQ(second.path, dir.Join("1.tmp"));
  ASSERT_OK(pipeline.Close());
  // The file prepared after the second and never taken is removed.
  EXPECT_FALSE(FileSystem::Default()->Exists(dir.Join("0.tmp")));
  EXPECT_TRUE(FileSystem::Default()->Exists(dir.Join("1.tmp")));
  EXPECT_FALSE(pipeline.Open().ok());
}

// A file left by a crash may hold old records; it is emptied first.
TEST(FilePipelineTest, EmptiesLeftoverFiles) {
  FaultFileSystem fs;
  fs.MakeDurableDir("/w");
  OpenOptions create;
  create.create = true;
  {
    std::unique_ptr<File> stale = fs.OpenLocked("/w/0.tmp", create).value();
    ASSERT_OK(stale->WriteAt(0, std::string(100, 'x')));
  }
  FilePipeline pipeline(&fs, "/w", 4096);
  ASSERT_OK_AND_ASSIGN(FilePipeline::PreparedFile f, pipeline.Open());
  EXPECT_EQ(fs.ReadFile("/w/0.tmp").value(), std::string(4096, '\0'));
}

TEST(FilePipelineTest, FailedPreallocationIsReported) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pipeline"));
  FilePipeline pipeline(FileSystem::Default(), dir.path(), std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(pipeline.Open().ok());
  EXPECT_FALSE(pipeline.Open().ok());
  EXPECT_FALSE(pipeline.Close().ok());
}

TEST(FilePipelineTest, MissingDirectoryIsReported) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pipeline"));
  FilePipeline pipeline(FileSystem::Default(), dir.Join("missing"), 4096);
  absl::StatusOr<FilePipeline::PreparedFile> f = pipeline.Open();
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound) << f.status();
}

}  // namespace
}  // namespace etcd::wal::internal
