// The apply step: InternalRaftRequests applied to the stores in log order
// (etcd's applierV3backend with its auth and quota wrappers), and the local
// reads that share its code.

#include <memory>
#include <string>
#include <vector>

#include "api/rpctypes/rpctypes.h"
#include "server/etcdserver/request_util.h"
#include "server/etcdserver/server_impl.h"

namespace etcd::etcdserver {
namespace {

using etcdserverpb::RequestOp;

absl::Status Rpc(const rpctypes::EtcdError& e) { return rpctypes::ToStatus(e); }

template <typename T>
ApplyResult Result(T response) {
  ApplyResult r;
  r.response = std::make_shared<T>(std::move(response));
  return r;
}

ApplyResult Error(absl::Status s) {
  ApplyResult r;
  r.status = std::move(s);
  return r;
}

template <typename T>
ApplyResult ResultOr(const absl::Status& s, T response) {
  if (!s.ok()) return Error(s);
  return Result(std::move(response));
}

void CollectTxnAccesses(const etcdserverpb::TxnRequest& r, std::vector<auth::KeyAccess>* out) {
  for (const etcdserverpb::Compare& c : r.compare()) {
    out->push_back(auth::KeyAccess::Read(c.key(), c.range_end()));
  }
  for (const auto* branch : {&r.success(), &r.failure()}) {
    for (const RequestOp& op : *branch) {
      if (op.has_request_range()) {
        out->push_back(
            auth::KeyAccess::Read(op.request_range().key(), op.request_range().range_end()));
      } else if (op.has_request_put()) {
        out->push_back(auth::KeyAccess::Write(op.request_put().key()));
        if (op.request_put().prev_kv()) {
          out->push_back(auth::KeyAccess::Read(op.request_put().key()));
        }
      } else if (op.has_request_delete_range()) {
        const auto& d = op.request_delete_range();
        out->push_back(auth::KeyAccess::Write(d.key(), d.range_end()));
        if (d.prev_kv()) out->push_back(auth::KeyAccess::Read(d.key(), d.range_end()));
      } else if (op.has_request_txn()) {
        CollectTxnAccesses(op.request_txn(), out);
      }
    }
  }
}

void CollectLeases(const etcdserverpb::TxnRequest& r, std::vector<int64_t>* out) {
  for (const auto* branch : {&r.success(), &r.failure()}) {
    for (const RequestOp& op : *branch) {
      if (op.has_request_put() && op.request_put().lease() != 0) {
        out->push_back(op.request_put().lease());
      }
      if (op.has_request_txn()) CollectLeases(op.request_txn(), out);
    }
  }
}

// Which branch each (nested) txn takes, in depth-first order.
void ComputePath(mvcc::ReadView* view, const etcdserverpb::TxnRequest& r, std::vector<bool>* path) {
  const bool ok = ApplyCompares(view, r);
  path->push_back(ok);
  for (const RequestOp& op : ok ? r.success() : r.failure()) {
    if (op.has_request_txn()) ComputePath(view, op.request_txn(), path);
  }
}

}  // namespace

absl::Status ServerImpl::CheckPutLeaseAuth(const auth::AuthInfo& who, int64_t lease_id) {
  if (lease_id == 0) return absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> keys = lessor_->GetKeys(lease_id);
  if (!keys.ok()) return absl::OkStatus();  // the apply reports the missing lease
  return auth_->IsLeaseRevokePermitted(who, *keys);
}

absl::Status ServerImpl::CheckTxnAuth(const auth::AuthInfo& who,
                                      const etcdserverpb::TxnRequest& r) {
  std::vector<auth::KeyAccess> accesses;
  CollectTxnAccesses(r, &accesses);
  if (absl::Status s = auth_->IsTxnPermitted(who, accesses); !s.ok()) return s;
  std::vector<int64_t> leases;
  CollectLeases(r, &leases);
  for (int64_t l : leases) {
    if (absl::Status s = CheckPutLeaseAuth(who, l); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<etcdserverpb::PutResponse> ServerImpl::ApplyPut(mvcc::TxnWrite* txn,
                                                               const etcdserverpb::PutRequest& r) {
  etcdserverpb::PutResponse resp;
  resp.mutable_header();
  std::string value = r.value();
  int64_t lease_id = r.lease();
  if (r.prev_kv() || r.ignore_value() || r.ignore_lease()) {
    absl::StatusOr<mvcc::RangeResult> rr = txn->Range(r.key(), "", {});
    if (!rr.ok()) return ToRpcStatus(rr.status());
    if (rr->kvs.empty()) {
      if (r.ignore_value() || r.ignore_lease()) return Rpc(rpctypes::kErrKeyNotFound);
    } else {
      if (r.ignore_value()) value = rr->kvs[0].value();
      if (r.ignore_lease()) lease_id = rr->kvs[0].lease();
      if (r.prev_kv()) *resp.mutable_prev_kv() = rr->kvs[0];
    }
  }
  if (lease_id != 0 && !lessor_->Lookup(lease_id).has_value()) {
    return Rpc(rpctypes::kErrLeaseNotFound);
  }
  resp.mutable_header()->set_revision(txn->Put(r.key(), value, lease_id));
  return resp;
}

etcdserverpb::DeleteRangeResponse ServerImpl::ApplyDelete(
    mvcc::TxnWrite* txn, const etcdserverpb::DeleteRangeRequest& r) {
  etcdserverpb::DeleteRangeResponse resp;
  if (r.prev_kv()) {
    absl::StatusOr<mvcc::RangeResult> rr = txn->Range(r.key(), r.range_end(), {});
    if (rr.ok()) {
      for (mvccpb::KeyValue& kv : rr->kvs) *resp.add_prev_kvs() = std::move(kv);
    }
  }
  mvcc::DeleteResult dr = txn->DeleteRange(r.key(), r.range_end());
  resp.set_deleted(dr.deleted);
  resp.mutable_header()->set_revision(dr.rev);
  return resp;
}

namespace {

// Checks that nothing in the chosen branches can fail half-way (etcd's
// checkRequests): leases exist, ignore_value/ignore_lease keys exist, range
// revisions are readable.
absl::Status CheckTxnOps(mvcc::ReadView* view, lease::Lessor* lessor, int64_t compact_rev,
                         const etcdserverpb::TxnRequest& r, const std::vector<bool>& path,
                         size_t* pos) {
  const bool ok = path[(*pos)++];
  const int64_t current = view->Rev();
  for (const RequestOp& op : ok ? r.success() : r.failure()) {
    if (op.has_request_range()) {
      int64_t rev = op.request_range().revision();
      if (rev > 0 && rev > current + 1) return Rpc(rpctypes::kErrFutureRev);
      if (rev > 0 && rev < compact_rev) return Rpc(rpctypes::kErrCompacted);
    } else if (op.has_request_put()) {
      const etcdserverpb::PutRequest& p = op.request_put();
      if (p.lease() != 0 && !lessor->Lookup(p.lease()).has_value()) {
        return Rpc(rpctypes::kErrLeaseNotFound);
      }
      if (p.ignore_value() || p.ignore_lease()) {
        absl::StatusOr<mvcc::RangeResult> rr = view->Range(p.key(), "", {});
        if (!rr.ok() || rr->kvs.empty()) return Rpc(rpctypes::kErrKeyNotFound);
      }
    } else if (op.has_request_txn()) {
      if (absl::Status s = CheckTxnOps(view, lessor, compact_rev, op.request_txn(), path, pos);
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<etcdserverpb::TxnResponse> ServerImpl::ApplyTxn(const etcdserverpb::TxnRequest& r,
                                                               const auth::AuthInfo* who) {
  const bool write = !IsTxnReadOnly(r);
  std::unique_ptr<mvcc::TxnWrite> wtxn;
  std::unique_ptr<mvcc::TxnRead> rtxn;
  mvcc::ReadView* view;
  if (write) {
    wtxn = kv_->Write();
    view = wtxn.get();
  } else {
    rtxn = kv_->Read();
    view = rtxn.get();
  }
  std::vector<bool> path;
  ComputePath(view, r, &path);
  size_t pos = 0;
  if (absl::Status s = CheckTxnOps(view, lessor_.get(), store_->CompactRev(), r, path, &pos);
      !s.ok()) {
    return s;
  }
  pos = 0;
  std::function<absl::Status(const etcdserverpb::TxnRequest&, etcdserverpb::TxnResponse*)> exec =
      [&](const etcdserverpb::TxnRequest& t, etcdserverpb::TxnResponse* resp) -> absl::Status {
    const bool ok = path[pos++];
    resp->set_succeeded(ok);
    resp->mutable_header();
    for (const RequestOp& op : ok ? t.success() : t.failure()) {
      etcdserverpb::ResponseOp* out = resp->add_responses();
      if (op.has_request_range()) {
        absl::StatusOr<etcdserverpb::RangeResponse> rr = RangeOn(view, op.request_range());
        if (!rr.ok()) return rr.status();
        *out->mutable_response_range() = *std::move(rr);
      } else if (op.has_request_put()) {
        absl::StatusOr<etcdserverpb::PutResponse> pr = ApplyPut(wtxn.get(), op.request_put());
        if (!pr.ok()) return pr.status();
        *out->mutable_response_put() = *std::move(pr);
      } else if (op.has_request_delete_range()) {
        *out->mutable_response_delete_range() = ApplyDelete(wtxn.get(), op.request_delete_range());
      } else if (op.has_request_txn()) {
        if (absl::Status s = exec(op.request_txn(), out->mutable_response_txn()); !s.ok()) {
          return s;
        }
      }
    }
    return absl::OkStatus();
  };
  etcdserverpb::TxnResponse resp;
  absl::Status s = exec(r, &resp);
  int64_t rev;
  if (write) {
    rev = wtxn->Changes().empty() ? wtxn->Rev() : wtxn->Rev() + 1;
    wtxn->End();
  } else {
    rev = rtxn->Rev();
    rtxn->End();
  }
  if (!s.ok()) return s;
  resp.mutable_header()->set_revision(rev);
  return resp;
}

absl::StatusOr<etcdserverpb::RangeResponse> ServerImpl::RangeLocal(
    const etcdserverpb::RangeRequest& r, const auth::AuthInfo* who) {
  if (who != nullptr) {
    if (absl::Status s = auth_->IsRangePermitted(*who, r.key(), r.range_end()); !s.ok()) return s;
  }
  std::unique_ptr<mvcc::TxnRead> txn = kv_->Read();
  absl::StatusOr<etcdserverpb::RangeResponse> resp = RangeOn(txn.get(), r);
  txn->End();
  return resp;
}

absl::StatusOr<etcdserverpb::TxnResponse> ServerImpl::TxnLocal(const etcdserverpb::TxnRequest& r,
                                                               const auth::AuthInfo* who) {
  if (who != nullptr) {
    if (absl::Status s = CheckTxnAuth(*who, r); !s.ok()) return s;
  }
  return ApplyTxn(r, who);
}

ApplyResult ServerImpl::ApplyRequest(const etcdserverpb::InternalRaftRequest& r, uint64_t index) {
  const auth::AuthInfo who{r.header().username(), r.header().auth_revision()};
  // With a CORRUPT alarm raised, the data changes etcd's corrupt applier
  // refuses are refused (alarms, auth and membership still apply).
  if (corrupt_ && (r.has_put() || r.has_delete_range() || r.has_txn() || r.has_compaction() ||
                   r.has_lease_grant() || r.has_lease_revoke())) {
    return Error(Rpc(rpctypes::kErrCorrupt));
  }
  if (r.has_put()) {
    const etcdserverpb::PutRequest& p = r.put();
    absl::Status s = auth_->IsPutPermitted(who, p.key());
    if (s.ok() && p.prev_kv()) s = auth_->IsRangePermitted(who, p.key(), "");
    if (s.ok() && auth_->IsAuthEnabled()) s = CheckPutLeaseAuth(who, p.lease());
    if (!s.ok()) return Error(s);
    if (nospace_) return Error(Rpc(rpctypes::kErrNoSpace));
    std::unique_ptr<mvcc::TxnWrite> txn = kv_->Write();
    absl::StatusOr<etcdserverpb::PutResponse> resp = ApplyPut(txn.get(), p);
    txn->End();
    if (!resp.ok()) return Error(resp.status());
    return Result(*std::move(resp));
  }
  if (r.has_delete_range()) {
    const etcdserverpb::DeleteRangeRequest& d = r.delete_range();
    absl::Status s = auth_->IsDeleteRangePermitted(who, d.key(), d.range_end());
    if (s.ok() && d.prev_kv()) s = auth_->IsRangePermitted(who, d.key(), d.range_end());
    if (!s.ok()) return Error(s);
    std::unique_ptr<mvcc::TxnWrite> txn = kv_->Write();
    etcdserverpb::DeleteRangeResponse resp = ApplyDelete(txn.get(), d);
    txn->End();
    return Result(std::move(resp));
  }
  if (r.has_txn()) {
    if (auth_->IsAuthEnabled()) {
      if (absl::Status s = CheckTxnAuth(who, r.txn()); !s.ok()) return Error(s);
    }
    if (nospace_ && TxnHasPut(r.txn())) return Error(Rpc(rpctypes::kErrNoSpace));
    absl::StatusOr<etcdserverpb::TxnResponse> resp = ApplyTxn(r.txn(), &who);
    if (!resp.ok()) return Error(resp.status());
    return Result(*std::move(resp));
  }
  if (r.has_compaction()) {
    absl::StatusOr<std::shared_ptr<mvcc::CompactionFuture>> f =
        kv_->Compact(r.compaction().revision());
    if (!f.ok()) return Error(ToRpcStatus(f.status()));
    ApplyResult res = Result(etcdserverpb::CompactionResponse());
    res.compaction = *f;
    return res;
  }
  if (r.has_lease_grant()) {
    if (nospace_) return Error(Rpc(rpctypes::kErrNoSpace));
    absl::StatusOr<lease::Lease> l = lessor_->Grant(r.lease_grant().id(), r.lease_grant().ttl());
    if (!l.ok()) return Error(ToRpcStatus(l.status()));
    etcdserverpb::LeaseGrantResponse resp;
    resp.set_id(l->id);
    resp.set_ttl(l->ttl);
    return Result(std::move(resp));
  }
  if (r.has_lease_revoke()) {
    if (auth_->IsAuthEnabled()) {
      absl::StatusOr<std::vector<std::string>> keys = lessor_->GetKeys(r.lease_revoke().id());
      if (keys.ok()) {
        if (absl::Status s = auth_->IsLeaseRevokePermitted(who, *keys); !s.ok()) return Error(s);
      }
    }
    absl::Status s = lessor_->Revoke(r.lease_revoke().id());
    return ResultOr(ToRpcStatus(s), etcdserverpb::LeaseRevokeResponse());
  }
  if (r.has_lease_checkpoint()) {
    for (const etcdserverpb::LeaseCheckpoint& cp : r.lease_checkpoint().checkpoints()) {
      (void)lessor_->Checkpoint(cp.id(), cp.remaining_ttl());
    }
    return Result(etcdserverpb::LeaseCheckpointResponse());
  }
  if (r.has_alarm()) {
    const etcdserverpb::AlarmRequest& a = r.alarm();
    etcdserverpb::AlarmResponse resp;
    etcdserverpb::AlarmMember m;
    m.set_memberid(a.memberid());
    m.set_alarm(a.alarm());
    const std::string key = m.SerializeAsString();
    mvcc::backend::BatchTx* tx = backend_->batch_tx();
    absl::MutexLock l(&state_mu_);
    auto it = std::find_if(alarms_.begin(), alarms_.end(), [&](const etcdserverpb::AlarmMember& x) {
      return x.memberid() == m.memberid() && x.alarm() == m.alarm();
    });
    if (a.action() == etcdserverpb::AlarmRequest::ACTIVATE &&
        a.alarm() != etcdserverpb::NONE) {
      if (it == alarms_.end()) {
        alarms_.push_back(m);
        tx->Lock();
        tx->UnsafePut(mvcc::backend::Bucket::kAlarm, key, "");
        tx->Unlock();
      }
      if (a.alarm() == etcdserverpb::NOSPACE) nospace_ = true;
      if (a.alarm() == etcdserverpb::CORRUPT) corrupt_ = true;
      *resp.add_alarms() = m;
      logger_->Warn("alarm raised", {{"alarm", etcdserverpb::AlarmType_Name(a.alarm())},
                                     {"from", absl::StrFormat("%x", a.memberid())}});
    } else if (a.action() == etcdserverpb::AlarmRequest::DEACTIVATE) {
      if (it != alarms_.end()) {
        alarms_.erase(it);
        tx->Lock();
        tx->UnsafeDelete(mvcc::backend::Bucket::kAlarm, key);
        tx->Unlock();
        *resp.add_alarms() = m;
      }
      bool any_nospace = false;
      bool any_corrupt = false;
      for (const auto& x : alarms_) {
        any_nospace |= x.alarm() == etcdserverpb::NOSPACE;
        any_corrupt |= x.alarm() == etcdserverpb::CORRUPT;
      }
      nospace_ = any_nospace;
      corrupt_ = any_corrupt;
      if (!any_nospace) nospace_raising_ = false;
    }
    return Result(std::move(resp));
  }
  if (r.has_authenticate()) {
    auth::AuthenticateRequest ar;
    ar.name = r.authenticate().name();
    ar.checked_revision = r.header().auth_revision();
    ar.simple_token_prefix = r.authenticate().simple_token();
    ar.index = index;
    absl::StatusOr<std::string> token = auth_->Authenticate(ar);
    if (!token.ok()) return Error(token.status());
    etcdserverpb::AuthenticateResponse resp;
    resp.set_token(*token);
    return Result(std::move(resp));
  }
  if (r.has_auth_enable()) {
    return ResultOr(auth_->AuthEnable(), etcdserverpb::AuthEnableResponse());
  }
  // Every other auth change needs the root role.
  absl::Status admin = auth_->IsAdminPermitted(who);
  if (r.has_auth_disable()) {
    if (!admin.ok()) return Error(admin);
    auth_->AuthDisable();
    return Result(etcdserverpb::AuthDisableResponse());
  }
  if (r.has_auth_user_add()) {
    if (!admin.ok()) return Error(admin);
    const auto& u = r.auth_user_add();
    auth::UserAddRequest req;
    req.name = u.name();
    req.password = u.password();
    req.hashed_password = u.hashedpassword();
    req.no_password = u.has_options() && u.options().no_password();
    return ResultOr(auth_->UserAdd(req), etcdserverpb::AuthUserAddResponse());
  }
  if (r.has_auth_user_delete()) {
    if (!admin.ok()) return Error(admin);
    return ResultOr(auth_->UserDelete(r.auth_user_delete().name()),
                    etcdserverpb::AuthUserDeleteResponse());
  }
  if (r.has_auth_user_change_password()) {
    if (!admin.ok()) return Error(admin);
    const auto& u = r.auth_user_change_password();
    return ResultOr(auth_->UserChangePassword(u.name(), u.password(), u.hashedpassword()),
                    etcdserverpb::AuthUserChangePasswordResponse());
  }
  if (r.has_auth_user_grant_role()) {
    if (!admin.ok()) return Error(admin);
    return ResultOr(
        auth_->UserGrantRole(r.auth_user_grant_role().user(), r.auth_user_grant_role().role()),
        etcdserverpb::AuthUserGrantRoleResponse());
  }
  if (r.has_auth_user_revoke_role()) {
    if (!admin.ok()) return Error(admin);
    return ResultOr(
        auth_->UserRevokeRole(r.auth_user_revoke_role().name(), r.auth_user_revoke_role().role()),
        etcdserverpb::AuthUserRevokeRoleResponse());
  }
  if (r.has_auth_role_add()) {
    if (!admin.ok()) return Error(admin);
    return ResultOr(auth_->RoleAdd(r.auth_role_add().name()), etcdserverpb::AuthRoleAddResponse());
  }
  if (r.has_auth_role_delete()) {
    if (!admin.ok()) return Error(admin);
    return ResultOr(auth_->RoleDelete(r.auth_role_delete().role()),
                    etcdserverpb::AuthRoleDeleteResponse());
  }
  if (r.has_auth_role_grant_permission()) {
    if (!admin.ok()) return Error(admin);
    return ResultOr(auth_->RoleGrantPermission(r.auth_role_grant_permission().name(),
                                               r.auth_role_grant_permission().perm()),
                    etcdserverpb::AuthRoleGrantPermissionResponse());
  }
  if (r.has_auth_role_revoke_permission()) {
    if (!admin.ok()) return Error(admin);
    const auto& p = r.auth_role_revoke_permission();
    return ResultOr(auth_->RoleRevokePermission(p.role(), p.key(), p.range_end()),
                    etcdserverpb::AuthRoleRevokePermissionResponse());
  }
  if (r.has_cluster_member_attr_set()) {
    ApplyMemberAttributes(r.cluster_member_attr_set());
    return ApplyResult{};
  }
  if (r.has_cluster_version_set()) return ApplyResult{};  // one version so far
  logger_->Warn("unsupported raft request; ignored", {{"index", index}});
  return Error(absl::UnimplementedError("etcdserver: unsupported request"));
}

}  // namespace etcd::etcdserver
