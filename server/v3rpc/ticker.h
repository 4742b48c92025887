// One thread that calls registered callbacks every `interval` (the watch
// service's progress notifications: one thread for all streams, not a timer
// per watcher). A callback returning false is dropped.
//
//   etcd::v3rpc::Ticker ticker(absl::Minutes(10));
//   ticker.Add([weak] { auto self = weak.lock(); if (!self) return false;
//                       self->Tick(); return true; });
//   ticker.Stop();
//
// Thread-safe. Callbacks run on the ticker thread, one at a time, and must
// not call Add or Stop.

#ifndef ETCD_SERVER_V3RPC_TICKER_H_
#define ETCD_SERVER_V3RPC_TICKER_H_

#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcd::v3rpc {

class Ticker {
 public:
  explicit Ticker(absl::Duration interval);
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;
  ~Ticker() { Stop(); }

  void Add(std::function<bool()> callback);
  // Joins the thread; no callback runs after it returns. Idempotent.
  void Stop();

 private:
  void Run();

  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::function<bool()>> callbacks_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace etcd::v3rpc

#endif  // ETCD_SERVER_V3RPC_TICKER_H_
