// Waiters keyed by request ID, as etcd's server matches applied entries to
// the requests that proposed them.
//
//   etcd::wait::Wait<ApplyResult> waiters;
//
//   // Handler thread, blocking:
//   absl::StatusOr<etcd::wait::Future<ApplyResult>> f = waiters.Register(id);
//   if (!f.ok()) return f.status();
//   propose(id, request);
//   if (const ApplyResult* r = f->WaitFor(timeout)) ...; else waiters.Cancel(id);
//
//   // Or from a gRPC callback handler, without a thread:
//   waiters.Register(id, [reactor](ApplyResult r) { reactor->Finish(r); });
//
//   // Apply thread:
//   waiters.Trigger(id, std::move(result));
//
// Each registration is triggered at most once: Trigger removes it, then
// delivers the value (a callback runs on the triggering thread, after every
// lock is released, so it may register or trigger again). Triggering an ID
// nobody registered is a no-op. Registrations still pending when the Wait is
// destroyed are dropped without being called.
//
// Thread-safe. IDs are spread over 16 independently locked shards, so
// concurrent handlers and the apply thread rarely contend.

#ifndef ETCD_PKG_WAIT_WAIT_H_
#define ETCD_PKG_WAIT_WAIT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "pkg/wait/future.h"

namespace etcd::wait {

template <typename T>
class Wait {
 public:
  // Called at most once, with the triggered value.
  using Callback = absl::AnyInvocable<void(T) &&>;

  Wait() = default;
  Wait(const Wait&) = delete;
  Wait& operator=(const Wait&) = delete;

  // Registers `callback` for `id`. AlreadyExists if `id` is registered (the
  // existing registration is kept).
  absl::Status Register(uint64_t id, Callback callback) {
    Shard& shard = ShardOf(id);
    absl::MutexLock lock(&shard.mu);
    if (!shard.waiters.try_emplace(id, std::move(callback)).second) {
      return absl::AlreadyExistsError(absl::StrFormat("wait: duplicate id %x", id));
    }
    return absl::OkStatus();
  }

  // Registers `id` and returns a future for its value.
  absl::StatusOr<Future<T>> Register(uint64_t id) {
    Promise<T> promise;
    Future<T> future = promise.future();
    absl::Status status =
        Register(id, [promise = std::move(promise)](T value) { promise.Set(std::move(value)); });
    if (!status.ok()) return status;
    return future;
  }

  // Delivers `value` to the registration of `id` and removes it. Returns
  // whether there was one.
  bool Trigger(uint64_t id, T value) {
    Callback callback;
    {
      Shard& shard = ShardOf(id);
      absl::MutexLock lock(&shard.mu);
      auto it = shard.waiters.find(id);
      if (it == shard.waiters.end()) return false;
      callback = std::move(it->second);
      shard.waiters.erase(it);
    }
    std::move(callback)(std::move(value));
    return true;
  }

  // Removes the registration of `id` without calling it (a waiter that gave
  // up). Returns whether there was one.
  bool Cancel(uint64_t id) {
    Callback callback;  // Destroyed after the lock is released.
    Shard& shard = ShardOf(id);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.waiters.find(id);
    if (it == shard.waiters.end()) return false;
    callback = std::move(it->second);
    shard.waiters.erase(it);
    return true;
  }

  bool IsRegistered(uint64_t id) const {
    const Shard& shard = ShardOf(id);
    absl::MutexLock lock(&shard.mu);
    return shard.waiters.contains(id);
  }

  // Registrations not yet triggered or cancelled.
  size_t PendingCount() const {
    size_t n = 0;
    for (size_t i = 0; i < kShardCount; ++i) {
      absl::MutexLock lock(&shards_[i].mu);
      n += shards_[i].waiters.size();
    }
    return n;
  }

 private:
  static constexpr int kShardBits = 4;
  static constexpr size_t kShardCount = size_t{1} << kShardBits;

  struct ABSL_CACHELINE_ALIGNED Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<uint64_t, Callback> waiters ABSL_GUARDED_BY(mu);
  };

  // Fibonacci hashing: consecutive IDs (idutil's) land on different shards.
  static size_t ShardIndex(uint64_t id) {
    return static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> (64 - kShardBits));
  }
  Shard& ShardOf(uint64_t id) { return shards_[ShardIndex(id)]; }
  const Shard& ShardOf(uint64_t id) const { return shards_[ShardIndex(id)]; }

  // On the heap, so that Wait itself is not over-aligned.
  const std::unique_ptr<Shard[]> shards_ = std::make_unique<Shard[]>(kShardCount);
};

}  // namespace etcd::wait

#endif  // ETCD_PKG_WAIT_WAIT_H_
