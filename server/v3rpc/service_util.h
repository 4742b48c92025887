// Internal to //server/v3rpc: what every service handler shares — the
// environment (server, worker pool, limits), the absl::Status -> grpc::Status
// mapping, the per-call RequestContext, the unary-call helper and the
// outgoing queue of bidi streams.
//
// Includes gRPC: only the service .cc files include it.

#ifndef ETCD_SERVER_V3RPC_SERVICE_UTIL_H_
#define ETCD_SERVER_V3RPC_SERVICE_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/etcdserver/etcdserver.h"
#include "server/v3rpc/executor.h"
#include "server/v3rpc/ticker.h"

namespace etcd::v3rpc {

struct Env {
  etcdserver::EtcdServer* server = nullptr;
  Executor* executor = nullptr;
  // --max-request-bytes: watch responses above it are fragmented on request.
  uint64_t max_request_bytes = 1572864;
  // --max-txn-ops.
  uint64_t max_txn_ops = 128;
  // Drives watch progress notifications (progress_notify watchers).
  Ticker* progress_ticker = nullptr;
};

// etcd's errors already carry their gRPC code and message; anything else
// keeps its code and text too.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Token ("token" metadata, or "authorization" through a gateway), deadline
// and "hasleader" of the call.
etcdserver::RequestContext MakeRequestContext(const grpc::CallbackServerContext* context);

// What a learner serves (etcd's isRPCSupportedForLearner): Status and
// serializable Range calls; no streams.
template <typename Req>
bool SupportedForLearner(const Req&) {
  return false;
}
inline bool SupportedForLearner(const etcdserverpb::StatusRequest&) { return true; }
inline bool SupportedForLearner(const etcdserverpb::RangeRequest& r) { return r.serializable(); }

// etcd's error for a call a learner does not serve.
grpc::Status NotSupportedForLearner();

// Fails `request` on a learner unless it serves it; true when it did.
template <typename Req>
bool RefusedOnLearner(const Env& env, const Req& request, grpc::ServerUnaryReactor* reactor) {
  if (SupportedForLearner(request) || !env.server->IsLearner()) return false;
  reactor->Finish(NotSupportedForLearner());
  return true;
}

// A stream finished at once with `status` (a learner refusing it).
template <typename Req, typename Resp>
class RefusedBidiStream final : public grpc::ServerBidiReactor<Req, Resp> {
 public:
  explicit RefusedBidiStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};
template <typename Resp>
class RefusedWriteStream final : public grpc::ServerWriteReactor<Resp> {
 public:
  explicit RefusedWriteStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

// Runs `call` on the worker pool and finishes the call with its result.
template <typename Req, typename Resp>
grpc::ServerUnaryReactor* RunUnary(
    const Env& env, grpc::CallbackServerContext* context, const Req* request, Resp* response,
    std::function<absl::StatusOr<Resp>(const Req&, const etcdserver::RequestContext&)> call) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (RefusedOnLearner(env, *request, reactor)) return reactor;
  etcdserver::RequestContext ctx = MakeRequestContext(context);
  env.executor->Schedule(
      [reactor, request, response, ctx = std::move(ctx), call = std::move(call)] {
        absl::StatusOr<Resp> result = call(*request, ctx);
        if (result.ok()) {
          *response = std::move(*result);
          reactor->Finish(grpc::Status::OK);
        } else {
          reactor->Finish(ToGrpcStatus(result.status()));
        }
      });
  return reactor;
}

// Starts `call` (an EtcdServer *Async method) on the calling gRPC thread;
// its callback completes the RPC from the server's apply, raft or timer
// thread, with no worker thread held while the request is in flight.
template <typename Req, typename Resp>
grpc::ServerUnaryReactor* RunAsync(
    const Env& env, grpc::CallbackServerContext* context, const Req* request, Resp* response,
    void (etcdserver::EtcdServer::*call)(const Req&, const etcdserver::RequestContext&,
                                         etcdserver::EtcdServer::Callback<Resp>)) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (RefusedOnLearner(env, *request, reactor)) return reactor;
  (env.server->*call)(*request, MakeRequestContext(context),
                      [reactor, response](absl::StatusOr<Resp> result) {
                        if (!result.ok()) return reactor->Finish(ToGrpcStatus(result.status()));
                        *response = *std::move(result);
                        reactor->Finish(grpc::Status::OK);
                      });
  return reactor;
}

// For unary calls with reactors of their own (Lock, Campaign): on a learner,
// a reactor already finished with etcd's refusal; else nullptr.
inline grpc::ServerUnaryReactor* RefuseUnaryOnLearner(const Env& env,
                                                      grpc::CallbackServerContext* context) {
  if (!env.server->IsLearner()) return nullptr;
  grpc::ServerUnaryReactor* refused = context->DefaultReactor();
  refused->Finish(NotSupportedForLearner());
  return refused;
}

// The same for a member function of EtcdServer.
template <typename Req, typename Resp>
grpc::ServerUnaryReactor* RunUnary(const Env& env, grpc::CallbackServerContext* context,
                                   const Req* request, Resp* response,
                                   absl::StatusOr<Resp> (etcdserver::EtcdServer::*method)(
                                       const Req&, const etcdserver::RequestContext&)) {
  etcdserver::EtcdServer* server = env.server;
  return RunUnary<Req, Resp>(env, context, request, response,
                             [server, method](const Req& r, const etcdserver::RequestContext& c) {
                               return (server->*method)(r, c);
                             });
}

// A bidi reactor with an outgoing queue: Send() may be called from any
// thread; writes go out one at a time in order; FinishOnce() finishes after
// the queued writes (or at once when cancelled). Subclasses may also supply
// responses on demand with Refill(). Owned through shared_ptr: `self_` keeps
// the object alive until OnDone; other threads hold a shared_ptr while they
// call in (use weak_from_this()).
template <typename Base, typename Resp>
class QueuedReactor : public Base, public std::enable_shared_from_this<QueuedReactor<Base, Resp>> {
 public:
  // Starts the self-reference; call once after construction by make_shared.
  void Retain() { self_ = this->shared_from_this(); }

  void Send(Resp response) {
    {
      absl::MutexLock lock(&mu_);
      if (finishing_) return;
      outbox_.push_back(std::move(response));
    }
    Pump();
  }

  // Send(), but first waits while `max_queued` responses are waiting to be
  // written (for producers on worker threads). Returns false once the call
  // is finishing (cancelled, failed).
  bool SendBlocking(Resp response, size_t max_queued) {
    {
      absl::MutexLock lock(&mu_);
      auto room = [this, max_queued]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return finishing_ || outbox_.size() < max_queued;
      };
      mu_.Await(absl::Condition(&room));
      if (finishing_) return false;
      outbox_.push_back(std::move(response));
    }
    Pump();
    return true;
  }

  void FinishOnce(grpc::Status status) {
    {
      absl::MutexLock lock(&mu_);
      if (finishing_) return;
      finishing_ = true;
      finish_status_ = std::move(status);
    }
    Pump();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        outbox_.clear();
        if (!finishing_) {
          finishing_ = true;
          finish_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream write failed");
        }
      }
    }
    Pump();
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      outbox_.clear();
      if (!finishing_) {
        finishing_ = true;
        finish_status_ = grpc::Status::CANCELLED;
      }
    }
    Pump();
  }

  void OnDone() override {
    Closed();
    self_.reset();  // may delete this
  }

 protected:
  // Called under mu_ when the outbox is empty and a write could start: may
  // append responses. Must not block or call back into this class.
  virtual void RefillLocked(std::deque<Resp>* outbox) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {}
  // Called once from OnDone, before the object may be deleted.
  virtual void Closed() {}

  // Appends `response` to the outbox without writing (the caller holds mu_
  // and calls Pump() after releasing it).
  void QueueLocked(Resp response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!finishing_) outbox_.push_back(std::move(response));
  }

  bool finishing() {
    absl::MutexLock lock(&mu_);
    return finishing_;
  }

  // Writes or finishes as far as possible. Re-entrant: a write that
  // completes inline (OnWriteDone inside StartWrite) makes the outer loop
  // go round again instead of recursing.
  void Pump() {
    {
      absl::MutexLock lock(&mu_);
      if (pumping_) {
        pump_again_ = true;
        return;
      }
      pumping_ = true;
    }
    while (true) {
      enum { kNothing, kWrite, kFinish } action = kNothing;
      {
        absl::MutexLock lock(&mu_);
        pump_again_ = false;
        if (!writing_ && !finished_) {
          if (outbox_.empty() && !finishing_) RefillLocked(&outbox_);
          if (!outbox_.empty()) {
            current_ = std::move(outbox_.front());
            outbox_.pop_front();
            writing_ = true;
            action = kWrite;
          } else if (finishing_) {
            finished_ = true;
            action = kFinish;
          }
        }
        if (action == kNothing) {
          if (pump_again_) continue;
          pumping_ = false;
          return;
        }
      }
      if (action == kWrite) {
        this->StartWrite(&current_);
      } else {
        grpc::Status status;
        {
          absl::MutexLock lock(&mu_);
          status = finish_status_;
          pumping_ = false;
        }
        this->Finish(status);  // OnDone may follow; touch nothing after
        return;
      }
    }
  }

  absl::Mutex mu_;

 private:
  std::shared_ptr<QueuedReactor<Base, Resp>> self_;
  std::deque<Resp> outbox_ ABSL_GUARDED_BY(mu_);
  Resp current_;  // the write in flight; touched only by the writer
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool pumping_ ABSL_GUARDED_BY(mu_) = false;
  bool pump_again_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

template <typename Req, typename Resp>
using QueuedBidiReactor = QueuedReactor<grpc::ServerBidiReactor<Req, Resp>, Resp>;
template <typename Resp>
using QueuedWriteReactor = QueuedReactor<grpc::ServerWriteReactor<Resp>, Resp>;

}  // namespace etcd::v3rpc

#endif  // ETCD_SERVER_V3RPC_SERVICE_UTIL_H_
