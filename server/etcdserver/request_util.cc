#include "server/etcdserver/request_util.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/rpctypes/rpctypes.h"

namespace etcd::etcdserver {
namespace {

using etcdserverpb::RequestOp;

absl::Status Rpc(const rpctypes::EtcdError& e) { return rpctypes::ToStatus(e); }

// [key, end) with etcd's conventions for end.
struct KeyRange {
  std::string key, end;
  bool Contains(const std::string& k) const {
    if (end.empty()) return k == key;
    if (end == std::string(1, '\0')) return k >= key;
    return key <= k && k < end;
  }
};

struct Intervals {
  std::set<std::string> puts;
  std::vector<KeyRange> dels;
};

bool Intersects(const std::vector<KeyRange>& dels, const std::string& k) {
  for (const KeyRange& r : dels) {
    if (r.Contains(k)) return true;
  }
  return false;
}

// etcd's checkIntervals: puts must be unique and must not fall in a deleted
// range, across nested txns (the two branches of one txn may share keys).
absl::Status CheckIntervals(const google::protobuf::RepeatedPtrField<RequestOp>& reqs,
                            Intervals* out) {
  Intervals level;
  for (const RequestOp& op : reqs) {
    if (op.has_request_delete_range()) {
      level.dels.push_back(
          {op.request_delete_range().key(), op.request_delete_range().range_end()});
    }
  }
  for (const RequestOp& op : reqs) {
    if (!op.has_request_txn()) continue;
    Intervals then_iv, else_iv;
    if (absl::Status s = CheckIntervals(op.request_txn().success(), &then_iv); !s.ok()) return s;
    if (absl::Status s = CheckIntervals(op.request_txn().failure(), &else_iv); !s.ok()) return s;
    for (const std::string& k : then_iv.puts) {
      if (level.puts.count(k) || Intersects(level.dels, k)) return Rpc(rpctypes::kErrDuplicateKey);
      level.puts.insert(k);
    }
    for (const std::string& k : else_iv.puts) {
      if (level.puts.count(k) && !then_iv.puts.count(k)) return Rpc(rpctypes::kErrDuplicateKey);
      if (Intersects(level.dels, k)) return Rpc(rpctypes::kErrDuplicateKey);
      level.puts.insert(k);
    }
    level.dels.insert(level.dels.end(), then_iv.dels.begin(), then_iv.dels.end());
    level.dels.insert(level.dels.end(), else_iv.dels.begin(), else_iv.dels.end());
  }
  for (const RequestOp& op : reqs) {
    if (!op.has_request_put()) continue;
    const std::string& k = op.request_put().key();
    if (level.puts.count(k) || Intersects(level.dels, k)) return Rpc(rpctypes::kErrDuplicateKey);
    level.puts.insert(k);
  }
  *out = std::move(level);
  return absl::OkStatus();
}

absl::Status CheckTxnShape(const etcdserverpb::TxnRequest& r, uint64_t max_txn_ops) {
  uint64_t opc = std::max<uint64_t>(
      {static_cast<uint64_t>(r.compare_size()), static_cast<uint64_t>(r.success_size()),
       static_cast<uint64_t>(r.failure_size())});
  if (opc > max_txn_ops) return Rpc(rpctypes::kErrTooManyOps);
  for (const etcdserverpb::Compare& c : r.compare()) {
    if (c.key().empty()) return Rpc(rpctypes::kErrEmptyKey);
  }
  for (const auto* branch : {&r.success(), &r.failure()}) {
    for (const RequestOp& op : *branch) {
      absl::Status s;
      if (op.has_request_range()) {
        s = CheckRangeRequest(op.request_range());
      } else if (op.has_request_put()) {
        s = CheckPutRequest(op.request_put());
      } else if (op.has_request_delete_range()) {
        s = CheckDeleteRequest(op.request_delete_range());
      } else if (op.has_request_txn()) {
        s = CheckTxnShape(op.request_txn(), max_txn_ops);
      }
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

template <typename T>
int Compare3(T a, T b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

bool CompareKV(const etcdserverpb::Compare& c, const mvccpb::KeyValue& kv) {
  int result = 0;
  switch (c.target()) {
    case etcdserverpb::Compare::VALUE: {
      int cmp = kv.value().compare(c.value());
      result = cmp < 0 ? -1 : (cmp > 0 ? 1 : 0);
      break;
    }
    case etcdserverpb::Compare::CREATE:
      result = Compare3(kv.create_revision(), c.create_revision());
      break;
    case etcdserverpb::Compare::MOD:
      result = Compare3(kv.mod_revision(), c.mod_revision());
      break;
    case etcdserverpb::Compare::VERSION:
      result = Compare3(kv.version(), c.version());
      break;
    case etcdserverpb::Compare::LEASE:
      result = Compare3(kv.lease(), c.lease());
      break;
    default:
      return false;
  }
  switch (c.result()) {
    case etcdserverpb::Compare::EQUAL:
      return result == 0;
    case etcdserverpb::Compare::NOT_EQUAL:
      return result != 0;
    case etcdserverpb::Compare::GREATER:
      return result > 0;
    case etcdserverpb::Compare::LESS:
      return result < 0;
    default:
      return false;
  }
}

}  // namespace

absl::Status CheckRangeRequest(const etcdserverpb::RangeRequest& r) {
  if (r.key().empty()) return Rpc(rpctypes::kErrEmptyKey);
  return absl::OkStatus();
}

absl::Status CheckPutRequest(const etcdserverpb::PutRequest& r) {
  if (r.key().empty()) return Rpc(rpctypes::kErrEmptyKey);
  if (r.ignore_value() && !r.value().empty()) return Rpc(rpctypes::kErrValueProvided);
  if (r.ignore_lease() && r.lease() != 0) return Rpc(rpctypes::kErrLeaseProvided);
  return absl::OkStatus();
}

absl::Status CheckDeleteRequest(const etcdserverpb::DeleteRangeRequest& r) {
  if (r.key().empty()) return Rpc(rpctypes::kErrEmptyKey);
  return absl::OkStatus();
}

absl::Status CheckTxnRequest(const etcdserverpb::TxnRequest& r, uint64_t max_txn_ops) {
  if (absl::Status s = CheckTxnShape(r, max_txn_ops); !s.ok()) return s;
  Intervals ignored;
  if (absl::Status s = CheckIntervals(r.success(), &ignored); !s.ok()) return s;
  return CheckIntervals(r.failure(), &ignored);
}

bool IsTxnReadOnly(const etcdserverpb::TxnRequest& r) {
  for (const auto* branch : {&r.success(), &r.failure()}) {
    for (const RequestOp& op : *branch) {
      if (op.has_request_put() || op.has_request_delete_range()) return false;
      if (op.has_request_txn() && !IsTxnReadOnly(op.request_txn())) return false;
    }
  }
  return true;
}

bool IsTxnSerializable(const etcdserverpb::TxnRequest& r) {
  for (const auto* branch : {&r.success(), &r.failure()}) {
    for (const RequestOp& op : *branch) {
      if (op.has_request_range() && !op.request_range().serializable()) return false;
      if (op.has_request_txn() && !IsTxnSerializable(op.request_txn())) return false;
    }
  }
  return true;
}

bool TxnHasPut(const etcdserverpb::TxnRequest& r) {
  for (const auto* branch : {&r.success(), &r.failure()}) {
    for (const RequestOp& op : *branch) {
      if (op.has_request_put()) return true;
      if (op.has_request_txn() && TxnHasPut(op.request_txn())) return true;
    }
  }
  return false;
}

int64_t PutCost(const etcdserverpb::PutRequest& r) {
  return 256 + static_cast<int64_t>(r.key().size() + r.value().size());
}

int64_t TxnCost(const etcdserverpb::TxnRequest& r) {
  int64_t best = 0;
  for (const auto* branch : {&r.success(), &r.failure()}) {
    int64_t c = 0;
    for (const RequestOp& op : *branch) {
      if (op.has_request_put()) c += PutCost(op.request_put());
      if (op.has_request_txn()) c += TxnCost(op.request_txn());
    }
    best = std::max(best, c);
  }
  return best;
}

absl::StatusOr<etcdserverpb::RangeResponse> RangeOn(mvcc::ReadView* view,
                                                    const etcdserverpb::RangeRequest& r) {
  int64_t limit = r.limit();
  if (r.sort_order() != etcdserverpb::RangeRequest::NONE || r.min_mod_revision() != 0 ||
      r.max_mod_revision() != 0 || r.min_create_revision() != 0 ||
      r.max_create_revision() != 0) {
    limit = 0;
  }
  if (limit > 0) ++limit;
  mvcc::RangeOptions ro;
  ro.limit = limit;
  ro.rev = r.revision();
  ro.count = r.count_only();
  absl::StatusOr<mvcc::RangeResult> rr = view->Range(r.key(), r.range_end(), ro);
  if (!rr.ok()) return ToRpcStatus(rr.status());
  std::vector<mvccpb::KeyValue>& kvs = rr->kvs;
  auto drop = [&](auto pred) { kvs.erase(std::remove_if(kvs.begin(), kvs.end(), pred), kvs.end()); };
  if (r.max_mod_revision() != 0) {
    drop([&](const mvccpb::KeyValue& kv) { return kv.mod_revision() > r.max_mod_revision(); });
  }
  if (r.min_mod_revision() != 0) {
    drop([&](const mvccpb::KeyValue& kv) { return kv.mod_revision() < r.min_mod_revision(); });
  }
  if (r.max_create_revision() != 0) {
    drop([&](const mvccpb::KeyValue& kv) {
      return kv.create_revision() > r.max_create_revision();
    });
  }
  if (r.min_create_revision() != 0) {
    drop([&](const mvccpb::KeyValue& kv) {
      return kv.create_revision() < r.min_create_revision();
    });
  }
  auto order = r.sort_order();
  if (r.sort_target() != etcdserverpb::RangeRequest::KEY &&
      order == etcdserverpb::RangeRequest::NONE) {
    order = etcdserverpb::RangeRequest::ASCEND;
  }
  if (order != etcdserverpb::RangeRequest::NONE &&
      !(r.sort_target() == etcdserverpb::RangeRequest::KEY &&
        order == etcdserverpb::RangeRequest::ASCEND)) {
    auto less = [&](const mvccpb::KeyValue& a, const mvccpb::KeyValue& b) {
      switch (r.sort_target()) {
        case etcdserverpb::RangeRequest::VERSION:
          return a.version() < b.version();
        case etcdserverpb::RangeRequest::CREATE:
          return a.create_revision() < b.create_revision();
        case etcdserverpb::RangeRequest::MOD:
          return a.mod_revision() < b.mod_revision();
        case etcdserverpb::RangeRequest::VALUE:
          return a.value() < b.value();
        default:
          return a.key() < b.key();
      }
    };
    if (order == etcdserverpb::RangeRequest::DESCEND) {
      std::stable_sort(kvs.begin(), kvs.end(),
                       [&](const mvccpb::KeyValue& a, const mvccpb::KeyValue& b) {
                         return less(b, a);
                       });
    } else {
      std::stable_sort(kvs.begin(), kvs.end(), less);
    }
  }
  etcdserverpb::RangeResponse resp;
  if (r.limit() > 0 && static_cast<int64_t>(kvs.size()) > r.limit()) {
    kvs.resize(r.limit());
    resp.set_more(true);
  }
  resp.mutable_header()->set_revision(rr->rev);
  resp.set_count(rr->count);
  for (mvccpb::KeyValue& kv : kvs) {
    if (r.keys_only()) kv.clear_value();
    *resp.add_kvs() = std::move(kv);
  }
  return resp;
}

bool ApplyCompares(mvcc::ReadView* view, const etcdserverpb::TxnRequest& r) {
  for (const etcdserverpb::Compare& c : r.compare()) {
    absl::StatusOr<mvcc::RangeResult> rr = view->Range(c.key(), c.range_end(), {});
    if (!rr.ok()) return false;
    if (rr->kvs.empty()) {
      if (c.target() == etcdserverpb::Compare::VALUE) return false;
      if (!CompareKV(c, mvccpb::KeyValue())) return false;
      continue;
    }
    for (const mvccpb::KeyValue& kv : rr->kvs) {
      if (!CompareKV(c, kv)) return false;
    }
  }
  return true;
}

}  // namespace etcd::etcdserver
