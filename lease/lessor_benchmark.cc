// Lessor throughput and expiry costs, mirroring etcd's lessor_bench_test.go
// where it has a counterpart:
//
//   BM_Grant/N, BM_Renew/N, BM_Revoke/N   N leases per round on a fresh lessor
//                                         and backend (etcd's defaults: 100 ms /
//                                         10,000-write batches, fsync on); TTLs
//                                         random in [1000, 2000) s. time_per_lease
//                                         is the figure to compare with etcd's
//                                         ns/op at the default -benchtime.
//   BM_ExpireAtOnce_*/100000              100,000 leases due at the same instant:
//                                         the time until all are handed out in
//                                         batches of 500 (what the server takes
//                                         per round), with or without revoking
//                                         each through a store-like deleter.
//   BM_FindExpiredLikeEtcd/N              etcd's FindExpired: half of N leases
//                                         expired, 50 handed out per timed call.
//   BM_FindExpired/1000000/{0,100}        one ExpiredLeases(500) call with 1M
//                                         leases of which 0 or 100 are due.
//
// Round benchmarks use wall time (fsyncs included), like Go's ns/op.
//
//   bazel run -c opt //lease:lessor_benchmark

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lease/clock.h"
#include "lease/lessor.h"
#include "mvcc/backend/backend.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::lease {
namespace {

using mvcc::backend::Backend;
using mvcc::backend::BackendOptions;

void Check(const absl::Status& status) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    std::abort();
  }
}

template <typename T>
T Must(absl::StatusOr<T> v) {
  Check(v.status());
  return std::move(v).value();
}

double RssMiB() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

// Like etcd's FakeTxnDelete: holds the batch lock, deletes nothing.
class LockingDeleter : public RangeDeleter {
 public:
  explicit LockingDeleter(Backend* backend) : backend_(backend) {}
  std::unique_ptr<TxnDelete> NewTxn() override { return std::make_unique<Txn>(backend_); }

 private:
  class Txn : public TxnDelete {
   public:
    explicit Txn(Backend* backend) : backend_(backend) { backend_->batch_tx()->Lock(); }
    void DeleteRange(absl::string_view, absl::string_view) override {}
    void End() override { backend_->batch_tx()->Unlock(); }

   private:
    Backend* backend_;
  };
  Backend* backend_;
};

// A lessor on a fresh backend in a temporary directory.
struct Setup {
  explicit Setup(bool fast_backend = false, int64_t min_ttl = 0)
      : dir(Must(testutil::TempDir::Create("lessor_bench"))), clock(absl::Now()) {
    BackendOptions options;
    options.path = dir.Join("db");
    if (fast_backend) options.unsafe_no_fsync = true;
    backend = Must(Backend::Open(options));
    LessorOptions lessor_options;
    lessor_options.min_lease_ttl = min_ttl;
    lessor_options.clock = &clock;
    lessor = Must(Lessor::Open(backend.get(), lessor_options));
    deleter = std::make_unique<LockingDeleter>(backend.get());
    lessor->SetRangeDeleter(deleter.get());
    lessor->Promote(absl::ZeroDuration());
  }
  ~Setup() {
    lessor.reset();
    Check(backend->Close());
  }

  testutil::TempDir dir;
  ManualClock clock;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<LockingDeleter> deleter;
  std::unique_ptr<Lessor> lessor;
};

std::vector<int64_t> RandomTtls(int n) {
  std::mt19937_64 rng(1);
  std::vector<int64_t> ttls(n);
  for (int64_t& ttl : ttls) ttl = 1000 + static_cast<int64_t>(rng() % 1000);
  return ttls;
}

void PerLease(benchmark::State& state, int64_t n) {
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["time_per_lease"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}

void BM_Grant(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::vector<int64_t> ttls = RandomTtls(n);
  for (auto _ : state) {
    state.PauseTiming();
    auto setup = std::make_unique<Setup>();
    state.ResumeTiming();
    for (int i = 0; i < n; ++i) Check(setup->lessor->Grant(i + 1, ttls[i]).status());
    state.PauseTiming();
    setup.reset();
    state.ResumeTiming();
  }
  PerLease(state, n);
}
BENCHMARK(BM_Grant)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Renew(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::vector<int64_t> ttls = RandomTtls(n);
  for (auto _ : state) {
    state.PauseTiming();
    auto setup = std::make_unique<Setup>();
    for (int i = 0; i < n; ++i) Check(setup->lessor->Grant(i + 1, ttls[i]).status());
    state.ResumeTiming();
    for (int i = 0; i < n; ++i) Check(setup->lessor->Renew(i + 1).status());
    state.PauseTiming();
    setup.reset();
    state.ResumeTiming();
  }
  PerLease(state, n);
}
BENCHMARK(BM_Renew)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Revoke(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::vector<int64_t> ttls = RandomTtls(n);
  for (auto _ : state) {
    state.PauseTiming();
    auto setup = std::make_unique<Setup>();
    for (int i = 0; i < n; ++i) Check(setup->lessor->Grant(i + 1, ttls[i]).status());
    state.ResumeTiming();
    for (int i = 0; i < n; ++i) Check(setup->lessor->Revoke(i + 1));
    state.PauseTiming();
    setup.reset();
    state.ResumeTiming();
  }
  PerLease(state, n);
}
BENCHMARK(BM_Revoke)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

// 100,000 leases granted together expire together; from that instant, hand
// them all out in batches of 500 (and optionally revoke each).
void ExpireAtOnce(benchmark::State& state, bool revoke) {
  const int n = static_cast<int>(state.range(0));
  constexpr int kBatch = 500;  // etcd: leaseRevokeRate / 2 per round
  int64_t batches = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto setup = std::make_unique<Setup>();
    for (int i = 0; i < n; ++i) Check(setup->lessor->Grant(i + 1, 60).status());
    setup->clock.Advance(absl::Seconds(60));
    state.ResumeTiming();
    int64_t handed = 0;
    for (;;) {
      std::vector<Lease> batch = setup->lessor->ExpiredLeases(kBatch);
      if (batch.empty()) break;
      ++batches;
      handed += static_cast<int64_t>(batch.size());
      if (revoke) {
        for (const Lease& l : batch) Check(setup->lessor->Revoke(l.id));
      }
    }
    if (handed != n) std::abort();
    state.PauseTiming();
    setup.reset();
    state.ResumeTiming();
  }
  state.counters["batches"] =
      benchmark::Counter(static_cast<double>(batches), benchmark::Counter::kAvgIterations);
  PerLease(state, n);
}
void BM_ExpireAtOnce_HandOut(benchmark::State& state) { ExpireAtOnce(state, false); }
void BM_ExpireAtOnce_HandOutAndRevoke(benchmark::State& state) { ExpireAtOnce(state, true); }
BENCHMARK(BM_ExpireAtOnce_HandOut)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ExpireAtOnce_HandOutAndRevoke)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// etcd's BenchmarkLessorFindExpired: N leases with TTLs in [-500, 500) s, so
// half are expired when granted; each timed call hands out 50, which are then
// revoked untimed; a drained lessor is replaced untimed.
void BM_FindExpiredLikeEtcd(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::mt19937_64 rng(1);
  std::vector<int64_t> ttls(n);
  for (int64_t& ttl : ttls) ttl = static_cast<int64_t>(rng() % 1000) - 500;
  std::unique_ptr<Setup> setup;
  bool drained = true;
  for (auto _ : state) {
    if (drained) {
      state.PauseTiming();
      setup.reset();
      setup = std::make_unique<Setup>(/*fast_backend=*/false, /*min_ttl=*/-1000);
      for (int i = 0; i < n; ++i) Check(setup->lessor->Grant(i + 1, ttls[i]).status());
      drained = false;
      state.ResumeTiming();
    }
    std::vector<Lease> expired = setup->lessor->ExpiredLeases(50);
    state.PauseTiming();
    for (const Lease& l : expired) Check(setup->lessor->Revoke(l.id));
    drained = expired.empty();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_FindExpiredLikeEtcd)->Arg(10000)->Arg(100000);

// 1M leases that do not expire, plus 100 that do.
struct MillionLeases {
  static constexpr int kLive = 1000000;
  static constexpr int kExpiring = 100;

  MillionLeases() : setup(/*fast_backend=*/true) {
    const double rss_before = RssMiB();
    const absl::Time start = absl::Now();
    for (int i = 0; i < kLive; ++i) Check(setup.lessor->Grant(i + 1, 1000000000).status());
    for (int i = 0; i < kExpiring; ++i) Check(setup.lessor->Grant(kLive + i + 1, 10).status());
    grant_seconds = absl::ToDoubleSeconds(absl::Now() - start);
    rss_mib = RssMiB() - rss_before;
  }

  Setup setup;
  double grant_seconds = 0;
  double rss_mib = 0;
  bool expiring_due = false;
};

MillionLeases& Million() {
  static MillionLeases* m = new MillionLeases();
  return *m;
}

void BM_FindExpired(benchmark::State& state) {
  MillionLeases& m = Million();
  const bool expiring = state.range(1) > 0;
  if (expiring && !m.expiring_due) {
    m.setup.clock.Advance(absl::Seconds(10));
    m.expiring_due = true;
  }
  int64_t found = 0;
  for (auto _ : state) {
    std::vector<Lease> expired = m.setup.lessor->ExpiredLeases(500);
    found += static_cast<int64_t>(expired.size());
    benchmark::DoNotOptimize(expired);
    // Not revoked: due again after the retry interval (a ~20 ns call, kept
    // inside the timing).
    if (expiring) m.setup.clock.Advance(absl::Seconds(3));
  }
  state.counters["found_per_call"] =
      benchmark::Counter(static_cast<double>(found), benchmark::Counter::kAvgIterations);
  state.counters["setup_grant_1M_s"] = m.grant_seconds;
  state.counters["setup_rss_MiB"] = m.rss_mib;
}
BENCHMARK(BM_FindExpired)->Args({1000000, 0})->Args({1000000, 100});

}  // namespace
}  // namespace etcd::lease
