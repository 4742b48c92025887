#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "api/etcdserverpb/rpc.grpc.pb.h"
#include "api/rpctypes/rpctypes.h"
#include "mvcc/watchable_store.h"
#include "server/v3rpc/services.h"
#include "server/v3rpc/watch_fragment.h"

namespace etcd::v3rpc {
namespace {

using etcdserver::EtcdServer;
using etcdserver::RequestContext;

// The cancel reason etcd gives a watch the client may not make.
std::string PermissionCancelReason(const absl::Status& status) {
  for (const rpctypes::EtcdError* e : {&rpctypes::kErrInvalidAuthToken,
                                       &rpctypes::kErrAuthOldRevision, &rpctypes::kErrUserEmpty}) {
    if (e->Matches(status)) return std::string(e->message());
  }
  return std::string(rpctypes::kErrPermissionDenied.message());
}

// One Watch stream: many watchers on one mvcc::WatchStream. Control answers
// (created, canceled, errors) are queued on the gRPC thread that read the
// request, under mu_ together with the store call, so a watcher's "created"
// always precedes its events; events are polled from the store when the
// outbox runs dry. The store's notify callback only schedules a pump on the
// worker pool, so writers never wait for this stream.
class WatchReactor final
    : public QueuedBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse> {
 public:
  WatchReactor(const Env& env, RequestContext ctx) : env_(env), ctx_(std::move(ctx)) {}

  void Begin() {
    Retain();
    mvcc::WatchableStore* store = env_.server->Watchable();
    if (store == nullptr) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: watch not available"));
      return;
    }
    if (ctx_.require_leader && !env_.server->HasLeader()) {
      FinishOnce(ToGrpcStatus(rpctypes::ToStatus(rpctypes::kErrNoLeader)));
      return;
    }
    std::weak_ptr<WatchReactor> weak = Weak();
    stream_ = store->NewWatchStream();
    Executor* executor = env_.executor;
    stream_->SetNotifyCallback([weak, executor] {
      executor->Schedule([weak] {
        if (std::shared_ptr<WatchReactor> self = weak.lock()) self->Pump();
      });
    });
    if (ctx_.require_leader) {
      leader_callback_ = env_.server->AddLeaderChangeCallback([weak, executor](uint64_t leader) {
        if (leader != 0) return;
        executor->Schedule([weak] {
          if (std::shared_ptr<WatchReactor> self = weak.lock()) {
            self->FinishOnce(ToGrpcStatus(rpctypes::ToStatus(rpctypes::kErrNoLeader)));
          }
        });
      });
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed: as in etcd, its watches keep delivering
      // until it cancels the call (OnCancel) or the server shuts down.
      return;
    }
    switch (request_.request_union_case()) {
      case etcdserverpb::WatchRequest::kCreateRequest:
        Create(request_.create_request());
        break;
      case etcdserverpb::WatchRequest::kCancelRequest:
        Cancel(request_.cancel_request().watch_id());
        break;
      case etcdserverpb::WatchRequest::kProgressRequest:
        stream_->RequestProgressAll();
        break;
      default:
        break;  // etcd ignores what it does not know
    }
    Pump();
    if (!finishing()) StartRead(&request_);
  }

 protected:
  void RefillLocked(std::deque<etcdserverpb::WatchResponse>* outbox) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stream_ == nullptr) return;
    std::optional<mvcc::WatchResponse> r = stream_->Poll();
    if (!r.has_value()) return;
    etcdserverpb::WatchResponse response;
    *response.mutable_header() = HeaderAt(r->revision);
    response.set_watch_id(r->watch_id);
    for (const auto& event : r->Events()) *response.add_events() = event;
    if (!r->Events().empty()) {
      auto it = progress_.find(r->watch_id);
      if (it != progress_.end()) it->second = false;  // elide the next tick
    }
    response.set_compact_revision(r->compact_revision);
    response.set_canceled(r->compact_revision != 0);
    if (fragment_ids_.contains(r->watch_id)) {
      for (etcdserverpb::WatchResponse& part :
           FragmentWatchResponse(std::move(response), env_.max_request_bytes)) {
        outbox->push_back(std::move(part));
      }
    } else {
      outbox->push_back(std::move(response));
    }
  }

  void Closed() override {
    if (leader_callback_ >= 0) env_.server->RemoveLeaderChangeCallback(leader_callback_);
    if (stream_ != nullptr) {
      stream_->SetNotifyCallback(nullptr);
      stream_->Close();
    }
  }

 private:
  std::weak_ptr<WatchReactor> Weak() {
    return std::static_pointer_cast<WatchReactor>(shared_from_this());
  }

  etcdserverpb::ResponseHeader HeaderAt(int64_t revision) {
    etcdserverpb::ResponseHeader header = env_.server->Header();
    header.set_revision(revision);
    return header;
  }

  void Create(const etcdserverpb::WatchCreateRequest& create) {
    std::string key = create.key().empty() ? std::string(1, '\0') : create.key();
    const std::string& end = create.range_end();
    etcdserverpb::WatchResponse response;
    response.set_created(true);
    if (absl::Status permitted = env_.server->CheckRangePermission(ctx_, key, end);
        !permitted.ok()) {
      *response.mutable_header() = HeaderAt(stream_->Rev());
      response.set_watch_id(-1);
      response.set_canceled(true);
      response.set_cancel_reason(PermissionCancelReason(permitted));
      Send(std::move(response));
      return;
    }
    mvcc::WatchOptions options;
    for (int filter : create.filters()) {
      if (filter == etcdserverpb::WatchCreateRequest::NOPUT) options.no_put = true;
      if (filter == etcdserverpb::WatchCreateRequest::NODELETE) options.no_delete = true;
    }
    options.prev_kv = create.prev_kv();
    {
      absl::MutexLock lock(&mu_);
      int64_t wsrev = stream_->Rev();
      int64_t rev = create.start_revision() == 0 ? wsrev + 1 : create.start_revision();
      absl::StatusOr<mvcc::WatchID> id = stream_->Watch(create.watch_id(), key, end, rev, options);
      *response.mutable_header() = HeaderAt(wsrev);
      if (id.ok()) {
        response.set_watch_id(*id);
        if (create.fragment()) fragment_ids_.insert(*id);
        if (create.progress_notify()) {
          progress_[*id] = true;
          if (!ticking_ && env_.progress_ticker != nullptr) {
            ticking_ = true;
            std::weak_ptr<WatchReactor> weak = Weak();
            env_.progress_ticker->Add([weak] {
              std::shared_ptr<WatchReactor> self = weak.lock();
              if (self == nullptr || self->finishing()) return false;
              self->ProgressTick();
              return true;
            });
          }
        }
      } else {
        response.set_watch_id(-1);
        response.set_canceled(true);
        response.set_cancel_reason(std::string(id.status().message()));
      }
      // Queued under mu_ with the Watch call: no event of this watcher can
      // be polled before it.
      QueueLocked(std::move(response));
    }
  }

  // etcd's progress ticker: a watcher that got no events since the last
  // tick is sent an empty response with the current revision.
  void ProgressTick() {
    absl::MutexLock lock(&mu_);
    for (auto& [id, idle] : progress_) {
      if (idle) stream_->RequestProgress(id);
      idle = true;
    }
  }

  void Cancel(int64_t id) {
    absl::MutexLock lock(&mu_);
    if (!stream_->Cancel(id).ok()) return;  // etcd says nothing then
    fragment_ids_.erase(id);
    progress_.erase(id);
    etcdserverpb::WatchResponse response;
    *response.mutable_header() = HeaderAt(stream_->Rev());
    response.set_watch_id(id);
    response.set_canceled(true);
    QueueLocked(std::move(response));
  }

  const Env env_;
  const RequestContext ctx_;
  etcdserverpb::WatchRequest request_;
  // Set in Begin(), closed in Closed().
  std::unique_ptr<mvcc::WatchStream> stream_;
  int leader_callback_ = -1;
  absl::flat_hash_set<int64_t> fragment_ids_ ABSL_GUARDED_BY(mu_);
  // progress_notify watchers: whether no event went out since the last tick.
  absl::flat_hash_map<int64_t, bool> progress_ ABSL_GUARDED_BY(mu_);
  bool ticking_ ABSL_GUARDED_BY(mu_) = false;
};

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  explicit WatchService(const Env& env) : env_(env) {}

  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext* context) override {
    if (env_.server->IsLearner()) {
      return new RefusedBidiStream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>(
          NotSupportedForLearner());
    }
    auto reactor = std::make_shared<WatchReactor>(env_, MakeRequestContext(context));
    reactor->Begin();
    return reactor.get();
  }

 private:
  const Env env_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewWatchService(const Env& env) {
  return std::make_unique<WatchService>(env);
}

}  // namespace etcd::v3rpc
