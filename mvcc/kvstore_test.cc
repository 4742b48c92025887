#include "mvcc/kvstore.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mvcc/errors.h"
#include "mvcc/kv_codec.h"
#include "mvcc/model_checker.h"
#include "mvcc/revision.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::mvcc {
namespace {

using backend::Backend;
using backend::BackendOptions;
using backend::Bucket;

const std::string kAll(1, '\0');

mvccpb::KeyValue KV(const std::string& key, const std::string& value, int64_t create, int64_t mod,
                    int64_t version, int64_t lease = 0) {
  mvccpb::KeyValue kv;
  kv.set_key(key);
  kv.set_value(value);
  kv.set_create_revision(create);
  kv.set_mod_revision(mod);
  kv.set_version(version);
  kv.set_lease(lease);
  return kv;
}

std::vector<std::string> Show(const std::vector<mvccpb::KeyValue>& kvs) {
  std::vector<std::string> out;
  for (const auto& kv : kvs) {
    out.push_back(absl::StrCat(kv.key(), "=", kv.value(), " c", kv.create_revision(), " m",
                               kv.mod_revision(), " v", kv.version(), " l", kv.lease()));
  }
  return out;
}

class KvStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, testutil::TempDir::Create("kvstore"));
    OpenBoth();
  }
  void TearDown() override { CloseBoth(); }

  BackendOptions BackendOpts() {
    BackendOptions options;
    options.path = dir_.Join("db");
    options.batch_interval = absl::Milliseconds(20);
    options.initial_map_size = 64 << 20;
    return options;
  }

  void OpenBoth() {
    ASSERT_OK_AND_ASSIGN(backend_, Backend::Open(BackendOpts()));
    OpenStore();
  }
  void OpenStore() {
    StoreOptions options = store_options_;
    options.lessor = &lessor_;
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(backend_.get(), options));
  }
  void CloseBoth() {
    if (store_ != nullptr) {
      ASSERT_OK(store_->Close());
    }
    store_.reset();
    if (backend_ != nullptr) {
      ASSERT_OK(backend_->Close());
    }
    backend_.reset();
  }
  void Reopen() {
    CloseBoth();
    lessor_ = FakeLessor();
    OpenBoth();
  }

  // etcd's put3TestKVs: foo, foo1, foo2 at revisions 2, 3, 4.
  std::vector<mvccpb::KeyValue> Put3() {
    store_->Put("foo", "bar", 1);
    store_->Put("foo1", "bar1", 2);
    store_->Put("foo2", "bar2", 3);
    return {KV("foo", "bar", 2, 2, 1, 1), KV("foo1", "bar1", 3, 3, 1, 2),
            KV("foo2", "bar2", 4, 4, 1, 3)};
  }

  testutil::TempDir dir_ = std::move(testutil::TempDir::Create("unused")).value();
  StoreOptions store_options_;
  FakeLessor lessor_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Store> store_;
};

// Both the store's one-op calls and the same through a transaction.
enum class Via { kStore, kTxn };

class KvStoreViaTest : public KvStoreTest, public ::testing::WithParamInterface<Via> {
 protected:
  absl::StatusOr<RangeResult> Range(const std::string& key, const std::string& end,
                                    RangeOptions options = {}) {
    if (GetParam() == Via::kStore) return store_->Range(key, end, options);
    std::unique_ptr<TxnRead> txn = store_->Read();
    return txn->Range(key, end, options);
  }
  int64_t Put(const std::string& key, const std::string& value, int64_t lease) {
    if (GetParam() == Via::kStore) return store_->Put(key, value, lease);
    std::unique_ptr<TxnWrite> txn = store_->Write();
    const int64_t rev = txn->Put(key, value, lease);
    txn->End();
    return rev;
  }
  DeleteResult Delete(const std::string& key, const std::string& end) {
    if (GetParam() == Via::kStore) return store_->DeleteRange(key, end);
    std::unique_ptr<TxnWrite> txn = store_->Write();
    return txn->DeleteRange(key, end);
  }
};

INSTANTIATE_TEST_SUITE_P(Both, KvStoreViaTest, ::testing::Values(Via::kStore, Via::kTxn));

TEST_P(KvStoreViaTest, Range) {
  const std::vector<mvccpb::KeyValue> kvs = Put3();
  struct Case {
    std::string key, end;
    size_t from, to;
  };
  for (const Case& c : std::vector<Case>{{"doo", "foo", 0, 0},
                                         {"foo", "foo", 0, 0},
                                         {"doo", "", 0, 0},
                                         {"foo", "foo3", 0, 3},
                                         {"foo", "foo1", 0, 1},
                                         {"foo", "", 0, 1},
                                         {"", kAll, 0, 3},
                                         {"foo1", kAll, 1, 3}}) {
    ASSERT_OK_AND_ASSIGN(RangeResult r, Range(c.key, c.end));
    EXPECT_EQ(r.rev, 4);
    EXPECT_EQ(Show(r.kvs), Show({kvs.begin() + c.from, kvs.begin() + c.to})) << c.key;
    EXPECT_EQ(r.count, static_cast<int64_t>(c.to - c.from));
  }
}

TEST_P(KvStoreViaTest, RangeAtRevision) {
  const std::vector<mvccpb::KeyValue> kvs = Put3();
  for (const auto& [rev, n] :
       std::vector<std::pair<int64_t, size_t>>{{-1, 3}, {0, 3}, {1, 0}, {2, 1}, {3, 2}, {4, 3}}) {
    RangeOptions options;
    options.rev = rev;
    ASSERT_OK_AND_ASSIGN(RangeResult r, Range("foo", "foo3", options));
    EXPECT_EQ(r.rev, 4);
    EXPECT_EQ(Show(r.kvs), Show({kvs.begin(), kvs.begin() + n})) << rev;
  }
}

TEST_P(KvStoreViaTest, RangeBadRevision) {
  Put3();
  ASSERT_OK_AND_ASSIGN(auto done, store_->Compact(4));
  ASSERT_OK(done->Wait());
  for (const auto& [rev, error] : std::vector<std::pair<int64_t, int>>{
           {-1, 0}, {0, 0}, {1, 1}, {2, 1}, {3, 1}, {4, 0}, {5, 2}, {100, 2}}) {
    RangeOptions options;
    options.rev = rev;
    absl::StatusOr<RangeResult> r = Range("foo", "foo3", options);
    EXPECT_EQ(r.ok(), error == 0) << rev;
    if (error == 1) {
      EXPECT_TRUE(IsCompacted(r.status())) << rev << r.status();
    } else if (error == 2) {
      EXPECT_TRUE(IsFutureRev(r.status())) << rev << r.status();
    }
  }
}

TEST_P(KvStoreViaTest, RangeLimitAndCount) {
  const std::vector<mvccpb::KeyValue> kvs = Put3();
  for (const auto& [limit, n] :
       std::vector<std::pair<int64_t, size_t>>{{-1, 3}, {0, 3}, {1, 1}, {2, 2}, {3, 3}, {100, 3}}) {
    RangeOptions options;
    options.limit = limit;
    ASSERT_OK_AND_ASSIGN(RangeResult r, Range("foo", "foo3", options));
    EXPECT_EQ(Show(r.kvs), Show({kvs.begin(), kvs.begin() + n})) << limit;
    EXPECT_EQ(r.count, 3);
    EXPECT_EQ(r.rev, 4);
  }
  RangeOptions count;
  count.count = true;
  ASSERT_OK_AND_ASSIGN(RangeResult r, Range("", kAll, count));
  EXPECT_TRUE(r.kvs.empty());
  EXPECT_EQ(r.count, 3);
}

TEST_P(KvStoreViaTest, PutMultipleTimes) {
  for (int i = 0; i < 10; ++i) {
    const int64_t base = i + 1;
    EXPECT_EQ(Put("foo", "bar", base), base + 1);
    ASSERT_OK_AND_ASSIGN(RangeResult r, Range("foo", ""));
    EXPECT_EQ(Show(r.kvs), Show({KV("foo", "bar", 2, base + 1, base, base)}));
  }
}

TEST_P(KvStoreViaTest, DeleteRange) {
  struct Case {
    std::string key, end;
    int64_t rev, n;
  };
  for (const Case& c : std::vector<Case>{{"foo", "", 5, 1},
                                         {"foo", "foo1", 5, 1},
                                         {"foo", "foo2", 5, 2},
                                         {"foo", "foo3", 5, 3},
                                         {"foo3", "foo8", 4, 0},
                                         {"foo3", "", 4, 0},
                                         {"", kAll, 5, 3}}) {
    Reopen();
    ASSERT_OK(store_->Close());
    store_.reset();
    ASSERT_OK(backend_->Close());
    backend_.reset();
    ASSERT_OK(testutil::RemoveAll(dir_.Join("db")));
    ASSERT_OK(testutil::RemoveAll(dir_.Join("db-lock")));
    OpenBoth();
    Put3();
    const DeleteResult d = Delete(c.key, c.end);
    EXPECT_EQ(d.deleted, c.n) << c.key << ".." << c.end;
    EXPECT_EQ(d.rev, c.rev) << c.key << ".." << c.end;
  }
}

TEST_P(KvStoreViaTest, DeleteMultipleTimes) {
  store_->Put("foo", "bar", kNoLease);
  DeleteResult d = Delete("foo", "");
  EXPECT_EQ(d.deleted, 1);
  EXPECT_EQ(d.rev, 3);
  for (int i = 0; i < 10; ++i) {
    d = Delete("foo", "");
    EXPECT_EQ(d.deleted, 0);
    EXPECT_EQ(d.rev, 3);
  }
}

TEST_F(KvStoreTest, OperationInSequence) {
  for (int i = 0; i < 10; ++i) {
    const int64_t base = i * 2 + 1;
    EXPECT_EQ(store_->Put("foo", "bar", kNoLease), base + 1);
    RangeOptions at;
    at.rev = base + 1;
    ASSERT_OK_AND_ASSIGN(RangeResult r, store_->Range("foo", "", at));
    EXPECT_EQ(Show(r.kvs), Show({KV("foo", "bar", base + 1, base + 1, 1)}));
    EXPECT_EQ(r.rev, base + 1);
    const DeleteResult d = store_->DeleteRange("foo", "");
    EXPECT_EQ(d.deleted, 1);
    EXPECT_EQ(d.rev, base + 2);
    at.rev = base + 2;
    ASSERT_OK_AND_ASSIGN(r, store_->Range("foo", "", at));
    EXPECT_TRUE(r.kvs.empty());
    EXPECT_EQ(r.rev, base + 2);
  }
}

TEST_F(KvStoreTest, TxnOperationInSequence) {
  for (int i = 0; i < 10; ++i) {
    const int64_t base = i + 1;
    std::unique_ptr<TxnWrite> txn = store_->Write();
    EXPECT_EQ(txn->Rev(), base);
    EXPECT_EQ(txn->Put("foo", "bar", kNoLease), base + 1);
    RangeOptions at;
    at.rev = base + 1;
    ASSERT_OK_AND_ASSIGN(RangeResult r, txn->Range("foo", "", at));
    EXPECT_EQ(Show(r.kvs), Show({KV("foo", "bar", base + 1, base + 1, 1)}));
    EXPECT_EQ(r.rev, base + 1);
    const DeleteResult d = txn->DeleteRange("foo", "");
    EXPECT_EQ(d.deleted, 1);
    EXPECT_EQ(d.rev, base + 1);
    ASSERT_OK_AND_ASSIGN(r, txn->Range("foo", "", at));
    EXPECT_TRUE(r.kvs.empty());
    EXPECT_EQ(r.rev, base + 1);
    ASSERT_EQ(txn->Changes().size(), 2u);
    EXPECT_EQ(txn->Changes()[0].value(), "bar");
    EXPECT_EQ(txn->Changes()[1].key(), "foo");
    EXPECT_EQ(txn->Changes()[1].mod_revision(), 0);  // deletions carry only the key
    txn->End();
  }
  EXPECT_EQ(store_->CurrentRev(), 11);
}

TEST_F(KvStoreTest, TxnWithoutChangesKeepsRevision) {
  store_->Put("a", "1", kNoLease);
  std::unique_ptr<TxnWrite> txn = store_->Write();
  ASSERT_OK(txn->Range("a", "", {}).status());
  EXPECT_EQ(txn->DeleteRange("zzz", "").rev, 2);
  txn->End();
  EXPECT_EQ(store_->CurrentRev(), 2);
}

TEST_F(KvStoreTest, TxnBlocksOtherWritesButNotReads) {
  store_->Put("foo", "bar", kNoLease);
  for (int i = 0; i < 2; ++i) {
    std::unique_ptr<TxnWrite> txn = store_->Write();
    std::atomic<bool> done{false};
    std::thread writer([&] {
      if (i == 0) {
        store_->Put("foo", "other", kNoLease);
      } else {
        store_->DeleteRange("foo", "");
      }
      done.store(true);
    });
    // Reads (from another thread) go on while the write transaction is open.
    std::thread reader([&] {
      absl::StatusOr<RangeResult> r = store_->Range("foo", "", {});
      ASSERT_OK(r.status());
      EXPECT_EQ(r->kvs.size(), 1u);
    });
    reader.join();
    absl::SleepFor(absl::Milliseconds(20));
    EXPECT_FALSE(done.load()) << "write not blocked by an open write txn";
    txn->End();
    writer.join();
    EXPECT_TRUE(done.load());
  }
}

TEST_F(KvStoreTest, ReadTxnSeesOneRevision) {
  store_->Put("a", "1", kNoLease);
  std::unique_ptr<TxnRead> read = store_->Read();
  store_->Put("a", "2", kNoLease);
  store_->Put("b", "1", kNoLease);
  backend_->ForceCommit();
  EXPECT_EQ(read->Rev(), 2);
  ASSERT_OK_AND_ASSIGN(RangeResult r, read->Range("", kAll, {}));
  EXPECT_EQ(Show(r.kvs), Show({KV("a", "1", 2, 2, 1)}));
  EXPECT_EQ(r.rev, 2);
  RangeOptions future;
  future.rev = 3;
  EXPECT_TRUE(IsFutureRev(read->Range("a", "", future).status()));
  read->End();
  ASSERT_OK_AND_ASSIGN(r, store_->Range("", kAll, {}));
  EXPECT_EQ(r.kvs.size(), 2u);
  EXPECT_EQ(r.rev, 4);
}

TEST_F(KvStoreTest, ConcurrentReadsSeeCompleteTransactions) {
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      absl::StatusOr<RangeResult> r = store_->Range("", kAll, {});
      if (!r.ok()) {
        bad.fetch_add(1);
        continue;
      }
      // Every transaction writes "a" and "b" together.
      if (r->kvs.size() == 2 && r->kvs[0].value() != r->kvs[1].value()) bad.fetch_add(1);
      if (r->kvs.size() == 1) bad.fetch_add(1);
      if (!r->kvs.empty() && r->kvs[0].mod_revision() != r->rev) bad.fetch_add(1);
      reads.fetch_add(1);
    }
  });
  for (int i = 0; i < 2000; ++i) {
    std::unique_ptr<TxnWrite> txn = store_->Write();
    txn->Put("a", std::to_string(i), kNoLease);
    txn->Put("b", std::to_string(i), kNoLease);
    txn->End();
  }
  EXPECT_TRUE(testutil::WaitUntil([&] { return reads.load() > 50; }, absl::Seconds(30)));
  done.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(KvStoreTest, CompactReservesLastValue) {
  store_->Put("foo", "bar0", 1);
  store_->Put("foo", "bar1", 2);
  store_->DeleteRange("foo", "");
  store_->Put("foo", "bar2", 3);
  const std::vector<std::vector<mvccpb::KeyValue>> want = {
      {KV("foo", "bar0", 2, 2, 1, 1)},
      {KV("foo", "bar1", 2, 3, 2, 2)},
      {},
      {KV("foo", "bar2", 5, 5, 1, 3)},
  };
  for (int64_t rev = 1; rev <= 4; ++rev) {
    ASSERT_OK_AND_ASSIGN(auto done, store_->Compact(rev));
    ASSERT_OK(done->Wait());
    RangeOptions at;
    at.rev = rev + 1;
    ASSERT_OK_AND_ASSIGN(RangeResult r, store_->Range("foo", "", at));
    EXPECT_EQ(Show(r.kvs), Show(want[rev - 1])) << rev;
  }
}

TEST_F(KvStoreTest, CompactBadRevisions) {
  store_->Put("foo", "bar0", kNoLease);
  store_->Put("foo", "bar1", kNoLease);
  store_->Put("foo", "bar2", kNoLease);
  EXPECT_OK(store_->Compact(0).status());
  EXPECT_OK(store_->Compact(1).status());
  EXPECT_TRUE(IsCompacted(store_->Compact(1).status()));
  EXPECT_TRUE(IsCompacted(store_->Compact(0).status()));
  EXPECT_OK(store_->Compact(4).status());
  EXPECT_TRUE(IsFutureRev(store_->Compact(5).status()));
  EXPECT_TRUE(IsFutureRev(store_->Compact(100).status()));
  EXPECT_EQ(store_->CompactRev(), 4);
}

TEST_F(KvStoreTest, CompactionRemovesOldRevisionsFromBackend) {
  for (int i = 0; i < 10; ++i) store_->Put("foo", absl::StrCat("v", i), kNoLease);
  store_->Put("gone", "x", kNoLease);
  store_->DeleteRange("gone", "");  // rev 13
  ASSERT_OK_AND_ASSIGN(auto done, store_->Compact(13));
  ASSERT_OK(done->Wait());
  std::unique_ptr<backend::ReadTx> tx = backend_->ConcurrentReadTx();
  std::vector<Revision> revs;
  ASSERT_OK(tx->UnsafeForEach(Bucket::kKey, [&](absl::string_view k, absl::string_view) {
    revs.push_back(BytesToRev(k));
    return absl::OkStatus();
  }));
  // Only foo's last value survives; "gone" and its tombstone are removed.
  EXPECT_EQ(revs, (std::vector<Revision>{Revision{11, 0}}));
  EXPECT_EQ(tx->UnsafeGet(Bucket::kMeta, kFinishedCompactKey), RevToBytes(Revision{13, 0}).view());
  EXPECT_EQ(tx->UnsafeGet(Bucket::kMeta, kScheduledCompactKey), RevToBytes(Revision{13, 0}).view());
  EXPECT_EQ(store_->index().KeyCount(), 1u);
}

TEST_F(KvStoreTest, CompactionInBatchesLetsWritersIn) {
  store_options_.compaction_batch_limit = 100;
  store_options_.compaction_sleep_interval = absl::Milliseconds(5);
  Reopen();
  for (int i = 0; i < 3000; ++i) {
    std::unique_ptr<TxnWrite> txn = store_->Write();
    txn->Put(absl::StrFormat("k%02d", i % 10), "v", kNoLease);
    txn->End();
  }
  const int64_t commits = backend_->Commits();
  ASSERT_OK_AND_ASSIGN(auto done, store_->Compact(store_->CurrentRev()));
  // Writes proceed while the compaction deletes in batches.
  int writes = 0;
  while (!done->done()) {
    store_->Put("during", std::to_string(writes++), kNoLease);
  }
  ASSERT_OK(done->Wait());
  EXPECT_GT(writes, 0);
  EXPECT_GE(backend_->Commits() - commits, 3000 / 100);  // one commit per batch
  ASSERT_OK_AND_ASSIGN(RangeResult r, store_->Range("", kAll, {}));
  EXPECT_EQ(r.kvs.size(), 11u);
}

TEST_F(KvStoreTest, HashIsDeterministic) {
  uint32_t first = 0;
  for (int i = 0; i < 3; ++i) {
    Reopen();
    CloseBoth();
    ASSERT_OK(testutil::RemoveAll(dir_.Join("db")));
    OpenBoth();
    store_->SetConsistentIndex(100 + i);  // excluded from the hash
    store_->Put("foo0", "bar0", kNoLease);
    store_->Put("foo1", "bar0", kNoLease);
    ASSERT_OK_AND_ASSIGN(HashResult h, store_->Hash());
    EXPECT_EQ(h.rev, 3);
    if (i == 0) first = h.hash;
    EXPECT_EQ(h.hash, first);
  }
}

TEST_F(KvStoreTest, HashKVZeroRevisionIsCurrent) {
  for (int i = 2; i <= 300; ++i) store_->Put("foo", absl::StrCat("bar", i), kNoLease);
  ASSERT_OK_AND_ASSIGN(auto done, store_->Compact(150));
  ASSERT_OK(done->Wait());
  ASSERT_OK_AND_ASSIGN(HashKVResult at_rev, store_->HashByRev(300));
  ASSERT_OK_AND_ASSIGN(HashKVResult zero, store_->HashByRev(0));
  EXPECT_EQ(at_rev.hash, zero.hash);
  EXPECT_EQ(zero.current_rev, 300);
  EXPECT_EQ(zero.compact_rev, 150);
  EXPECT_TRUE(IsCompacted(store_->HashByRev(150).status()));
  EXPECT_TRUE(IsFutureRev(store_->HashByRev(301).status()));
}

// etcd's TestHashKVWhenCompacting: while compactions run, every HashKV at a
// fixed revision agrees with the others made at the same compacted revision.
TEST_F(KvStoreTest, HashKVStableWhileCompacting) {
  store_options_.compaction_batch_limit = 50;
  store_options_.compaction_sleep_interval = absl::Milliseconds(1);
  Reopen();
  const int64_t rev = 2000;
  for (int i = 2; i <= rev; ++i) store_->Put("foo", absl::StrCat("bar", i), kNoLease);
  std::atomic<bool> done{false};
  absl::Mutex mu;
  std::map<int64_t, uint32_t> by_compact_rev;
  std::atomic<int> checks{0};
  std::atomic<int> mismatches{0};
  std::vector<std::thread> hashers;
  for (int t = 0; t < 3; ++t) {
    hashers.emplace_back([&] {
      while (!done.load()) {
        absl::StatusOr<HashKVResult> h = store_->HashByRev(rev);
        if (!h.ok()) continue;  // compacted past rev: cannot happen here
        absl::MutexLock lock(&mu);
        auto [it, inserted] = by_compact_rev.emplace(h->compact_rev, h->hash);
        if (!inserted && it->second != h->hash) mismatches.fetch_add(1);
        checks.fetch_add(1);
      }
    });
  }
  std::shared_ptr<CompactionFuture> last;
  for (int64_t c = rev - 101; c < rev; c += 10) {
    ASSERT_OK_AND_ASSIGN(last, store_->Compact(c));
    absl::SleepFor(absl::Milliseconds(2));
  }
  ASSERT_OK(last->Wait());
  EXPECT_TRUE(testutil::WaitUntil([&] { return checks.load() > 20; }, absl::Seconds(30)));
  done.store(true);
  for (std::thread& t : hashers) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(KvStoreTest, RestoreRebuildsHistory) {
  std::vector<std::function<void(Store&)>> histories = {
      [](Store& s) {
        s.Put("foo", "bar0", 1);
        s.Put("foo", "bar1", 2);
        s.Put("foo", "bar2", 3);
        s.Put("foo2", "bar0", 1);
      },
      [](Store& s) {
        s.Put("foo", "bar0", 1);
        s.DeleteRange("foo", "");
        s.Put("foo", "bar1", 2);
      },
      [](Store& s) {
        s.Put("foo", "bar0", 1);
        s.Put("foo", "bar1", 2);
        ASSERT_OK((*s.Compact(1))->Wait());
      },
  };
  for (size_t i = 0; i < histories.size(); ++i) {
    CloseBoth();
    ASSERT_OK(testutil::RemoveAll(dir_.Join("db")));
    lessor_ = FakeLessor();
    OpenBoth();
    histories[i](*store_);
    std::vector<absl::StatusOr<RangeResult>> before;
    for (int64_t rev = 0; rev < 10; ++rev) {
      RangeOptions at;
      at.rev = rev;
      before.push_back(store_->Range("a", "z", at));
    }
    const size_t keys = store_->index().KeyCount();
    const std::map<std::string, int64_t> leases = lessor_.leases();
    Reopen();
    EXPECT_EQ(store_->index().KeyCount(), keys) << i;
    EXPECT_EQ(lessor_.leases(), leases) << i;
    for (int64_t rev = 0; rev < 10; ++rev) {
      RangeOptions at;
      at.rev = rev;
      EXPECT_EQ(DiffRangeResults(store_->Range("a", "z", at), before[rev]), "")
          << "history " << i << " rev " << rev;
    }
  }
}

TEST_F(KvStoreTest, RestoreRevisionAfterDeletes) {
  store_->Put("a", "1", kNoLease);
  store_->DeleteRange("a", "");
  store_->Put("b", "1", kNoLease);
  store_->DeleteRange("b", "");
  Reopen();
  EXPECT_EQ(store_->CurrentRev(), 5);
  EXPECT_EQ(store_->Put("c", "1", kNoLease), 6);
}

TEST_F(KvStoreTest, RestoreResumesUnfinishedCompaction) {
  store_->Put("foo", "bar", kNoLease);
  store_->Put("foo", "bar1", kNoLease);
  store_->Put("foo", "bar2", kNoLease);
  // Schedule a compaction at 3 the way Compact does, but never run it.
  backend::BatchTx* tx = backend_->batch_tx();
  tx->Lock();
  tx->UnsafePut(Bucket::kMeta, kScheduledCompactKey, RevToBytes(Revision{3, 0}));
  tx->Unlock();
  Reopen();
  RangeOptions at;
  at.rev = 2;
  EXPECT_TRUE(IsCompacted(store_->Range("foo", "", at).status()));
  EXPECT_EQ(store_->CompactRev(), 3);
  // The backend compaction runs in the background: revision 2 goes, 3 (the
  // value at the compacted revision) stays.
  EXPECT_TRUE(testutil::WaitUntil(
      [&] {
        std::unique_ptr<backend::ReadTx> rtx = backend_->ConcurrentReadTx();
        return !rtx->UnsafeGet(Bucket::kKey, RevToBytes(Revision{2, 0})).has_value() &&
               rtx->UnsafeGet(Bucket::kMeta, kFinishedCompactKey).has_value();
      },
      absl::Seconds(10)));
  std::unique_ptr<backend::ReadTx> rtx = backend_->ConcurrentReadTx();
  EXPECT_TRUE(rtx->UnsafeGet(Bucket::kKey, RevToBytes(Revision{3, 0})).has_value());
}

// A crash after a compaction removed the newest revisions (a tombstone at the
// compacted revision) but before it recorded finishing: the revision must not
// go back on restart.
TEST_F(KvStoreTest, RestoreAfterCompactionRemovedNewestRevision) {
  store_->Put("a", "1", kNoLease);  // 2
  store_->DeleteRange("a", "");     // 3
  ASSERT_OK_AND_ASSIGN(auto done, store_->Compact(3));
  ASSERT_OK(done->Wait());
  backend::BatchTx* tx = backend_->batch_tx();
  tx->Lock();
  EXPECT_TRUE(tx->UnsafeRange(Bucket::kKey, RevToBytes(Revision{1, 0}), kAll + "\xff", 0).empty());
  tx->UnsafeDelete(Bucket::kMeta, kFinishedCompactKey);
  tx->Unlock();
  Reopen();
  EXPECT_EQ(store_->CurrentRev(), 3);
  EXPECT_EQ(store_->CompactRev(), 3);
  EXPECT_EQ(store_->Put("b", "1", kNoLease), 4);
}

TEST_F(KvStoreTest, ConsistentIndexIsStoredWithChanges) {
  EXPECT_EQ(store_->ConsistentIndex(), 0u);
  store_->SetConsistentIndex(7);
  store_->Put("a", "1", kNoLease);
  {
    std::unique_ptr<backend::ReadTx> rtx = backend_->ConcurrentReadTx();
    EXPECT_EQ(rtx->UnsafeGet(Bucket::kMeta, kConsistentIndexKey),
              std::string("\0\0\0\0\0\0\0\7", 8));
  }
  // A transaction without changes does not store it; Commit does.
  store_->SetConsistentIndex(8);
  store_->DeleteRange("nothing", "");
  {
    std::unique_ptr<backend::ReadTx> rtx = backend_->ConcurrentReadTx();
    EXPECT_EQ(rtx->UnsafeGet(Bucket::kMeta, kConsistentIndexKey)->back(), '\7');
  }
  store_->Commit();
  Reopen();
  EXPECT_EQ(store_->ConsistentIndex(), 8u);
}

TEST_F(KvStoreTest, LeasesAttachDetachAndRestore) {
  store_->Put("a", "1", 5);
  store_->Put("b", "1", 6);
  EXPECT_EQ(lessor_.leases(), (std::map<std::string, int64_t>{{"a", 5}, {"b", 6}}));
  store_->Put("a", "2", 7);  // moves to lease 7
  store_->Put("b", "2", kNoLease);
  EXPECT_EQ(lessor_.leases(), (std::map<std::string, int64_t>{{"a", 7}}));
  store_->Put("c", "1", 8);
  store_->DeleteRange("c", "");
  EXPECT_EQ(lessor_.leases(), (std::map<std::string, int64_t>{{"a", 7}}));
  Reopen();
  EXPECT_EQ(lessor_.leases(), (std::map<std::string, int64_t>{{"a", 7}}));
}

TEST_F(KvStoreTest, StoredBytesAreEtcdsLayout) {
  store_->Put("foo", "bar", 9);
  store_->DeleteRange("foo", "");
  std::unique_ptr<backend::ReadTx> rtx = backend_->ConcurrentReadTx();
  std::optional<absl::string_view> put = rtx->UnsafeGet(Bucket::kKey, RevToBytes(Revision{2, 0}));
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(*put, KV("foo", "bar", 2, 2, 1, 9).SerializeAsString());
  std::optional<absl::string_view> tomb =
      rtx->UnsafeGet(Bucket::kKey, TombstoneKey(Revision{3, 0}));
  ASSERT_TRUE(tomb.has_value());
  mvccpb::KeyValue key_only;
  key_only.set_key("foo");
  EXPECT_EQ(*tomb, key_only.SerializeAsString());
}

TEST_F(KvStoreTest, StoreRestoreFromAnotherBackend) {
  store_->Put("a", "1", kNoLease);
  store_->Put("b", "2", kNoLease);
  // A second database (like one received in a raft snapshot).
  BackendOptions other_opts = BackendOpts();
  other_opts.path = dir_.Join("other.db");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> other, Backend::Open(other_opts));
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> s, Store::Open(other.get()));
    for (int i = 0; i < 5; ++i) s->Put("x", std::to_string(i), kNoLease);
    ASSERT_OK(s->Close());
  }
  ASSERT_OK(store_->Restore(other.get()));
  EXPECT_EQ(store_->CurrentRev(), 6);
  ASSERT_OK_AND_ASSIGN(RangeResult r, store_->Range("", kAll, {}));
  EXPECT_EQ(Show(r.kvs), Show({KV("x", "4", 2, 6, 5)}));
  ASSERT_OK(store_->Close());
  store_.reset();
  ASSERT_OK(other->Close());
}

TEST_F(KvStoreTest, CorruptKeyBucketFailsOpen) {
  store_->Put("a", "1", kNoLease);
  backend::BatchTx* tx = backend_->batch_tx();
  tx->Lock();
  tx->UnsafePut(Bucket::kKey, RevToBytes(Revision{3, 0}),
                "\x0a\x7f"
                "garbage");
  tx->Unlock();
  CloseBoth();
  ASSERT_OK_AND_ASSIGN(backend_, Backend::Open(BackendOpts()));
  absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(backend_.get());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
}

TEST_F(KvStoreTest, CloseCancelsPendingCompaction) {
  store_options_.compaction_batch_limit = 10;
  store_options_.compaction_sleep_interval = absl::Seconds(5);
  Reopen();
  for (int i = 0; i < 200; ++i) store_->Put("k", std::to_string(i), kNoLease);
  ASSERT_OK_AND_ASSIGN(auto done, store_->Compact(150));
  ASSERT_OK(store_->Close());
  EXPECT_TRUE(IsClosed(done->Wait()));
  store_.reset();
  // Reopening finishes it.
  store_options_.compaction_sleep_interval = absl::ZeroDuration();
  OpenStore();
  EXPECT_EQ(store_->CompactRev(), 150);
  EXPECT_TRUE(testutil::WaitUntil(
      [&] {
        std::unique_ptr<backend::ReadTx> rtx = backend_->ConcurrentReadTx();
        return rtx->UnsafeGet(Bucket::kMeta, kFinishedCompactKey).has_value();
      },
      absl::Seconds(30)));
}

}  // namespace
}  // namespace etcd::mvcc
