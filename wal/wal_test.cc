#include "wal/wal.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/fileutil/lock.h"
#include "pkg/status/status_macros.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "wal/decoder.h"
#include "wal/encoder.h"
#include "wal/fault_file_system.h"
#include "wal/names.h"
#include "wal/record.h"
#include "wal/wal_test_util.h"

namespace etcd::wal {
namespace {

using ::etcd::testutil::TempDir;
using ::etcd::wal::testing::EntriesAre;
using ::etcd::wal::testing::Entry;
using ::etcd::wal::testing::HardState;
using ::etcd::wal::testing::Snap;
using ::etcd::wal::testing::StateIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

OpenOptions CreateOption() {
  OpenOptions options;
  options.create = true;
  return options;
}

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(root_, TempDir::Create("waltest"));
    dir_ = root_->Join("wal");
  }

  std::vector<std::string> WalNames() {
    absl::StatusOr<std::vector<std::string>> names = internal::ReadWalNames(fs_, dir_);
    return names.ok() ? *names : std::vector<std::string>();
  }

  std::string Path(const std::string& name) { return JoinPath(dir_, name); }

  // The end offsets of the records in segment `name`.
  std::vector<int64_t> RecordEnds(const std::string& name) {
    std::unique_ptr<File> file = fs_->OpenForRead(Path(name)).value();
    internal::Decoder decoder({{file.get(), Path(name)}});
    internal::Record record;
    std::vector<int64_t> ends;
    while (decoder.Next(&record).value_or(false)) ends.push_back(decoder.last_offset());
    return ends;
  }

  void TruncateFile(const std::string& path, int64_t size) {
    ASSERT_EQ(truncate(path.c_str(), size), 0) << path;
  }

  void WriteAt(const std::string& path, int64_t offset, const std::string& bytes) {
    int fd = open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(pwrite(fd, bytes.data(), bytes.size(), offset), static_cast<ssize_t>(bytes.size()));
    close(fd);
  }

  absl::StatusOr<ReadResult> OpenAndReadAll(const walpb::Snapshot& at = walpb::Snapshot()) {
    ASSIGN_OR_RETURN(std::unique_ptr<WAL> w, WAL::Open(dir_, at, options_));
    return w->ReadAll();
  }

  FileSystem* fs_ = FileSystem::Default();
  Options options_;
  std::optional<TempDir> root_;
  std::string dir_;
};

// The head of a new log is exactly etcd's: crc(0), metadata, an empty
// snapshot record.
TEST_F(WalTest, CreateWritesEtcdHead) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, "somedata"));
  EXPECT_THAT(WalNames(), ElementsAre(internal::WalName(0, 0)));
  ASSERT_OK(w->Close());

  ASSERT_OK_AND_ASSIGN(std::string got, testutil::ReadFile(Path(internal::WalName(0, 0))));
  EXPECT_EQ(static_cast<int64_t>(got.size()), kSegmentSizeBytes);  // preallocated

  // crc record: frame len 4 (pad 4), type 4, crc 0.
  const std::string crc_frame("\x04\x00\x00\x00\x00\x00\x00\x84\x08\x04\x10\x00\x00\x00\x00\x00",
                              16);
  EXPECT_EQ(got.substr(0, 16), crc_frame);

  FaultFileSystem memory;
  memory.MakeDurableDir("/d");
  std::unique_ptr<File> expected_file = memory.OpenLocked("/d/f", CreateOption()).value();
  internal::Encoder encoder(expected_file.get(), 0, 0);
  ASSERT_OK(encoder.Encode(internal::kCrcType, ""));
  ASSERT_OK(encoder.Encode(internal::kMetadataType, "somedata"));
  ASSERT_OK(encoder.Encode(internal::kSnapshotType, std::string("\x08\x00\x10\x00", 4)));
  ASSERT_OK(encoder.Flush());
  ASSERT_OK_AND_ASSIGN(std::string expected, memory.ReadFile("/d/f"));
  EXPECT_EQ(got.substr(0, expected.size()), expected);
  EXPECT_EQ(got.find_first_not_of('\0', expected.size()), std::string::npos);
}

TEST_F(WalTest, CreateFailsOnDirWithWalFiles) {
  ASSERT_OK(fs_->CreateDirAll(dir_));
  ASSERT_OK(testutil::WriteFile(Path("test.wal"), "data"));
  absl::StatusOr<std::unique_ptr<WAL>> w = WAL::Create(dir_, "data");
  EXPECT_TRUE(IsExist(w.status())) << w.status();
  EXPECT_EQ(w.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(WalTest, CreateFailsOnInitedDir) {
  ASSERT_OK(fs_->CreateDirAll(dir_));
  ASSERT_OK(testutil::WriteFile(Path(internal::WalName(0, 0)), ""));
  EXPECT_TRUE(IsExist(WAL::Create(dir_, "").status()));
}

TEST_F(WalTest, CreateFailsWhenSpaceCannotBeReserved) {
  options_.segment_size_bytes = std::numeric_limits<int64_t>::max();
  absl::StatusOr<std::unique_ptr<WAL>> w = WAL::Create(dir_, "data", options_);
  EXPECT_FALSE(w.ok());
  EXPECT_FALSE(Exist(dir_));
}

// An interrupted Create leaves "<dir>.tmp"; the next Create replaces it.
TEST_F(WalTest, CreateClobbersInterruptedCreate) {
  const std::string tmp = dir_ + ".tmp";
  ASSERT_OK(fs_->CreateDirAll(tmp));
  ASSERT_OK(testutil::WriteFile(JoinPath(tmp, "test"), "junk"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, "abc"));
  ASSERT_OK(w->Close());
  EXPECT_FALSE(fs_->Exists(tmp));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> r, WAL::OpenForRead(dir_, walpb::Snapshot()));
  ASSERT_OK_AND_ASSIGN(ReadResult read, r->ReadAll());
  EXPECT_EQ(read.metadata, "abc");
}

TEST_F(WalTest, OpenAtIndexPicksTheSegmentHoldingIt) {
  ASSERT_OK(fs_->CreateDirAll(dir_));
  ASSERT_OK(testutil::WriteFile(Path(internal::WalName(0, 0)), ""));
  ASSERT_OK(WAL::Open(dir_, walpb::Snapshot()).status());
  ASSERT_OK(testutil::WriteFile(Path(internal::WalName(1, 10)), ""));
  // Index 5 is in the first segment, so both are read; 10 only needs the
  // second.
  ASSERT_OK(WAL::Open(dir_, Snap(5, 0)).status());
  ASSERT_OK(WAL::Open(dir_, Snap(10, 0)).status());

  const std::string empty = root_->Join("empty");
  ASSERT_OK(fs_->CreateDirAll(empty));
  absl::StatusOr<std::unique_ptr<WAL>> none = WAL::Open(empty, walpb::Snapshot());
  EXPECT_TRUE(IsFileNotFound(none.status())) << none.status();
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(WalTest, OpenRefusesAGapInSequenceNumbers) {
  ASSERT_OK(fs_->CreateDirAll(dir_));
  ASSERT_OK(testutil::WriteFile(Path(internal::WalName(0, 0)), ""));
  ASSERT_OK(testutil::WriteFile(Path(internal::WalName(2, 10)), ""));
  absl::StatusOr<std::unique_ptr<WAL>> w = WAL::Open(dir_, Snap(5, 0));
  EXPECT_TRUE(IsFileNotFound(w.status())) << w.status();
  EXPECT_THAT(w.status().message(), HasSubstr("gap"));
}

TEST_F(WalTest, VerifyDetectsATruncatedMiddleSegment) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
  for (uint64_t i = 0; i < 5; ++i) {
    ASSERT_OK(w->Save(raftpb::HardState(), {Entry(i, 0, absl::StrCat("waldata", i + 1))}));
    ASSERT_OK(w->Cut());
  }
  ASSERT_OK(Verify(dir_, walpb::Snapshot()));
  std::vector<std::string> names = WalNames();
  ASSERT_EQ(names.size(), 6u);
  TruncateFile(Path(names[2]), 0);
  absl::Status verified = Verify(dir_, walpb::Snapshot());
  EXPECT_TRUE(IsCRCMismatch(verified)) << verified;
  EXPECT_TRUE(IsCorruption(verified));
}

TEST_F(WalTest, VerifyChecksTheSnapshot) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
  ASSERT_OK(w->SaveSnapshot(Snap(3, 2)));
  EXPECT_OK(Verify(dir_, Snap(3, 2)));
  EXPECT_TRUE(IsSnapshotMismatch(Verify(dir_, Snap(3, 1))));
  EXPECT_TRUE(IsSnapshotNotFound(Verify(dir_, Snap(4, 2))));
}

TEST_F(WalTest, CutNamesSegmentsAfterTheNextIndexAndCarriesState) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
  const raftpb::HardState state = HardState(1, 0, 0);
  ASSERT_OK(w->Save(state, {}));
  ASSERT_OK(w->Cut());
  EXPECT_THAT(WalNames(), ElementsAre(internal::WalName(0, 0), internal::WalName(1, 1)));

  ASSERT_OK(w->Save(raftpb::HardState(), {Entry(1, 1, "\x01")}));
  ASSERT_OK(w->Cut());
  ASSERT_OK(w->SaveSnapshot(Snap(2, 1)));
  EXPECT_THAT(WalNames(), ElementsAre(internal::WalName(0, 0), internal::WalName(1, 1),
                                      internal::WalName(2, 2)));
  // Read only the last segment, before closing: Cut synced its head, which
  // repeats the hard state.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> r, WAL::OpenForRead(dir_, Snap(2, 1)));
  ASSERT_OK_AND_ASSIGN(ReadResult read, r->ReadAll());
  EXPECT_THAT(read.state, StateIs(state));
  EXPECT_TRUE(read.entries.empty());
  // The finished segments are cut to their records.
  ASSERT_OK_AND_ASSIGN(std::string first, testutil::ReadFile(Path(internal::WalName(0, 0))));
  EXPECT_EQ(static_cast<int64_t>(first.size()), RecordEnds(internal::WalName(0, 0)).back());
}

TEST_F(WalTest, SaveCutsAtTheSegmentSize) {
  options_.segment_size_bytes = 2 * 1024;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, "metadata", options_));
  const raftpb::HardState state = HardState(1, 0, 0);
  ASSERT_OK(w->Save(state, {}));
  std::string big(500, '\0');
  big.replace(0, 13, "Hello World!!");
  uint64_t index = 0;
  for (int total = 0; total < options_.segment_size_bytes; total += 500) {
    ASSERT_OK(w->Save(state, {Entry(index, 1, big)}));
    ++index;
  }
  ASSERT_OK(w->Close());
  EXPECT_THAT(WalNames(), ElementsAre(internal::WalName(0, 0), internal::WalName(1, index)));

  ASSERT_OK_AND_ASSIGN(ReadResult read, OpenAndReadAll());
  EXPECT_THAT(read.state, StateIs(state));
  ASSERT_EQ(read.entries.size(), 4u);  // index 0 is at the snapshot, so not returned
  for (const raftpb::Entry& e : read.entries) EXPECT_EQ(e.data(), big);
}

TEST_F(WalTest, RecoverReturnsMetadataEntriesAndLastState) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, "metadata"));
  ASSERT_OK(w->SaveSnapshot(walpb::Snapshot()));
  const std::vector<raftpb::Entry> ents = {Entry(1, 1, "\x01"), Entry(2, 2, "\x02")};
  ASSERT_OK(w->Save(raftpb::HardState(), ents));
  ASSERT_OK(w->Save(HardState(1, 1, 1), {}));
  ASSERT_OK(w->Save(HardState(2, 2, 2), {}));
  ASSERT_OK(w->Close());

  ASSERT_OK_AND_ASSIGN(ReadResult read, OpenAndReadAll());
  EXPECT_EQ(read.metadata, "metadata");
  EXPECT_THAT(read.entries, EntriesAre(ents));
  EXPECT_THAT(read.state, StateIs(HardState(2, 2, 2)));
  EXPECT_TRUE(read.snapshot_found);
}

TEST_F(WalTest, LaterTermsOverwriteEntries) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
  ASSERT_OK(w->Save(HardState(1, 1, 0),
                    {Entry(1, 1, "a"), Entry(2, 1, "b"), Entry(3, 1, "c"), Entry(4, 1, "d")}));
  ASSERT_OK(w->Save(HardState(2, 2, 2), {Entry(3, 2, "C"), Entry(4, 2, "D")}));
  ASSERT_OK(w->Save(HardState(3, 3, 2), {Entry(3, 3, "x")}));
  ASSERT_OK(w->Close());
  ASSERT_OK_AND_ASSIGN(ReadResult read, OpenAndReadAll());
  EXPECT_THAT(read.entries, EntriesAre(std::vector<raftpb::Entry>{
                                Entry(1, 1, "a"), Entry(2, 1, "b"), Entry(3, 3, "x")}));
}

TEST_F(WalTest, RecoverAfterCutAtEverySnapshot) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, "metadata"));
    for (uint64_t i = 0; i < 10; ++i) {
      ASSERT_OK(w->SaveSnapshot(Snap(i, 0)));
      ASSERT_OK(w->Save(raftpb::HardState(), {Entry(i)}));
      ASSERT_OK(w->Cut());
    }
  }
  ASSERT_OK(fs_->Remove(Path(internal::WalName(4, 4))));
  for (uint64_t i = 0; i < 10; ++i) {
    absl::StatusOr<std::unique_ptr<WAL>> w = WAL::Open(dir_, Snap(i, 0));
    if (i <= 4) {
      EXPECT_TRUE(IsFileNotFound(w.status())) << i << ": " << w.status();
      continue;
    }
    ASSERT_OK(w.status()) << i;
    ASSERT_OK_AND_ASSIGN(ReadResult read, (*w)->ReadAll());
    EXPECT_EQ(read.metadata, "metadata");
    for (size_t j = 0; j < read.entries.size(); ++j) {
      EXPECT_EQ(read.entries[j].index(), j + i + 1) << i;
    }
  }
}

TEST_F(WalTest, OpenAtUncommittedIndex) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
  ASSERT_OK(w->SaveSnapshot(walpb::Snapshot()));
  ASSERT_OK(w->Save(raftpb::HardState(), {Entry(0)}));
  ASSERT_OK(w->Close());
  ASSERT_OK(OpenAndReadAll().status());
}

// A reader sees every segment, even those a writer still has locked.
TEST_F(WalTest, OpenForReadIgnoresLocks) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
  for (uint64_t i = 0; i < 10; ++i) {
    ASSERT_OK(w->Save(raftpb::HardState(), {Entry(i)}));
    ASSERT_OK(w->Cut());
  }
  ASSERT_OK(w->ReleaseLockTo(5));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> r, WAL::OpenForRead(dir_, walpb::Snapshot()));
  ASSERT_OK_AND_ASSIGN(ReadResult read, r->ReadAll());
  ASSERT_FALSE(read.entries.empty());
  EXPECT_EQ(read.entries.back().index(), 9u);
  // A writer cannot open it twice.
  absl::StatusOr<std::unique_ptr<WAL>> second = WAL::Open(dir_, walpb::Snapshot());
  EXPECT_TRUE(fileutil::IsLocked(second.status())) << second.status();
}

TEST_F(WalTest, HugeEntryIndexIsSliceOutOfRange) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
  ASSERT_OK(w->Save(raftpb::HardState(), {Entry(std::numeric_limits<int64_t>::max())}));
  ASSERT_OK(w->Close());
  absl::StatusOr<ReadResult> read = OpenAndReadAll();
  EXPECT_TRUE(IsSliceOutOfRange(read.status())) << read.status();
}

TEST_F(WalTest, SaveOfNothingWritesNothing) {
  FaultFileSystem memory;
  memory.MakeDurableDir("/data");
  options_.fs = &memory;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create("/data/wal", "", options_));
  const int64_t ops = memory.ops();
  ASSERT_OK(w->Save(raftpb::HardState(), {}));
  EXPECT_EQ(memory.ops(), ops);
}

// etcd's MustSync: entries, a new term or a new vote are synced, a commit
// index alone is not; and never more than one fdatasync per Save.
TEST_F(WalTest, SaveSyncsOncePerCallOnlyWhenRequired) {
  FaultFileSystem memory;
  memory.MakeDurableDir("/data");
  options_.fs = &memory;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create("/data/wal", "", options_));
  int64_t syncs = memory.file_syncs();
  std::vector<raftpb::Entry> ents;
  for (uint64_t i = 1; i <= 100; ++i) ents.push_back(Entry(i, 1, std::string(256, 'x')));
  ASSERT_OK(w->Save(HardState(1, 1, 0), ents));
  EXPECT_EQ(memory.file_syncs(), syncs + 1);
  EXPECT_TRUE(memory.UnsyncedFiles().empty());

  ASSERT_OK(w->Save(HardState(1, 1, 50), {}));  // commit only
  EXPECT_EQ(memory.file_syncs(), syncs + 1);
  EXPECT_EQ(memory.UnsyncedFiles().size(), 0u);  // buffered, not even written

  ASSERT_OK(w->Save(HardState(1, 2, 50), {}));  // new vote
  EXPECT_EQ(memory.file_syncs(), syncs + 2);
  ASSERT_OK(w->Save(HardState(2, 2, 50), {}));  // new term
  EXPECT_EQ(memory.file_syncs(), syncs + 3);
  ASSERT_OK(w->Save(HardState(2, 2, 60), {Entry(101, 2)}));
  EXPECT_EQ(memory.file_syncs(), syncs + 4);
  EXPECT_TRUE(memory.UnsyncedFiles().empty());
}

// After a failed fdatasync the WAL refuses to pretend anything is durable.
TEST_F(WalTest, FailedSyncIsSticky) {
  FaultFileSystem memory;
  memory.MakeDurableDir("/data");
  options_.fs = &memory;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create("/data/wal", "", options_));
  memory.SetSyncError(absl::DataLossError("fdatasync: Input/output error"));
  absl::Status failed = w->Save(HardState(1, 0, 0), {Entry(1, 1)});
  EXPECT_THAT(failed.message(), HasSubstr("Input/output error"));
  memory.SetSyncError(absl::OkStatus());
  EXPECT_EQ(w->Save(HardState(1, 0, 0), {Entry(2, 1)}), failed);
  EXPECT_EQ(w->Sync(), failed);
  EXPECT_EQ(w->SaveSnapshot(Snap(1, 1)), failed);
}

TEST_F(WalTest, ReleaseLockToKeepsTheSegmentHoldingTheIndex) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
  ASSERT_OK(w->ReleaseLockTo(10));  // nothing to release
  for (uint64_t i = 0; i < 10; ++i) {
    ASSERT_OK(w->Save(raftpb::HardState(), {Entry(i)}));
    ASSERT_OK(w->Cut());
  }
  // Segments: 0-0, 1-1, 2-2, ..., 10-10.
  auto locked = [&](const std::string& name) {
    absl::StatusOr<fileutil::LockedFile> f = fileutil::TryLockFile(Path(name), O_RDWR);
    return fileutil::IsLocked(f.status());
  };
  std::vector<std::string> names = WalNames();
  ASSERT_EQ(names.size(), 11u);
  ASSERT_OK(w->ReleaseLockTo(5));
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(locked(names[i]), i >= 4) << names[i];
  }
  ASSERT_OK(w->ReleaseLockTo(15));
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(locked(names[i]), i == 10) << names[i];
  }
  ASSERT_OK(w->Close());
  EXPECT_FALSE(locked(names[10]));
}

TEST_F(WalTest, TailWriteWithoutSlackSpaceAppends) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, "metadata"));
    for (uint64_t i = 1; i <= 5; ++i) {
      ASSERT_OK(w->Save(HardState(1, 0, 0), {Entry(i, 1, std::string(1, char(i)))}));
    }
  }
  const std::string name = internal::WalName(0, 0);
  TruncateFile(Path(name), RecordEnds(name).back());
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Open(dir_, walpb::Snapshot()));
    ASSERT_OK_AND_ASSIGN(ReadResult read, w->ReadAll());
    ASSERT_EQ(read.entries.size(), 5u);
    for (uint64_t i = 6; i <= 10; ++i) {
      ASSERT_OK(w->Save(HardState(1, 0, 0), {Entry(i, 1, std::string(1, char(i)))}));
    }
  }
  ASSERT_OK_AND_ASSIGN(ReadResult read, OpenAndReadAll());
  EXPECT_EQ(read.entries.size(), 10u);
}

// Zeros over a record end the log there; the stale records after it are
// wiped before new ones are appended, so they cannot break the CRC chain.
TEST_F(WalTest, OpenOnTornWriteWipesTheTail) {
  constexpr int kEntries = 40;
  constexpr int kClobbered = 20;
  constexpr int kOverwrite = 5;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
    for (int i = 0; i < kEntries; ++i) ASSERT_OK(w->Save(raftpb::HardState(), {Entry(i)}));
  }
  const std::string name = internal::WalName(0, 0);
  std::vector<int64_t> ends = RecordEnds(name);
  // Records: crc, metadata (empty, so present), snapshot, then one per entry.
  ASSERT_EQ(ends.size(), 3u + kEntries);
  // Zero the record of entry kClobbered + 1.
  const int64_t from = ends[3 + kClobbered];
  const int64_t to = ends[4 + kClobbered];
  WriteAt(Path(name), from, std::string(to - from, '\0'));
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Open(dir_, walpb::Snapshot()));
    ASSERT_OK_AND_ASSIGN(ReadResult read, w->ReadAll());
    EXPECT_EQ(read.entries.size(), kClobbered);
    for (int i = 0; i < kOverwrite; ++i) {
      ASSERT_OK(w->Save(raftpb::HardState(), {Entry(kClobbered + i, 0, "new")}));
    }
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> r, WAL::OpenForRead(dir_, walpb::Snapshot()));
  ASSERT_OK_AND_ASSIGN(ReadResult read, r->ReadAll());
  EXPECT_EQ(read.entries.size(), kClobbered - 1 + kOverwrite);
}

TEST_F(WalTest, ValidSnapshotEntriesStopAtTheCommitIndex) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
    ASSERT_OK(w->SaveSnapshot(Snap(1, 1)));
    ASSERT_OK(w->Save(HardState(1, 0, 1), {}));
    ASSERT_OK(w->SaveSnapshot(Snap(2, 1)));
    ASSERT_OK(w->SaveSnapshot(Snap(3, 2)));
    ASSERT_OK(w->Save(HardState(2, 0, 3), {}));
    ASSERT_OK(w->SaveSnapshot(Snap(4, 2)));  // beyond the commit index
  }
  ASSERT_OK_AND_ASSIGN(std::vector<walpb::Snapshot> snaps, ValidSnapshotEntries(dir_));
  ASSERT_EQ(snaps.size(), 4u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(snaps[i].index(), i);
  EXPECT_EQ(snaps[3].term(), 2u);
}

TEST_F(WalTest, ValidSnapshotEntriesAfterPurge) {
  options_.segment_size_bytes = 64;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, "", options_));
    ASSERT_OK(w->SaveSnapshot(Snap(1, 1)));
    ASSERT_OK(w->Save(HardState(1, 0, 1), {}));
    ASSERT_OK(w->SaveSnapshot(Snap(2, 1)));
    ASSERT_OK(w->SaveSnapshot(Snap(3, 2)));
    for (int i = 0; i < 32; ++i) ASSERT_OK(w->Save(HardState(2, 0, 3), {}));
  }
  std::vector<std::string> names = WalNames();
  ASSERT_GT(names.size(), 2u);
  ASSERT_OK(fs_->Remove(Path(names[0])));
  ASSERT_OK_AND_ASSIGN(std::vector<walpb::Snapshot> snaps, ValidSnapshotEntries(dir_));
}

TEST_F(WalTest, ReadAllNeedsAnOpenedWal) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, "metadata"));
  EXPECT_TRUE(IsDecoderNotFound(w->ReadAll().status()));
  ASSERT_OK(w->Close());
  ASSERT_OK_AND_ASSIGN(w, WAL::Open(dir_, walpb::Snapshot()));
  EXPECT_TRUE(IsBadState(w->Save(HardState(1, 0, 0), {Entry(1, 1)})));  // before ReadAll
  ASSERT_OK(w->ReadAll().status());
  EXPECT_TRUE(IsDecoderNotFound(w->ReadAll().status()));  // only once
  ASSERT_OK(w->Save(HardState(1, 0, 0), {Entry(1, 1)}));
  ASSERT_OK(w->Close());
  EXPECT_TRUE(IsBadState(w->Save(HardState(1, 0, 0), {Entry(2, 1)})));
  EXPECT_OK(w->Close());
}

TEST_F(WalTest, ReaderCannotAppend) {
  { ASSERT_OK(WAL::Create(dir_, "").status()); }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> r, WAL::OpenForRead(dir_, walpb::Snapshot()));
  ASSERT_OK(r->ReadAll().status());
  absl::Status saved = r->Save(HardState(1, 0, 0), {Entry(1, 1)});
  EXPECT_TRUE(IsBadState(saved)) << saved;
  EXPECT_THAT(saved.message(), HasSubstr("reading only"));
}

TEST_F(WalTest, SnapshotNotFoundAndMismatch) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
    ASSERT_OK(w->Save(HardState(1, 1, 0), {Entry(1, 1), Entry(2, 1), Entry(3, 1)}));
    ASSERT_OK(w->SaveSnapshot(Snap(2, 1)));
  }
  absl::StatusOr<ReadResult> missing = OpenAndReadAll(Snap(3, 1));
  EXPECT_TRUE(IsSnapshotNotFound(missing.status())) << missing.status();
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<ReadResult> mismatch = OpenAndReadAll(Snap(2, 7));
  EXPECT_TRUE(IsSnapshotMismatch(mismatch.status())) << mismatch.status();
  ASSERT_OK_AND_ASSIGN(ReadResult at, OpenAndReadAll(Snap(2, 1)));
  EXPECT_THAT(at.entries, EntriesAre(std::vector<raftpb::Entry>{Entry(3, 1)}));

  // What etcd-dump-logs does with --start-index.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> r, WAL::OpenForRead(dir_, Snap(1, 0)));
  ASSERT_OK_AND_ASSIGN(ReadResult loose, r->ReadAll(SnapshotCheck::kAllowMissing));
  EXPECT_FALSE(loose.snapshot_found);
  EXPECT_EQ(loose.entries.size(), 2u);
}

TEST_F(WalTest, MetadataConflictIsDetected) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, "metadata-one"));
    ASSERT_OK(w->Save(HardState(1, 1, 0), {Entry(1, 1)}));
    ASSERT_OK(w->Cut());
    ASSERT_OK(w->Save(HardState(1, 1, 0), {Entry(2, 1)}));
  }
  // Rewrite the second segment's metadata record with other bytes of the
  // same length, keeping its CRC valid.
  std::vector<std::string> names = WalNames();
  ASSERT_EQ(names.size(), 2u);
  ASSERT_OK_AND_ASSIGN(std::string bytes, testutil::ReadFile(Path(names[1])));
  const size_t at = bytes.find("metadata-one");
  ASSERT_NE(at, std::string::npos);
  std::unique_ptr<File> f = fs_->OpenForRead(Path(names[1])).value();
  internal::Decoder decoder({{f.get(), Path(names[1])}});
  internal::Record crc_record;
  ASSERT_TRUE(decoder.Next(&crc_record).value());
  f->Close().IgnoreError();

  FaultFileSystem memory;
  memory.MakeDurableDir("/d");
  std::unique_ptr<File> out = memory.OpenLocked("/d/f", CreateOption()).value();
  internal::Encoder encoder(out.get(), 0, crc_record.crc);
  ASSERT_OK(encoder.Encode(internal::kCrcType, ""));
  ASSERT_OK(encoder.Encode(internal::kMetadataType, "metadata-two"));
  ASSERT_OK(encoder.Flush());
  ASSERT_OK_AND_ASSIGN(std::string head, memory.ReadFile("/d/f"));
  // Only the metadata record is rewritten; later records now fail the CRC,
  // but the conflict is reported first.
  WriteAt(Path(names[1]), 0, head);
  absl::StatusOr<ReadResult> read = OpenAndReadAll();
  EXPECT_TRUE(IsMetadataConflict(read.status())) << read.status();
  EXPECT_THAT(read.status().message(), HasSubstr(names[1]));
}

// A flipped bit in a record is corruption with the file and offset named,
// and Repair refuses to "fix" it by dropping records.
TEST_F(WalTest, BitFlipIsACRCMismatchNamingFileAndOffset) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
    for (uint64_t i = 1; i <= 5; ++i) {
      ASSERT_OK(w->Save(HardState(1, 1, i), {Entry(i, 1, std::string(100, 'a' + i))}));
    }
  }
  const std::string name = internal::WalName(0, 0);
  std::vector<int64_t> ends = RecordEnds(name);
  ASSERT_OK_AND_ASSIGN(std::string bytes, testutil::ReadFile(Path(name)));
  const int64_t record_start = ends[4];  // the second entry's frame
  const int64_t flip_at = record_start + 40;
  WriteAt(Path(name), flip_at, std::string(1, bytes[flip_at] ^ 0x10));
  absl::StatusOr<ReadResult> read = OpenAndReadAll();
  ASSERT_TRUE(IsCRCMismatch(read.status())) << read.status();
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(),
              HasSubstr(absl::StrCat("offset ", record_start, " of ", Path(name))));
  EXPECT_TRUE(absl::StartsWith(read.status().message(), "wal: crc mismatch"));

  absl::Status repaired = Repair(dir_);
  EXPECT_TRUE(IsCRCMismatch(repaired)) << repaired;
  ASSERT_OK_AND_ASSIGN(std::string after, testutil::ReadFile(Path(name)));
  EXPECT_EQ(after.size(), bytes.size());
  EXPECT_FALSE(fs_->Exists(Path(name) + ".broken"));
}

// A record cut short in a segment that is not the last cannot be a torn
// write (that segment was complete before the next was started): it is
// corruption, not the end of the log.
TEST_F(WalTest, TruncatedMiddleSegmentIsCorruption) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, ""));
    ASSERT_OK(w->Save(HardState(1, 1, 0), {Entry(1, 1, "one"), Entry(2, 1, "two")}));
    ASSERT_OK(w->Cut());
    ASSERT_OK(w->Save(HardState(1, 1, 0), {Entry(3, 1, "three")}));
  }
  const std::string first = internal::WalName(0, 0);
  TruncateFile(Path(first), RecordEnds(first).back() - 4);
  absl::StatusOr<ReadResult> read = OpenAndReadAll();
  EXPECT_TRUE(IsCorruptRecord(read.status())) << read.status();
  EXPECT_FALSE(IsUnexpectedEOF(read.status()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> r, WAL::OpenForRead(dir_, walpb::Snapshot()));
  EXPECT_TRUE(IsCorruptRecord(r->ReadAll().status()));
}

TEST_F(WalTest, ExistLooksForWalFiles) {
  EXPECT_FALSE(Exist(dir_));
  ASSERT_OK(fs_->CreateDirAll(dir_));
  EXPECT_FALSE(Exist(dir_));
  ASSERT_OK(testutil::WriteFile(Path("0.tmp"), ""));
  EXPECT_FALSE(Exist(dir_));
  ASSERT_OK(testutil::WriteFile(Path("x.wal"), ""));
  EXPECT_TRUE(Exist(dir_));
}

// A log written through many segments (with the background pipeline) reads
// back whole, and its CRC chain crosses the segment boundaries.
TEST_F(WalTest, ManySegmentsRoundTrip) {
  options_.segment_size_bytes = 4096;
  std::vector<raftpb::Entry> all;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Create(dir_, "m", options_));
    for (uint64_t i = 1; i <= 200; ++i) {
      raftpb::Entry e = Entry(i, 1 + i / 50, std::string(i % 300, 'a' + i % 26));
      all.push_back(e);
      ASSERT_OK(w->Save(HardState(1 + i / 50, 1, i - 1), {e}));
    }
  }
  EXPECT_GT(WalNames().size(), 5u);
  ASSERT_OK_AND_ASSIGN(ReadResult read, OpenAndReadAll());
  EXPECT_THAT(read.entries, EntriesAre(all));
  EXPECT_THAT(read.state, StateIs(HardState(5, 1, 199)));
  // No preallocated leftovers but the pipeline's own.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, fs_->ReadDir(dir_));
  for (const std::string& name : names) {
    uint64_t seq, index;
    EXPECT_TRUE(internal::ParseWalName(name, &seq, &index) || name == "0.tmp" || name == "1.tmp")
        << name;
  }
}

}  // namespace
}  // namespace etcd::wal
