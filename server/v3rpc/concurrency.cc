#include "server/v3rpc/concurrency.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace etcd::v3rpc {

using etcdserver::EtcdServer;
using etcdserver::RequestContext;

std::string PrefixRangeEnd(absl::string_view prefix) {
  std::string end(prefix);
  for (size_t i = end.size(); i > 0; --i) {
    if (static_cast<unsigned char>(end[i - 1]) < 0xff) {
      end[i - 1] = static_cast<char>(static_cast<unsigned char>(end[i - 1]) + 1);
      end.resize(i);
      return end;
    }
  }
  return std::string(1, '\0');
}

etcdserverpb::RangeRequest FirstCreateRequest(absl::string_view prefix) {
  etcdserverpb::RangeRequest r;
  r.set_key(std::string(prefix));
  r.set_range_end(PrefixRangeEnd(prefix));
  r.set_sort_target(etcdserverpb::RangeRequest::CREATE);
  r.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
  r.set_limit(1);
  return r;
}

std::string SessionKey(absl::string_view prefix, int64_t lease) {
  return absl::StrFormat("%s%x", prefix, static_cast<uint64_t>(lease));
}

absl::Status AsClientError(const absl::Status& status) {
  if (status.ok()) return status;
  return absl::UnknownError(status.message());
}

absl::StatusOr<int64_t> SessionLease(EtcdServer* server, int64_t lease, const RequestContext& ctx) {
  if (lease != 0) return lease;
  etcdserverpb::LeaseGrantRequest grant;
  grant.set_ttl(kDefaultSessionTTL);
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> granted = server->LeaseGrant(grant, ctx);
  if (!granted.ok()) return AsClientError(granted.status());
  return granted->id();
}

RequestContext CleanupContext(const RequestContext& ctx) {
  RequestContext cleanup = ctx;
  cleanup.deadline = absl::InfiniteFuture();
  return cleanup;
}

SerialRunner::SerialRunner(Executor* executor, std::function<void()> step)
    : executor_(executor), step_(std::move(step)) {}

void SerialRunner::Kick(std::shared_ptr<void> owner) {
  {
    absl::MutexLock lock(&mu_);
    if (running_) {
      again_ = true;
      return;
    }
    running_ = true;
  }
  executor_->Schedule([this, owner = std::move(owner)] {
    while (true) {
      step_();
      absl::MutexLock lock(&mu_);
      if (!again_) {
        running_ = false;
        return;
      }
      again_ = false;
    }
  });
}

absl::StatusOr<std::unique_ptr<mvcc::WatchStream>> WatchFrom(EtcdServer* server,
                                                             absl::string_view key,
                                                             absl::string_view end,
                                                             int64_t start_rev,
                                                             std::function<void()> notify) {
  std::unique_ptr<mvcc::WatchStream> stream = server->Watchable()->NewWatchStream();
  stream->SetNotifyCallback(std::move(notify));
  absl::StatusOr<mvcc::WatchID> id = stream->Watch(mvcc::kAutoWatchID, key, end, start_rev);
  if (!id.ok()) return id.status();
  return stream;
}

DeleteWaiter::DeleteWaiter(EtcdServer* server, RequestContext ctx, std::string prefix,
                           int64_t max_create_rev, std::function<void()> wake)
    : server_(server),
      ctx_(std::move(ctx)),
      prefix_(std::move(prefix)),
      max_create_rev_(max_create_rev),
      wake_(std::move(wake)) {}

std::optional<absl::StatusOr<etcdserverpb::ResponseHeader>> DeleteWaiter::Advance() {
  while (true) {
    if (watch_ != nullptr) {
      bool deleted = false;
      while (std::optional<mvcc::WatchResponse> r = watch_->Poll()) {
        // A compacted watch cannot tell; reading again can.
        if (r->compact_revision != 0) deleted = true;
        for (const mvccpb::Event& ev : r->Events()) {
          if (ev.type() == mvccpb::Event::DELETE) deleted = true;
        }
      }
      if (!deleted) return std::nullopt;
      watch_.reset();
    }
    // The newest key created before ours (etcd's WithLastCreate and
    // WithMaxCreateRev).
    etcdserverpb::RangeRequest range;
    range.set_key(prefix_);
    range.set_range_end(PrefixRangeEnd(prefix_));
    range.set_sort_target(etcdserverpb::RangeRequest::CREATE);
    range.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
    range.set_limit(1);
    range.set_max_create_revision(max_create_rev_);
    absl::StatusOr<etcdserverpb::RangeResponse> got = server_->Range(range, ctx_);
    if (!got.ok()) return AsClientError(got.status());
    if (got->kvs_size() == 0) return got->header();
    // From the read's revision on, the key can only go away by an event.
    absl::StatusOr<std::unique_ptr<mvcc::WatchStream>> watch =
        WatchFrom(server_, got->kvs(0).key(), "", got->header().revision(), wake_);
    if (!watch.ok()) return watch.status();
    watch_ = std::move(*watch);
  }
}

}  // namespace etcd::v3rpc
