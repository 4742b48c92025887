// The store's hot paths, set up like etcd's mvcc benchmarks
// (kvstore_bench_test.go) so the figures compare: default backend batching
// (100ms / 10000 writes), 64-byte random keys and values.
//
//   bazel run -c opt //mvcc:kvstore_benchmark
//
// "Time" is wall-clock time per operation; "CPU" is the whole process's CPU
// time (the commit thread included) per operation, the figure that does not
// depend on what else the machine runs. Items per second is operations per
// CPU second.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "mvcc/backend/backend.h"
#include "mvcc/kvstore.h"
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
  Fixture() : dir(std::move(testutil::TempDir::Create("kvstore_bench")).value()) {
    backend::BackendOptions options;
    options.path = dir.Join("db");
    // ETCD_BENCH_NO_FSYNC=1 separates the CPU cost from the disk's.
    const char* no_fsync = std::getenv("ETCD_BENCH_NO_FSYNC");
    options.unsafe_no_fsync = no_fsync != nullptr && std::string(no_fsync) == "1";
    be = std::move(backend::Backend::Open(options)).value();
    store = std::move(Store::Open(be.get())).value();
  }
  ~Fixture() {
    store->Close().IgnoreError();
    store.reset();
    be->Close().IgnoreError();
  }
  testutil::TempDir dir;
  std::unique_ptr<backend::Backend> be;
  std::unique_ptr<Store> store;
};

// etcd's BenchmarkStorePut.
void BM_StorePut(benchmark::State& state) {
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
BENCHMARK(BM_StorePut)->MeasureProcessCPUTime();

// etcd's BenchmarkStoreTxnPut: an explicit write transaction per put.
void BM_StoreTxnPut(benchmark::State& state) {
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
BENCHMARK(BM_StoreTxnPut)->MeasureProcessCPUTime();

// A transaction of several operations (etcd's server applies a Txn request
// this way): 4 puts and a range in one revision.
void BM_StoreTxnMixed(benchmark::State& state) {
  Fixture f;
  const size_t n = 1 << 16;
  const std::vector<std::string> keys = RandomBytes(64, n, 5);
  const std::vector<std::string> values = RandomBytes(64, n, 6);
  size_t i = 0;
  for (auto _ : state) {
    std::unique_ptr<TxnWrite> txn = f.store->Write();
    for (int op = 0; op < 4; ++op, ++i) txn->Put(keys[i % n], values[i % n], kNoLease);
    benchmark::DoNotOptimize(txn->Range(keys[i % n], "", {}));
    txn->End();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreTxnMixed)->MeasureProcessCPUTime();

// etcd's BenchmarkStoreRangeKey1 / BenchmarkStoreRangeKey100: n keys, values
// committed to the database, then a range over one key or over all of them.
void BM_StoreRange(benchmark::State& state) {
  Fixture f;
  const size_t n = static_cast<size_t>(state.range(0));
  const std::vector<std::string> keys = RandomBytes(64, n, 7);
  const std::vector<std::string> value = RandomBytes(64, 1, 8);
  for (const std::string& k : keys) f.store->Put(k, value[0], kNoLease);
  f.store->Commit();
  const std::string begin = n == 1 ? keys[0] : std::string();
  const std::string end = n == 1 ? std::string() : std::string(1, '\0');
  for (auto _ : state) {
    absl::StatusOr<RangeResult> r = f.store->Range(begin, end, {});
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreRange)->Arg(1)->Arg(100)->MeasureProcessCPUTime();

// Reads of keys written but not yet committed (served from the batch buffer).
void BM_StoreRangeUncommitted(benchmark::State& state) {
  Fixture f;
  const std::vector<std::string> keys = RandomBytes(64, 1000, 9);
  const std::vector<std::string> value = RandomBytes(64, 1, 10);
  for (const std::string& k : keys) f.store->Put(k, value[0], kNoLease);
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<RangeResult> r = f.store->Range(keys[i++ % keys.size()], "", {});
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreRangeUncommitted);

// Range while another thread writes continuously: reads must not stall.
void BM_StoreRangeWhileWriting(benchmark::State& state) {
  static Fixture* f = nullptr;
  static std::vector<std::string>* keys = nullptr;
  if (state.thread_index() == 0) {
    f = new Fixture();
    keys = new std::vector<std::string>(RandomBytes(64, 1000, 11));
    for (const std::string& k : *keys) f->store->Put(k, "v", kNoLease);
  }
  // Thread 0 writes, the others read.
  size_t i = 0;
  for (auto _ : state) {
    if (state.thread_index() == 0) {
      f->store->Put((*keys)[i++ % keys->size()], "w", kNoLease);
    } else {
      benchmark::DoNotOptimize(f->store->Range((*keys)[i++ % keys->size()], "", {}));
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete f;
    delete keys;
  }
}
BENCHMARK(BM_StoreRangeWhileWriting)->Threads(2);

}  // namespace
}  // namespace etcd::mvcc
