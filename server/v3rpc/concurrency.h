// Internal to //server/v3rpc: the pieces of etcd's clientv3/concurrency
// recipes (mutex.go, election.go, key.go) that the Lock and Election services
// share, rebuilt so a waiting call holds no thread: a call is a state machine
// advanced on the worker pool (SerialRunner) and woken by watch
// notifications (WatchFrom, DeleteWaiter).
//
//   SerialRunner runner(executor, [this] { Step(); });
//   runner.Kick(shared_from_this());       // Step() runs soon, on the pool
//
//   DeleteWaiter waiter(server, ctx, "lock/", my_rev - 1, [=] { Kick(); });
//   // in Step():
//   if (auto done = waiter.Advance()) { ... *done is the header or an error }
//
// Includes gRPC-free headers only; used by the service .cc files.

#ifndef ETCD_SERVER_V3RPC_CONCURRENCY_H_
#define ETCD_SERVER_V3RPC_CONCURRENCY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "api/etcdserverpb/rpc.pb.h"
#include "mvcc/watchable_store.h"
#include "server/etcdserver/etcdserver.h"
#include "server/v3rpc/executor.h"

namespace etcd::v3rpc {

// etcd's session TTL when a Lock or Campaign names no lease (seconds).
inline constexpr int64_t kDefaultSessionTTL = 60;

// The end of the range of every key starting with `prefix` (etcd's
// GetPrefixRangeEnd; "\0" when `prefix` is all 0xff bytes).
std::string PrefixRangeEnd(absl::string_view prefix);

// A range request for the key under `prefix` with the smallest create
// revision (etcd's WithFirstCreate).
etcdserverpb::RangeRequest FirstCreateRequest(absl::string_view prefix);

// The key of a Lock or Campaign: `prefix` followed by the lease ID in
// lower-case hex (etcd's fmt "%s%x").
std::string SessionKey(absl::string_view prefix, int64_t lease);

// etcd serves Lock and Election through an in-process clientv3, which turns
// the server's errors into plain errors: the same message with gRPC code
// Unknown. OK stays OK.
absl::Status AsClientError(const absl::Status& status);

// The lease of etcd's concurrency.Session: `lease` itself, or a new lease
// of kDefaultSessionTTL seconds when it is 0. Errors are AsClientError's.
absl::StatusOr<int64_t> SessionLease(etcdserver::EtcdServer* server, int64_t lease,
                                     const etcdserver::RequestContext& ctx);

// The context for clean-up writes after a call failed or was cancelled:
// the caller's credentials without its deadline (etcd uses the client's
// context there).
etcdserver::RequestContext CleanupContext(const etcdserver::RequestContext& ctx);

// Runs `step` on the executor, never twice at the same time; a Kick() while
// it runs makes it run once more afterwards. Thread-safe.
class SerialRunner {
 public:
  // `executor` is borrowed and must outlive every scheduled run.
  SerialRunner(Executor* executor, std::function<void()> step);
  SerialRunner(const SerialRunner&) = delete;
  SerialRunner& operator=(const SerialRunner&) = delete;

  // Schedules a run; `owner` is held until the run ends (it keeps the
  // object that owns this runner alive).
  void Kick(std::shared_ptr<void> owner);

 private:
  Executor* const executor_;
  const std::function<void()> step_;
  absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool again_ ABSL_GUARDED_BY(mu_) = false;
};

// A watch stream with one watcher on [key, end) from `start_rev` whose
// `notify` is called (on a store thread; it must be quick and must not
// destroy the stream) whenever responses arrive. Poll the stream for them.
absl::StatusOr<std::unique_ptr<mvcc::WatchStream>> WatchFrom(etcdserver::EtcdServer* server,
                                                             absl::string_view key,
                                                             absl::string_view end,
                                                             int64_t start_rev,
                                                             std::function<void()> notify);

// etcd's waitDeletes as a resumable step: done once no key under `prefix`
// has a create revision <= `max_create_rev`. Advance() reads the newest such
// key and watches it for its deletion, returning nullopt in between; `wake`
// runs (on a store thread) when Advance() is worth calling again. Not
// thread-safe: advance it from one SerialRunner. Must be destroyed (or
// Stop()ped) before the server.
class DeleteWaiter {
 public:
  DeleteWaiter(etcdserver::EtcdServer* server, etcdserver::RequestContext ctx, std::string prefix,
               int64_t max_create_rev, std::function<void()> wake);

  // nullopt: still waiting. Otherwise the header of the read that found no
  // such key, or the error of a read (AsClientError).
  std::optional<absl::StatusOr<etcdserverpb::ResponseHeader>> Advance();

  // Drops the watch; `wake` is not called after Stop returns.
  void Stop() { watch_.reset(); }

 private:
  etcdserver::EtcdServer* const server_;
  const etcdserver::RequestContext ctx_;
  const std::string prefix_;
  const int64_t max_create_rev_;
  const std::function<void()> wake_;
  // The watch on the key waited for; null when the next Advance() reads.
  std::unique_ptr<mvcc::WatchStream> watch_;
};

}  // namespace etcd::v3rpc

#endif  // ETCD_SERVER_V3RPC_CONCURRENCY_H_
