// The watchable store's hot paths, set up like etcd 3.4's
// watchable_store_bench_test.go so the figures compare: default backend
// batching, default sync interval, default 128-response stream queues.
//
//   bazel run --config=opt //mvcc:watchable_store_benchmark
//
// "Time" is wall-clock time; "CPU" is the whole process's CPU time where the
// benchmark says process_time, else the benchmark thread's.
//
// BM_WatchFanout is etcd's BenchmarkWatchableStoreWatchPutSync at 10,000
// watchers of one key: one put, then the consumer polls until every watcher's
// event has arrived; items per second is events delivered per second. With
// one stream of 128 responses most watchers become victims at every put and
// are delivered by the victim thread as the consumer drains (as in etcd);
// /streams:100 spreads the watchers over 100 streams read by one consumer.
// BM_WatchCatchUp is BenchmarkWatchableStoreWatchPutUnsync: the same number
// of watchers created at a past revision (creation included in the time
// here, excluded in etcd's) and caught up by the sync thread.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "mvcc/backend/backend.h"
#include "mvcc/watchable_store.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::mvcc {
namespace {

std::vector<std::string> RandomBytes(size_t size, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out(n, std::string(size, '\0'));
  for (std::string& s : out) {
    for (size_t i = 0; i < size; i += 8) {
      const uint64_t r = rng();
      std::memcpy(s.data() + i, &r, std::min<size_t>(8, size - i));
    }
  }
  return out;
}

struct Fixture {
  explicit Fixture(WatchableStoreOptions options = {})
      : dir(std::move(testutil::TempDir::Create("watchable_bench")).value()) {
    backend::BackendOptions bopts;
    bopts.path = dir.Join("db");
    be = std::move(backend::Backend::Open(bopts)).value();
    store = std::move(WatchableStore::Open(be.get(), options)).value();
  }
  ~Fixture() {
    store->Close().IgnoreError();
    store.reset();
    be->Close().IgnoreError();
  }
  testutil::TempDir dir;
  std::unique_ptr<backend::Backend> be;
  std::unique_ptr<WatchableStore> store;
};

// etcd's BenchmarkWatchableStorePut: no watchers.
void BM_WatchableStorePut(benchmark::State& state) {
  Fixture f;
  const size_t n = 1 << 20;
  const std::vector<std::string> keys = RandomBytes(64, n, 1);
  const std::vector<std::string> values = RandomBytes(64, n, 2);
  size_t i = 0;
  for (auto _ : state) {
    f.store->Put(keys[i % n], values[i % n], kNoLease);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WatchableStorePut)->MeasureProcessCPUTime()->UseRealTime();

// etcd's BenchmarkWatchableStoreTxnPut.
void BM_WatchableStoreTxnPut(benchmark::State& state) {
  Fixture f;
  const size_t n = 1 << 20;
  const std::vector<std::string> keys = RandomBytes(64, n, 3);
  const std::vector<std::string> values = RandomBytes(64, n, 4);
  size_t i = 0;
  for (auto _ : state) {
    std::unique_ptr<TxnWrite> txn = f.store->Write();
    txn->Put(keys[i % n], values[i % n], kNoLease);
    txn->End();
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WatchableStoreTxnPut)->MeasureProcessCPUTime()->UseRealTime();

// Polls `streams` round robin until `want` events have arrived.
size_t Consume(std::vector<std::unique_ptr<WatchStream>>& streams, size_t want) {
  size_t got = 0;
  std::vector<WatchResponse> batch;
  while (got < want) {
    size_t polled = 0;
    for (auto& s : streams) {
      batch.clear();
      polled += s->PollBatch(64, &batch);
      for (const WatchResponse& r : batch) got += r.Events().size();
    }
    if (polled == 0) streams[0]->WaitForResponse(absl::Microseconds(50));
  }
  return got;
}

// 1 writer, 10,000 watchers of the written key.
void BM_WatchFanout(benchmark::State& state) {
  const int watchers = static_cast<int>(state.range(0));
  const int stream_count = static_cast<int>(state.range(1));
  Fixture f;
  std::vector<std::unique_ptr<WatchStream>> streams;
  for (int i = 0; i < stream_count; ++i) streams.push_back(f.store->NewWatchStream());
  for (int i = 0; i < watchers; ++i) {
    streams[i % stream_count]->Watch(kAutoWatchID, "testkey", "", 0).value();
  }
  size_t events = 0;
  for (auto _ : state) {
    f.store->Put("testkey", "testval", kNoLease);
    events += Consume(streams, watchers);
  }
  if (events != static_cast<size_t>(watchers) * state.iterations()) state.SkipWithError("lost");
  state.SetItemsProcessed(static_cast<int64_t>(events));
  state.counters["ns_per_event"] = benchmark::Counter(
      static_cast<double>(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  streams.clear();
}
BENCHMARK(BM_WatchFanout)
    ->ArgNames({"watchers", "streams"})
    ->Args({10000, 1})
    ->Args({10000, 100})
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// 10,000 watchers created at a past revision and caught up from the backend.
void BM_WatchCatchUp(benchmark::State& state) {
  const int watchers = static_cast<int>(state.range(0));
  Fixture f;
  f.store->Put("testkey", "testval", kNoLease);  // revision 2
  size_t events = 0;
  for (auto _ : state) {
    std::vector<std::unique_ptr<WatchStream>> streams;
    streams.push_back(f.store->NewWatchStream());
    for (int i = 0; i < watchers; ++i) {
      streams[0]->Watch(kAutoWatchID, "testkey", "", 2).value();
    }
    events += Consume(streams, watchers);
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
  state.counters["ns_per_event"] = benchmark::Counter(
      static_cast<double>(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_WatchCatchUp)
    ->Arg(10000)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// etcd's BenchmarkWatchableStoreUnsyncedCancel: cancel N of 2N unsynced
// watchers in random order.
void BM_UnsyncedCancel(benchmark::State& state) {
  WatchableStoreOptions options;
  options.run_sync_loop = false;  // keep them unsynced, as etcd's benchmark does
  Fixture f(options);
  f.store->Put("foo", "bar", kNoLease);
  std::unique_ptr<WatchStream> s = f.store->NewWatchStream();
  const int64_t n = state.max_iterations;
  std::vector<WatchID> ids;
  for (int64_t i = 0; i < 2 * n; ++i) ids.push_back(s->Watch(kAutoWatchID, "foo", "", 1).value());
  std::shuffle(ids.begin(), ids.end(), std::mt19937_64(5));
  size_t i = 0;
  for (auto _ : state) {
    if (!s->Cancel(ids[i++]).ok()) state.SkipWithError("cancel failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UnsyncedCancel)->Iterations(200000)->UseRealTime();

// etcd's BenchmarkWatchableStoreSyncedCancel: 1,000,000 synced watchers of
// one key, all cancelled in random order; time per cancel.
void BM_SyncedCancel(benchmark::State& state) {
  Fixture f;
  f.store->Put("foo", "bar", kNoLease);
  std::unique_ptr<WatchStream> s = f.store->NewWatchStream();
  const int64_t n = state.max_iterations;
  std::vector<WatchID> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(s->Watch(kAutoWatchID, "foo", "", 0).value());
  std::shuffle(ids.begin(), ids.end(), std::mt19937_64(6));
  size_t i = 0;
  for (auto _ : state) {
    if (!s->Cancel(ids[i++]).ok()) state.SkipWithError("cancel failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SyncedCancel)->Iterations(1000000)->UseRealTime();

}  // namespace
}  // namespace etcd::mvcc

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's deadlock
  // detection on (every Lock updates a process-wide lock graph); release
  // builds of Abseil, and this project's servers, have it off.
  // ETCD_BENCH_DEADLOCK_DETECTION=1 keeps it.
  const char* keep = std::getenv("ETCD_BENCH_DEADLOCK_DETECTION");
  if (keep == nullptr || std::string(keep) != "1") {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
