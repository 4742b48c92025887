// The peer transport: raft messages and snapshots between the members of a
// cluster over gRPC on the peer URLs (server/transport/peerpb/peer.proto).
//
//   etcd::transport::TransportOptions options;
//   options.cluster_id = cluster_id;
//   options.member_id = self_id;
//   options.listen_addresses = {"127.0.0.1:2380"};
//   options.handler = &handler;             // delivers to the raft loop
//   options.snapshot_dir = "default.etcd/member/snap";
//   ASSIGN_OR_RETURN(auto transport, etcd::transport::PeerTransport::Start(options));
//   transport->AddPeer(2, {"http://127.0.0.1:22380"});
//   transport->Send(ready.messages);       // never blocks
//
// Each peer has one long-lived stream for raft messages, opened as soon as
// the peer is added (so its reachability is known), fed from a bounded
// queue by a sender thread: when the queue is full (the peer is slow or
// gone) messages are dropped with a log line, as etcd does, and raft
// retransmits. A failed stream reports the peer unreachable to the handler
// and reconnects with backoff. MsgSnap messages go on a separate stream with
// the backend database (from `snapshot_db`), checked by size and SHA-256 on
// arrival; the outcome is reported with ReportSnapshot.
//
// Incoming calls are checked for cluster ID, member ID and removed senders
// before anything reaches the handler.
//
// Thread safety: all public methods are thread-safe; Send never blocks.

#ifndef ETCD_SERVER_TRANSPORT_TRANSPORT_H_
#define ETCD_SERVER_TRANSPORT_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "raft/raftpb/raft.pb.h"

namespace etcd::log {
class Logger;
}  // namespace etcd::log

namespace etcd::transport {

// What the transport delivers to and asks of the member. Called from the
// transport's threads; implementations must not block for long.
class Handler {
 public:
  virtual ~Handler() = default;
  // A raft message from a peer.
  virtual absl::Status Process(const raftpb::Message& message) = 0;
  // A MsgSnap whose database arrived complete and verified at `db_path`
  // (the handler takes the file over).
  virtual absl::Status ProcessSnapshot(const raftpb::Message& message,
                                       const std::string& db_path) = 0;
  // Whether `id` was removed from the cluster (its calls are refused).
  virtual bool IsRemoved(uint64_t id) = 0;
  // Sending to `id` failed; raft should probe it.
  virtual void ReportUnreachable(uint64_t id) = 0;
  // The snapshot sent to `id` was applied (`ok`) or failed.
  virtual void ReportSnapshot(uint64_t id, bool ok) = 0;
  // A peer refused this member as removed from the cluster.
  virtual void OnRemoved() {}
  // A request forwarded by member `from` (PeerTransport::Call); returns the
  // serialized reply. Runs on a gRPC thread: keep it short.
  virtual absl::StatusOr<std::string> HandleCall(uint64_t from, const std::string& method,
                                                 const std::string& payload) {
    return absl::UnimplementedError("peer calls are not handled");
  }
  // The membership as this member knows it, for members joining the
  // cluster (FetchMembers); opaque to the transport.
  virtual absl::StatusOr<std::string> Members() {
    return absl::UnimplementedError("membership is not served");
  }
};

// TLS for the peer protocol (etcd's --peer-* flags), as PEM text.
struct PeerTls {
  // Presented by this member's listeners.
  std::string cert_pem;
  std::string key_pem;
  // Presented when this member connects to a peer; cert_pem / key_pem when
  // empty.
  std::string client_cert_pem;
  std::string client_key_pem;
  // Verifies the other side's certificate in both directions; empty: the
  // system's roots verify servers.
  std::string trusted_ca_pem;
  // Listeners require a client certificate signed by trusted_ca_pem.
  bool client_cert_auth = false;
  // A connecting member's certificate common name must be one of these
  // (--peer-cert-allowed-cn); empty: any.
  std::vector<std::string> allowed_cns;
};

struct TransportOptions {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  // "host:port" addresses to serve the peer protocol on; port 0 picks one
  // (see PeerTransport::ports()). Empty: this transport only sends.
  std::vector<std::string> listen_addresses;
  Handler* handler = nullptr;  // required
  // Set: every listener and every connection to a peer uses TLS (https://
  // peer URLs); peer host names are checked against the certificates.
  std::optional<PeerTls> tls;
  // Where received snapshot databases are written (required to receive
  // snapshots).
  std::string snapshot_dir;
  // The path of the database file to send with a MsgSnap (required to send
  // snapshots). The file must stay until the send finishes.
  std::function<absl::StatusOr<std::string>(const raftpb::Message&)> snapshot_db;
  // Called with that path once the send is over (either way), e.g. to
  // delete a temporary copy.
  std::function<void(const std::string&)> snapshot_db_done;
  // Raft messages queued per peer before new ones are dropped (etcd: 4096).
  size_t queue_capacity = 4096;
  // Messages per stream write.
  size_t max_batch = 512;
  // Backoff between reconnection attempts to a failed peer.
  absl::Duration reconnect_backoff = absl::Milliseconds(100);
  // How long a silent peer connection lives before it is declared dead
  // (gRPC keepalive).
  absl::Duration keepalive_time = absl::Seconds(2);
  absl::Duration keepalive_timeout = absl::Seconds(2);
  // Largest message accepted from a peer.
  int max_message_bytes = 64 * 1024 * 1024;
  log::Logger* logger = nullptr;  // optional
};

// Counters for tests and metrics (etcd_network_* in etcd).
struct PeerStats {
  uint64_t sent = 0;        // messages written to the stream
  uint64_t sent_bytes = 0;  // their encoded size
  uint64_t dropped = 0;     // dropped: queue full or stream failed
  uint64_t failures = 0;    // stream failures (each reported unreachable)
  uint64_t disconnects = 0; // accepted streams that later broke
  uint64_t snapshots_sent = 0;
  uint64_t snapshot_failures = 0;
  bool connected = false;
};

class PeerTransport {
 public:
  // Starts serving on options.listen_addresses.
  static absl::StatusOr<std::unique_ptr<PeerTransport>> Start(TransportOptions options);
  ~PeerTransport();
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // The bound ports, in the order of listen_addresses.
  std::vector<int> ports() const;

  // Queues each message for its `to` peer; messages to unknown peers are
  // dropped.
  void Send(std::vector<raftpb::Message> messages);

  // Starts talking to `id` at the first reachable URL of `peer_urls`
  // ("http://host:port"); replaces the URLs of a known peer.
  void AddPeer(uint64_t id, const std::vector<std::string>& peer_urls);
  void RemovePeer(uint64_t id);

  // Sends a request to member `to` and waits for its reply until
  // `deadline` (the caller's thread). The status of a failed call is the
  // remote handler's (code and message), or Unavailable / DeadlineExceeded
  // when the peer cannot be reached.
  absl::StatusOr<std::string> Call(uint64_t to, const std::string& method,
                                   const std::string& payload, absl::Time deadline);

  // Counters for the peer `id` (zero for unknown peers).
  PeerStats Stats(uint64_t id) const;
  // Counters for every current peer, by ID.
  std::map<uint64_t, PeerStats> AllStats() const;
  // Since when the raft message stream to `id` has been up without a
  // break (the peer accepted it); InfinitePast when it is down or `id` is
  // unknown. etcd's Transporter.ActiveSince: the strict reconfiguration
  // checks and timeout errors read it.
  absl::Time ActiveSince(uint64_t id) const;
  // Calls refused because of the cluster ID, member ID or removed sender.
  uint64_t RejectedCalls() const;

  // Stops the server and every sender; pending messages are dropped.
  // Idempotent.
  void Stop();

  struct Impl;  // transport.cc

 private:
  explicit PeerTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Asks the member at `peer_url` for the cluster ID and its Handler::Members
// payload (a member joining an existing cluster does this before it knows
// either).
struct ClusterMembers {
  uint64_t cluster_id = 0;
  std::string payload;
};
absl::StatusOr<ClusterMembers> FetchMembers(const std::string& peer_url, absl::Time deadline,
                                            const std::optional<PeerTls>& tls = std::nullopt);

// The "host:port" of a peer URL ("http://127.0.0.1:2380" or
// "https://127.0.0.1:2380" → "127.0.0.1:2380").
absl::StatusOr<std::string> PeerAddress(const std::string& url);

}  // namespace etcd::transport

#endif  // ETCD_SERVER_TRANSPORT_TRANSPORT_H_
