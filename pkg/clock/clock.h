// An injectable time source, so tests control time (lease expiry, token TTLs).
//
//   etcd::clock::ManualClock clock;
//   options.clock = &clock;            // default: etcd::clock::RealClock()
//   clock.Advance(absl::Seconds(11));  // whatever had 10 s left is now due
//
// RealClock() and ManualClock are thread-safe.

#ifndef ETCD_PKG_CLOCK_CLOCK_H_
#define ETCD_PKG_CLOCK_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcd::clock {

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

}  // namespace etcd::clock

#endif  // ETCD_PKG_CLOCK_CLOCK_H_
