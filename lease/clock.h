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

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcd::lease {

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
  // Moves the clock forward by `d` (backward when negative).
  void Advance(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);
  void Set(absl::Time t) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::lease

#endif  // ETCD_LEASE_CLOCK_H_
