// Throughput of the CRC32C paths at WAL-typical sizes: a small record, a
// page, a large entry.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "pkg/crc/crc.h"

namespace etcd::crc {
namespace {

template <uint32_t (*kUpdate)(uint32_t, const void*, size_t)>
void BM_Crc(benchmark::State& state) {
  if (kUpdate == &UpdateHardware && !HardwareAvailable()) {
    state.SkipWithError("no SSE4.2 on this CPU");
    return;
  }
  std::vector<uint8_t> data(static_cast<size_t>(state.range(0)));
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = kUpdate(crc, data.data(), data.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

BENCHMARK_TEMPLATE(BM_Crc, UpdatePortable)->Arg(64)->Arg(4 << 10)->Arg(1 << 20);
BENCHMARK_TEMPLATE(BM_Crc, UpdateHardware)->Arg(64)->Arg(4 << 10)->Arg(1 << 20);

}  // namespace
}  // namespace etcd::crc
