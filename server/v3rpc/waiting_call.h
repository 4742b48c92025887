// Internal to //server/v3rpc: a unary call that may wait for minutes (Lock,
// Campaign) without holding a thread. The call is a state machine: Step()
// runs on the worker pool when the call starts, whenever Waker() is called
// (e.g. by a watch notification) and once more after the client cancelled
// or its deadline passed; it never runs twice at the same time.
//
//   class LockCall final : public WaitingCall {
//     void Step() override {
//       if (cancelled()) { CleanUp(); Complete(grpc::Status::CANCELLED); return; }
//       ...  // blocking EtcdServer calls are fine here; return to wait
//     }
//   };
//   auto call = std::make_shared<LockCall>(env, context, ...);
//   call->Start();
//   return call.get();
//
// Includes gRPC: only the service .cc files include it.

#ifndef ETCD_SERVER_V3RPC_WAITING_CALL_H_
#define ETCD_SERVER_V3RPC_WAITING_CALL_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>

#include "server/v3rpc/concurrency.h"
#include "server/v3rpc/service_util.h"

namespace etcd::v3rpc {

// Owned through shared_ptr: a self-reference keeps it alive until OnDone,
// and every scheduled Step() holds a reference too.
class WaitingCall : public grpc::ServerUnaryReactor,
                    public std::enable_shared_from_this<WaitingCall> {
 public:
  WaitingCall(const Env& env, grpc::CallbackServerContext* context)
      : env_(env),
        ctx_(MakeRequestContext(context)),
        runner_(env.executor, [this] { RunStep(); }) {}

  // Call once, after make_shared.
  void Start() {
    self_ = shared_from_this();
    runner_.Kick(self_);
  }

  void OnCancel() override {
    cancelled_.store(true);
    runner_.Kick(shared_from_this());
  }

  void OnDone() override { self_.reset(); }  // may delete this

 protected:
  // The state machine; runs on the pool, one at a time. Must end with
  // Complete() exactly once (later Steps are not run).
  virtual void Step() = 0;

  // Whether the client went away or the deadline passed.
  bool cancelled() const { return cancelled_.load(); }

  // Finishes the call. Drop every watch first: after Complete the call may
  // be deleted.
  void Complete(const grpc::Status& status) {
    completed_ = true;
    Finish(status);
  }
  void Complete(const absl::Status& status) { Complete(ToGrpcStatus(status)); }

  // A callback that makes Step() run again; safe from any thread and after
  // the call is gone.
  std::function<void()> Waker() {
    std::weak_ptr<WaitingCall> weak = weak_from_this();
    return [weak] {
      if (std::shared_ptr<WaitingCall> self = weak.lock()) self->runner_.Kick(self);
    };
  }

  const Env env_;
  const etcdserver::RequestContext ctx_;

 private:
  void RunStep() {
    if (!completed_) Step();
  }

  std::shared_ptr<WaitingCall> self_;
  std::atomic<bool> cancelled_{false};
  bool completed_ = false;  // touched only by Step()
  SerialRunner runner_;
};

}  // namespace etcd::v3rpc

#endif  // ETCD_SERVER_V3RPC_WAITING_CALL_H_
