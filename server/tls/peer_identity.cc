#include "server/tls/peer_identity.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"

namespace etcd::tls {
namespace {

struct Registry {
  absl::Mutex mu;
  absl::flat_hash_map<int, std::string> names ABSL_GUARDED_BY(mu);
};

Registry& TheRegistry() {
  static Registry* registry = new Registry;
  return *registry;
}

}  // namespace

void SetPeerCommonName(int fd, absl::string_view common_name) {
  Registry& r = TheRegistry();
  absl::MutexLock lock(&r.mu);
  if (common_name.empty()) {
    r.names.erase(fd);
  } else {
    r.names[fd] = std::string(common_name);
  }
}

std::string PeerCommonName(absl::string_view grpc_peer) {
  int fd;
  if (!absl::ConsumePrefix(&grpc_peer, "fd:") || !absl::SimpleAtoi(grpc_peer, &fd)) return "";
  Registry& r = TheRegistry();
  absl::MutexLock lock(&r.mu);
  auto it = r.names.find(fd);
  return it == r.names.end() ? "" : it->second;
}

}  // namespace etcd::tls
