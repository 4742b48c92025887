// Connects the member (//server/etcdserver) with the peer transport
// (//server/transport): the member sends through it as its Transport, and
// the transport delivers to the member as its Handler.
//
//   PeerGlue glue(&logger);
//   options.transport = &glue;                  // before EtcdServer::Start
//   ASSIGN_OR_RETURN(server, EtcdServer::Start(options));
//   RETURN_IF_ERROR(glue.Attach(server.get(), {"127.0.0.1:2380"}, snap_dir));
//   ...
//   glue.Stop();                                // before the server stops
//
// Until Attach (the member's IDs are known only once it started) messages
// are dropped (raft retransmits) and peers are remembered.

#ifndef ETCD_SERVER_MAIN_PEERS_H_
#define ETCD_SERVER_MAIN_PEERS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "pkg/log/log.h"
#include "server/etcdserver/etcdserver.h"
#include "server/etcdserver/transport.h"
#include "server/transport/transport.h"

namespace etcd::embed {
struct Config;
}  // namespace etcd::embed

namespace etcd::server {

// The peer TLS settings of `config` (--peer-cert-file, ...) with the files
// read, when its peer URLs are https://; nullopt when they are http://.
// Fails for a mix of both, https:// without a certificate and key, and the
// --peer-* options this member does not support (auto TLS, CRL, allowed
// host names).
absl::StatusOr<std::optional<transport::PeerTls>> PeerTlsFromConfig(const embed::Config& config);

class PeerGlue : public etcdserver::Transport, public transport::Handler {
 public:
  // `tls`: the peer protocol over TLS (https:// peer URLs).
  explicit PeerGlue(log::Logger* logger, std::optional<transport::PeerTls> tls = std::nullopt)
      : logger_(logger), tls_(std::move(tls)) {}
  ~PeerGlue() override { Stop(); }

  // Starts serving the peer protocol on `listen_addresses` ("host:port")
  // for `server` and connects the peers added so far.
  absl::Status Attach(etcdserver::EtcdServer* server,
                      const std::vector<std::string>& listen_addresses,
                      const std::string& snapshot_dir);
  // Stops the transport; later sends are dropped. Idempotent.
  void Stop();

  // etcdserver::Transport
  void Send(std::vector<raftpb::Message> messages) override;
  void AddPeer(uint64_t id, const std::vector<std::string>& peer_urls) override;
  void RemovePeer(uint64_t id) override;
  absl::StatusOr<std::string> Call(uint64_t to, const std::string& method,
                                   const std::string& payload, absl::Time deadline) override;
  absl::Time ActiveSince(uint64_t id) override;

  // transport::Handler
  absl::Status Process(const raftpb::Message& message) override;
  absl::Status ProcessSnapshot(const raftpb::Message& message,
                               const std::string& db_path) override;
  bool IsRemoved(uint64_t id) override;
  void ReportUnreachable(uint64_t id) override;
  void ReportSnapshot(uint64_t id, bool ok) override;
  void OnRemoved() override;
  absl::StatusOr<std::string> HandleCall(uint64_t from, const std::string& method,
                                         const std::string& payload) override;
  absl::StatusOr<std::string> Members() override;
  absl::StatusOr<std::string> FetchMembers(const std::string& peer_url,
                                           absl::Time deadline) override;

  // The transport's counters for every current peer (none before Attach).
  std::map<uint64_t, transport::PeerStats> PeerStats();

 private:
  std::shared_ptr<transport::PeerTransport> TransportNow() ABSL_LOCKS_EXCLUDED(mu_);
  etcdserver::EtcdServer* ServerNow() ABSL_LOCKS_EXCLUDED(mu_);

  log::Logger* const logger_;
  const std::optional<transport::PeerTls> tls_;
  absl::Mutex mu_;
  etcdserver::EtcdServer* server_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Shared with calls in flight (Call), which may outlive Stop().
  std::shared_ptr<transport::PeerTransport> transport_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::vector<std::string>> peers_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace etcd::server

#endif  // ETCD_SERVER_MAIN_PEERS_H_
