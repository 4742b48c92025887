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

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcd::auth {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
};

// absl::Now(). A process-wide instance that is never destroyed.
Clock* RealClock();

// A clock that moves only when told to. Starts at `start`.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::UnixEpoch()) : now_(start) {}

  absl::Time Now() override ABSL_LOCKS_EXCLUDED(mu_);
  // Moves the clock by `d` (backward when negative).
  void Advance(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);
  void Set(absl::Time t) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::auth

#endif  // ETCD_AUTH_CLOCK_H_
