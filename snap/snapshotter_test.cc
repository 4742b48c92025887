#include "snap/snapshotter.h"

#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "pkg/crc/crc.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "snap/snappb/snap.pb.h"

namespace etcd::snap {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

raftpb::Snapshot TestSnap(uint64_t index = 1, uint64_t term = 1) {
  raftpb::Snapshot s;
  s.set_data("some snapshot");
  s.mutable_metadata()->mutable_conf_state()->add_voters(1);
  s.mutable_metadata()->mutable_conf_state()->add_voters(2);
  s.mutable_metadata()->mutable_conf_state()->add_voters(3);
  s.mutable_metadata()->set_index(index);
  s.mutable_metadata()->set_term(term);
  return s;
}

bool SameSnap(const raftpb::Snapshot& a, const raftpb::Snapshot& b) {
  return a.data() == b.data() && a.metadata().index() == b.metadata().index() &&
         a.metadata().term() == b.metadata().term() &&
         std::vector<uint64_t>(a.metadata().conf_state().voters().begin(),
                               a.metadata().conf_state().voters().end()) ==
             std::vector<uint64_t>(b.metadata().conf_state().voters().begin(),
                                   b.metadata().conf_state().voters().end()) &&
         a.metadata().conf_state().auto_leave() == b.metadata().conf_state().auto_leave();
}

struct WalSnap {
  uint64_t i, t;
  uint64_t index() const { return i; }
  uint64_t term() const { return t; }
};

class SnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(auto dir, testutil::TempDir::Create("snap"));
    dir_.emplace(std::move(dir));
  }
  std::string Path(const std::string& name) { return dir_->Join(name); }
  bool Exists(const std::string& name) { return access(Path(name).c_str(), F_OK) == 0; }
  std::optional<testutil::TempDir> dir_;
};

TEST_F(SnapshotterTest, SaveAndLoad) {
  Snapshotter ss(dir_->path());
  ASSERT_OK(ss.SaveSnap(TestSnap()));
  EXPECT_TRUE(Exists(SnapName(1, 1)));
  EXPECT_EQ(SnapName(1, 1), "0000000000000001-0000000000000001.snap");
  EXPECT_FALSE(Exists(SnapName(1, 1) + ".tmp"));
  ASSERT_OK_AND_ASSIGN(raftpb::Snapshot got, ss.Load());
  EXPECT_TRUE(SameSnap(got, TestSnap()));

  // The file is etcd's format: snappb.snapshot{crc(data), data}.
  ASSERT_OK_AND_ASSIGN(std::string bytes, testutil::ReadFile(Path(SnapName(1, 1))));
  snappb::snapshot file;
  ASSERT_TRUE(file.ParseFromString(bytes));
  EXPECT_EQ(file.crc(), crc::Value(file.data().data(), file.data().size()));
  raftpb::Snapshot inner;
  ASSERT_TRUE(inner.ParseFromString(file.data()));
  EXPECT_TRUE(SameSnap(inner, TestSnap()));
}

TEST_F(SnapshotterTest, EmptySnapshotIsNotSaved) {
  Snapshotter ss(dir_->path());
  ASSERT_OK(ss.SaveSnap(raftpb::Snapshot()));
  EXPECT_TRUE(IsNoSnapshot(ss.Load().status()));
}

TEST_F(SnapshotterTest, BadCRC) {
  Snapshotter ss(dir_->path());
  ASSERT_OK(ss.SaveSnap(TestSnap()));
  ASSERT_OK_AND_ASSIGN(std::string bytes, testutil::ReadFile(Path(SnapName(1, 1))));
  bytes[bytes.size() - 3] ^= 0x40;  // inside the data
  ASSERT_OK(testutil::WriteFile(Path(SnapName(1, 1)), bytes));
  absl::StatusOr<raftpb::Snapshot> read = Read(Path(SnapName(1, 1)));
  EXPECT_TRUE(IsCRCMismatch(read.status())) << read.status();
  EXPECT_THAT(read.status().message(), HasSubstr("snap: crc mismatch"));
  EXPECT_THAT(read.status().message(), HasSubstr(SnapName(1, 1)));
}

TEST_F(SnapshotterTest, FailbackRenamesBrokenFiles) {
  const std::string large = absl::StrFormat("%016x-%016x-%016x.snap", 0xFFFF, 0xFFFF, 0xFFFF);
  ASSERT_OK(testutil::WriteFile(Path(large), "bad data"));
  Snapshotter ss(dir_->path());
  ASSERT_OK(ss.SaveSnap(TestSnap()));
  ASSERT_OK_AND_ASSIGN(raftpb::Snapshot got, ss.Load());
  EXPECT_TRUE(SameSnap(got, TestSnap()));
  EXPECT_TRUE(Exists(large + ".broken"));
  EXPECT_FALSE(Exists(large));
}

TEST_F(SnapshotterTest, LoadNewest) {
  Snapshotter ss(dir_->path());
  ASSERT_OK(ss.SaveSnap(TestSnap(1, 1)));
  ASSERT_OK(ss.SaveSnap(TestSnap(5, 1)));
  ASSERT_OK_AND_ASSIGN(raftpb::Snapshot newest, ss.Load());
  EXPECT_EQ(newest.metadata().index(), 5u);

  struct Case {
    std::vector<WalSnap> wal;
    uint64_t want;
  };
  for (const Case& c : {Case{{{0, 0}, {1, 1}, {5, 1}}, 5}, Case{{{5, 1}, {1, 1}, {0, 0}}, 5},
                        Case{{{0, 0}, {1, 1}}, 1}}) {
    ASSERT_OK_AND_ASSIGN(raftpb::Snapshot got, ss.LoadNewestAvailable(c.wal));
    EXPECT_EQ(got.metadata().index(), c.want);
  }
  // A WAL that knows none of them.
  EXPECT_TRUE(IsNoSnapshot(ss.LoadNewestAvailable(std::vector<WalSnap>{{5, 2}}).status()));
}

TEST_F(SnapshotterTest, NoSnapshot) {
  Snapshotter ss(dir_->path());
  absl::StatusOr<raftpb::Snapshot> got = ss.Load();
  EXPECT_TRUE(IsNoSnapshot(got.status())) << got.status();
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(got.status().message(), HasSubstr("snap: no available snapshot"));
}

TEST_F(SnapshotterTest, EmptyAndBrokenFiles) {
  ASSERT_OK(testutil::WriteFile(Path("1.snap"), ""));
  EXPECT_TRUE(IsEmptySnapshot(Read(Path("1.snap")).status()));
  ASSERT_OK(testutil::WriteFile(Path("2.snap"), "bad"));
  EXPECT_TRUE(IsCorruptSnapshot(Read(Path("2.snap")).status()));
  Snapshotter ss(dir_->path());
  EXPECT_TRUE(IsNoSnapshot(ss.Load().status()));  // all broken
  EXPECT_TRUE(Exists("1.snap.broken"));
  EXPECT_TRUE(Exists("2.snap.broken"));
  EXPECT_TRUE(IsNoSnapshot(ss.Load().status()));
}

TEST_F(SnapshotterTest, LeftoversAreRemoved) {
  ASSERT_OK(testutil::WriteFile(Path(SnapName(1, 9) + ".tmp"), "half a snapshot"));
  ASSERT_OK(testutil::WriteFile(Path("db.tmp.123"), "half a db"));
  ASSERT_OK(testutil::WriteFile(Path("db"), "the db"));
  Snapshotter ss(dir_->path());
  ASSERT_OK(ss.SaveSnap(TestSnap(3, 1)));
  ASSERT_OK(ss.Load().status());
  EXPECT_FALSE(Exists(SnapName(1, 9) + ".tmp"));
  EXPECT_FALSE(Exists("db.tmp.123"));
  EXPECT_TRUE(Exists("db"));
}

TEST_F(SnapshotterTest, PurgeKeepsTheNewest) {
  Snapshotter ss(dir_->path());
  for (uint64_t i = 1; i <= 7; ++i) ASSERT_OK(ss.SaveSnap(TestSnap(i * 10, 1)));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> removed, ss.Purge(5));
  EXPECT_THAT(removed, ElementsAre(SnapName(1, 10), SnapName(1, 20)));
  EXPECT_TRUE(Exists(SnapName(1, 30)));
  ASSERT_OK_AND_ASSIGN(raftpb::Snapshot newest, ss.Load());
  EXPECT_EQ(newest.metadata().index(), 70u);
}

class StringReader : public Reader {
 public:
  explicit StringReader(std::string data, size_t chunk) : data_(std::move(data)), chunk_(chunk) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (fail_at_ >= 0 && pos_ >= static_cast<size_t>(fail_at_)) {
      return absl::UnavailableError("connection reset");
    }
    const size_t got = std::min({n, chunk_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, got);
    pos_ += got;
    return got;
  }
  int64_t fail_at_ = -1;

 private:
  std::string data_;
  size_t chunk_;
  size_t pos_ = 0;
};

TEST_F(SnapshotterTest, SaveDBFrom) {
  Snapshotter ss(dir_->path());
  EXPECT_TRUE(IsNoDBSnapshot(ss.DBFilePath(0x42).status()));
  std::string db(1 << 20, '\0');
  for (size_t i = 0; i < db.size(); ++i) db[i] = static_cast<char>(i * 31);
  StringReader reader(db, 777);
  ASSERT_OK_AND_ASSIGN(int64_t n, ss.SaveDBFrom(reader, 0x42));
  EXPECT_EQ(n, static_cast<int64_t>(db.size()));
  ASSERT_OK_AND_ASSIGN(std::string path, ss.DBFilePath(0x42));
  EXPECT_EQ(path, Path("0000000000000042.snap.db"));
  ASSERT_OK_AND_ASSIGN(std::string got, testutil::ReadFile(path));
  EXPECT_EQ(got, db);

  // A second copy of the same index keeps the first.
  StringReader other("other", 5);
  ASSERT_OK(ss.SaveDBFrom(other, 0x42).status());
  ASSERT_OK_AND_ASSIGN(got, testutil::ReadFile(path));
  EXPECT_EQ(got, db);

  // A stream that breaks leaves nothing behind.
  StringReader broken(db, 4096);
  broken.fail_at_ = 8192;
  EXPECT_FALSE(ss.SaveDBFrom(broken, 0x43).ok());
  EXPECT_TRUE(IsNoDBSnapshot(ss.DBFilePath(0x43).status()));
  int tmp_files = 0;
  DIR* d = opendir(dir_->path().c_str());
  while (struct dirent* e = readdir(d)) {
    if (std::string(e->d_name).rfind("tmp", 0) == 0) ++tmp_files;
  }
  closedir(d);
  EXPECT_EQ(tmp_files, 0);
}

TEST_F(SnapshotterTest, SaveDBFromAFileDescriptor) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], "db bytes", 8), 8);
  close(fds[1]);
  FdReader reader(fds[0]);
  Snapshotter ss(dir_->path());
  ASSERT_OK_AND_ASSIGN(int64_t n, ss.SaveDBFrom(reader, 7));
  close(fds[0]);
  EXPECT_EQ(n, 8);
  EXPECT_EQ(testutil::ReadFile(Path("0000000000000007.snap.db")).value(), "db bytes");
}

TEST_F(SnapshotterTest, ReleaseSnapDBs) {
  for (uint64_t index : {100, 200, 300, 400}) {
    ASSERT_OK(testutil::WriteFile(Path(absl::StrFormat("%016x.snap.db", index)), "snap file\n"));
  }
  Snapshotter ss(dir_->path());
  raftpb::Snapshot at;
  at.mutable_metadata()->set_index(300);
  ASSERT_OK(ss.ReleaseSnapDBs(at));
  for (uint64_t index : {100, 200}) {
    EXPECT_FALSE(Exists(absl::StrFormat("%016x.snap.db", index))) << index;
  }
  for (uint64_t index : {300, 400}) {
    EXPECT_TRUE(Exists(absl::StrFormat("%016x.snap.db", index))) << index;
  }
}

TEST(EncodeTest, RoundTripAndErrors) {
  const std::string bytes = Encode(TestSnap(9, 3));
  ASSERT_OK_AND_ASSIGN(raftpb::Snapshot got, Decode(bytes, "x"));
  EXPECT_TRUE(SameSnap(got, TestSnap(9, 3)));
  EXPECT_TRUE(IsEmptySnapshot(Decode("", "x").status()));
  snappb::snapshot no_crc;
  no_crc.set_data("d");
  no_crc.set_crc(0);
  EXPECT_TRUE(IsEmptySnapshot(Decode(no_crc.SerializeAsString(), "x").status()));
  snappb::snapshot not_raft;
  not_raft.set_data("\xff\xff\xff");
  not_raft.set_crc(crc::Value("\xff\xff\xff", 3));
  EXPECT_TRUE(IsCorruptSnapshot(Decode(not_raft.SerializeAsString(), "x").status()));
}

}  // namespace
}  // namespace etcd::snap
