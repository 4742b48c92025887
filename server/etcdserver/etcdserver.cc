#include "server/etcdserver/etcdserver.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "api/rpctypes/rpctypes.h"
#include "api/version/version.h"
#include "mvcc/backend/backend.h"
#include "server/embed/config.h"
#include "pkg/types/urls.h"
#include "server/etcdserver/membership.h"
#include "server/etcdserver/request_util.h"
#include "server/etcdserver/server_impl.h"
#include "server/etcdserver/transport.h"

namespace etcd::etcdserver {
namespace {

using etcdserverpb::InternalRaftRequest;

absl::Status Rpc(const rpctypes::EtcdError& e) { return rpctypes::ToStatus(e); }

// The response of an applied request, with the member's header fields; the
// revision the apply step set is kept (else the current one).
template <typename T>
absl::StatusOr<T> Unwrap(ServerImpl* s, absl::StatusOr<ApplyResult> r) {
  if (!r.ok()) return r.status();
  if (!r->status.ok()) return r->status;
  T out;
  if (r->response != nullptr) out = static_cast<const T&>(*r->response);
  int64_t rev = out.header().revision();
  *out.mutable_header() = s->Header();
  if (rev != 0) out.mutable_header()->set_revision(rev);
  return out;
}

// `done` for a proposal whose applied result is a T.
template <typename T>
ServerImpl::ProposeCallback UnwrapTo(ServerImpl* s, EtcdServer::Callback<T> done) {
  return [s, done = std::move(done)](absl::StatusOr<ApplyResult> r) {
    done(Unwrap<T>(s, std::move(r)));
  };
}

template <typename T>
T WithHeader(ServerImpl* s, T resp) {
  int64_t rev = resp.header().revision();
  *resp.mutable_header() = s->Header();
  if (rev != 0) resp.mutable_header()->set_revision(rev);
  return resp;
}


// Sends `request` to the leader's `method` (Transport::Call) and decodes the
// response; the leader's errors come back as they are.
template <typename Response, typename Request>
absl::StatusOr<Response> ForwardToLeader(ServerImpl* s, const std::string& method,
                                         const Request& request, const RequestContext& ctx) {
  const uint64_t leader = s->lead_;
  if (leader == 0) return Rpc(rpctypes::kErrNoLeader);
  if (s->options_.transport == nullptr || leader == s->id_) return Rpc(rpctypes::kErrNotLeader);
  absl::StatusOr<std::string> reply = s->options_.transport->Call(
      leader, method, request.SerializeAsString(), s->Deadline(ctx));
  if (!reply.ok()) return reply.status();
  Response resp;
  if (!resp.ParseFromString(*reply)) {
    return absl::InternalError(absl::StrCat("cannot decode the leader's ", method, " response"));
  }
  return resp;
}

}  // namespace

// --- ServerOptions -------------------------------------------------------------------

absl::StatusOr<ServerOptions> ServerOptions::FromConfig(const embed::Config& c) {
  ServerOptions o;
  o.name = c.name;
  o.data_dir = c.data_dir.empty() ? c.name + ".etcd" : c.data_dir;
  o.wal_dir = c.wal_dir;
  o.snapshot_count = c.snapshot_count;
  o.snapshot_catchup_entries = c.snapshot_catchup_entries;
  o.max_snapshots = c.max_snapshots;
  o.max_wals = c.max_wals;
  o.heartbeat_interval = absl::Milliseconds(c.heartbeat_interval_ms);
  o.election_ticks = c.ElectionTicks();
  o.initial_election_tick_advance = c.initial_election_tick_advance;
  o.pre_vote = c.pre_vote;
  o.strict_reconfig_check = c.strict_reconfig_check;
  o.advertise_peer_urls = c.initial_advertise_peer_urls.StringSlice();
  o.advertise_client_urls = c.advertise_client_urls.StringSlice();
  o.initial_cluster = c.initial_cluster;
  if (o.initial_cluster.empty() || c.initial_cluster == embed::kDefaultInitialCluster) {
    std::string from_name = c.InitialClusterFromName(c.name);
    if (!from_name.empty()) o.initial_cluster = from_name;
  }
  o.initial_cluster_token = c.initial_cluster_token;
  o.initial_cluster_state = c.initial_cluster_state;
  o.force_new_cluster = c.force_new_cluster;
  o.quota_backend_bytes = c.quota_backend_bytes;
  o.max_request_bytes = c.max_request_bytes;
  o.max_txn_ops = c.max_txn_ops;
  o.backend_batch_interval = c.backend_batch_interval;
  o.backend_batch_limit = c.backend_batch_limit;
  o.unsafe_no_fsync = c.unsafe_no_fsync;
  o.auth_token = c.auth_token;
  o.auth_token_ttl = absl::Seconds(c.auth_token_ttl);
  o.bcrypt_cost = static_cast<int>(c.bcrypt_cost);
  absl::StatusOr<embed::AutoCompaction> ac = c.AutoCompactionSettings();
  if (!ac.ok()) return ac.status();
  o.auto_compaction_mode = ac->mode.empty() ? c.auto_compaction_mode : ac->mode;
  o.auto_compaction_period = ac->period;
  o.auto_compaction_revisions = ac->revisions;
  o.compaction_batch_limit = c.experimental_compaction_batch_limit;
  o.initial_corrupt_check = c.experimental_initial_corrupt_check;
  o.corrupt_check_time = c.experimental_corrupt_check_time;
  o.compaction_sleep_interval = c.experimental_compaction_sleep_interval;
  o.enable_lease_checkpoint = c.experimental_enable_lease_checkpoint;
  return o;
}

// --- BackendSnapshot --------------------------------------------------------------

BackendSnapshot::BackendSnapshot(std::unique_ptr<mvcc::backend::Snapshot> snapshot)
    : snapshot_(std::move(snapshot)) {}
BackendSnapshot::~BackendSnapshot() = default;
int64_t BackendSnapshot::Size() const { return snapshot_->Size(); }
absl::Status BackendSnapshot::WriteTo(
    absl::FunctionRef<absl::Status(absl::string_view chunk)> sink) {
  return snapshot_->WriteTo(sink);
}

// --- Lifecycle --------------------------------------------------------------------

EtcdServer::EtcdServer(std::unique_ptr<ServerImpl> impl) : impl_(std::move(impl)) {}
EtcdServer::~EtcdServer() { Stop(); }

absl::StatusOr<std::unique_ptr<EtcdServer>> EtcdServer::Start(const ServerOptions& options) {
  auto impl = std::make_unique<ServerImpl>(options);
  if (absl::Status s = impl->Init(); !s.ok()) {
    impl->Stop();
    return s;
  }
  return std::unique_ptr<EtcdServer>(new EtcdServer(std::move(impl)));
}

void EtcdServer::Stop() { impl_->Stop(); }
void EtcdServer::WaitStopped() {
  while (!impl_->stopped_) absl::SleepFor(absl::Milliseconds(10));
  impl_->Stop();
}
bool EtcdServer::Stopped() const { return impl_->stopped_ || impl_->removed_self_; }

// --- KV ---------------------------------------------------------------------------

absl::StatusOr<etcdserverpb::RangeResponse> EtcdServer::Range(
    const etcdserverpb::RangeRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (absl::Status s = CheckRangeRequest(request); !s.ok()) return s;
  if (!request.serializable()) {
    if (absl::Status s = impl_->LinearizableReadNotify(ctx); !s.ok()) return s;
  }
  absl::StatusOr<auth::AuthInfo> who = impl_->AuthInfoFrom(ctx);
  if (!who.ok()) return who.status();
  absl::StatusOr<etcdserverpb::RangeResponse> r = impl_->RangeLocal(request, &*who);
  if (!r.ok()) return r.status();
  return WithHeader(impl_.get(), *std::move(r));
}

absl::StatusOr<etcdserverpb::PutResponse> EtcdServer::Put(const etcdserverpb::PutRequest& request,
                                                          const RequestContext& ctx) {
  if (absl::Status s = CheckPutRequest(request); !s.ok()) return s;
  if (absl::Status s = impl_->CheckQuota(PutCost(request)); !s.ok()) return s;
  InternalRaftRequest r;
  *r.mutable_put() = request;
  return Unwrap<etcdserverpb::PutResponse>(impl_.get(), impl_->Propose(std::move(r), ctx));
}

absl::StatusOr<etcdserverpb::DeleteRangeResponse> EtcdServer::DeleteRange(
    const etcdserverpb::DeleteRangeRequest& request, const RequestContext& ctx) {
  if (absl::Status s = CheckDeleteRequest(request); !s.ok()) return s;
  InternalRaftRequest r;
  *r.mutable_delete_range() = request;
  return Unwrap<etcdserverpb::DeleteRangeResponse>(impl_.get(), impl_->Propose(std::move(r), ctx));
}

absl::StatusOr<etcdserverpb::TxnResponse> EtcdServer::Txn(const etcdserverpb::TxnRequest& request,
                                                          const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (absl::Status s = CheckTxnRequest(request, impl_->options_.max_txn_ops); !s.ok()) return s;
  if (IsTxnReadOnly(request)) {
    if (!IsTxnSerializable(request)) {
      if (absl::Status s = impl_->LinearizableReadNotify(ctx); !s.ok()) return s;
    }
    absl::StatusOr<auth::AuthInfo> who = impl_->AuthInfoFrom(ctx);
    if (!who.ok()) return who.status();
    absl::StatusOr<etcdserverpb::TxnResponse> r =
        impl_->TxnLocal(request, impl_->auth_->IsAuthEnabled() ? &*who : nullptr);
    if (!r.ok()) return r.status();
    return WithHeader(impl_.get(), *std::move(r));
  }
  if (TxnHasPut(request)) {
    if (absl::Status s = impl_->CheckQuota(TxnCost(request)); !s.ok()) return s;
  }
  InternalRaftRequest r;
  *r.mutable_txn() = request;
  return Unwrap<etcdserverpb::TxnResponse>(impl_.get(), impl_->Propose(std::move(r), ctx));
}

absl::StatusOr<etcdserverpb::CompactionResponse> EtcdServer::Compact(
    const etcdserverpb::CompactionRequest& request, const RequestContext& ctx) {
  InternalRaftRequest r;
  *r.mutable_compaction() = request;
  absl::StatusOr<ApplyResult> res = impl_->Propose(std::move(r), ctx);
  if (res.ok() && res->status.ok() && request.physical() && res->compaction != nullptr) {
    absl::Duration left = impl_->Deadline(ctx) - absl::Now();
    if (!res->compaction->WaitFor(left)) return Rpc(rpctypes::kErrTimeout);
  }
  return Unwrap<etcdserverpb::CompactionResponse>(impl_.get(), std::move(res));
}

void EtcdServer::RangeAsync(const etcdserverpb::RangeRequest& request, const RequestContext& ctx,
                            Callback<etcdserverpb::RangeResponse> done) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return done(s);
  if (absl::Status s = CheckRangeRequest(request); !s.ok()) return done(s);
  if (request.serializable()) return done(Range(request, ctx));
  // The token is resolved now, on the caller's thread: it may wait for the
  // applied index, which the apply thread must not do.
  absl::StatusOr<auth::AuthInfo> who = impl_->AuthInfoFrom(ctx);
  if (!who.ok()) return done(who.status());
  ServerImpl* impl = impl_.get();
  impl_->LinearizableReadNotifyAsync(
      ctx, [impl, request, who = *std::move(who), done = std::move(done)](absl::Status s) {
        if (!s.ok()) return done(s);
        absl::StatusOr<etcdserverpb::RangeResponse> r = impl->RangeLocal(request, &who);
        if (!r.ok()) return done(r.status());
        done(WithHeader(impl, *std::move(r)));
      });
}

void EtcdServer::PutAsync(const etcdserverpb::PutRequest& request, const RequestContext& ctx,
                          Callback<etcdserverpb::PutResponse> done) {
  if (absl::Status s = CheckPutRequest(request); !s.ok()) return done(s);
  if (absl::Status s = impl_->CheckQuota(PutCost(request)); !s.ok()) return done(s);
  InternalRaftRequest r;
  *r.mutable_put() = request;
  impl_->ProposeWithCallback(std::move(r), ctx, UnwrapTo(impl_.get(), std::move(done)));
}

void EtcdServer::DeleteRangeAsync(const etcdserverpb::DeleteRangeRequest& request,
                                  const RequestContext& ctx,
                                  Callback<etcdserverpb::DeleteRangeResponse> done) {
  if (absl::Status s = CheckDeleteRequest(request); !s.ok()) return done(s);
  InternalRaftRequest r;
  *r.mutable_delete_range() = request;
  impl_->ProposeWithCallback(std::move(r), ctx, UnwrapTo(impl_.get(), std::move(done)));
}

void EtcdServer::TxnAsync(const etcdserverpb::TxnRequest& request, const RequestContext& ctx,
                          Callback<etcdserverpb::TxnResponse> done) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return done(s);
  if (absl::Status s = CheckTxnRequest(request, impl_->options_.max_txn_ops); !s.ok()) {
    return done(s);
  }
  if (IsTxnReadOnly(request)) {
    if (IsTxnSerializable(request)) return done(Txn(request, ctx));
    absl::StatusOr<auth::AuthInfo> who = impl_->AuthInfoFrom(ctx);
    if (!who.ok()) return done(who.status());
    ServerImpl* impl = impl_.get();
    impl_->LinearizableReadNotifyAsync(
        ctx, [impl, request, who = *std::move(who), done = std::move(done)](absl::Status s) {
          if (!s.ok()) return done(s);
          absl::StatusOr<etcdserverpb::TxnResponse> r =
              impl->TxnLocal(request, impl->auth_->IsAuthEnabled() ? &who : nullptr);
          if (!r.ok()) return done(r.status());
          done(WithHeader(impl, *std::move(r)));
        });
    return;
  }
  if (TxnHasPut(request)) {
    if (absl::Status s = impl_->CheckQuota(TxnCost(request)); !s.ok()) return done(s);
  }
  InternalRaftRequest r;
  *r.mutable_txn() = request;
  impl_->ProposeWithCallback(std::move(r), ctx, UnwrapTo(impl_.get(), std::move(done)));
}

void EtcdServer::CompactAsync(const etcdserverpb::CompactionRequest& request,
                              const RequestContext& ctx,
                              Callback<etcdserverpb::CompactionResponse> done) {
  InternalRaftRequest r;
  *r.mutable_compaction() = request;
  impl_->ProposeWithCallback(std::move(r), ctx, UnwrapTo(impl_.get(), std::move(done)));
}

// --- Lease ------------------------------------------------------------------------

void EtcdServer::LeaseGrantAsync(const etcdserverpb::LeaseGrantRequest& request,
                                 const RequestContext& ctx,
                                 Callback<etcdserverpb::LeaseGrantResponse> done) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return done(s);
  if (request.ttl() > lease::kMaxLeaseTtl) return done(Rpc(rpctypes::kErrLeaseTTLTooLarge));
  if (absl::Status s = impl_->CheckQuota(kLeaseCost); !s.ok()) return done(s);
  InternalRaftRequest r;
  *r.mutable_lease_grant() = request;
  if (request.id() == 0) {
    // etcd picks a positive ID from the request ID generator.
    r.mutable_lease_grant()->set_id(
        static_cast<int64_t>(impl_->reqid_->Next() & ((uint64_t{1} << 63) - 1)));
  }
  impl_->ProposeWithCallback(std::move(r), ctx, UnwrapTo(impl_.get(), std::move(done)));
}

void EtcdServer::LeaseRevokeAsync(const etcdserverpb::LeaseRevokeRequest& request,
                                  const RequestContext& ctx,
                                  Callback<etcdserverpb::LeaseRevokeResponse> done) {
  InternalRaftRequest r;
  *r.mutable_lease_revoke() = request;
  impl_->ProposeWithCallback(std::move(r), ctx, UnwrapTo(impl_.get(), std::move(done)));
}

absl::StatusOr<etcdserverpb::LeaseGrantResponse> EtcdServer::LeaseGrant(
    const etcdserverpb::LeaseGrantRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (request.ttl() > lease::kMaxLeaseTtl) return Rpc(rpctypes::kErrLeaseTTLTooLarge);
  if (absl::Status s = impl_->CheckQuota(kLeaseCost); !s.ok()) return s;
  InternalRaftRequest r;
  *r.mutable_lease_grant() = request;
  if (request.id() == 0) {
    // etcd picks a positive ID from the request ID generator.
    r.mutable_lease_grant()->set_id(
        static_cast<int64_t>(impl_->reqid_->Next() & ((uint64_t{1} << 63) - 1)));
  }
  return Unwrap<etcdserverpb::LeaseGrantResponse>(impl_.get(), impl_->Propose(std::move(r), ctx));
}

absl::StatusOr<etcdserverpb::LeaseRevokeResponse> EtcdServer::LeaseRevoke(
    const etcdserverpb::LeaseRevokeRequest& request, const RequestContext& ctx) {
  InternalRaftRequest r;
  *r.mutable_lease_revoke() = request;
  return Unwrap<etcdserverpb::LeaseRevokeResponse>(impl_.get(), impl_->Propose(std::move(r), ctx));
}

absl::StatusOr<etcdserverpb::LeaseKeepAliveResponse> EtcdServer::LeaseRenew(
    const etcdserverpb::LeaseKeepAliveRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (!impl_->is_leader_) {
    // Only the leader's lessor tracks expiry: renew there, as etcd does.
    return ForwardToLeader<etcdserverpb::LeaseKeepAliveResponse>(impl_.get(), "LeaseRenew",
                                                                 request, ctx);
  }
  absl::StatusOr<int64_t> ttl = impl_->lessor_->Renew(request.id());
  if (!ttl.ok()) return ToRpcStatus(ttl.status());
  etcdserverpb::LeaseKeepAliveResponse resp;
  resp.set_id(request.id());
  resp.set_ttl(*ttl);
  return WithHeader(impl_.get(), std::move(resp));
}

absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> EtcdServer::LeaseTimeToLive(
    const etcdserverpb::LeaseTimeToLiveRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (!impl_->is_leader_ && impl_->options_.transport != nullptr) {
    return ForwardToLeader<etcdserverpb::LeaseTimeToLiveResponse>(impl_.get(), "LeaseTimeToLive",
                                                                  request, ctx);
  }
  absl::StatusOr<lease::TimeToLiveInfo> info =
      impl_->lessor_->TimeToLive(request.id(), request.keys());
  if (!info.ok()) return ToRpcStatus(info.status());
  etcdserverpb::LeaseTimeToLiveResponse resp;
  resp.set_id(info->id);
  resp.set_ttl(info->ttl);
  resp.set_grantedttl(info->granted_ttl);
  for (const std::string& k : info->keys) resp.add_keys(k);
  return WithHeader(impl_.get(), std::move(resp));
}

absl::StatusOr<etcdserverpb::LeaseLeasesResponse> EtcdServer::LeaseLeases(
    const etcdserverpb::LeaseLeasesRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  std::vector<lease::Lease> leases = impl_->lessor_->Leases();
  std::sort(leases.begin(), leases.end(),
            [](const lease::Lease& a, const lease::Lease& b) { return a.id < b.id; });
  etcdserverpb::LeaseLeasesResponse resp;
  for (const lease::Lease& l : leases) resp.add_leases()->set_id(l.id);
  return WithHeader(impl_.get(), std::move(resp));
}

// --- Auth ---------------------------------------------------------------------------

namespace {

// An auth change proposed with the caller's credentials in the header.
template <typename Resp, typename Setter>
absl::StatusOr<Resp> ProposeAuth(ServerImpl* impl, const RequestContext& ctx, Setter set) {
  absl::StatusOr<auth::AuthInfo> who = impl->AuthInfoFrom(ctx);
  if (!who.ok()) return who.status();
  InternalRaftRequest r;
  r.mutable_header()->set_username(who->username);
  r.mutable_header()->set_auth_revision(who->revision);
  if (absl::Status s = set(&r); !s.ok()) return s;
  return Unwrap<Resp>(impl, impl->Propose(std::move(r), ctx));
}

absl::Status CheckAdminLocal(ServerImpl* impl, const RequestContext& ctx) {
  absl::StatusOr<auth::AuthInfo> who = impl->AuthInfoFrom(ctx);
  if (!who.ok()) return who.status();
  return impl->auth_->IsAdminPermitted(*who);
}

}  // namespace

absl::StatusOr<etcdserverpb::AuthEnableResponse> EtcdServer::AuthEnable(
    const etcdserverpb::AuthEnableRequest& request, const RequestContext& ctx) {
  return ProposeAuth<etcdserverpb::AuthEnableResponse>(impl_.get(), ctx, [&](auto* r) {
    *r->mutable_auth_enable() = request;
    return absl::OkStatus();
  });
}

absl::StatusOr<etcdserverpb::AuthDisableResponse> EtcdServer::AuthDisable(
    const etcdserverpb::AuthDisableRequest& request, const RequestContext& ctx) {
  return ProposeAuth<etcdserverpb::AuthDisableResponse>(impl_.get(), ctx, [&](auto* r) {
    *r->mutable_auth_disable() = request;
    return absl::OkStatus();
  });
}

absl::StatusOr<etcdserverpb::AuthStatusResponse> EtcdServer::AuthStatus(
    const etcdserverpb::AuthStatusRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  etcdserverpb::AuthStatusResponse resp;
  resp.set_enabled(impl_->auth_->IsAuthEnabled());
  resp.set_authrevision(impl_->auth_->Revision());
  return WithHeader(impl_.get(), std::move(resp));
}

absl::StatusOr<etcdserverpb::AuthenticateResponse> EtcdServer::Authenticate(
    const etcdserverpb::AuthenticateRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<uint64_t> checked = impl_->auth_->CheckPassword(request.name(), request.password());
    if (!checked.ok()) return checked.status();
    absl::StatusOr<std::string> prefix = impl_->auth_->GenTokenPrefix();
    if (!prefix.ok()) return prefix.status();
    InternalRaftRequest r;
    r.mutable_header()->set_auth_revision(*checked);
    r.mutable_authenticate()->set_name(request.name());
    r.mutable_authenticate()->set_simple_token(*prefix);
    absl::StatusOr<etcdserverpb::AuthenticateResponse> resp =
        Unwrap<etcdserverpb::AuthenticateResponse>(impl_.get(), impl_->Propose(std::move(r), ctx));
    // The auth state changed between the password check and the apply:
    // check again, as etcd does.
    if (!resp.ok() && rpctypes::IsAuthOldRevision(resp.status()) && attempt < 3) continue;
    return resp;
  }
}

absl::StatusOr<etcdserverpb::AuthUserAddResponse> EtcdServer::UserAdd(
    const etcdserverpb::AuthUserAddRequest& request, const RequestContext& ctx) {
  etcdserverpb::AuthUserAddRequest req = request;
  if (!(req.has_options() && req.options().no_password()) && req.hashedpassword().empty() &&
      !req.name().empty()) {
    absl::StatusOr<std::string> hashed = impl_->auth_->HashPassword(req.password());
    if (!hashed.ok()) return hashed.status();
    req.set_hashedpassword(*hashed);
    req.clear_password();
  }
  return ProposeAuth<etcdserverpb::AuthUserAddResponse>(impl_.get(), ctx, [&](auto* r) {
    *r->mutable_auth_user_add() = req;
    return absl::OkStatus();
  });
}

absl::StatusOr<etcdserverpb::AuthUserDeleteResponse> EtcdServer::UserDelete(
    const etcdserverpb::AuthUserDeleteRequest& request, const RequestContext& ctx) {
  return ProposeAuth<etcdserverpb::AuthUserDeleteResponse>(impl_.get(), ctx, [&](auto* r) {
    *r->mutable_auth_user_delete() = request;
    return absl::OkStatus();
  });
}

absl::StatusOr<etcdserverpb::AuthUserChangePasswordResponse> EtcdServer::UserChangePassword(
    const etcdserverpb::AuthUserChangePasswordRequest& request, const RequestContext& ctx) {
  etcdserverpb::AuthUserChangePasswordRequest req = request;
  if (req.hashedpassword().empty()) {
    absl::StatusOr<std::string> hashed = impl_->auth_->HashPassword(req.password());
    if (!hashed.ok()) return hashed.status();
    req.set_hashedpassword(*hashed);
    req.clear_password();
  }
  return ProposeAuth<etcdserverpb::AuthUserChangePasswordResponse>(impl_.get(), ctx, [&](auto* r) {
    *r->mutable_auth_user_change_password() = req;
    return absl::OkStatus();
  });
}

absl::StatusOr<etcdserverpb::AuthUserGrantRoleResponse> EtcdServer::UserGrantRole(
    const etcdserverpb::AuthUserGrantRoleRequest& request, const RequestContext& ctx) {
  return ProposeAuth<etcdserverpb::AuthUserGrantRoleResponse>(impl_.get(), ctx, [&](auto* r) {
    *r->mutable_auth_user_grant_role() = request;
    return absl::OkStatus();
  });
}

absl::StatusOr<etcdserverpb::AuthUserGetResponse> EtcdServer::UserGet(
    const etcdserverpb::AuthUserGetRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->LinearizableReadNotify(ctx); !s.ok()) return s;
  absl::StatusOr<auth::AuthInfo> who = impl_->AuthInfoFrom(ctx);
  if (!who.ok()) return who.status();
  if (impl_->auth_->IsAuthEnabled() && who->username != request.name()) {
    if (absl::Status s = impl_->auth_->IsAdminPermitted(*who); !s.ok()) return s;
  }
  absl::StatusOr<authpb::User> user = impl_->auth_->UserGet(request.name());
  if (!user.ok()) return user.status();
  etcdserverpb::AuthUserGetResponse resp;
  for (const std::string& role : user->roles()) resp.add_roles(role);
  return WithHeader(impl_.get(), std::move(resp));
}

absl::StatusOr<etcdserverpb::AuthUserListResponse> EtcdServer::UserList(
    const etcdserverpb::AuthUserListRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->LinearizableReadNotify(ctx); !s.ok()) return s;
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  etcdserverpb::AuthUserListResponse resp;
  for (const std::string& u : impl_->auth_->UserList()) resp.add_users(u);
  return WithHeader(impl_.get(), std::move(resp));
}

absl::StatusOr<etcdserverpb::AuthUserRevokeRoleResponse> EtcdServer::UserRevokeRole(
    const etcdserverpb::AuthUserRevokeRoleRequest& request, const RequestContext& ctx) {
  return ProposeAuth<etcdserverpb::AuthUserRevokeRoleResponse>(impl_.get(), ctx, [&](auto* r) {
    *r->mutable_auth_user_revoke_role() = request;
    return absl::OkStatus();
  });
}

absl::StatusOr<etcdserverpb::AuthRoleAddResponse> EtcdServer::RoleAdd(
    const etcdserverpb::AuthRoleAddRequest& request, const RequestContext& ctx) {
  return ProposeAuth<etcdserverpb::AuthRoleAddResponse>(impl_.get(), ctx, [&](auto* r) {
    *r->mutable_auth_role_add() = request;
    return absl::OkStatus();
  });
}

absl::StatusOr<etcdserverpb::AuthRoleGrantPermissionResponse> EtcdServer::RoleGrantPermission(
    const etcdserverpb::AuthRoleGrantPermissionRequest& request, const RequestContext& ctx) {
  return ProposeAuth<etcdserverpb::AuthRoleGrantPermissionResponse>(impl_.get(), ctx,
                                                                    [&](auto* r) {
    *r->mutable_auth_role_grant_permission() = request;
    return absl::OkStatus();
  });
}

absl::StatusOr<etcdserverpb::AuthRoleGetResponse> EtcdServer::RoleGet(
    const etcdserverpb::AuthRoleGetRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->LinearizableReadNotify(ctx); !s.ok()) return s;
  absl::StatusOr<auth::AuthInfo> who = impl_->AuthInfoFrom(ctx);
  if (!who.ok()) return who.status();
  if (impl_->auth_->IsAuthEnabled() && !impl_->auth_->HasRole(who->username, request.role())) {
    if (absl::Status s = impl_->auth_->IsAdminPermitted(*who); !s.ok()) return s;
  }
  absl::StatusOr<std::vector<authpb::Permission>> perms = impl_->auth_->RoleGet(request.role());
  if (!perms.ok()) return perms.status();
  etcdserverpb::AuthRoleGetResponse resp;
  for (const authpb::Permission& p : *perms) *resp.add_perm() = p;
  return WithHeader(impl_.get(), std::move(resp));
}

absl::StatusOr<etcdserverpb::AuthRoleListResponse> EtcdServer::RoleList(
    const etcdserverpb::AuthRoleListRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->LinearizableReadNotify(ctx); !s.ok()) return s;
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  etcdserverpb::AuthRoleListResponse resp;
  for (const std::string& r : impl_->auth_->RoleList()) resp.add_roles(r);
  return WithHeader(impl_.get(), std::move(resp));
}

absl::StatusOr<etcdserverpb::AuthRoleRevokePermissionResponse> EtcdServer::RoleRevokePermission(
    const etcdserverpb::AuthRoleRevokePermissionRequest& request, const RequestContext& ctx) {
  return ProposeAuth<etcdserverpb::AuthRoleRevokePermissionResponse>(impl_.get(), ctx,
                                                                     [&](auto* r) {
    *r->mutable_auth_role_revoke_permission() = request;
    return absl::OkStatus();
  });
}

absl::StatusOr<etcdserverpb::AuthRoleDeleteResponse> EtcdServer::RoleDelete(
    const etcdserverpb::AuthRoleDeleteRequest& request, const RequestContext& ctx) {
  return ProposeAuth<etcdserverpb::AuthRoleDeleteResponse>(impl_.get(), ctx, [&](auto* r) {
    *r->mutable_auth_role_delete() = request;
    return absl::OkStatus();
  });
}

// --- Cluster ------------------------------------------------------------------------

absl::StatusOr<etcdserverpb::MemberListResponse> EtcdServer::MemberList(
    const etcdserverpb::MemberListRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (request.linearizable()) {
    if (absl::Status s = impl_->LinearizableReadNotify(ctx); !s.ok()) return s;
  }
  etcdserverpb::MemberListResponse resp;
  for (const etcdserverpb::Member& m : impl_->Members()) *resp.add_members() = m;
  return WithHeader(impl_.get(), std::move(resp));
}

namespace {

absl::StatusOr<std::vector<std::string>> CheckPeerUrls(
    const google::protobuf::RepeatedPtrField<std::string>& urls) {
  std::vector<std::string> out(urls.begin(), urls.end());
  if (out.empty()) return Rpc(rpctypes::kErrMemberBadURLs);
  for (const std::string& u : out) {
    if (!types::URLs::Parse(u).ok()) return Rpc(rpctypes::kErrMemberBadURLs);
  }
  return out;
}

// Whether a member other than `except` already has one of `urls`.
bool PeerUrlTaken(const std::vector<etcdserverpb::Member>& members,
                  const std::vector<std::string>& urls, uint64_t except) {
  for (const etcdserverpb::Member& m : members) {
    if (m.id() == except) continue;
    for (const std::string& u : m.peerurls()) {
      if (std::find(urls.begin(), urls.end(), u) != urls.end()) return true;
    }
  }
  return false;
}

// The member `id`, if there is one.
std::optional<etcdserverpb::Member> FindMember(const std::vector<etcdserverpb::Member>& members,
                                               uint64_t id) {
  for (const etcdserverpb::Member& m : members) {
    if (m.id() == id) return m;
  }
  return std::nullopt;
}

// --- etcd's --strict-reconfig-check rules -------------------------------------

// How long a peer must have been reachable to count as connected.
constexpr absl::Duration kHealthInterval = absl::Seconds(5);
// A learner is in sync once its log matches 90% of the leader's.
constexpr double kLearnerReadyFraction = 0.9;

// A member that published its name has started.
bool IsStarted(const etcdserverpb::Member& m) { return !m.name().empty(); }

std::vector<etcdserverpb::Member> Voters(const ServerImpl* impl) {
  std::vector<etcdserverpb::Member> voters;
  for (const etcdserverpb::Member& m : impl->Members()) {
    if (!m.islearner()) voters.push_back(m);
  }
  return voters;
}

// How many of `voters` this member reached all the time since `since`,
// itself included.
size_t ConnectedSince(const ServerImpl* impl, const std::vector<etcdserverpb::Member>& voters,
                      absl::Time since) {
  size_t n = 0;
  for (const etcdserverpb::Member& m : voters) {
    std::optional<absl::Time> active = impl->PeerActiveSince(m.id());
    if (active.has_value() && *active < since) ++n;
  }
  return n;
}

// Whether `started` of `members` voters (after the change) make a quorum.
bool StartedQuorum(size_t started, size_t members) { return started >= members / 2 + 1; }

absl::Status Refuse(const ServerImpl* impl, const rpctypes::EtcdError& error,
                    absl::string_view what, uint64_t id) {
  impl->logger_->Warn(absl::StrCat("rejecting member ", what, " request"),
                      {{"local-member-id", absl::StrFormat("%x", impl->id_)},
                       {"requested-member-id", absl::StrFormat("%x", id)},
                       {"error", std::string(error.message())}});
  return Rpc(error);
}

absl::Status MayAddMember(const ServerImpl* impl, const etcdserverpb::Member& m) {
  if (!impl->options_.strict_reconfig_check) return absl::OkStatus();
  const std::vector<etcdserverpb::Member> voters = Voters(impl);
  if (!m.islearner()) {
    const size_t members = voters.size() + 1;
    const size_t started =
        std::count_if(voters.begin(), voters.end(), [](const auto& v) { return IsStarted(v); });
    // Growing a one-member cluster (etcd's restore procedure) is allowed.
    if (!(started == 1 && members == 2) && !StartedQuorum(started, members)) {
      return Refuse(impl, rpctypes::kErrMemberNotEnoughStarted, "add", m.id());
    }
  }
  if (ConnectedSince(impl, voters, absl::Now() - kHealthInterval) != voters.size()) {
    return Refuse(impl, rpctypes::kErrUnhealthy, "add", m.id());
  }
  return absl::OkStatus();
}

absl::Status MayRemoveMember(const ServerImpl* impl, uint64_t id) {
  if (!impl->options_.strict_reconfig_check) return absl::OkStatus();
  std::optional<etcdserverpb::Member> target = FindMember(impl->Members(), id);
  if (target.has_value() && target->islearner()) return absl::OkStatus();
  const std::vector<etcdserverpb::Member> voters = Voters(impl);
  if (voters.empty()) return absl::OkStatus();
  size_t members = 0, started = 0;
  for (const etcdserverpb::Member& v : voters) {
    if (v.id() == id) continue;
    ++members;
    if (IsStarted(v)) ++started;
  }
  if (!StartedQuorum(started, members)) {
    return Refuse(impl, rpctypes::kErrMemberNotEnoughStarted, "remove", id);
  }
  // A member that is down is not part of the active quorum.
  if (id != impl->id_ && !impl->PeerActiveSince(id).has_value()) return absl::OkStatus();
  const size_t active = ConnectedSince(impl, voters, absl::Now() - kHealthInterval);
  if (active < 2 + (voters.size() - 1) / 2) {
    return Refuse(impl, rpctypes::kErrUnhealthy, "remove", id);
  }
  return absl::OkStatus();
}

// On the leader: whether learner `id` has caught up, and (strict) whether
// enough members started.
absl::Status MayPromoteMember(const ServerImpl* impl, uint64_t id) {
  const std::map<uint64_t, uint64_t> match = impl->ProgressMatch();
  if (match.empty()) return Rpc(rpctypes::kErrNotLeader);
  auto learner = match.find(id);
  auto leader = match.find(impl->id_);
  // A learner raft does not track yet (the copy is a tick old) is not in
  // sync either.
  if (learner == match.end() ||
      (leader != match.end() && static_cast<double>(learner->second) <
                                    static_cast<double>(leader->second) * kLearnerReadyFraction)) {
    return Refuse(impl, rpctypes::kErrLearnerNotReady, "promote", id);
  }
  if (!impl->options_.strict_reconfig_check) return absl::OkStatus();
  const std::vector<etcdserverpb::Member> voters = Voters(impl);
  const size_t started = 1 + std::count_if(voters.begin(), voters.end(),
                                           [](const auto& v) { return IsStarted(v); });
  if (!StartedQuorum(started, voters.size() + 1)) {
    return Refuse(impl, rpctypes::kErrMemberNotEnoughStarted, "promote", id);
  }
  return absl::OkStatus();
}

// Proposes the conf change, waits for it, and answers with the members.
template <typename Response>
absl::StatusOr<Response> ChangeMembership(ServerImpl* impl, raftpb::ConfChange cc,
                                          const RequestContext& ctx) {
  if (absl::Status s = impl->ProposeConfChange(std::move(cc), ctx); !s.ok()) return s;
  Response resp;
  for (const etcdserverpb::Member& member : impl->Members()) *resp.add_members() = member;
  return WithHeader(impl, std::move(resp));
}

}  // namespace

absl::StatusOr<etcdserverpb::MemberAddResponse> EtcdServer::MemberAdd(
    const etcdserverpb::MemberAddRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> urls = CheckPeerUrls(request.peerurls());
  if (!urls.ok()) return urls.status();
  const std::vector<etcdserverpb::Member> members = impl_->Members();
  if (PeerUrlTaken(members, *urls, 0)) return Rpc(rpctypes::kErrPeerURLExist);
  // etcd allows one learner at a time.
  if (request.islearner() &&
      std::any_of(members.begin(), members.end(),
                  [](const etcdserverpb::Member& m) { return m.islearner(); })) {
    return Rpc(rpctypes::kErrTooManyLearners);
  }
  etcdserverpb::Member m;
  m.set_id(ComputeMemberId(*urls, absl::StrCat(absl::ToUnixSeconds(absl::Now()))));
  for (const std::string& u : *urls) m.add_peerurls(u);
  m.set_islearner(request.islearner());
  if (absl::Status s = MayAddMember(impl_.get(), m); !s.ok()) return s;
  raftpb::ConfChange cc;
  cc.set_type(request.islearner() ? raftpb::ConfChangeAddLearnerNode : raftpb::ConfChangeAddNode);
  cc.set_node_id(m.id());
  cc.set_context(MemberToJson(m));
  absl::StatusOr<etcdserverpb::MemberAddResponse> resp =
      ChangeMembership<etcdserverpb::MemberAddResponse>(impl_.get(), std::move(cc), ctx);
  if (resp.ok()) *resp->mutable_member() = m;
  return resp;
}

absl::StatusOr<etcdserverpb::MemberRemoveResponse> EtcdServer::MemberRemove(
    const etcdserverpb::MemberRemoveRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  if (!FindMember(impl_->Members(), request.id()).has_value()) {
    return Rpc(rpctypes::kErrMemberNotFound);
  }
  if (absl::Status s = MayRemoveMember(impl_.get(), request.id()); !s.ok()) return s;
  raftpb::ConfChange cc;
  cc.set_type(raftpb::ConfChangeRemoveNode);
  cc.set_node_id(request.id());
  return ChangeMembership<etcdserverpb::MemberRemoveResponse>(impl_.get(), std::move(cc), ctx);
}

absl::StatusOr<etcdserverpb::MemberUpdateResponse> EtcdServer::MemberUpdate(
    const etcdserverpb::MemberUpdateRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> urls = CheckPeerUrls(request.peerurls());
  if (!urls.ok()) return urls.status();
  const std::vector<etcdserverpb::Member> members = impl_->Members();
  if (PeerUrlTaken(members, *urls, request.id())) return Rpc(rpctypes::kErrPeerURLExist);
  std::optional<etcdserverpb::Member> updated = FindMember(members, request.id());
  if (!updated.has_value()) return Rpc(rpctypes::kErrMemberNotFound);
  updated->clear_peerurls();
  for (const std::string& u : *urls) updated->add_peerurls(u);
  raftpb::ConfChange cc;
  cc.set_type(raftpb::ConfChangeUpdateNode);
  cc.set_node_id(request.id());
  cc.set_context(MemberToJson(*updated));
  return ChangeMembership<etcdserverpb::MemberUpdateResponse>(impl_.get(), std::move(cc), ctx);
}

namespace {

// Promotes learner `id` on the leader (only it knows whether the learner
// caught up); kErrNotLeader elsewhere.
absl::StatusOr<etcdserverpb::MemberPromoteResponse> PromoteOnLeader(ServerImpl* impl, uint64_t id,
                                                                    const RequestContext& ctx) {
  std::optional<etcdserverpb::Member> target = FindMember(impl->Members(), id);
  if (!target.has_value()) return Rpc(rpctypes::kErrMemberNotFound);
  if (!target->islearner()) return Rpc(rpctypes::kErrMemberNotLearner);
  if (absl::Status s = MayPromoteMember(impl, id); !s.ok()) return s;
  target->set_islearner(false);
  raftpb::ConfChange cc;
  cc.set_type(raftpb::ConfChangeAddNode);
  cc.set_node_id(id);
  cc.set_context(MemberToJson(*target));
  return ChangeMembership<etcdserverpb::MemberPromoteResponse>(impl, std::move(cc), ctx);
}

}  // namespace

absl::StatusOr<etcdserverpb::MemberPromoteResponse> EtcdServer::MemberPromote(
    const etcdserverpb::MemberPromoteRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  // (Unknown members and voters are refused before the leader check.)
  absl::StatusOr<etcdserverpb::MemberPromoteResponse> resp =
      PromoteOnLeader(impl_.get(), request.id(), ctx);
  if (!resp.ok() && rpctypes::IsNotLeader(resp.status())) {
    // As etcd: a follower hands the promotion to the leader.
    resp = ForwardToLeader<etcdserverpb::MemberPromoteResponse>(impl_.get(), "MemberPromote",
                                                               request, ctx);
    if (resp.ok()) *resp = WithHeader(impl_.get(), std::move(*resp));
  }
  return resp;
}

// --- Maintenance --------------------------------------------------------------------

absl::StatusOr<etcdserverpb::StatusResponse> EtcdServer::Status(
    const etcdserverpb::StatusRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  etcdserverpb::StatusResponse resp;
  resp.set_version(version::kServerVersion);
  resp.set_dbsize(impl_->backend_->Size());
  resp.set_dbsizeinuse(impl_->backend_->SizeInUse());
  resp.set_leader(impl_->lead_);
  resp.set_raftindex(impl_->committed_index_);
  resp.set_raftterm(impl_->term_);
  resp.set_raftappliedindex(impl_->applied_index_);
  for (const etcdserverpb::AlarmMember& a : impl_->Alarms()) {
    resp.add_errors(absl::StrFormat("memberID:%d alarm:%s ", a.memberid(),
                                    etcdserverpb::AlarmType_Name(a.alarm())));
  }
  return WithHeader(impl_.get(), std::move(resp));
}

absl::StatusOr<etcdserverpb::AlarmResponse> EtcdServer::Alarm(
    const etcdserverpb::AlarmRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (request.action() == etcdserverpb::AlarmRequest::GET) {
    etcdserverpb::AlarmResponse resp;
    for (const etcdserverpb::AlarmMember& a : impl_->Alarms()) {
      if (request.memberid() != 0 && a.memberid() != request.memberid()) continue;
      if (request.alarm() != etcdserverpb::NONE && a.alarm() != request.alarm()) continue;
      *resp.add_alarms() = a;
    }
    return WithHeader(impl_.get(), std::move(resp));
  }
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  InternalRaftRequest r;
  *r.mutable_alarm() = request;
  return Unwrap<etcdserverpb::AlarmResponse>(impl_.get(), impl_->Propose(std::move(r), ctx));
}

absl::StatusOr<etcdserverpb::DefragmentResponse> EtcdServer::Defragment(
    const etcdserverpb::DefragmentRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  if (absl::Status s = impl_->backend_->Defrag(); !s.ok()) return s;
  return WithHeader(impl_.get(), etcdserverpb::DefragmentResponse());
}

absl::StatusOr<etcdserverpb::HashResponse> EtcdServer::Hash(const etcdserverpb::HashRequest& request,
                                                            const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  absl::StatusOr<mvcc::HashResult> h = impl_->kv_->Hash();
  if (!h.ok()) return ToRpcStatus(h.status());
  etcdserverpb::HashResponse resp;
  resp.set_hash(h->hash);
  resp.mutable_header()->set_revision(h->rev);
  return WithHeader(impl_.get(), std::move(resp));
}

absl::StatusOr<etcdserverpb::HashKVResponse> EtcdServer::HashKV(
    const etcdserverpb::HashKVRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  absl::StatusOr<mvcc::HashKVResult> h = impl_->kv_->HashByRev(request.revision());
  if (!h.ok()) return ToRpcStatus(h.status());
  etcdserverpb::HashKVResponse resp;
  resp.set_hash(h->hash);
  resp.set_compact_revision(h->compact_rev);
  resp.set_hash_revision(request.revision() > 0 ? request.revision() : h->current_rev);
  resp.mutable_header()->set_revision(h->current_rev);
  return WithHeader(impl_.get(), std::move(resp));
}

absl::StatusOr<std::unique_ptr<BackendSnapshot>> EtcdServer::Snapshot(const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  impl_->store_->Commit();
  absl::StatusOr<std::unique_ptr<mvcc::backend::Snapshot>> snap = impl_->backend_->NewSnapshot();
  if (!snap.ok()) return snap.status();
  return std::unique_ptr<BackendSnapshot>(new BackendSnapshot(*std::move(snap)));
}

absl::StatusOr<etcdserverpb::MoveLeaderResponse> EtcdServer::MoveLeader(
    const etcdserverpb::MoveLeaderRequest& request, const RequestContext& ctx) {
  if (absl::Status s = impl_->CheckRunning(ctx); !s.ok()) return s;
  if (absl::Status s = CheckAdminLocal(impl_.get(), ctx); !s.ok()) return s;
  if (!impl_->is_leader_) return Rpc(rpctypes::kErrNotLeader);
  const uint64_t target = request.targetid();
  if (target == impl_->id_) return WithHeader(impl_.get(), etcdserverpb::MoveLeaderResponse());
  bool known = false;
  for (const etcdserverpb::Member& m : impl_->Members()) known |= m.id() == target;
  if (!known) return Rpc(rpctypes::kErrBadLeaderTransferee);
  {
    absl::MutexLock l(&impl_->mu_);
    impl_->transfer_to_ = target;
    impl_->wake_ = true;
  }
  const absl::Time deadline = impl_->Deadline(ctx);
  while (impl_->lead_ != target) {
    if (absl::Now() >= deadline) return Rpc(rpctypes::kErrTimeout);
    absl::SleepFor(absl::Milliseconds(10));
  }
  return WithHeader(impl_.get(), etcdserverpb::MoveLeaderResponse());
}

// --- Watch and other layers ---------------------------------------------------------

mvcc::WatchableStore* EtcdServer::Watchable() { return impl_->watchable_.get(); }
mvcc::KV* EtcdServer::KV() { return impl_->kv_; }

absl::Status EtcdServer::CheckRangePermission(const RequestContext& ctx, absl::string_view key,
                                              absl::string_view range_end) {
  absl::StatusOr<auth::AuthInfo> who = impl_->AuthInfoFrom(ctx);
  if (!who.ok()) return who.status();
  return impl_->auth_->IsRangePermitted(*who, key, range_end);
}

etcdserverpb::ResponseHeader EtcdServer::Header() const { return impl_->Header(); }
std::vector<etcdserverpb::AlarmMember> EtcdServer::Alarms() const { return impl_->Alarms(); }

absl::Status EtcdServer::CheckHealth(absl::Time deadline) {
  RequestContext ctx;
  ctx.deadline = deadline;
  if (impl_->lead_ == 0) return Rpc(rpctypes::kErrNoLeader);
  return impl_->LinearizableReadNotify(ctx);
}

uint64_t EtcdServer::ID() const { return impl_->id_; }
uint64_t EtcdServer::ClusterID() const { return impl_->cluster_id_; }
uint64_t EtcdServer::Leader() const { return impl_->lead_; }
bool EtcdServer::HasLeader() const { return impl_->lead_ != 0; }
bool EtcdServer::IsLeader() const { return impl_->is_leader_; }
uint64_t EtcdServer::Term() const { return impl_->term_; }
uint64_t EtcdServer::AppliedIndex() const { return impl_->applied_index_; }
uint64_t EtcdServer::CommittedIndex() const { return impl_->committed_index_; }

absl::Status EtcdServer::WaitLeader(absl::Time deadline) {
  while (impl_->lead_ == 0) {
    if (impl_->stopped_) return Rpc(rpctypes::kErrStopped);
    if (absl::Now() >= deadline) return Rpc(rpctypes::kErrNoLeader);
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::OkStatus();
}

int EtcdServer::AddLeaderChangeCallback(std::function<void(uint64_t new_leader)> fn) {
  absl::MutexLock l(&impl_->mu_);
  int h = impl_->next_callback_++;
  impl_->leader_callbacks_[h] = std::move(fn);
  return h;
}

void EtcdServer::RemoveLeaderChangeCallback(int handle) {
  absl::MutexLock l(&impl_->mu_);
  impl_->leader_callbacks_.erase(handle);
}

ServerMetrics EtcdServer::Metrics() const {
  ServerMetrics m;
  m.has_leader = impl_->lead_ != 0;
  m.is_leader = impl_->is_leader_;
  m.leader_changes_seen = impl_->leader_changes_;
  m.proposals_committed = impl_->proposals_committed_;
  m.proposals_applied = impl_->proposals_applied_;
  m.proposals_pending = impl_->proposals_pending_;
  m.proposals_failed = impl_->proposals_failed_;
  m.slow_apply_total = impl_->slow_applies_;
  m.snapshot_count = impl_->snapshots_saved_;
  m.term = impl_->term_;
  if (!impl_->stopped_ && impl_->backend_ != nullptr) {
    m.db_total_size_bytes = impl_->backend_->Size();
    m.db_total_size_in_use_bytes = impl_->backend_->SizeInUse();
    m.current_revision = impl_->store_->CurrentRev();
    m.compact_revision = impl_->store_->CompactRev();
  }
  m.quota_backend_bytes = impl_->quota_bytes_;
  impl_->wal_fsync_latency_.Read(&m.wal_fsync_buckets, &m.wal_fsync_seconds, &m.wal_fsync_count);
  impl_->backend_commit_latency_.Read(&m.backend_commit_buckets, &m.backend_commit_seconds,
                                      &m.backend_commit_count);
  return m;
}

void EtcdServer::ReportUnreachable(uint64_t id) {
  absl::MutexLock l(&impl_->mu_);
  impl_->unreachable_.push_back(id);
  impl_->wake_ = true;
}

void EtcdServer::ReportSnapshot(uint64_t id, bool ok) {
  absl::MutexLock l(&impl_->mu_);
  impl_->snapshot_reports_.emplace_back(id, ok);
  impl_->wake_ = true;
}

bool EtcdServer::IsMemberRemoved(uint64_t id) const {
  absl::MutexLock l(&impl_->state_mu_);
  return impl_->removed_.count(id) > 0;
}

bool EtcdServer::IsLearner() const {
  absl::MutexLock l(&impl_->state_mu_);
  auto it = impl_->members_.find(impl_->id_);
  return it != impl_->members_.end() && it->second.islearner();
}

bool EtcdServer::Ready() const { return impl_->published_; }

absl::Status EtcdServer::CheckInitialCorruption() {
  absl::StatusOr<etcdserverpb::HashKVResponse> mine = impl_->LocalHashKV(0);
  if (!mine.ok()) return mine.status();
  std::vector<uint64_t> mismatched = impl_->PeersWithOtherHash(*mine);
  if (mismatched.empty()) {
    impl_->logger_->Info("initial corruption checking passed; no corruption",
                         {{"local-member-id", absl::StrFormat("%x", impl_->id_)}});
    return absl::OkStatus();
  }
  return absl::DataLossError(absl::StrFormat(
      "%x found data inconsistency with peers (e.g. %x): HashKV differs at revision %d",
      impl_->id_, mismatched.front(), mine->hash_revision()));
}

absl::StatusOr<std::string> EtcdServer::WriteSnapshotDbForSend(const raftpb::Message& m) {
  if (impl_->stopped_) return Rpc(rpctypes::kErrStopped);
  return impl_->WriteSnapshotDbForSend(m);
}

void EtcdServer::ReportRemoved() {
  if (!impl_->removed_self_.exchange(true)) {
    impl_->logger_->Warn("the member has been permanently removed from the cluster",
                         {{"local-member-id", absl::StrFormat("%x", impl_->id_)}});
  }
}

absl::StatusOr<std::string> EtcdServer::HandlePeerCall(const std::string& method,
                                                       const std::string& payload) {
  RequestContext ctx;
  ctx.deadline = absl::Now() + impl_->options_.request_timeout;
  if (method == "LeaseRenew") {
    etcdserverpb::LeaseKeepAliveRequest r;
    if (!r.ParseFromString(payload)) return absl::InvalidArgumentError("bad LeaseRenew request");
    if (!impl_->is_leader_) return Rpc(rpctypes::kErrNotLeader);
    absl::StatusOr<etcdserverpb::LeaseKeepAliveResponse> resp = LeaseRenew(r, ctx);
    if (!resp.ok()) return resp.status();
    return resp->SerializeAsString();
  }
  if (method == "LeaseTimeToLive") {
    etcdserverpb::LeaseTimeToLiveRequest r;
    if (!r.ParseFromString(payload)) {
      return absl::InvalidArgumentError("bad LeaseTimeToLive request");
    }
    if (!impl_->is_leader_) return Rpc(rpctypes::kErrNotLeader);
    absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> resp = LeaseTimeToLive(r, ctx);
    if (!resp.ok()) return resp.status();
    return resp->SerializeAsString();
  }
  if (method == "MemberPromote") {
    etcdserverpb::MemberPromoteRequest r;
    if (!r.ParseFromString(payload)) return absl::InvalidArgumentError("bad MemberPromote request");
    absl::StatusOr<etcdserverpb::MemberPromoteResponse> resp =
        PromoteOnLeader(impl_.get(), r.id(), ctx);
    if (!resp.ok()) return resp.status();
    return resp->SerializeAsString();
  }
  if (method == "HashKV") {
    etcdserverpb::HashKVRequest r;
    if (!r.ParseFromString(payload)) return absl::InvalidArgumentError("bad HashKV request");
    absl::StatusOr<etcdserverpb::HashKVResponse> resp = impl_->LocalHashKV(r.revision());
    if (!resp.ok()) return resp.status();
    return resp->SerializeAsString();
  }
  return absl::UnimplementedError(absl::StrCat("unknown peer call ", method));
}

absl::Status EtcdServer::Process(const raftpb::Message& message) {
  if (impl_->stopped_) return Rpc(rpctypes::kErrStopped);
  absl::MutexLock l(&impl_->mu_);
  impl_->inbound_.push_back(message);
  impl_->wake_ = true;
  return absl::OkStatus();
}

}  // namespace etcd::etcdserver
