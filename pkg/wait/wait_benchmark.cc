// Register + Trigger round trips, from one thread and from several threads
// at once (the shards keep them apart).

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "pkg/wait/wait.h"
#include "pkg/wait/wait_time.h"

namespace {

void BM_RegisterTriggerCallback(benchmark::State& state) {
  static etcd::wait::Wait<int> waiters;
  static std::atomic<uint64_t> next_id{0};
  int sum = 0;
  for (auto _ : state) {
    const uint64_t id = next_id.fetch_add(1, std::memory_order_relaxed);
    (void)waiters.Register(id, [&sum](int v) { sum += v; });
    waiters.Trigger(id, 1);
  }
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_RegisterTriggerCallback)->Threads(1)->Threads(2);

void BM_RegisterTriggerFuture(benchmark::State& state) {
  etcd::wait::Wait<int> waiters;
  uint64_t id = 0;
  for (auto _ : state) {
    absl::StatusOr<etcd::wait::Future<int>> f = waiters.Register(++id);
    waiters.Trigger(id, 1);
    benchmark::DoNotOptimize(f->Wait());
  }
}
BENCHMARK(BM_RegisterTriggerFuture);

void BM_WaitTimeAdvance(benchmark::State& state) {
  etcd::wait::WaitTime applied;
  uint64_t index = 0;
  int released = 0;
  for (auto _ : state) {
    applied.Wait(index + 1, [&released](uint64_t) { ++released; });
    applied.Trigger(++index);
  }
  benchmark::DoNotOptimize(released);
}
BENCHMARK(BM_WaitTimeAdvance);

}  // namespace
