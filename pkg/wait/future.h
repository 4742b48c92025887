// A one-shot value handed from one thread to others: Promise sets it once,
// every copy of its Future can wait for it.
//
//   etcd::wait::Promise<int> promise;
//   etcd::wait::Future<int> future = promise.future();
//   std::thread([promise]() mutable { promise.Set(42); }).detach();
//   if (const int* v = future.WaitFor(absl::Seconds(5))) use(*v);
//
// Promise and Future are cheap handles on one shared state; both are
// thread-safe and copyable. The value, once set, never changes; the
// references and pointers the waits return point into the shared state and
// stay valid while the Future they came from is alive. Waiting on a
// temporary Future does not compile, since its result would dangle:
//
//   const int* v = promise.future().WaitFor(timeout);   // Error: deleted.

#ifndef ETCD_PKG_WAIT_FUTURE_H_
#define ETCD_PKG_WAIT_FUTURE_H_

#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcd::wait {
namespace internal {

template <typename T>
struct SharedState {
  static bool HasValue(std::optional<T>* value) { return value->has_value(); }

  absl::Mutex mu;
  std::optional<T> value ABSL_GUARDED_BY(mu);
};

}  // namespace internal

template <typename T>
class Promise;

template <typename T>
class Future {
 public:
  // Blocks until the value is set; returns it.
  const T& Wait() const& {
    absl::MutexLock lock(&state_->mu);
    state_->mu.Await(absl::Condition(&internal::SharedState<T>::HasValue, &state_->value));
    return *state_->value;
  }

  // Blocks until the value is set or `timeout` passes; returns the value, or
  // nullptr on timeout.
  const T* WaitFor(absl::Duration timeout) const& { return WaitUntil(absl::Now() + timeout); }

  const T* WaitUntil(absl::Time deadline) const& {
    absl::MutexLock lock(&state_->mu);
    state_->mu.AwaitWithDeadline(
        absl::Condition(&internal::SharedState<T>::HasValue, &state_->value), deadline);
    return state_->value.has_value() ? &*state_->value : nullptr;
  }

  // The value if it is set, else nullptr; never blocks.
  const T* TryGet() const& {
    absl::MutexLock lock(&state_->mu);
    return state_->value.has_value() ? &*state_->value : nullptr;
  }

  bool Ready() const { return TryGet() != nullptr; }

  // The results would dangle once the temporary is gone.
  const T& Wait() && = delete;
  const T* WaitFor(absl::Duration timeout) && = delete;
  const T* WaitUntil(absl::Time deadline) && = delete;
  const T* TryGet() && = delete;

 private:
  friend class Promise<T>;
  explicit Future(std::shared_ptr<internal::SharedState<T>> state) : state_(std::move(state)) {}

  std::shared_ptr<internal::SharedState<T>> state_;
};

template <typename T>
class Promise {
 public:
  Promise() : state_(std::make_shared<internal::SharedState<T>>()) {}

  Future<T> future() const { return Future<T>(state_); }

  // Sets the value and wakes the waiters. Only the first call has an effect;
  // returns whether this one did.
  bool Set(T value) const {
    absl::MutexLock lock(&state_->mu);
    if (state_->value.has_value()) return false;
    state_->value.emplace(std::move(value));
    return true;
  }

 private:
  std::shared_ptr<internal::SharedState<T>> state_;
};

}  // namespace etcd::wait

#endif  // ETCD_PKG_WAIT_FUTURE_H_
