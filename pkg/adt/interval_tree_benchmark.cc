// Insert, stab and intersects costs of the interval tree at the sizes of a
// small and a large watcher/permission set.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "pkg/adt/interval_tree.h"

namespace etcd::adt {
namespace {

std::string RandomKey(std::mt19937_64& rng) {
  static const char kHex[] = "0123456789abcdef";
  std::string key = "/registry/";
  for (int i = 0; i < 8; ++i) key.push_back(kHex[rng() % 16]);
  return key;
}

// Half single keys (key watchers, single-key grants), half prefix ranges of
// 3 to 7 hex digits (prefix watchers, directory grants): a stab hits a few.
std::vector<Interval> RandomIntervals(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Interval> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string key = RandomKey(rng);
    if (rng() % 2 == 0) {
      out.push_back(Interval::Point(key));
    } else {
      std::string prefix = key.substr(0, 10 + 3 + rng() % 5);
      std::string end = prefix;
      ++end.back();  // a hex digit, never 0xff
      out.push_back(Interval(std::move(prefix), std::move(end)));
    }
  }
  return out;
}

void BM_Insert(benchmark::State& state) {
  const std::vector<Interval> intervals = RandomIntervals(state.range(0), 1);
  for (auto _ : state) {
    IntervalTree<int> tree;
    for (const Interval& ivl : intervals) tree.Insert(ivl, 0);
    benchmark::DoNotOptimize(tree.Len());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Insert)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

void BM_StabPoint(benchmark::State& state) {
  IntervalTree<int> tree;
  for (const Interval& ivl : RandomIntervals(state.range(0), 1)) tree.Insert(ivl, 0);
  std::mt19937_64 rng(2);
  std::vector<Interval> probes;
  for (int i = 0; i < 1024; ++i) probes.push_back(Interval::Point(RandomKey(rng)));
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    tree.Visit(probes[i++ & 1023], [&hits](const Interval&, const int&) {
      ++hits;
      return true;
    });
  }
  state.counters["hits_per_stab"] =
      benchmark::Counter(static_cast<double>(hits) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_StabPoint)->Arg(1000)->Arg(100000);

void BM_IntersectsPoint(benchmark::State& state) {
  IntervalTree<int> tree;
  for (const Interval& ivl : RandomIntervals(state.range(0), 1)) tree.Insert(ivl, 0);
  std::mt19937_64 rng(3);
  std::vector<Interval> probes;
  for (int i = 0; i < 1024; ++i) probes.push_back(Interval::Point(RandomKey(rng)));
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(tree.Intersects(probes[i++ & 1023]));
}
BENCHMARK(BM_IntersectsPoint)->Arg(1000)->Arg(100000);

}  // namespace
}  // namespace etcd::adt
