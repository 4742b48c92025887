// CommittedIndex for growing voter counts (etcd's
// BenchmarkMajorityConfig_CommittedIndex).

#include <benchmark/benchmark.h>

#include <random>

#include "raft/quorum/quorum.h"

namespace etcd::raft::quorum {
namespace {

void BM_MajorityCommittedIndex(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  std::mt19937_64 rng(1);
  MajorityConfig c;
  MapAckIndexer l;
  for (uint64_t id = 1; id <= n; ++id) {
    c.Insert(id);
    l.Set(id, rng() >> 1);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.CommittedIndex(l));
  }
}
BENCHMARK(BM_MajorityCommittedIndex)->Arg(1)->Arg(3)->Arg(5)->Arg(7)->Arg(9)->Arg(11);

void BM_JointVoteResult(benchmark::State& state) {
  JointConfig j(MajorityConfig{1, 2, 3, 4, 5}, MajorityConfig{1, 2, 3, 6, 7});
  VoteMap votes{{1, true}, {2, true}, {3, false}, {6, true}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(j.GetVoteResult(votes));
  }
}
BENCHMARK(BM_JointVoteResult);

}  // namespace
}  // namespace etcd::raft::quorum
