// Splitting of large watch responses (etcd's sendFragments): a response
// whose encoded size reaches max_request_bytes and that has at least two
// events is sent as several, each but the last marked `fragment`, each with
// as many events as fit (at least one). Pure function; thread-safe.

#ifndef ETCD_SERVER_V3RPC_WATCH_FRAGMENT_H_
#define ETCD_SERVER_V3RPC_WATCH_FRAGMENT_H_

#include <cstdint>
#include <vector>

#include "api/etcdserverpb/rpc.pb.h"

namespace etcd::v3rpc {

std::vector<etcdserverpb::WatchResponse> FragmentWatchResponse(etcdserverpb::WatchResponse response,
                                                               uint64_t max_request_bytes);

}  // namespace etcd::v3rpc

#endif  // ETCD_SERVER_V3RPC_WATCH_FRAGMENT_H_
