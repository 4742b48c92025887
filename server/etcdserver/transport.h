// Where the member's raft messages to peers go (etcd's rafthttp.Transporter,
// as the raft loop sees it). A one-member cluster needs none; the cluster
// issue plugs the peer transport (server/transport) in through this interface.
//
//   class PeerTransport : public etcd::etcdserver::Transport { ... };
//   options.transport = &peer_transport;   // ServerOptions
//   // and deliver received messages with EtcdServer::Process(message).
//
// Thread safety: Send and the reports are called from the raft loop thread
// only; implementations must not block (queue and return).

#ifndef ETCD_SERVER_ETCDSERVER_TRANSPORT_H_
#define ETCD_SERVER_ETCDSERVER_TRANSPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "raft/raftpb/raft.pb.h"

namespace etcd::etcdserver {

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends each message to its `to` member. Messages to unknown members are
  // dropped. A message that cannot be delivered is reported back with
  // EtcdServer's ReportUnreachable-equivalent by the transport later
  // (Process of nothing; see the cluster issue).
  virtual void Send(std::vector<raftpb::Message> messages) = 0;

  // Membership changed: the peers to talk to now (IDs and peer URLs are
  // read from the server's membership by the caller).
  virtual void AddPeer(uint64_t id, const std::vector<std::string>& peer_urls) = 0;
  virtual void RemovePeer(uint64_t id) = 0;

  // Forwards a request to member `to` (e.g. a lease renewal to the leader)
  // and waits for the reply until `deadline`; the reply or the remote
  // member's error. Called from request threads, never the raft loop.
  virtual absl::StatusOr<std::string> Call(uint64_t to, const std::string& method,
                                           const std::string& payload, absl::Time deadline) {
    return absl::UnavailableError("no peer transport");
  }

  // Since when the peer `id` has been reachable without a break;
  // InfinitePast when it is not (etcd's Transporter.ActiveSince). Read by
  // the strict reconfiguration checks and the timeout errors.
  virtual absl::Time ActiveSince(uint64_t id) { return absl::InfinitePast(); }

  // Asks the member at `peer_url` for its membership: a serialized
  // MemberListResponse whose header carries the cluster ID (a member
  // joining an existing cluster does this first).
  virtual absl::StatusOr<std::string> FetchMembers(const std::string& peer_url,
                                                   absl::Time deadline) {
    return absl::UnavailableError("no peer transport");
  }
};

}  // namespace etcd::etcdserver

#endif  // ETCD_SERVER_ETCDSERVER_TRANSPORT_H_
