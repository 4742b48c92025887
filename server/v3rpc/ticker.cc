#include "server/v3rpc/ticker.h"

#include <utility>

namespace etcd::v3rpc {

Ticker::Ticker(absl::Duration interval) : interval_(interval) {
  thread_ = std::thread([this] { Run(); });
}

void Ticker::Add(std::function<bool()> callback) {
  absl::MutexLock lock(&mu_);
  callbacks_.push_back(std::move(callback));
}

void Ticker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Ticker::Run() {
  while (true) {
    std::vector<std::function<bool()>> callbacks;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_);
      if (stopping_) return;
      callbacks.swap(callbacks_);
    }
    std::vector<std::function<bool()>> kept;
    for (std::function<bool()>& callback : callbacks) {
      if (callback()) kept.push_back(std::move(callback));
    }
    absl::MutexLock lock(&mu_);
    for (std::function<bool()>& callback : callbacks_) kept.push_back(std::move(callback));
    callbacks_.swap(kept);
  }
}

}  // namespace etcd::v3rpc
