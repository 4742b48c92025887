#include "server/main/peers.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "server/embed/config.h"

namespace etcd::server {

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", flag, " ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::optional<transport::PeerTls>> PeerTlsFromConfig(const embed::Config& config) {
  // Every peer URL this member knows of at start: https:// or http://, not
  // both.
  std::vector<std::string> urls;
  for (const types::URL& u : config.listen_peer_urls) urls.push_back(u.String());
  for (const types::URL& u : config.initial_advertise_peer_urls) urls.push_back(u.String());
  if (absl::StatusOr<types::URLsMap> initial = config.InitialClusterMap(); initial.ok()) {
    for (const std::string& u : initial->AllURLs()) urls.push_back(u);
  }
  std::vector<std::string> secure, plain;
  for (const std::string& u : urls) {
    if (absl::StartsWith(u, "https://")) {
      secure.push_back(u);
    } else if (absl::StartsWith(u, "http://")) {
      plain.push_back(u);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("peer URL ", u, ": only http:// and https:// are supported"));
    }
  }
  if (!secure.empty() && !plain.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "peer URLs must be all https:// or all http://; got ", absl::StrJoin(secure, ","),
        " and ", absl::StrJoin(plain, ",")));
  }
  if (secure.empty()) return std::nullopt;
  const embed::TransportSecurity& t = config.peer_tls;
  if (t.cert_file.empty() || t.key_file.empty()) {
    return absl::InvalidArgumentError(
        t.auto_tls ? "--peer-auto-tls is not supported: give --peer-cert-file and --peer-key-file"
                   : "https:// peer URLs need --peer-cert-file and --peer-key-file");
  }
  if (!t.crl_file.empty()) {
    return absl::InvalidArgumentError("--peer-crl-file is not supported");
  }
  if (!t.allowed_hostnames.empty()) {
    return absl::InvalidArgumentError("--peer-cert-allowed-hostname is not supported");
  }
  transport::PeerTls tls;
  absl::StatusOr<std::string> pem = ReadPem(t.cert_file, "--peer-cert-file");
  if (!pem.ok()) return pem.status();
  tls.cert_pem = std::move(*pem);
  if (pem = ReadPem(t.key_file, "--peer-key-file"); !pem.ok()) return pem.status();
  tls.key_pem = std::move(*pem);
  if (!t.client_cert_file.empty() || !t.client_key_file.empty()) {
    if (t.client_cert_file.empty() || t.client_key_file.empty()) {
      return absl::InvalidArgumentError(
          "--peer-client-cert-file and --peer-client-key-file go together");
    }
    if (pem = ReadPem(t.client_cert_file, "--peer-client-cert-file"); !pem.ok()) {
      return pem.status();
    }
    tls.client_cert_pem = std::move(*pem);
    if (pem = ReadPem(t.client_key_file, "--peer-client-key-file"); !pem.ok()) {
      return pem.status();
    }
    tls.client_key_pem = std::move(*pem);
  }
  if (!t.trusted_ca_file.empty()) {
    if (pem = ReadPem(t.trusted_ca_file, "--peer-trusted-ca-file"); !pem.ok()) {
      return pem.status();
    }
    tls.trusted_ca_pem = std::move(*pem);
  } else if (t.client_cert_auth) {
    return absl::InvalidArgumentError("--peer-client-cert-auth needs --peer-trusted-ca-file");
  }
  tls.client_cert_auth = t.client_cert_auth;
  tls.allowed_cns = t.allowed_cns;
  return tls;
}

absl::Status PeerGlue::Attach(etcdserver::EtcdServer* server,
                              const std::vector<std::string>& listen_addresses,
                              const std::string& snapshot_dir) {
  transport::TransportOptions options;
  options.cluster_id = server->ClusterID();
  options.member_id = server->ID();
  options.listen_addresses = listen_addresses;
  options.handler = this;
  options.tls = tls_;
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

// No call into the transport or the member is made under mu_: removing a
// peer waits for its sender thread, which may be reporting to the member
// through this class at that moment (and gRPC's threads deliver messages
// through it too).
std::shared_ptr<transport::PeerTransport> PeerGlue::TransportNow() {
  absl::MutexLock lock(&mu_);
  return transport_;
}

etcdserver::EtcdServer* PeerGlue::ServerNow() {
  absl::MutexLock lock(&mu_);
  return server_;
}

void PeerGlue::Send(std::vector<raftpb::Message> messages) {
  if (std::shared_ptr<transport::PeerTransport> t = TransportNow()) t->Send(std::move(messages));
}

void PeerGlue::AddPeer(uint64_t id, const std::vector<std::string>& peer_urls) {
  std::shared_ptr<transport::PeerTransport> t;
  {
    absl::MutexLock lock(&mu_);
    peers_[id] = peer_urls;
    t = transport_;
  }
  if (t != nullptr) t->AddPeer(id, peer_urls);
}

void PeerGlue::RemovePeer(uint64_t id) {
  std::shared_ptr<transport::PeerTransport> t;
  {
    absl::MutexLock lock(&mu_);
    peers_.erase(id);
    t = transport_;
  }
  if (t != nullptr) t->RemovePeer(id);
}

absl::StatusOr<std::string> PeerGlue::Call(uint64_t to, const std::string& method,
                                           const std::string& payload, absl::Time deadline) {
  std::shared_ptr<transport::PeerTransport> t = TransportNow();
  if (t == nullptr) return absl::UnavailableError("peer transport not running");
  return t->Call(to, method, payload, deadline);
}

std::map<uint64_t, transport::PeerStats> PeerGlue::PeerStats() {
  std::shared_ptr<transport::PeerTransport> t = TransportNow();
  if (t == nullptr) return {};
  return t->AllStats();
}

absl::Time PeerGlue::ActiveSince(uint64_t id) {
  std::shared_ptr<transport::PeerTransport> t = TransportNow();
  return t == nullptr ? absl::InfinitePast() : t->ActiveSince(id);
}

absl::StatusOr<std::string> PeerGlue::HandleCall(uint64_t, const std::string& method,
                                                 const std::string& payload) {
  etcdserver::EtcdServer* server = ServerNow();
  if (server == nullptr) return absl::UnavailableError("member not started");
  return server->HandlePeerCall(method, payload);
}

absl::StatusOr<std::string> PeerGlue::Members() {
  etcdserver::EtcdServer* server = ServerNow();
  if (server == nullptr) return absl::UnavailableError("member not started");
  etcdserver::RequestContext ctx;
  ctx.deadline = absl::Now() + absl::Seconds(5);
  absl::StatusOr<etcdserverpb::MemberListResponse> list = server->MemberList({}, ctx);
  if (!list.ok()) return list.status();
  return list->SerializeAsString();
}

absl::StatusOr<std::string> PeerGlue::FetchMembers(const std::string& peer_url,
                                                   absl::Time deadline) {
  absl::StatusOr<transport::ClusterMembers> members =
      transport::FetchMembers(peer_url, deadline, tls_);
  if (!members.ok()) return members.status();
  return std::move(members->payload);
}

// The handler calls come from transport threads while the transport runs;
// Stop() stops the transport before the server goes, so server_ is valid.
absl::Status PeerGlue::Process(const raftpb::Message& message) {
  etcdserver::EtcdServer* server = ServerNow();
  if (server == nullptr) return absl::UnavailableError("member not started");
  return server->Process(message);
}

// The database is already where the member installs it from
// (<snap>/<index>.snap.db); raft gets the message.
absl::Status PeerGlue::ProcessSnapshot(const raftpb::Message& message, const std::string&) {
  return Process(message);
}

bool PeerGlue::IsRemoved(uint64_t id) {
  etcdserver::EtcdServer* server = ServerNow();
  return server != nullptr && server->IsMemberRemoved(id);
}

void PeerGlue::ReportUnreachable(uint64_t id) {
  if (etcdserver::EtcdServer* server = ServerNow()) server->ReportUnreachable(id);
}

void PeerGlue::ReportSnapshot(uint64_t id, bool ok) {
  if (etcdserver::EtcdServer* server = ServerNow()) server->ReportSnapshot(id, ok);
}

void PeerGlue::OnRemoved() {
  if (etcdserver::EtcdServer* server = ServerNow()) server->ReportRemoved();
}

}  // namespace etcd::server
