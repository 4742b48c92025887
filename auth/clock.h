// The time source of the token providers, injectable so tests control it.
//
//   etcd::auth::ManualClock clock(absl::FromUnixSeconds(1000));
//   etcd::auth::TokenProviderOptions options;
//   options.clock = &clock;            // default: etcd::auth::RealClock()
//   ...
//   clock.Advance(absl::Minutes(6));   // a 5-minute token is now expired
//
// Only token expiry reads the clock (simple-token TTLs, JWT "exp", "nbf" and
// "iat"); nothing in //auth sleeps or runs a background thread.
//
// RealClock() and ManualClock are thread-safe.

#ifndef ETCD_AUTH_CLOCK_H_
#define ETCD_AUTH_CLOCK_H_

#include "pkg/clock/clock.h"

namespace etcd::auth {

using clock::Clock;
using clock::ManualClock;
using clock::RealClock;

}  // namespace etcd::auth

#endif  // ETCD_AUTH_CLOCK_H_
