#include "mvcc/backend/backend.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pkg/crc/crc.h"
#include "pkg/fileutil/lock.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::mvcc::backend {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// Batching that never fires on its own during a test.
BackendOptions Quiet(const std::string& path) {
  BackendOptions options;
  options.path = path;
  options.batch_interval = absl::Hours(1);
  options.batch_limit = 1 << 30;
  options.initial_map_size = 64 << 20;
  return options;
}

std::unique_ptr<Backend> MustOpen(const BackendOptions& options) {
  absl::StatusOr<std::unique_ptr<Backend>> backend = Backend::Open(options);
  EXPECT_OK(backend.status());
  return backend.ok() ? std::move(backend).value() : nullptr;
}

void Put(Backend& be, Bucket bucket, absl::string_view key, absl::string_view value) {
  BatchTx* tx = be.batch_tx();
  tx->Lock();
  tx->UnsafePut(bucket, key, value);
  tx->Unlock();
}

std::optional<std::string> Get(Backend& be, Bucket bucket, absl::string_view key) {
  std::unique_ptr<ReadTx> tx = be.ConcurrentReadTx();
  std::optional<absl::string_view> v = tx->UnsafeGet(bucket, key);
  if (!v.has_value()) return std::nullopt;
  return std::string(*v);
}

std::map<std::string, std::string> Dump(ReadTx& tx, Bucket bucket) {
  std::map<std::string, std::string> out;
  EXPECT_OK(tx.UnsafeForEach(bucket, [&](absl::string_view k, absl::string_view v) {
    EXPECT_TRUE(out.empty() || out.rbegin()->first < k) << "ForEach out of order at " << k;
    out[std::string(k)] = std::string(v);
    return absl::OkStatus();
  }));
  return out;
}

std::map<std::string, std::string> Dump(Backend& be, Bucket bucket) {
  std::unique_ptr<ReadTx> tx = be.ConcurrentReadTx();
  return Dump(*tx, bucket);
}

std::vector<std::pair<std::string, std::string>> Pairs(const std::vector<KeyValueView>& kvs) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const KeyValueView& kv : kvs) out.emplace_back(std::string(kv.key), std::string(kv.value));
  return out;
}

class BackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, testutil::TempDir::Create("backend"));
    path_ = dir_.Join("db");
  }

  testutil::TempDir dir_ = std::move(testutil::TempDir::Create("unused")).value();
  std::string path_;
};

TEST_F(BackendTest, OpenCreatesFileWithEveryBucket) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  ASSERT_NE(be, nullptr);
  EXPECT_TRUE(fileutil::Exist(path_));
  EXPECT_TRUE(fileutil::Exist(path_ + "-lock"));
  EXPECT_GT(be->Size(), 0);
  EXPECT_GT(be->SizeInUse(), 0);
  EXPECT_LE(be->SizeInUse(), be->Size());
  for (Bucket bucket : kAllBuckets) EXPECT_TRUE(Dump(*be, bucket).empty());
  EXPECT_EQ(BucketName(Bucket::kMembersRemoved), "members_removed");
  EXPECT_EQ(BucketFromName("authUsers"), Bucket::kAuthUsers);
  EXPECT_EQ(BucketFromName("nope"), std::nullopt);
}

TEST_F(BackendTest, DataSurvivesReopen) {
  {
    std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
    Put(*be, Bucket::kKey, "k1", "v1");
    Put(*be, Bucket::kLease, "k1", "lease");
    ASSERT_OK(be->Close());
  }
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  EXPECT_EQ(Get(*be, Bucket::kKey, "k1"), "v1");
  EXPECT_EQ(Get(*be, Bucket::kLease, "k1"), "lease");
  EXPECT_EQ(Get(*be, Bucket::kMeta, "k1"), std::nullopt);
}

TEST_F(BackendTest, CommitsAreReportedWithTheirDuration) {
  BackendOptions options = Quiet(path_);
  int commits = 0;
  absl::Duration total;
  options.on_commit = [&](absl::Duration d) {
    ++commits;
    total += d;
  };
  std::unique_ptr<Backend> be = MustOpen(options);
  const int before = commits;  // opening may commit the buckets
  Put(*be, Bucket::kKey, "k1", "v1");
  be->ForceCommit();
  EXPECT_EQ(commits, before + 1);
  EXPECT_GT(total, absl::ZeroDuration());
  Put(*be, Bucket::kKey, "k2", "v2");
  ASSERT_OK(be->Close());  // the last batch is committed on close
  EXPECT_EQ(commits, before + 2);
}

TEST_F(BackendTest, ReadsSeeUnlockedWritesBeforeCommit) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  const int64_t commits = be->Commits();
  BatchTx* tx = be->batch_tx();
  tx->Lock();
  tx->UnsafePut(Bucket::kKey, "a", "1");
  // The writer reads its own writes.
  EXPECT_EQ(tx->UnsafeGet(Bucket::kKey, "a"), "1");
  // Readers do not see a transaction still in progress.
  EXPECT_EQ(Get(*be, Bucket::kKey, "a"), std::nullopt);
  tx->Unlock();
  EXPECT_EQ(Get(*be, Bucket::kKey, "a"), "1");
  EXPECT_EQ(be->Commits(), commits);

  tx->Lock();
  tx->UnsafeDelete(Bucket::kKey, "a");
  EXPECT_EQ(tx->UnsafeGet(Bucket::kKey, "a"), std::nullopt);
  tx->Unlock();
  EXPECT_EQ(Get(*be, Bucket::kKey, "a"), std::nullopt);
  EXPECT_EQ(be->Commits(), commits);
}

TEST_F(BackendTest, PublishMakesWritesVisibleWithoutUnlock) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  BatchTx* tx = be->batch_tx();
  tx->Lock();
  tx->UnsafePut(Bucket::kMeta, "x", "1");
  tx->Publish();
  EXPECT_EQ(Get(*be, Bucket::kMeta, "x"), "1");
  tx->Unlock();
}

TEST_F(BackendTest, ReadTxIsASnapshot) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  Put(*be, Bucket::kKey, "a", "1");
  Put(*be, Bucket::kKey, "b", "1");
  std::unique_ptr<ReadTx> before = be->ConcurrentReadTx();
  Put(*be, Bucket::kKey, "a", "2");
  BatchTx* tx = be->batch_tx();
  tx->Lock();
  tx->UnsafeDelete(Bucket::kKey, "b");
  tx->UnsafePut(Bucket::kKey, "c", "2");
  tx->Unlock();
  std::unique_ptr<ReadTx> middle = be->ConcurrentReadTx();
  be->ForceCommit();
  Put(*be, Bucket::kKey, "d", "3");
  be->ForceCommit();

  EXPECT_THAT(Dump(*before, Bucket::kKey), ElementsAre(Pair("a", "1"), Pair("b", "1")));
  EXPECT_THAT(Dump(*middle, Bucket::kKey), ElementsAre(Pair("a", "2"), Pair("c", "2")));
  EXPECT_THAT(Dump(*be, Bucket::kKey), ElementsAre(Pair("a", "2"), Pair("c", "2"), Pair("d", "3")));
  EXPECT_EQ(before->UnsafeGet(Bucket::kKey, "c"), std::nullopt);
  EXPECT_EQ(middle->UnsafeGet(Bucket::kKey, "b"), std::nullopt);
  EXPECT_GE(be->OpenReadTxN(), 2);
}

TEST_F(BackendTest, RangeSemantics) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  for (const char* k : {"a", "b", "c", "d", "e"}) Put(*be, Bucket::kKey, k, k);
  be->ForceCommit();
  Put(*be, Bucket::kKey, "bb", "new");
  BatchTx* tx = be->batch_tx();
  tx->Lock();
  tx->UnsafeDelete(Bucket::kKey, "c");
  tx->UnsafePut(Bucket::kKey, "d", "D");
  tx->Unlock();

  std::unique_ptr<ReadTx> rtx = be->ConcurrentReadTx();
  EXPECT_THAT(Pairs(rtx->UnsafeRange(Bucket::kKey, "b", "e", 0)),
              ElementsAre(Pair("b", "b"), Pair("bb", "new"), Pair("d", "D")));
  EXPECT_THAT(Pairs(rtx->UnsafeRange(Bucket::kKey, "a", "z", 2)),
              ElementsAre(Pair("a", "a"), Pair("b", "b")));
  EXPECT_THAT(Pairs(rtx->UnsafeRange(Bucket::kKey, "b", "z", 3)),
              ElementsAre(Pair("b", "b"), Pair("bb", "new"), Pair("d", "D")));
  // Empty end: exactly the key.
  EXPECT_THAT(Pairs(rtx->UnsafeRange(Bucket::kKey, "d", "", 0)), ElementsAre(Pair("d", "D")));
  EXPECT_TRUE(rtx->UnsafeRange(Bucket::kKey, "c", "", 0).empty());
  EXPECT_TRUE(rtx->UnsafeRange(Bucket::kKey, "x", "z", 0).empty());
  // The same through the batch transaction.
  tx->Lock();
  EXPECT_THAT(Pairs(tx->UnsafeRange(Bucket::kKey, "b", "e", 0)),
              ElementsAre(Pair("b", "b"), Pair("bb", "new"), Pair("d", "D")));
  tx->Unlock();
}

TEST_F(BackendTest, ForEachStopsAtError) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  for (const char* k : {"a", "b", "c"}) Put(*be, Bucket::kAuth, k, k);
  std::unique_ptr<ReadTx> rtx = be->ConcurrentReadTx();
  int seen = 0;
  absl::Status status =
      rtx->UnsafeForEach(Bucket::kAuth, [&](absl::string_view k, absl::string_view) {
        ++seen;
        return k == "b" ? absl::CancelledError("stop") : absl::OkStatus();
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(seen, 2);
}

// Random puts, deletes, commits and reads against a std::map, including
// readers that keep their snapshot while the writer goes on.
TEST_F(BackendTest, MatchesModelUnderRandomOperations) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  std::mt19937 rng(42);
  std::map<std::string, std::string> model;
  struct Held {
    std::unique_ptr<ReadTx> tx;
    std::map<std::string, std::string> state;
  };
  std::vector<Held> held;
  auto key = [&] { return absl::StrFormat("k%03d", rng() % 60); };
  for (int step = 0; step < 3000; ++step) {
    const int op = rng() % 100;
    BatchTx* tx = be->batch_tx();
    if (op < 50) {
      tx->Lock();
      const int n = 1 + rng() % 4;
      for (int i = 0; i < n; ++i) {
        std::string k = key();
        if (rng() % 4 == 0) {
          tx->UnsafeDelete(Bucket::kKey, k);
          model.erase(k);
        } else {
          std::string v = absl::StrCat("v", step, "-", i);
          tx->UnsafePut(Bucket::kKey, k, v);
          model[k] = v;
        }
      }
      tx->Unlock();
    } else if (op < 55) {
      be->ForceCommit();
    } else if (op < 60) {
      held.push_back(Held{be->ConcurrentReadTx(), model});
      if (held.size() > 4) held.erase(held.begin());
    } else if (op < 90) {
      // A range through a fresh reader and through every held one.
      std::string a = key(), b = key();
      if (b < a) std::swap(a, b);
      const int64_t limit = rng() % 4;
      auto check = [&](ReadTx& r, const std::map<std::string, std::string>& state) {
        std::vector<std::pair<std::string, std::string>> want;
        for (auto it = state.lower_bound(a); it != state.end() && it->first < b; ++it) {
          if (limit > 0 && static_cast<int64_t>(want.size()) >= limit) break;
          want.emplace_back(it->first, it->second);
        }
        ASSERT_EQ(Pairs(r.UnsafeRange(Bucket::kKey, a, b, limit)), want) << "step " << step;
        auto it = state.find(a);
        std::optional<absl::string_view> got = r.UnsafeGet(Bucket::kKey, a);
        ASSERT_EQ(got.has_value(), it != state.end()) << "step " << step << " key " << a;
        if (got.has_value()) {
          ASSERT_EQ(*got, it->second);
        }
      };
      std::unique_ptr<ReadTx> fresh = be->ConcurrentReadTx();
      check(*fresh, model);
      for (Held& h : held) check(*h.tx, h.state);
    } else {
      tx->Lock();
      std::map<std::string, std::string> seen;
      EXPECT_OK(tx->UnsafeForEach(Bucket::kKey, [&](absl::string_view k, absl::string_view v) {
        seen[std::string(k)] = std::string(v);
        return absl::OkStatus();
      }));
      tx->Unlock();
      ASSERT_EQ(seen, model) << "step " << step;
    }
  }
  held.clear();
  ASSERT_OK(be->Close());
  be = MustOpen(Quiet(path_));
  EXPECT_EQ(Dump(*be, Bucket::kKey), model);
}

TEST_F(BackendTest, CommitsAtBatchLimit) {
  BackendOptions options = Quiet(path_);
  options.batch_limit = 10;
  std::unique_ptr<Backend> be = MustOpen(options);
  const int64_t commits = be->Commits();
  for (int i = 0; i < 9; ++i) Put(*be, Bucket::kKey, absl::StrCat("k", i), "v");
  EXPECT_EQ(be->Commits(), commits);
  Put(*be, Bucket::kKey, "k9", "v");
  EXPECT_EQ(be->Commits(), commits + 1);
  BatchTx* tx = be->batch_tx();
  tx->Lock();
  EXPECT_EQ(tx->pending(), 0);
  tx->Unlock();
}

TEST_F(BackendTest, CommitsAtBatchInterval) {
  BackendOptions options = Quiet(path_);
  options.batch_interval = absl::Milliseconds(10);
  std::unique_ptr<Backend> be = MustOpen(options);
  const int64_t commits = be->Commits();
  Put(*be, Bucket::kKey, "k", "v");
  EXPECT_TRUE(testutil::WaitUntil([&] { return be->Commits() > commits; }, absl::Seconds(10)));
  // Nothing pending: no empty commits.
  const int64_t after = be->Commits();
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(be->Commits(), after);
}

TEST_F(BackendTest, ConcurrentReadersSeeWholeTransactions) {
  BackendOptions options = Quiet(path_);
  options.batch_limit = 50;
  std::unique_ptr<Backend> be = MustOpen(options);
  Put(*be, Bucket::kKey, "a", "0");
  Put(*be, Bucket::kKey, "b", "0");
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      int last = 0;
      while (!done.load()) {
        std::unique_ptr<ReadTx> tx = be->ConcurrentReadTx();
        std::optional<absl::string_view> a = tx->UnsafeGet(Bucket::kKey, "a");
        std::optional<absl::string_view> b = tx->UnsafeGet(Bucket::kKey, "b");
        std::vector<KeyValueView> both = tx->UnsafeRange(Bucket::kKey, "a", "c", 0);
        if (!a || !b || *a != *b || both.size() != 2 || both[0].value != both[1].value) {
          bad.fetch_add(1);
          continue;
        }
        const int n = std::stoi(std::string(*a));
        if (n < last) bad.fetch_add(1);  // never goes back in time
        last = n;
        reads.fetch_add(1);
      }
    });
  }
  // Both keys change in one transaction; commits happen every 50 writes.
  BatchTx* tx = be->batch_tx();
  for (int i = 1; i <= 3000; ++i) {
    tx->Lock();
    tx->UnsafePut(Bucket::kKey, "a", std::to_string(i));
    tx->UnsafePut(Bucket::kKey, "b", std::to_string(i));
    tx->Unlock();
  }
  EXPECT_TRUE(testutil::WaitUntil([&] { return reads.load() > 100; }, absl::Seconds(30)));
  done.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(be->Commits(), 50);
  EXPECT_EQ(Get(*be, Bucket::kKey, "a"), "3000");
}

TEST_F(BackendTest, MapGrowsPastInitialSize) {
  BackendOptions options = Quiet(path_);
  options.initial_map_size = 1 << 20;
  options.batch_limit = 500;
  std::unique_ptr<Backend> be = MustOpen(options);
  const int64_t initial = be->MapSize();
  EXPECT_EQ(initial, 1 << 20);
  // A reader thread keeps reading while the map grows under it.
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      std::unique_ptr<ReadTx> tx = be->ConcurrentReadTx();
      tx->UnsafeGet(Bucket::kKey, "k00000");
      reads.fetch_add(1);
    }
  });
  const std::string value(1000, 'v');
  for (int i = 0; i < 12000; ++i) {
    Put(*be, Bucket::kKey, absl::StrFormat("k%05d", i), value);
  }
  be->ForceCommit();
  done.store(true);
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_GT(be->MapSize(), initial);
  EXPECT_GT(be->Size(), 12000 * 1000);
  EXPECT_EQ(Dump(*be, Bucket::kKey).size(), 12000u);
  ASSERT_OK(be->Close());
  // Reopening with the small initial size adopts the file's size.
  be = MustOpen(options);
  EXPECT_EQ(Get(*be, Bucket::kKey, "k11999"), value);
  Put(*be, Bucket::kKey, "more", value);
  be->ForceCommit();
  EXPECT_EQ(Dump(*be, Bucket::kKey).size(), 12001u);
}

TEST_F(BackendTest, DefragKeepsDataAndShrinks) {
  BackendOptions options = Quiet(path_);
  options.batch_limit = 1000;
  std::unique_ptr<Backend> be = MustOpen(options);
  const std::string value(500, 'x');
  for (int i = 0; i < 5000; ++i) Put(*be, Bucket::kKey, absl::StrFormat("k%05d", i), value);
  Put(*be, Bucket::kMeta, "consistent_index", "12345678");
  be->ForceCommit();
  BatchTx* tx = be->batch_tx();
  for (int i = 0; i < 5000; ++i) {
    if (i % 10 == 0) continue;
    tx->Lock();
    tx->UnsafeDelete(Bucket::kKey, absl::StrFormat("k%05d", i));
    tx->Unlock();
  }
  // Uncommitted writes before Defrag are kept too.
  Put(*be, Bucket::kAlarm, "alarm", "");
  const std::map<std::string, std::string> keys = Dump(*be, Bucket::kKey);
  ASSERT_EQ(keys.size(), 500u);
  ASSERT_OK_AND_ASSIGN(uint32_t hash_before, be->Hash({}));
  be->ForceCommit();
  const int64_t size_before = be->Size();
  EXPECT_LE(be->SizeInUse(), size_before);

  ASSERT_OK(be->Defrag());
  EXPECT_LT(be->Size(), size_before / 2);
  EXPECT_FALSE(fileutil::Exist(path_ + ".defrag.tmp"));
  EXPECT_EQ(Dump(*be, Bucket::kKey), keys);
  ASSERT_OK_AND_ASSIGN(uint32_t hash_after, be->Hash({}));
  EXPECT_EQ(hash_after, hash_before);
  // Writes and reopen still work, and the lock moved to the new file.
  Put(*be, Bucket::kKey, "after", "defrag");
  EXPECT_TRUE(fileutil::IsLocked(fileutil::TryLockFile(path_).status()));
  ASSERT_OK(be->Close());
  be = MustOpen(options);
  EXPECT_EQ(Get(*be, Bucket::kKey, "after"), "defrag");
  EXPECT_EQ(Get(*be, Bucket::kAlarm, "alarm"), "");
  EXPECT_EQ(Dump(*be, Bucket::kKey).size(), 501u);
}

TEST_F(BackendTest, ReplaceWithSwapsInAnotherDatabase) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  Put(*be, Bucket::kKey, "old", "1");
  be->ForceCommit();
  // The replacement: another backend's file, as a leader's snapshot would be.
  const std::string other = path_ + ".incoming";
  {
    std::unique_ptr<Backend> src = MustOpen(Quiet(other));
    Put(*src, Bucket::kKey, "new", "2");
    Put(*src, Bucket::kMeta, "consistent_index", "12345678");
    ASSERT_OK(src->Close());
  }
  std::unique_ptr<ReadTx> before = be->ConcurrentReadTx();
  before.reset();  // readers must be gone for the swap (it waits for them)
  ASSERT_OK(be->ReplaceWith(other));
  EXPECT_FALSE(fileutil::Exist(other));
  EXPECT_EQ(Get(*be, Bucket::kKey, "new"), "2");
  EXPECT_EQ(Dump(*be, Bucket::kKey).size(), 1u);
  Put(*be, Bucket::kKey, "after", "3");
  ASSERT_OK(be->Close());
  be = MustOpen(Quiet(path_));
  EXPECT_EQ(Get(*be, Bucket::kKey, "after"), "3");
  EXPECT_EQ(Get(*be, Bucket::kMeta, "consistent_index"), "12345678");
}

TEST_F(BackendTest, ReplaceWithRefusesAFileThatIsNotADatabase) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  Put(*be, Bucket::kKey, "kept", "1");
  const std::string junk = path_ + ".junk";
  ASSERT_OK(testutil::WriteFile(junk, std::string(100000, 'j')));
  absl::Status s = be->ReplaceWith(junk);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find(junk), absl::string_view::npos);
  EXPECT_EQ(Get(*be, Bucket::kKey, "kept"), "1");
  EXPECT_EQ(be->ReplaceWith(path_ + ".missing").code(), absl::StatusCode::kDataLoss);
}

TEST_F(BackendTest, DefragWaitsForReaders) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  Put(*be, Bucket::kKey, "a", "1");
  std::unique_ptr<ReadTx> reader = be->ConcurrentReadTx();
  std::atomic<bool> defragged{false};
  std::thread t([&] {
    EXPECT_OK(be->Defrag());
    defragged.store(true);
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(defragged.load());
  // The reader still sees its data while Defrag waits.
  EXPECT_EQ(reader->UnsafeGet(Bucket::kKey, "a"), "1");
  reader.reset();
  t.join();
  EXPECT_TRUE(defragged.load());
  EXPECT_EQ(Get(*be, Bucket::kKey, "a"), "1");
}

TEST_F(BackendTest, SnapshotIsPointInTimeWhileWritesContinue) {
  BackendOptions options = Quiet(path_);
  options.batch_limit = 100;
  std::unique_ptr<Backend> be = MustOpen(options);
  const std::string value(200, 's');
  for (int i = 0; i < 3000; ++i) Put(*be, Bucket::kKey, absl::StrFormat("k%05d", i), value);
  Put(*be, Bucket::kMeta, "m", "before");  // uncommitted: the snapshot commits it
  const std::map<std::string, std::string> want = Dump(*be, Bucket::kKey);
  ASSERT_OK_AND_ASSIGN(uint32_t want_hash, be->Hash({}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Snapshot> snap, be->NewSnapshot());
  EXPECT_GT(snap->Size(), 3000 * 200);

  // Overwrite, delete and add while streaming: the stream must not change.
  BatchTx* tx = be->batch_tx();
  for (int i = 0; i < 3000; ++i) {
    tx->Lock();
    if (i % 2) {
      tx->UnsafeDelete(Bucket::kKey, absl::StrFormat("k%05d", i));
    } else {
      tx->UnsafePut(Bucket::kKey, absl::StrFormat("k%05d", i), "changed");
    }
    tx->UnsafePut(Bucket::kKey, absl::StrFormat("n%05d", i), value);
    tx->Unlock();
  }
  Put(*be, Bucket::kMeta, "m", "after");
  be->ForceCommit();

  const std::string copy = dir_.Join("copy.db");
  int fd = open(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_OK(snap->WriteTo(fd));
  close(fd);
  int64_t streamed = 0;
  ASSERT_OK(snap->WriteTo([&](absl::string_view chunk) {
    streamed += chunk.size();
    return absl::OkStatus();
  }));
  EXPECT_EQ(streamed, snap->Size());
  snap.reset();

  std::unique_ptr<Backend> restored = MustOpen(Quiet(copy));
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(Dump(*restored, Bucket::kKey), want);
  EXPECT_EQ(Get(*restored, Bucket::kMeta, "m"), "before");
  ASSERT_OK_AND_ASSIGN(uint32_t got_hash, restored->Hash({}));
  EXPECT_EQ(got_hash, want_hash);
  // The copy is a normal database: writable.
  Put(*restored, Bucket::kKey, "z", "1");
  restored->ForceCommit();
  EXPECT_EQ(Get(*be, Bucket::kMeta, "m"), "after");
}

TEST_F(BackendTest, HashIsStableAndMatchesEtcdDefinition) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  Put(*be, Bucket::kKey, "k", "v");
  Put(*be, Bucket::kMeta, "consistent_index", "ci");
  Put(*be, Bucket::kMeta, "finishedCompactRev", "f");
  // etcd's definition: bucket names in order, each followed by its pairs.
  uint32_t want = 0;
  for (Bucket b : BucketsByName()) {
    absl::string_view name = BucketName(b);
    want = crc::Update(want, name.data(), name.size());
    if (b == Bucket::kKey) {
      want = crc::Update(want, "k", 1);
      want = crc::Update(want, "v", 1);
    }
    if (b == Bucket::kMeta) {
      want = crc::Update(want, "finishedCompactRev", 18);
      want = crc::Update(want, "f", 1);
    }
  }
  const std::vector<IgnoreKey> ignores = {{Bucket::kMeta, "consistent_index"}};
  ASSERT_OK_AND_ASSIGN(uint32_t uncommitted, be->Hash(ignores));
  EXPECT_EQ(uncommitted, want);
  be->ForceCommit();
  ASSERT_OK_AND_ASSIGN(uint32_t committed, be->Hash(ignores));
  EXPECT_EQ(committed, want);
  // The ignored key does not matter; every other byte does.
  Put(*be, Bucket::kMeta, "consistent_index", "other");
  ASSERT_OK_AND_ASSIGN(uint32_t same, be->Hash(ignores));
  EXPECT_EQ(same, want);
  ASSERT_OK_AND_ASSIGN(uint32_t all, be->Hash({}));
  EXPECT_NE(all, want);
  Put(*be, Bucket::kKey, "k", "w");
  ASSERT_OK_AND_ASSIGN(uint32_t changed, be->Hash(ignores));
  EXPECT_NE(changed, want);
  ASSERT_OK(be->Close());
  be = MustOpen(Quiet(path_));
  ASSERT_OK_AND_ASSIGN(uint32_t reopened, be->Hash(ignores));
  EXPECT_EQ(reopened, changed);
}

TEST_F(BackendTest, LockedFileIsReported) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  absl::StatusOr<std::unique_ptr<Backend>> second = Backend::Open(Quiet(path_));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(IsLocked(second.status())) << second.status();
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(path_));
  ASSERT_OK(be->Close());
  // Someone else holding the file lock (as another process would).
  ASSERT_OK_AND_ASSIGN(fileutil::LockedFile other, fileutil::TryLockFile(path_));
  second = Backend::Open(Quiet(path_));
  EXPECT_TRUE(IsLocked(second.status())) << second.status();
  ASSERT_OK(other.Close());
  EXPECT_OK(Backend::Open(Quiet(path_)).status());
}

TEST_F(BackendTest, GarbageFileIsCorrupt) {
  std::string garbage(64 << 10, '\0');
  std::mt19937 rng(7);
  for (char& c : garbage) c = static_cast<char>(rng());
  ASSERT_OK(testutil::WriteFile(path_, garbage));
  absl::StatusOr<std::unique_ptr<Backend>> be = Backend::Open(Quiet(path_));
  ASSERT_FALSE(be.ok());
  EXPECT_EQ(be.status().code(), absl::StatusCode::kDataLoss) << be.status();
  EXPECT_THAT(std::string(be.status().message()), HasSubstr(path_));
  // The file is left alone, and not locked.
  ASSERT_OK_AND_ASSIGN(std::string after, testutil::ReadFile(path_));
  EXPECT_EQ(after, garbage);
  EXPECT_OK(fileutil::TryLockFile(path_).status());
}

TEST_F(BackendTest, DamagedMetaPagesAreCorrupt) {
  {
    std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
    Put(*be, Bucket::kKey, "k", "v");
    ASSERT_OK(be->Close());
  }
  ASSERT_OK_AND_ASSIGN(std::string file, testutil::ReadFile(path_));
  const size_t page = 4096;
  ASSERT_GE(file.size(), 2 * page);
  // Overwrite both meta pages' magic.
  for (size_t off : {size_t{16}, page + 16}) file.replace(off, 8, "XXXXXXXX");
  ASSERT_OK(testutil::WriteFile(path_, file));
  absl::StatusOr<std::unique_ptr<Backend>> be = Backend::Open(Quiet(path_));
  ASSERT_FALSE(be.ok());
  EXPECT_EQ(be.status().code(), absl::StatusCode::kDataLoss) << be.status();
}

TEST_F(BackendTest, TruncatedFileIsCorrupt) {
  {
    std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
    for (int i = 0; i < 2000; ++i) Put(*be, Bucket::kKey, absl::StrFormat("k%05d", i), "value");
    ASSERT_OK(be->Close());
  }
  ASSERT_OK_AND_ASSIGN(std::string file, testutil::ReadFile(path_));
  ASSERT_OK(testutil::WriteFile(path_, file.substr(0, file.size() / 2)));
  absl::StatusOr<std::unique_ptr<Backend>> be = Backend::Open(Quiet(path_));
  ASSERT_FALSE(be.ok());
  EXPECT_EQ(be.status().code(), absl::StatusCode::kDataLoss) << be.status();
  EXPECT_THAT(std::string(be.status().message()), HasSubstr("truncated"));
}

TEST_F(BackendTest, BoltFileIsNamed) {
  std::string bolt(8192, '\0');
  const unsigned char magic[4] = {0xED, 0xDA, 0x0C, 0xED};
  bolt.replace(16, 4, reinterpret_cast<const char*>(magic), 4);
  ASSERT_OK(testutil::WriteFile(path_, bolt));
  absl::StatusOr<std::unique_ptr<Backend>> be = Backend::Open(Quiet(path_));
  ASSERT_FALSE(be.ok());
  EXPECT_EQ(be.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(be.status().message()), HasSubstr("bbolt"));
}

TEST_F(BackendTest, MissingDirectoryAndBadOptions) {
  absl::StatusOr<std::unique_ptr<Backend>> be = Backend::Open(Quiet(dir_.Join("no/such/db")));
  EXPECT_EQ(be.status().code(), absl::StatusCode::kNotFound) << be.status();
  BackendOptions options = Quiet(path_);
  options.batch_limit = 0;
  EXPECT_EQ(Backend::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  options = Quiet("");
  EXPECT_EQ(Backend::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BackendTest, UnreadableFile) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  { MustOpen(Quiet(path_)); }
  ASSERT_EQ(chmod(path_.c_str(), 0), 0);
  absl::StatusOr<std::unique_ptr<Backend>> be = Backend::Open(Quiet(path_));
  EXPECT_EQ(be.status().code(), absl::StatusCode::kPermissionDenied) << be.status();
}

TEST_F(BackendTest, DirectoryInsteadOfFile) {
  ASSERT_EQ(mkdir(path_.c_str(), 0700), 0);
  absl::StatusOr<std::unique_ptr<Backend>> be = Backend::Open(Quiet(path_));
  ASSERT_FALSE(be.ok());
  EXPECT_THAT(std::string(be.status().message()), HasSubstr(path_));
}

TEST_F(BackendTest, StaleDefragCopyIsRemoved) {
  ASSERT_OK(testutil::WriteFile(path_ + ".defrag.tmp", "partial"));
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  EXPECT_FALSE(fileutil::Exist(path_ + ".defrag.tmp"));
}

TEST_F(BackendTest, LargeValuesAndMaxKey) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  const std::string big(3 << 20, 'b');
  const std::string max_key(Backend::MaxKeySize(), 'k');
  Put(*be, Bucket::kKey, max_key, big);
  be->ForceCommit();
  EXPECT_EQ(Get(*be, Bucket::kKey, max_key), big);
  // A range starting past every storable key length still works.
  std::unique_ptr<ReadTx> tx = be->ConcurrentReadTx();
  EXPECT_TRUE(tx->UnsafeRange(Bucket::kKey, std::string(600, 'k'), "z", 0).empty());
  EXPECT_EQ(tx->UnsafeRange(Bucket::kKey, std::string(600, 'a'), "z", 0).size(), 1u);
}

TEST_F(BackendTest, OversizedKeyAborts) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  EXPECT_DEATH(Put(*be, Bucket::kKey, std::string(Backend::MaxKeySize() + 1, 'k'), "v"),
               "key size");
}

TEST_F(BackendTest, CloseIsIdempotentAndCommits) {
  std::unique_ptr<Backend> be = MustOpen(Quiet(path_));
  Put(*be, Bucket::kCluster, "clusterVersion", "3.5.0");
  ASSERT_OK(be->Close());
  ASSERT_OK(be->Close());
  be.reset();
  be = MustOpen(Quiet(path_));
  EXPECT_EQ(Get(*be, Bucket::kCluster, "clusterVersion"), "3.5.0");
}

}  // namespace
}  // namespace etcd::mvcc::backend
