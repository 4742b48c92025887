#include "server/main/peers.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace etcd::server {

absl::Status PeerGlue::Attach(etcdserver::EtcdServer* server,
                              const std::vector<std::string>& listen_addresses,
                              const std::string& snapshot_dir) {
  transport::TransportOptions options;
  options.cluster_id = server->ClusterID();
  options.member_id = server->ID();
  options.listen_addresses = listen_addresses;
  options.handler = this;
  options.snapshot_dir = snapshot_dir;
  options.snapshot_db = [server](const raftpb::Message& m) {
    return server->WriteSnapshotDbForSend(m);
  };
  options.snapshot_db_done = [](const std::string& path) { ::unlink(path.c_str()); };
  options.logger = logger_;
  absl::MutexLock lock(&mu_);
  if (stopped_) return absl::FailedPreconditionError("peer transport stopped");
  absl::StatusOr<std::unique_ptr<transport::PeerTransport>> t =
      transport::PeerTransport::Start(std::move(options));
  if (!t.ok()) return t.status();
  transport_ = std::move(*t);
  server_ = server;
  for (const auto& [id, urls] : peers_) transport_->AddPeer(id, urls);
  return absl::OkStatus();
}

void PeerGlue::Stop() {
  std::shared_ptr<transport::PeerTransport> t;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    t = std::move(transport_);
    server_ = nullptr;
  }
  if (t != nullptr) t->Stop();
}

void PeerGlue::Send(std::vector<raftpb::Message> messages) {
  absl::MutexLock lock(&mu_);
  if (transport_ != nullptr) transport_->Send(std::move(messages));
}

void PeerGlue::AddPeer(uint64_t id, const std::vector<std::string>& peer_urls) {
  absl::MutexLock lock(&mu_);
  peers_[id] = peer_urls;
  if (transport_ != nullptr) transport_->AddPeer(id, peer_urls);
}

void PeerGlue::RemovePeer(uint64_t id) {
  absl::MutexLock lock(&mu_);
  peers_.erase(id);
  if (transport_ != nullptr) transport_->RemovePeer(id);
}

absl::StatusOr<std::string> PeerGlue::Call(uint64_t to, const std::string& method,
                                           const std::string& payload, absl::Time deadline) {
  // PeerTransport::Call blocks: no lock held across it.
  std::shared_ptr<transport::PeerTransport> t;
  {
    absl::MutexLock lock(&mu_);
    t = transport_;
  }
  if (t == nullptr) return absl::UnavailableError("peer transport not running");
  return t->Call(to, method, payload, deadline);
}

absl::Time PeerGlue::ActiveSince(uint64_t id) {
  absl::MutexLock lock(&mu_);
  return transport_ == nullptr ? absl::InfinitePast() : transport_->ActiveSince(id);
}

absl::StatusOr<std::string> PeerGlue::HandleCall(uint64_t, const std::string& method,
                                                 const std::string& payload) {
  etcdserver::EtcdServer* server;
  {
    absl::MutexLock lock(&mu_);
    server = server_;
  }
  if (server == nullptr) return absl::UnavailableError("member not started");
  return server->HandlePeerCall(method, payload);
}

absl::StatusOr<std::string> PeerGlue::Members() {
  etcdserver::EtcdServer* server;
  {
    absl::MutexLock lock(&mu_);
    server = server_;
  }
  if (server == nullptr) return absl::UnavailableError("member not started");
  etcdserver::RequestContext ctx;
  ctx.deadline = absl::Now() + absl::Seconds(5);
  absl::StatusOr<etcdserverpb::MemberListResponse> list = server->MemberList({}, ctx);
  if (!list.ok()) return list.status();
  return list->SerializeAsString();
}

absl::StatusOr<std::string> PeerGlue::FetchMembers(const std::string& peer_url,
                                                   absl::Time deadline) {
  absl::StatusOr<transport::ClusterMembers> members = transport::FetchMembers(peer_url, deadline);
  if (!members.ok()) return members.status();
  return std::move(members->payload);
}

// The handler calls come from transport threads while the transport runs;
// Stop() stops the transport before the server goes, so server_ is valid.
absl::Status PeerGlue::Process(const raftpb::Message& message) {
  etcdserver::EtcdServer* server;
  {
    absl::MutexLock lock(&mu_);
    server = server_;
  }
  if (server == nullptr) return absl::UnavailableError("member not started");
  return server->Process(message);
}

// The database is already where the member installs it from
// (<snap>/<index>.snap.db); raft gets the message.
absl::Status PeerGlue::ProcessSnapshot(const raftpb::Message& message, const std::string&) {
  return Process(message);
}

bool PeerGlue::IsRemoved(uint64_t id) {
  absl::MutexLock lock(&mu_);
  return server_ != nullptr && server_->IsMemberRemoved(id);
}

void PeerGlue::ReportUnreachable(uint64_t id) {
  absl::MutexLock lock(&mu_);
  if (server_ != nullptr) server_->ReportUnreachable(id);
}

void PeerGlue::ReportSnapshot(uint64_t id, bool ok) {
  absl::MutexLock lock(&mu_);
  if (server_ != nullptr) server_->ReportSnapshot(id, ok);
}

void PeerGlue::OnRemoved() {
  absl::MutexLock lock(&mu_);
  if (server_ != nullptr) server_->ReportRemoved();
}

}  // namespace etcd::server
