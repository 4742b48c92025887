#include "pkg/fileutil/purge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "pkg/fileutil/fileutil.h"
#include "pkg/fileutil/fileutil_testing.h"
#include "pkg/fileutil/lock.h"

namespace etcd::fileutil {
namespace {

using ::etcd::fileutil::testing::MakeTempDir;
using ::etcd::fileutil::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

std::string WalName(int seq) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%016x-%016x.wal", seq, seq * 100);
  return buf;
}

std::vector<std::string> CreateWals(const std::string& dir, int from, int to) {
  std::vector<std::string> names;
  for (int i = from; i < to; ++i) {
    names.push_back(WalName(i));
    WriteFile(dir + "/" + names.back(), "wal");
  }
  return names;
}

std::vector<std::string> Names(const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = ReadDir(dir);
  EXPECT_TRUE(names.ok()) << names.status();
  return names.ok() ? *names : std::vector<std::string>{};
}

// Polls `done` until it holds or a generous deadline passes.
template <typename Fn>
bool Eventually(Fn done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

TEST(PurgeOnceTest, KeepsNewestMatchingFiles) {
  const std::string dir = MakeTempDir();
  std::vector<std::string> wals = CreateWals(dir, 0, 10);
  WriteFile(dir + "/0000000000000000-0000000000000000.snap", "");  // other suffix
  WriteFile(dir + "/a.wal.tmp", "");

  absl::StatusOr<std::vector<std::string>> removed = PurgeOnce(dir, ".wal", 3);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_THAT(*removed, ElementsAreArray(wals.begin(), wals.begin() + 7));
  EXPECT_THAT(Names(dir), ElementsAre("0000000000000000-0000000000000000.snap", wals[7], wals[8],
                                      wals[9], "a.wal.tmp"));

  removed = PurgeOnce(dir, ".wal", 3);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(removed->empty());
}

TEST(PurgeOnceTest, StopsAtLockedFile) {
  const std::string dir = MakeTempDir();
  std::vector<std::string> wals = CreateWals(dir, 0, 8);
  // The WAL holds segments 2 onward, as after ReleaseLockTo.
  absl::StatusOr<LockedFile> held = TryLockFile(dir + "/" + wals[2], O_WRONLY);
  ASSERT_TRUE(held.ok()) << held.status();

  absl::StatusOr<std::vector<std::string>> removed = PurgeOnce(dir, ".wal", 2);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_THAT(*removed, ElementsAre(wals[0], wals[1]));
  EXPECT_TRUE(Exist(dir + "/" + wals[2]));
  EXPECT_EQ(Names(dir).size(), 6u);

  ASSERT_TRUE(held->Close().ok());
  removed = PurgeOnce(dir, ".wal", 2);
  ASSERT_TRUE(removed.ok());
  EXPECT_THAT(*removed, ElementsAre(wals[2], wals[3], wals[4], wals[5]));
  EXPECT_THAT(Names(dir), ElementsAre(wals[6], wals[7]));
}

TEST(PurgeOnceTest, MaxZeroRemovesEverythingUnlocked) {
  const std::string dir = MakeTempDir();
  CreateWals(dir, 0, 3);
  absl::StatusOr<std::vector<std::string>> removed = PurgeOnce(dir, ".wal", 0);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->size(), 3u);
  EXPECT_TRUE(Names(dir).empty());
}

TEST(PurgeOnceTest, MissingDirectoryIsAnError) {
  absl::StatusOr<std::vector<std::string>> removed =
      PurgeOnce(MakeTempDir() + "/missing", ".wal", 1);
  EXPECT_TRUE(absl::IsNotFound(removed.status())) << removed.status();
}

TEST(FilePurgerTest, PurgesPeriodically) {
  const std::string dir = MakeTempDir();
  CreateWals(dir, 0, 10);
  absl::Mutex mu;
  std::vector<std::string> purged;
  FilePurger::Options options;
  options.dir = dir;
  options.suffix = ".wal";
  options.max = 3;
  options.interval = absl::Milliseconds(10);
  options.on_purged = [&](const std::vector<std::string>& removed) {
    absl::MutexLock lock(&mu);
    purged.insert(purged.end(), removed.begin(), removed.end());
  };
  FilePurger purger(std::move(options));

  ASSERT_TRUE(Eventually([&] { return Names(dir).size() == 3; }));
  // New files appear as the WAL rolls; later rounds trim them again.
  std::vector<std::string> newer = CreateWals(dir, 10, 15);
  ASSERT_TRUE(Eventually(
      [&] { return Names(dir) == std::vector<std::string>(newer.end() - 3, newer.end()); }));
  purger.Stop();
  EXPECT_TRUE(purger.status().ok());
  EXPECT_GE(purger.rounds(), 2);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(purged.size(), 12u);
  EXPECT_TRUE(std::is_sorted(purged.begin(), purged.end()));
}

TEST(FilePurgerTest, StopDoesNotWaitForTheInterval) {
  const std::string dir = MakeTempDir();
  FilePurger::Options options;
  options.dir = dir;
  options.suffix = ".snap";
  options.interval = absl::Hours(1);
  FilePurger purger(std::move(options));
  ASSERT_TRUE(Eventually([&] { return purger.rounds() >= 1; }));
  const absl::Time start = absl::Now();
  purger.Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  purger.Stop();  // idempotent
  EXPECT_EQ(purger.rounds(), 1);
}

TEST(FilePurgerTest, ErrorStopsThePurger) {
  absl::Mutex mu;
  std::vector<absl::Status> errors;
  FilePurger::Options options;
  options.dir = MakeTempDir() + "/missing";
  options.suffix = ".wal";
  options.interval = absl::Milliseconds(1);
  options.on_error = [&](const absl::Status& s) {
    absl::MutexLock lock(&mu);
    errors.push_back(s);
  };
  FilePurger purger(std::move(options));
  ASSERT_TRUE(Eventually([&] { return !purger.status().ok(); }));
  EXPECT_TRUE(absl::IsNotFound(purger.status())) << purger.status();
  purger.Stop();
  EXPECT_EQ(purger.rounds(), 1);
  absl::MutexLock lock(&mu);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(absl::IsNotFound(errors[0]));
}

}  // namespace
}  // namespace etcd::fileutil
