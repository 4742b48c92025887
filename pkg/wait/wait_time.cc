#include "pkg/wait/wait_time.h"

#include <algorithm>
#include <utility>

namespace etcd::wait {

void WaitTime::Wait(uint64_t deadline, Callback callback) {
  uint64_t reached;
  {
    absl::MutexLock lock(&mu_);
    if (deadline > last_) {
      pending_[deadline].push_back(std::move(callback));
      ++pending_count_;
      return;
    }
    reached = last_;
  }
  std::move(callback)(reached);
}

Future<uint64_t> WaitTime::Wait(uint64_t deadline) {
  Promise<uint64_t> promise;
  Future<uint64_t> future = promise.future();
  Wait(deadline, [promise = std::move(promise)](uint64_t reached) { promise.Set(reached); });
  return future;
}

void WaitTime::Trigger(uint64_t deadline) {
  std::vector<Callback> released;
  uint64_t reached;
  {
    absl::MutexLock lock(&mu_);
    last_ = std::max(last_, deadline);
    reached = last_;
    const auto end = pending_.upper_bound(reached);
    for (auto it = pending_.begin(); it != end; ++it) {
      for (Callback& callback : it->second) released.push_back(std::move(callback));
    }
    pending_.erase(pending_.begin(), end);
    pending_count_ -= released.size();
  }
  for (Callback& callback : released) std::move(callback)(reached);
}

uint64_t WaitTime::LastTriggered() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

size_t WaitTime::PendingCount() const {
  absl::MutexLock lock(&mu_);
  return pending_count_;
}

}  // namespace etcd::wait
