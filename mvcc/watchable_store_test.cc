#include "mvcc/watchable_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "mvcc/errors.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::mvcc {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kFromKey(1, '\0');
constexpr absl::Duration kDeadline = absl::Seconds(60);

std::string Show(const mvccpb::Event& ev) {
  std::string out =
      absl::StrCat(ev.type() == mvccpb::Event::PUT ? "PUT " : "DELETE ", ev.kv().key());
  if (ev.type() == mvccpb::Event::PUT) absl::StrAppend(&out, "=", ev.kv().value());
  absl::StrAppend(&out, "@", ev.kv().mod_revision());
  if (ev.has_prev_kv()) {
    absl::StrAppend(&out, " prev ", ev.prev_kv().value(), "@", ev.prev_kv().mod_revision());
  }
  return out;
}

// Collects a stream's responses per watch ID.
class Collector {
 public:
  explicit Collector(WatchStream* stream) : stream_(stream) {}

  void Drain() {
    while (std::optional<WatchResponse> r = stream_->Poll()) by_id_[r->watch_id].push_back(*r);
  }
  const std::vector<WatchResponse>& Responses(WatchID id) { return by_id_[id]; }
  std::vector<std::string> Events(WatchID id) {
    std::vector<std::string> out;
    for (const WatchResponse& r : by_id_[id]) {
      for (const mvccpb::Event& ev : r.Events()) out.push_back(Show(ev));
    }
    return out;
  }
  size_t EventCount(WatchID id) {
    size_t n = 0;
    for (const WatchResponse& r : by_id_[id]) n += r.Events().size();
    return n;
  }
  // Polls until `id` has `n` events (true) or the deadline passes.
  bool WaitForEvents(WatchID id, size_t n) {
    return testutil::WaitUntil(
        [&] {
          Drain();
          return EventCount(id) >= n;
        },
        kDeadline, absl::Milliseconds(1));
  }
  bool WaitForResponses(WatchID id, size_t n) {
    return testutil::WaitUntil(
        [&] {
          Drain();
          return by_id_[id].size() >= n;
        },
        kDeadline, absl::Milliseconds(1));
  }

 private:
  WatchStream* const stream_;
  std::map<WatchID, std::vector<WatchResponse>> by_id_;
};

class WatchableStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, testutil::TempDir::Create("watchable"));
    options_.sync_interval = absl::Milliseconds(5);
    options_.victim_retry_interval = absl::Milliseconds(5);
  }
  void TearDown() override {
    if (store_ != nullptr) {
      ASSERT_OK(store_->Close());
    }
    store_.reset();
    if (backend_ != nullptr) {
      ASSERT_OK(backend_->Close());
    }
  }
  void Open() {
    backend::BackendOptions bopts;
    bopts.path = dir_.Join("db");
    bopts.batch_interval = absl::Milliseconds(10);
    bopts.initial_map_size = 64 << 20;
    ASSERT_OK_AND_ASSIGN(backend_, backend::Backend::Open(bopts));
    ASSERT_OK_AND_ASSIGN(store_, WatchableStore::Open(backend_.get(), options_));
  }
  WatchID MustWatch(WatchStream* s, const std::string& key, const std::string& end = "",
                    int64_t start_rev = 0, WatchOptions options = {}) {
    absl::StatusOr<WatchID> id = s->Watch(kAutoWatchID, key, end, start_rev, options);
    EXPECT_OK(id);
    return id.value_or(-100);
  }

  testutil::TempDir dir_ = std::move(testutil::TempDir::Create("unused")).value();
  WatchableStoreOptions options_;
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<WatchableStore> store_;
};

TEST_F(WatchableStoreTest, EventsFromNowInOrder) {
  Open();
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  Collector c(s.get());
  const WatchID id = MustWatch(s.get(), "foo");
  store_->Put("foo", "1", kNoLease);    // 2
  store_->Put("other", "x", kNoLease);  // 3
  store_->Put("foo", "2", kNoLease);    // 4
  store_->DeleteRange("foo", "");       // 5
  store_->DeleteRange("foo", "");       // nothing: no revision
  store_->Put("foo", "3", kNoLease);    // 6
  ASSERT_TRUE(c.WaitForEvents(id, 4));
  EXPECT_THAT(c.Events(id),
              ElementsAre("PUT foo=1@2", "PUT foo=2@4", "DELETE foo@5", "PUT foo=3@6"));
  // One response per revision, with the revision of the write.
  const std::vector<WatchResponse>& rs = c.Responses(id);
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[0].revision, 2);
  EXPECT_EQ(rs[3].revision, 6);
  EXPECT_EQ(rs[0].watch_id, id);
  EXPECT_EQ(rs[0].compact_revision, 0);
  // Full key-values for puts.
  const mvccpb::KeyValue& kv = rs[1].Events()[0].kv();
  EXPECT_EQ(kv.create_revision(), 2);
  EXPECT_EQ(kv.version(), 2);
}

TEST_F(WatchableStoreTest, TxnEventsInOneResponse) {
  Open();
  store_->Put("b", "0", kNoLease);  // 2
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  Collector c(s.get());
  const WatchID all = MustWatch(s.get(), "", kFromKey);
  const WatchID b = MustWatch(s.get(), "b");
  {
    std::unique_ptr<TxnWrite> txn = store_->Write();
    txn->Put("a", "1", kNoLease);
    txn->DeleteRange("b", "");
    txn->Put("c", "1", kNoLease);
    txn->Put("a", "2", kNoLease);
  }  // 3
  ASSERT_TRUE(c.WaitForEvents(all, 4));
  ASSERT_TRUE(c.WaitForEvents(b, 1));
  ASSERT_EQ(c.Responses(all).size(), 1u);
  EXPECT_THAT(c.Events(all), ElementsAre("PUT a=1@3", "DELETE b@3", "PUT c=1@3", "PUT a=2@3"));
  EXPECT_THAT(c.Events(b), ElementsAre("DELETE b@3"));
}

TEST_F(WatchableStoreTest, RangeAndFromKeyWatchers) {
  Open();
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  Collector c(s.get());
  const WatchID range = MustWatch(s.get(), "b", "d");
  const WatchID from_c = MustWatch(s.get(), "c", kFromKey);
  const WatchID prefix = MustWatch(s.get(), "b", "c");  // prefix "b"
  for (const char* k : {"a", "b", "bz", "c", "d", "zz"}) store_->Put(k, "v", kNoLease);
  ASSERT_TRUE(c.WaitForEvents(range, 3));
  ASSERT_TRUE(c.WaitForEvents(from_c, 3));
  ASSERT_TRUE(c.WaitForEvents(prefix, 2));
  EXPECT_THAT(c.Events(range), ElementsAre("PUT b=v@3", "PUT bz=v@4", "PUT c=v@5"));
  EXPECT_THAT(c.Events(from_c), ElementsAre("PUT c=v@5", "PUT d=v@6", "PUT zz=v@7"));
  EXPECT_THAT(c.Events(prefix), ElementsAre("PUT b=v@3", "PUT bz=v@4"));
}

TEST_F(WatchableStoreTest, Filters) {
  Open();
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  Collector c(s.get());
  WatchOptions no_put;
  no_put.no_put = true;
  WatchOptions no_delete;
  no_delete.no_delete = true;
  const WatchID deletes = MustWatch(s.get(), "k", "", 0, no_put);
  const WatchID puts = MustWatch(s.get(), "k", "", 0, no_delete);
  const WatchID past_deletes = MustWatch(s.get(), "k", "", 1, no_put);  // unsynced
  store_->Put("k", "1", kNoLease);
  store_->DeleteRange("k", "");
  store_->Put("k", "2", kNoLease);
  ASSERT_TRUE(c.WaitForEvents(puts, 2));
  ASSERT_TRUE(c.WaitForEvents(deletes, 1));
  ASSERT_TRUE(c.WaitForEvents(past_deletes, 1));
  // Give the store every chance to deliver something wrong, then check.
  const WatchID probe = MustWatch(s.get(), "k");
  store_->Put("k", "3", kNoLease);
  ASSERT_TRUE(c.WaitForEvents(probe, 1));
  EXPECT_THAT(c.Events(puts), ElementsAre("PUT k=1@2", "PUT k=2@4", "PUT k=3@5"));
  EXPECT_THAT(c.Events(deletes), ElementsAre("DELETE k@3"));
  EXPECT_THAT(c.Events(past_deletes), ElementsAre("DELETE k@3"));
  // A response with nothing left after filtering is not sent.
  for (const WatchResponse& r : c.Responses(deletes)) EXPECT_FALSE(r.Events().empty());
}

TEST_F(WatchableStoreTest, PrevKvSyncedAndCatchingUp) {
  Open();
  store_->Put("k", "1", kNoLease);  // 2
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  Collector c(s.get());
  WatchOptions prev;
  prev.prev_kv = true;
  const WatchID now = MustWatch(s.get(), "k", "", 0, prev);
  const WatchID without = MustWatch(s.get(), "k");
  store_->Put("k", "2", kNoLease);  // 3
  store_->DeleteRange("k", "");     // 4
  store_->Put("k", "3", kNoLease);  // 5
  const WatchID past = MustWatch(s.get(), "k", "", 2, prev);
  ASSERT_TRUE(c.WaitForEvents(now, 3));
  ASSERT_TRUE(c.WaitForEvents(past, 4));
  ASSERT_TRUE(c.WaitForEvents(without, 3));
  EXPECT_THAT(c.Events(now), ElementsAre("PUT k=2@3 prev 1@2", "DELETE k@4 prev 2@3", "PUT k=3@5"));
  EXPECT_THAT(c.Events(past),
              ElementsAre("PUT k=1@2", "PUT k=2@3 prev 1@2", "DELETE k@4 prev 2@3", "PUT k=3@5"));
  EXPECT_THAT(c.Events(without), ElementsAre("PUT k=2@3", "DELETE k@4", "PUT k=3@5"));
}

TEST_F(WatchableStoreTest, WatchFromPastRevisionThenLive) {
  options_.sync_read_limit = 7;  // many catch-up rounds
  options_.max_revisions_per_response = 5;
  Open();
  for (int i = 0; i < 100; ++i) store_->Put(absl::StrCat("k", i % 3), absl::StrCat(i), kNoLease);
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  Collector c(s.get());
  const WatchID id = MustWatch(s.get(), "k0", "k1", 10);
  // Revisions 2..101 hold puts of k0 at i % 3 == 0, i.e. revisions 2, 5, ...
  std::vector<std::string> want;
  for (int i = 0; i < 100; i += 3) {
    if (i + 2 >= 10) want.push_back(absl::StrCat("PUT k0=", i, "@", i + 2));
  }
  ASSERT_TRUE(c.WaitForEvents(id, want.size()));
  store_->Put("k0", "live", kNoLease);  // 102
  want.push_back("PUT k0=live@102");
  ASSERT_TRUE(c.WaitForEvents(id, want.size()));
  EXPECT_EQ(c.Events(id), want);
  // At most 5 revisions per catch-up response.
  for (const WatchResponse& r : c.Responses(id)) {
    EXPECT_LE(r.Events().back().kv().mod_revision() - r.Events().front().kv().mod_revision(),
              4 * 3);
  }
  EXPECT_GT(c.Responses(id).size(), 5u);
}

// Writers keep writing while watchers from past revisions catch up and join
// the synced group: every watcher gets every revision exactly once.
TEST_F(WatchableStoreTest, NoGapsAcrossUnsyncedToSynced) {
  options_.sync_read_limit = 16;
  options_.max_revisions_per_response = 4;
  options_.max_watchers_per_sync = 8;
  options_.sync_interval = absl::Milliseconds(1);
  Open();
  for (int i = 0; i < 50; ++i) store_->Put("k", absl::StrCat(i), kNoLease);  // 2..51
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  Collector c(s.get());
  std::atomic<bool> stop{false};
  std::atomic<int64_t> last{51};
  std::thread writer([&] {
    for (int i = 50; !stop.load(); ++i) {
      last.store(store_->Put("k", absl::StrCat(i), kNoLease));
      if (i >= 2000) break;
    }
  });
  std::map<WatchID, int64_t> starts;
  for (int i = 0; i < 40; ++i) {
    const int64_t start = 2 + (i * 37) % 45;
    starts[MustWatch(s.get(), "k", "", start)] = start;
    c.Drain();
  }
  stop.store(true);
  writer.join();
  const int64_t end = last.load();
  for (const auto& [id, start] : starts) {
    ASSERT_TRUE(c.WaitForEvents(id, static_cast<size_t>(end - start + 1))) << "watch " << id;
  }
  c.Drain();
  for (const auto& [id, start] : starts) {
    int64_t want = start;
    for (const WatchResponse& r : c.Responses(id)) {
      for (const mvccpb::Event& ev : r.Events()) {
        ASSERT_EQ(ev.kv().mod_revision(), want) << "watch " << id << " from " << start;
        ++want;
      }
    }
    EXPECT_EQ(want, end + 1);
  }
  const WatchableStore::WatcherCounts counts = store_->Counts();
  EXPECT_EQ(counts.synced, starts.size());
  EXPECT_EQ(counts.unsynced, 0u);
}

TEST_F(WatchableStoreTest, CompactedStartRevisionReported) {
  Open();
  for (int i = 0; i < 10; ++i) store_->Put("k", absl::StrCat(i), kNoLease);  // 2..11
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<CompactionFuture> f, store_->Compact(8));
  ASSERT_OK(f->Wait());
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  Collector c(s.get());
  ASSERT_OK_AND_ASSIGN(const WatchID old, s->Watch(5, "k", "", 3));  // (0 would mean "auto")
  const WatchID at = MustWatch(s.get(), "k", "", 8);  // not below the compaction: fine
  ASSERT_TRUE(c.WaitForResponses(old, 1));
  ASSERT_TRUE(c.WaitForEvents(at, 4));
  ASSERT_EQ(c.Responses(old).size(), 1u);
  EXPECT_EQ(c.Responses(old)[0].compact_revision, 8);
  EXPECT_THAT(c.Responses(old)[0].Events(), IsEmpty());
  EXPECT_THAT(c.Events(at), ElementsAre("PUT k=6@8", "PUT k=7@9", "PUT k=8@10", "PUT k=9@11"));
  // The compacted watcher is dropped but its ID stays until Cancel.
  store_->Put("k", "x", kNoLease);
  ASSERT_TRUE(c.WaitForEvents(at, 5));
  c.Drain();
  EXPECT_EQ(c.Responses(old).size(), 1u);
  EXPECT_TRUE(IsWatcherDuplicateID(s->Watch(old, "k", "", 0).status()));
  EXPECT_OK(s->Cancel(old));
}

// A watcher falls behind (its queue is full), the history it needs is
// compacted meanwhile; when the consumer drains, it is told so.
TEST_F(WatchableStoreTest, CompactionWhileWatching) {
  Open();
  WatchStreamOptions so;
  so.queue_capacity = 1;
  std::unique_ptr<WatchStream> s = store_->NewWatchStream(so);
  Collector c(s.get());
  const WatchID id = MustWatch(s.get(), "k");
  for (int i = 0; i < 10; ++i) store_->Put("k", absl::StrCat(i), kNoLease);  // 2..11
  EXPECT_EQ(store_->Counts().victims, 1u);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<CompactionFuture> f, store_->Compact(9));
  ASSERT_OK(f->Wait());
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        c.Drain();
        const std::vector<WatchResponse>& rs = c.Responses(id);
        return !rs.empty() && rs.back().compact_revision != 0;
      },
      kDeadline, absl::Milliseconds(1)));
  // The first two revisions (one queued, one parked), then the notice.
  EXPECT_THAT(c.Events(id), ElementsAre("PUT k=0@2", "PUT k=1@3"));
  EXPECT_EQ(c.Responses(id).back().compact_revision, 9);
  store_->Put("k", "after", kNoLease);
  const WatchID probe = MustWatch(s.get(), "k", "", 12);
  ASSERT_TRUE(c.WaitForEvents(probe, 1));
  EXPECT_EQ(c.Responses(id).size(), 3u);
}

TEST_F(WatchableStoreTest, ProgressNotifications) {
  Open();
  store_->Put("k", "1", kNoLease);  // 2
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  Collector c(s.get());
  const WatchID synced = MustWatch(s.get(), "k");
  s->RequestProgress(synced);
  ASSERT_TRUE(c.WaitForResponses(synced, 1));
  EXPECT_EQ(c.Responses(synced)[0].revision, 2);
  EXPECT_THAT(c.Responses(synced)[0].Events(), IsEmpty());
  EXPECT_TRUE(s->RequestProgressAll());
  ASSERT_TRUE(c.WaitForResponses(kProgressAllWatchID, 1));
  EXPECT_EQ(c.Responses(kProgressAllWatchID)[0].revision, 2);
  s->RequestProgress(12345);  // unknown: ignored

  // An unsynced watcher gets no progress notification. Keep it unsynced by
  // parking it as a victim behind a full queue of another stream.
  WatchStreamOptions so;
  so.queue_capacity = 1;
  std::unique_ptr<WatchStream> slow = store_->NewWatchStream(so);
  const WatchID lagging = MustWatch(slow.get(), "k");
  store_->Put("k", "2", kNoLease);
  store_->Put("k", "3", kNoLease);
  ASSERT_EQ(store_->Counts().victims, 1u);
  slow->RequestProgress(lagging);
  EXPECT_FALSE(slow->RequestProgressAll());
  EXPECT_EQ(slow->QueuedResponses(), 1u);  // just the first event
  Collector sc(slow.get());
  ASSERT_TRUE(sc.WaitForEvents(lagging, 2));
  ASSERT_TRUE(testutil::WaitUntil([&] { return store_->Counts().victims == 0; }, kDeadline));
  EXPECT_TRUE(slow->RequestProgressAll());
  ASSERT_TRUE(sc.WaitForResponses(kProgressAllWatchID, 1));
  EXPECT_EQ(sc.Responses(kProgressAllWatchID)[0].revision, 4);
}

TEST_F(WatchableStoreTest, IdsAndErrors) {
  Open();
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  EXPECT_EQ(MustWatch(s.get(), "a"), 0);  // etcd's first automatic ID
  EXPECT_EQ(MustWatch(s.get(), "a"), 1);
  ASSERT_OK_AND_ASSIGN(WatchID seven, s->Watch(7, "a", "", 0));
  EXPECT_EQ(seven, 7);
  absl::StatusOr<WatchID> dup = s->Watch(7, "b", "", 0);
  EXPECT_TRUE(IsWatcherDuplicateID(dup.status())) << dup.status();
  EXPECT_EQ(dup.status().message(), "mvcc: duplicate watch ID provided on the WatchStream");
  EXPECT_TRUE(IsEmptyWatcherRange(s->Watch(kAutoWatchID, "", "", 0).status()));
  EXPECT_TRUE(IsEmptyWatcherRange(s->Watch(kAutoWatchID, "b", "a", 0).status()));
  EXPECT_TRUE(IsEmptyWatcherRange(s->Watch(kAutoWatchID, "b", "b", 0).status()));
  EXPECT_OK(s->Watch(kAutoWatchID, "", kFromKey, 0));  // every key
  EXPECT_EQ(s->Watch(kAutoWatchID, "a", "", -1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsWatcherNotExist(s->Cancel(99)));
  EXPECT_OK(s->Cancel(7));
  EXPECT_TRUE(IsWatcherNotExist(s->Cancel(7)));
  ASSERT_OK_AND_ASSIGN(WatchID again, s->Watch(7, "a", "", 0));  // free again
  EXPECT_EQ(again, 7);
  // Automatic IDs skip taken ones.
  ASSERT_OK(s->Watch(3, "a", "", 0).status());
  EXPECT_EQ(MustWatch(s.get(), "a"), 4);  // 2 went to the every-key watch
  s->Close();
  EXPECT_TRUE(IsClosed(s->Watch(kAutoWatchID, "a", "", 0).status()));
  EXPECT_EQ(store_->Counts().synced, 0u);
}

TEST_F(WatchableStoreTest, CancelDropsQueuedResponses) {
  Open();
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  const WatchID a = MustWatch(s.get(), "k");
  const WatchID b = MustWatch(s.get(), "k");
  store_->Put("k", "1", kNoLease);
  store_->Put("k", "2", kNoLease);
  EXPECT_EQ(s->QueuedResponses(), 4u);
  ASSERT_OK(s->Cancel(a));
  EXPECT_EQ(s->QueuedResponses(), 2u);
  store_->Put("k", "3", kNoLease);
  Collector c(s.get());
  c.Drain();
  EXPECT_THAT(c.Responses(a), IsEmpty());
  EXPECT_THAT(c.Events(b), ElementsAre("PUT k=1@2", "PUT k=2@3", "PUT k=3@4"));
  EXPECT_EQ(store_->Counts().synced, 1u);
}

TEST_F(WatchableStoreTest, FutureStartRevision) {
  Open();
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  Collector c(s.get());
  const WatchID id = MustWatch(s.get(), "k", "", 4);
  for (int i = 0; i < 5; ++i) store_->Put("k", absl::StrCat(i), kNoLease);  // 2..6
  ASSERT_TRUE(c.WaitForEvents(id, 3));
  EXPECT_THAT(c.Events(id), ElementsAre("PUT k=2@4", "PUT k=3@5", "PUT k=4@6"));
}

// 5,000 watchers on one stream with the default 128-response queue: most
// become victims at every write; the writer never waits for the consumer,
// and every watcher still gets every event once, in order.
TEST_F(WatchableStoreTest, ThousandsOfWatchersOneStreamSlowConsumer) {
  Open();
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  constexpr int kWatchers = 5000;
  constexpr int kWrites = 20;
  std::vector<WatchID> ids;
  for (int i = 0; i < kWatchers; ++i) {
    ids.push_back(i % 5 == 0 ? MustWatch(s.get(), "k", "l") : MustWatch(s.get(), "k"));
  }
  // Nobody polls while the writer writes: it must finish regardless.
  for (int i = 0; i < kWrites; ++i) store_->Put("k", absl::StrCat(i), kNoLease);
  EXPECT_EQ(s->QueuedResponses(), 128u);
  // The first write filled the queue; from the second on every watcher is a
  // victim.
  EXPECT_EQ(store_->Counts().victims, static_cast<size_t>(kWatchers));

  std::map<WatchID, int64_t> next;
  for (WatchID id : ids) next[id] = 2;
  size_t events = 0;
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        while (std::optional<WatchResponse> r = s->Poll()) {
          for (const mvccpb::Event& ev : r->Events()) {
            EXPECT_EQ(ev.kv().mod_revision(), next[r->watch_id]) << "watch " << r->watch_id;
            next[r->watch_id] = ev.kv().mod_revision() + 1;
            ++events;
          }
        }
        return events >= static_cast<size_t>(kWatchers) * kWrites;
      },
      kDeadline, absl::Milliseconds(1)));
  EXPECT_EQ(events, static_cast<size_t>(kWatchers) * kWrites);
  for (const auto& [id, n] : next) ASSERT_EQ(n, 2 + kWrites) << "watch " << id;
  ASSERT_TRUE(testutil::WaitUntil([&] { return store_->Counts().synced == kWatchers; }, kDeadline));
}

// Many streams, each consumed through its notify callback on a consumer
// thread, plus one stream nobody reads: writers are not slowed by it.
TEST_F(WatchableStoreTest, ManyStreamsWithCallbacksAndAStuckOne) {
  Open();
  constexpr int kStreams = 40;
  constexpr int kPerStream = 50;
  constexpr int kWrites = 200;
  struct Consumer {
    std::unique_ptr<WatchStream> stream;
    absl::Mutex mu;
    bool signaled ABSL_GUARDED_BY(mu) = false;
    std::map<WatchID, int64_t> next;
    std::atomic<size_t> events{0};
    bool ordered = true;
  };
  std::vector<std::unique_ptr<Consumer>> consumers;
  for (int i = 0; i < kStreams; ++i) {
    auto c = std::make_unique<Consumer>();
    WatchStreamOptions so;
    so.queue_capacity = 16;
    c->stream = store_->NewWatchStream(so);
    Consumer* raw = c.get();
    c->stream->SetNotifyCallback([raw] {
      absl::MutexLock lock(&raw->mu);
      raw->signaled = true;
    });
    for (int j = 0; j < kPerStream; ++j) raw->next[MustWatch(raw->stream.get(), "key", "kez")] = 2;
    consumers.push_back(std::move(c));
  }
  WatchStreamOptions stuck_options;
  stuck_options.queue_capacity = 2;
  std::unique_ptr<WatchStream> stuck = store_->NewWatchStream(stuck_options);
  for (int j = 0; j < 100; ++j) MustWatch(stuck.get(), "key");

  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      while (!done.load()) {
        bool any = false;
        for (int i = t; i < kStreams; i += 2) {
          Consumer& c = *consumers[i];
          {
            absl::MutexLock lock(&c.mu);
            auto ready = [&c]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(c.mu) { return c.signaled; };
            if (!c.mu.AwaitWithTimeout(absl::Condition(&ready), absl::ZeroDuration())) continue;
            c.signaled = false;
          }
          any = true;
          std::vector<WatchResponse> batch;
          while (c.stream->PollBatch(64, &batch) > 0) {
            for (const WatchResponse& r : batch) {
              for (const mvccpb::Event& ev : r.Events()) {
                if (ev.kv().mod_revision() != c.next[r.watch_id]) c.ordered = false;
                c.next[r.watch_id] = ev.kv().mod_revision() + 1;
                c.events.fetch_add(1);
              }
            }
            batch.clear();
          }
        }
        if (!any) absl::SleepFor(absl::Microseconds(200));
      }
    });
  }
  for (int i = 0; i < kWrites; ++i) store_->Put("key", absl::StrCat(i), kNoLease);
  const bool all = testutil::WaitUntil(
      [&] {
        size_t total = 0;
        for (auto& c : consumers) total += c->events.load();
        return total == static_cast<size_t>(kStreams) * kPerStream * kWrites;
      },
      kDeadline, absl::Milliseconds(5));
  done.store(true);
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(all);
  for (auto& c : consumers) {
    EXPECT_TRUE(c->ordered);
    for (const auto& [id, n] : c->next) EXPECT_EQ(n, 2 + kWrites);
  }
  EXPECT_EQ(stuck->QueuedResponses(), 2u);
  EXPECT_EQ(store_->Counts().victims, 100u);  // all of the stuck stream's
  for (auto& c : consumers) c->stream->SetNotifyCallback(nullptr);
}

TEST_F(WatchableStoreTest, NotifyCallbackOnFirstResponse) {
  Open();
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  std::atomic<int> calls{0};
  s->SetNotifyCallback([&] { calls.fetch_add(1); });
  const WatchID id = MustWatch(s.get(), "k");
  store_->Put("k", "1", kNoLease);
  EXPECT_EQ(calls.load(), 1);
  store_->Put("k", "2", kNoLease);  // queue not empty: no new call
  EXPECT_EQ(calls.load(), 1);
  Collector c(s.get());
  c.Drain();
  store_->Put("k", "3", kNoLease);
  EXPECT_EQ(calls.load(), 2);
  EXPECT_THAT(c.Events(id), ElementsAre("PUT k=1@2", "PUT k=2@3"));
  // Catch-up deliveries call it too.
  c.Drain();
  MustWatch(s.get(), "k", "", 2);
  ASSERT_TRUE(testutil::WaitUntil([&] { return calls.load() == 3; }, kDeadline));
  s->Close();
  store_->Put("k", "4", kNoLease);
  EXPECT_EQ(calls.load(), 3);
}

TEST_F(WatchableStoreTest, WaitForResponseBlocksUntilEvent) {
  Open();
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  MustWatch(s.get(), "k");
  EXPECT_FALSE(s->WaitForResponse(absl::Milliseconds(1)));
  std::thread writer([&] { store_->Put("k", "1", kNoLease); });
  EXPECT_TRUE(s->WaitForResponse(kDeadline));
  writer.join();
  EXPECT_TRUE(s->Poll().has_value());
}

TEST_F(WatchableStoreTest, RestoreMakesWatchersCatchUp) {
  Open();
  std::unique_ptr<WatchStream> s = store_->NewWatchStream();
  Collector c(s.get());
  const WatchID id = MustWatch(s.get(), "k");
  store_->Put("k", "1", kNoLease);  // 2
  ASSERT_TRUE(c.WaitForEvents(id, 1));

  // A second backend with more history of k.
  backend::BackendOptions bopts;
  bopts.path = dir_.Join("db2");
  bopts.initial_map_size = 64 << 20;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<backend::Backend> other, backend::Backend::Open(bopts));
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> writer, Store::Open(other.get()));
    for (int i = 0; i < 4; ++i) writer->Put("k", absl::StrCat("r", i), kNoLease);  // 2..5
    ASSERT_OK(writer->Close());
  }
  ASSERT_OK(store_->Restore(other.get()));
  ASSERT_TRUE(c.WaitForEvents(id, 4));
  EXPECT_THAT(c.Events(id), ElementsAre("PUT k=1@2", "PUT k=r1@3", "PUT k=r2@4", "PUT k=r3@5"));
  s.reset();
  ASSERT_OK(store_->Close());
  store_.reset();
  ASSERT_OK(other->Close());
}

}  // namespace
}  // namespace etcd::mvcc
