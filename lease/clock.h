// The time source of the lessor, injectable so tests control it.
//
//   etcd::lease::ManualClock clock(absl::FromUnixSeconds(1000));
//   etcd::lease::LessorOptions options;
//   options.clock = &clock;           // default: etcd::lease::RealClock()
//   ...
//   clock.Advance(absl::Seconds(11)); // a 10 s lease is now expired
//
// Only lease expiry, renewal and checkpoint scheduling read the clock; the
// lessor's optional background loop waits in real time between rounds.
//
// RealClock() and ManualClock are thread-safe.

#ifndef ETCD_LEASE_CLOCK_H_
#define ETCD_LEASE_CLOCK_H_

#include "pkg/clock/clock.h"

namespace etcd::lease {

using clock::Clock;
using clock::ManualClock;
using clock::RealClock;

}  // namespace etcd::lease

#endif  // ETCD_LEASE_CLOCK_H_
