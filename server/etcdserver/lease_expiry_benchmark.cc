// Expiry of many leases due at once, through a real single-member EtcdServer
// (issue 6: 100,000 leases revoked within 2 s of expiry).
//
//   BM_ExpireAtOnce/<leases>/<percent with a key>/<revoke rate>
//
// Starts an EtcdServer in a temporary directory with default options (WAL
// and backend fsyncs on, 100 ms heartbeat) except for the lessor's clock, a
// ManualClock, so that every lease is due at exactly the same instant. Grants
// <leases> leases of TTL 60 s through EtcdServer::LeaseGrant from 32 client
// threads, and puts one key with the lease on <percent>% of them. Then it
// advances the lessor's clock past the TTL (the moment of expiry) and polls
// LeaseLeases until it is empty. The iteration time is from the expiry to the
// moment no lease is left; afterwards it checks that no leased key remains
// and that TimeToLive reports the leases gone. <revoke rate> is
// ServerOptions::lease_revoke_rate (0: the default, 100,000/s); 1,000,000/s
// shows what the WAL and apply path take when the rate does not limit.
//
// Counters: revoke_s (seconds from expiry until all were revoked),
// revoked_per_s, grant_per_s (grants acknowledged per second with 32
// concurrent clients), put_per_s.
//
//   bazel run -c opt //server/etcdserver:lease_expiry_benchmark

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/etcdserverpb/rpc.pb.h"
#include "api/rpctypes/rpctypes.h"
#include "lease/clock.h"
#include "pkg/log/log.h"
#include "pkg/testutil/temp_dir.h"
#include "server/etcdserver/etcdserver.h"

namespace etcd::etcdserver {
namespace {

constexpr int kClients = 32;
constexpr int64_t kTtlSeconds = 60;
constexpr char kKeyPrefix[] = "lease-key/";

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::abort();
  }
}

// Runs fn(i) for i in [0, n) on kClients threads; returns the wall time.
template <typename Fn>
absl::Duration Parallel(int n, Fn fn) {
  std::atomic<int> next{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) fn(i);
    });
  }
  for (std::thread& t : threads) t.join();
  return absl::Now() - start;
}

size_t LeaseCount(EtcdServer* server) {
  absl::StatusOr<etcdserverpb::LeaseLeasesResponse> r =
      server->LeaseLeases(etcdserverpb::LeaseLeasesRequest(), RequestContext());
  Check(r.status(), "LeaseLeases");
  return static_cast<size_t>(r->leases_size());
}

void BM_ExpireAtOnce(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int percent_with_key = static_cast<int>(state.range(1));
  const int revoke_rate = static_cast<int>(state.range(2));
  log::LoggerOptions lo;
  lo.level = log::Level::kWarn;
  std::unique_ptr<log::Logger> logger = log::Logger::Open(lo, {"stderr"}).value();

  for (auto _ : state) {
    absl::StatusOr<testutil::TempDir> dir = testutil::TempDir::Create("lease_expiry");
    Check(dir.status(), "temp dir");
    lease::ManualClock clock(absl::Now());
    ServerOptions options;
    options.data_dir = dir->path() + "/default.etcd";
    options.lease_clock = &clock;
    options.lease_revoke_rate = revoke_rate;
    options.logger = logger.get();
    absl::StatusOr<std::unique_ptr<EtcdServer>> started = EtcdServer::Start(options);
    Check(started.status(), "start");
    std::unique_ptr<EtcdServer> server = *std::move(started);
    Check(server->WaitLeader(absl::Now() + absl::Seconds(10)), "leader");

    std::vector<int64_t> ids(n);
    const absl::Duration grant_time = Parallel(n, [&](int i) {
      etcdserverpb::LeaseGrantRequest g;
      g.set_ttl(kTtlSeconds);
      absl::StatusOr<etcdserverpb::LeaseGrantResponse> r = server->LeaseGrant(g, RequestContext());
      Check(r.status(), "grant");
      ids[i] = r->id();
    });
    const int with_key = static_cast<int>(int64_t{n} * percent_with_key / 100);
    const absl::Duration put_time = Parallel(with_key, [&](int i) {
      etcdserverpb::PutRequest p;
      p.set_key(absl::StrCat(kKeyPrefix, i));
      p.set_value("v");
      p.set_lease(ids[i]);
      Check(server->Put(p, RequestContext()).status(), "put");
    });
    if (LeaseCount(server.get()) != static_cast<size_t>(n)) {
      std::fprintf(stderr, "expected %d leases before expiry\n", n);
      std::abort();
    }

    // Every lease expires at this instant.
    clock.Advance(absl::Seconds(kTtlSeconds + 1));
    const absl::Time expired_at = absl::Now();
    const absl::Time give_up = expired_at + absl::Minutes(5);
    size_t left = n;
    while ((left = LeaseCount(server.get())) > 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    const absl::Duration revoke_time = absl::Now() - expired_at;
    state.SetIterationTime(absl::ToDoubleSeconds(revoke_time));

    etcdserverpb::RangeRequest range;
    range.set_key(kKeyPrefix);
    range.set_range_end(absl::StrCat(std::string(kKeyPrefix, sizeof(kKeyPrefix) - 2), "0"));
    range.set_count_only(true);
    absl::StatusOr<etcdserverpb::RangeResponse> keys = server->Range(range, RequestContext());
    Check(keys.status(), "range");
    etcdserverpb::LeaseTimeToLiveRequest ttl;
    ttl.set_id(ids[n - 1]);
    const bool last_gone = rpctypes::IsLeaseNotFound(server->LeaseTimeToLive(ttl, {}).status());
    if (left != 0 || keys->count() != 0 || !last_gone) {
      state.SkipWithError(
          absl::StrCat(left, " leases and ", keys->count(), " keys left 5 minutes after expiry")
              .c_str());
    }
    server->Stop();

    state.counters["revoke_s"] = absl::ToDoubleSeconds(revoke_time);
    state.counters["revoked_per_s"] = n / absl::ToDoubleSeconds(revoke_time);
    state.counters["grant_per_s"] = n / absl::ToDoubleSeconds(grant_time);
    if (with_key > 0) state.counters["put_per_s"] = with_key / absl::ToDoubleSeconds(put_time);
  }
}
BENCHMARK(BM_ExpireAtOnce)
    ->Args({100000, 10, 0})
    ->Args({100000, 100, 0})
    ->Args({100000, 100, 1000000})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace etcd::etcdserver
