// A fixed pool of worker threads for the blocking EtcdServer calls the gRPC
// handlers make: the callback API's threads must never block, so each
// handler hands its call to this pool and completes its reactor from there.
// The pool bounds the number of threads whatever the number of RPCs and
// streams. The per-request KV calls (Range, Put, DeleteRange, Txn, logical
// Compact) and LeaseGrant/LeaseRevoke do not use it: they run on
// EtcdServer's completion-callback API (PutAsync, ...), so the requests in
// flight are not capped by the pool size. What still blocks (auth,
// maintenance, cluster, keep-alives, physical compactions) runs here.
//
//   etcd::v3rpc::Executor executor(32);
//   executor.Schedule([=] { reactor->Finish(Do(request)); });
//   executor.Shutdown();   // runs what is queued, then joins
//
// Thread-safe.

#ifndef ETCD_SERVER_V3RPC_EXECUTOR_H_
#define ETCD_SERVER_V3RPC_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace etcd::v3rpc {

class Executor {
 public:
  explicit Executor(int threads);
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  ~Executor() { Shutdown(); }

  // Queues `task`. After Shutdown() tasks run on the calling thread.
  void Schedule(std::function<void()> task);

  // Runs the queued tasks, then joins the threads. Idempotent.
  void Shutdown();

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace etcd::v3rpc

#endif  // ETCD_SERVER_V3RPC_EXECUTOR_H_
