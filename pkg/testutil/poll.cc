#include "pkg/testutil/poll.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace etcd::testutil {

bool WaitUntil(absl::FunctionRef<bool()> predicate, absl::Duration timeout,
               absl::Duration poll_interval) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (predicate()) return true;
    const absl::Time now = absl::Now();
    if (now >= deadline) return false;
    absl::SleepFor(std::min(poll_interval, deadline - now));
  }
}

}  // namespace etcd::testutil
