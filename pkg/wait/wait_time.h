// Waits for a logical deadline, such as "applied index >= 42", as etcd's
// linearizable reads wait for the applied index to reach the read index.
//
//   etcd::wait::WaitTime applied;
//
//   // Reader:
//   etcd::wait::Future<uint64_t> reached = applied.Wait(read_index);
//   if (reached.WaitFor(timeout) == nullptr) return DeadlineExceeded(...);
//
//   // Apply thread, after applying entry `index`:
//   applied.Trigger(index);
//
// Wait(d) is released by the first Trigger(t) with t >= d, or at once if
// such a Trigger already happened (or d is 0); the value delivered is the highest
// deadline triggered so far. Unlike etcd's Go version, a Trigger with a
// lower deadline than an earlier one does not move the mark back. Callbacks
// run on the thread that releases them (the caller of Wait when already
// reached), after the lock is released, in increasing deadline order.
//
// Thread-safe.

#ifndef ETCD_PKG_WAIT_WAIT_TIME_H_
#define ETCD_PKG_WAIT_WAIT_TIME_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "pkg/wait/future.h"

namespace etcd::wait {

class WaitTime {
 public:
  // Called once with the deadline reached (>= the one waited for).
  using Callback = absl::AnyInvocable<void(uint64_t) &&>;

  WaitTime() = default;
  WaitTime(const WaitTime&) = delete;
  WaitTime& operator=(const WaitTime&) = delete;

  // Calls `callback` once `deadline` is reached.
  void Wait(uint64_t deadline, Callback callback);

  // A future set once `deadline` is reached.
  Future<uint64_t> Wait(uint64_t deadline);

  // Marks every deadline up to `deadline` reached and releases their waiters.
  void Trigger(uint64_t deadline);

  // The highest deadline triggered so far (0 before any).
  uint64_t LastTriggered() const;

  // Waits not yet released.
  size_t PendingCount() const;

 private:
  mutable absl::Mutex mu_;
  // Deadlines up to this one are reached; 0 is reached from the start.
  uint64_t last_ ABSL_GUARDED_BY(mu_) = 0;
  // Waiters by the deadline they wait for; every key is above `last_`.
  std::map<uint64_t, std::vector<Callback>> pending_ ABSL_GUARDED_BY(mu_);
  size_t pending_count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace etcd::wait

#endif  // ETCD_PKG_WAIT_WAIT_TIME_H_
