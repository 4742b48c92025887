// Backend hot paths: batched puts (etcd's BenchmarkBackendPut) and snapshot
// reads.
//
//   bazel run -c opt //mvcc/backend:backend_benchmark

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "mvcc/backend/backend.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::mvcc::backend {
namespace {

struct Fixture {
  Fixture() : dir(std::move(testutil::TempDir::Create("backend_bench")).value()) {
    BackendOptions options;
    options.path = dir.Join("db");
    backend = std::move(Backend::Open(options)).value();
  }
  testutil::TempDir dir;
  std::unique_ptr<Backend> backend;
};

std::string Key(int64_t i) { return absl::StrFormat("%016d", i); }

// 64-byte values, one put per lock, commits by interval and limit.
void BM_BackendPut(benchmark::State& state) {
  Fixture f;
  const std::string value(64, 'v');
  int64_t i = 0;
  BatchTx* tx = f.backend->batch_tx();
  for (auto _ : state) {
    tx->Lock();
    tx->UnsafeSeqPut(Bucket::kKey, Key(i++), value);
    tx->Unlock();
  }
  f.backend->ForceCommit();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BackendPut);

// Point reads of committed keys through a fresh ConcurrentReadTx each time.
void BM_BackendGet(benchmark::State& state) {
  Fixture f;
  const std::string value(64, 'v');
  constexpr int kKeys = 10000;
  BatchTx* tx = f.backend->batch_tx();
  tx->Lock();
  for (int i = 0; i < kKeys; ++i) tx->UnsafeSeqPut(Bucket::kKey, Key(i), value);
  tx->Unlock();
  if (state.range(0) == 1) f.backend->ForceCommit();
  int64_t i = 0;
  for (auto _ : state) {
    std::unique_ptr<ReadTx> rtx = f.backend->ConcurrentReadTx();
    benchmark::DoNotOptimize(rtx->UnsafeGet(Bucket::kKey, Key(i++ % kKeys)));
  }
  state.SetItemsProcessed(state.iterations());
}
// 0: served from the uncommitted buffer; 1: from LMDB.
BENCHMARK(BM_BackendGet)->Arg(0)->Arg(1);

}  // namespace
}  // namespace etcd::mvcc::backend
