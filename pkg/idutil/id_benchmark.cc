#include <benchmark/benchmark.h>

#include "absl/time/clock.h"
#include "pkg/idutil/id.h"

namespace {

void BM_Next(benchmark::State& state) {
  static etcd::idutil::Generator ids(0x12, absl::Now());
  for (auto _ : state) benchmark::DoNotOptimize(ids.Next());
}
BENCHMARK(BM_Next)->Threads(1)->Threads(2);

}  // namespace
