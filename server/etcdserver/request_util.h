// Request checks and the pieces of applying requests that do not depend on
// the server: range options and filters, compares, txn shape checks.
// Internal to //server/etcdserver. Pure functions; thread-safe.

#ifndef ETCD_SERVER_ETCDSERVER_REQUEST_UTIL_H_
#define ETCD_SERVER_ETCDSERVER_REQUEST_UTIL_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/etcdserverpb/rpc.pb.h"
#include "mvcc/kv.h"

namespace etcd::etcdserver {

// mvcc/lease errors as etcd's rpctypes errors; others unchanged.
absl::Status ToRpcStatus(const absl::Status& s);

// etcd's checkRangeRequest / checkPutRequest / checkDeleteRequest /
// checkTxnRequest (with --max-txn-ops) and the duplicate key check.
absl::Status CheckRangeRequest(const etcdserverpb::RangeRequest& r);
absl::Status CheckPutRequest(const etcdserverpb::PutRequest& r);
absl::Status CheckDeleteRequest(const etcdserverpb::DeleteRangeRequest& r);
absl::Status CheckTxnRequest(const etcdserverpb::TxnRequest& r, uint64_t max_txn_ops);

bool IsTxnReadOnly(const etcdserverpb::TxnRequest& r);
bool IsTxnSerializable(const etcdserverpb::TxnRequest& r);
// Whether a txn may write (any put in any branch, nested included).
bool TxnHasPut(const etcdserverpb::TxnRequest& r);

// Bytes a request adds to the backend, as etcd's quota estimates them.
int64_t PutCost(const etcdserverpb::PutRequest& r);
int64_t TxnCost(const etcdserverpb::TxnRequest& r);
inline constexpr int64_t kLeaseCost = 64;

// A range on `view` with etcd's sort, limit, filters, keys_only, count_only.
absl::StatusOr<etcdserverpb::RangeResponse> RangeOn(mvcc::ReadView* view,
                                                    const etcdserverpb::RangeRequest& r);

// Whether every compare of `r` holds on `view`.
bool ApplyCompares(mvcc::ReadView* view, const etcdserverpb::TxnRequest& r);

}  // namespace etcd::etcdserver

#endif  // ETCD_SERVER_ETCDSERVER_REQUEST_UTIL_H_
