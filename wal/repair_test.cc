// Repair (etcd's repair_test.go and more).

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pkg/testutil/files.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "wal/names.h"
#include "wal/wal.h"
#include "wal/wal_test_util.h"

namespace etcd::wal {
namespace {

using ::etcd::testutil::TempDir;
using ::etcd::wal::testing::Entry;

class RepairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(root_, TempDir::Create("repair"));
    dir_ = root_->Join("wal");
  }

  std::string LastSegment() {
    return JoinPath(dir_, internal::ReadWalNames(FileSystem::Default(), dir_).value().back());
  }

  // etcd's testRepair: writes `batches`, damages the last segment with
  // `corrupt` (given the end offset of the records), checks that reading
  // fails with UnexpectedEOF, repairs, and checks `expected` entries are
  // left and that the log takes new entries.
  void CheckRepair(const std::vector<std::vector<raftpb::Entry>>& batches,
                   const std::function<void(const std::string& path, int64_t end)>& corrupt,
                   size_t expected) {
    int64_t end = 0;
    {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
      for (const auto& batch : batches) ASSERT_OK(w->Save(raftpb::HardState(), batch));
    }
    {
      // Where the records end: read them back.
      ASSERT_OK_AND_ASSIGN(std::string bytes, testutil::ReadFile(LastSegment()));
      end = static_cast<int64_t>(bytes.find_last_not_of('\0')) + 1;
      end = (end + 7) / 8 * 8;
    }
    corrupt(LastSegment(), end);

    {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Open(dir_, walpb::Snapshot()));
      absl::StatusOr<ReadResult> read = w->ReadAll();
      ASSERT_TRUE(IsUnexpectedEOF(read.status())) << read.status();
    }
    ASSERT_OK(Repair(dir_));
    EXPECT_TRUE(FileSystem::Default()->Exists(LastSegment() + ".broken"));
    {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Open(dir_, walpb::Snapshot()));
      ASSERT_OK_AND_ASSIGN(ReadResult read, w->ReadAll());
      ASSERT_EQ(read.entries.size(), expected);
      for (uint64_t i = 1; i <= 10; ++i) {
        ASSERT_OK(w->Save(raftpb::HardState(), {Entry(expected + i)}));
      }
    }
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Open(dir_, walpb::Snapshot()));
    ASSERT_OK_AND_ASSIGN(ReadResult read, w->ReadAll());
    EXPECT_EQ(read.entries.size(), expected + 10);
  }

  static std::vector<std::vector<raftpb::Entry>> MakeEntries(int n) {
    std::vector<std::vector<raftpb::Entry>> out;
    for (int i = 1; i <= n; ++i) out.push_back({Entry(i)});
    return out;
  }

  static void Truncate(const std::string& path, int64_t size) {
    ASSERT_EQ(truncate(path.c_str(), size), 0);
  }

  std::optional<TempDir> root_;
  std::string dir_;
  Options options_;
};

TEST_F(RepairTest, Truncate) {
  CheckRepair(
      MakeEntries(10), [](const std::string& path, int64_t end) { Truncate(path, end - 4); }, 9);
}

// The last records straddle a sector boundary and only the first sector
// made it.
TEST_F(RepairTest, WriteTearLast) {
  CheckRepair(
      MakeEntries(50),
      [](const std::string& path, int64_t end) {
        ASSERT_GT(end, 1024);
        Truncate(path, 1024);
        Truncate(path, end);
      },
      40);
}

// A sector in the middle of the second record never made it.
TEST_F(RepairTest, WriteTearMiddle) {
  std::vector<std::vector<raftpb::Entry>> batches = MakeEntries(5);
  std::string data(4096, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i);
  for (auto& batch : batches) batch[0].set_data(data);
  CheckRepair(
      batches,
      [](const std::string& path, int64_t) {
        int fd = open(path.c_str(), O_WRONLY);
        ASSERT_GE(fd, 0);
        std::string zeros(512, '\0');
        ASSERT_EQ(pwrite(fd, zeros.data(), zeros.size(), 4096 + 512), 512);
        close(fd);
      },
      1);
}

TEST_F(RepairTest, NothingToRepair) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
    ASSERT_OK(w->Save(raftpb::HardState(), {Entry(1)}));
  }
  ASSERT_OK_AND_ASSIGN(std::string before, testutil::ReadFile(LastSegment()));
  ASSERT_OK(Repair(dir_));
  ASSERT_OK_AND_ASSIGN(std::string after, testutil::ReadFile(LastSegment()));
  EXPECT_EQ(before, after);
  EXPECT_FALSE(FileSystem::Default()->Exists(LastSegment() + ".broken"));
}

TEST_F(RepairTest, FailsWhenTheDirectoryIsGone) {
  options_.segment_size_bytes = 64;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, "", options_));
    for (const auto& batch : MakeEntries(50)) ASSERT_OK(w->Save(raftpb::HardState(), batch));
  }
  Truncate(LastSegment(), 20);
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Open(dir_, walpb::Snapshot()));
    EXPECT_TRUE(IsUnexpectedEOF(w->ReadAll().status()));
  }
  ASSERT_OK(testutil::RemoveAll(dir_));
  EXPECT_FALSE(Repair(dir_).ok());
}

}  // namespace
}  // namespace etcd::wal
