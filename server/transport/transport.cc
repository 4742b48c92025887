#include "server/transport/transport.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <climits>
#include <deque>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "pkg/log/log.h"
#include "server/transport/peerpb/peer.grpc.pb.h"
#include "server/transport/snapshot_file.h"

namespace etcd::transport {
namespace {

constexpr char kClusterIdKey[] = "etcd-cluster-id";
constexpr char kFromKey[] = "etcd-from";
constexpr char kToKey[] = "etcd-to";
// Sent in the initial metadata of a raft message stream the receiver
// accepted (its checks passed): the sender counts the peer active from then.
constexpr char kAcceptedKey[] = "etcd-stream-accepted";
constexpr char kClusterIdMismatch[] = "cluster ID mismatch";
constexpr char kMemberIdMismatch[] = "member ID mismatch";
constexpr char kMemberRemoved[] = "the member has been permanently removed from the cluster";
constexpr char kCommonNameNotAllowed[] = "peer certificate common name not allowed";
constexpr size_t kSnapshotChunkBytes = 1 << 20;

std::string Hex(uint64_t v) { return absl::StrFormat("%x", v); }

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const std::optional<PeerTls>& tls) {
  if (!tls.has_value()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls->trusted_ca_pem;
  const bool own_client_cert = !tls->client_cert_pem.empty();
  ssl.pem_cert_chain = own_client_cert ? tls->client_cert_pem : tls->cert_pem;
  ssl.pem_private_key = own_client_cert ? tls->client_key_pem : tls->key_pem;
  return grpc::SslCredentials(ssl);
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const std::optional<PeerTls>& tls) {
  if (!tls.has_value()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      tls->client_cert_auth || !tls->allowed_cns.empty()
          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
          : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_root_certs = tls->trusted_ca_pem;
  ssl.pem_key_cert_pairs.push_back({tls->key_pem, tls->cert_pem});
  return grpc::SslServerCredentials(ssl);
}

int Millis(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(d);
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

std::optional<uint64_t> HexMetadata(const grpc::CallbackServerContext* ctx, const char* key) {
  auto range = ctx->client_metadata().equal_range(key);
  if (range.first == range.second) return std::nullopt;
  uint64_t v = 0;
  std::string text(range.first->second.data(), range.first->second.size());
  if (!absl::SimpleHexAtoi(text, &v)) return std::nullopt;
  return v;
}

}  // namespace

absl::StatusOr<std::string> PeerAddress(const std::string& url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "http://") && !absl::ConsumePrefix(&rest, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("peer URL ", url, " must start with http:// or https://"));
  }
  size_t slash = rest.find('/');
  if (slash != absl::string_view::npos) rest = rest.substr(0, slash);
  if (rest.empty() || rest.find(':') == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("peer URL ", url, " has no host:port"));
  }
  return std::string(rest);
}

// One remote member: a queue of raft messages, the thread that streams them,
// and a one-slot mailbox for the next snapshot.
class Peer {
 public:
  Peer(uint64_t id, std::vector<std::string> addresses, const TransportOptions& options,
       log::Logger* logger)
      : id_(id), options_(options), logger_(logger), addresses_(std::move(addresses)) {
    sender_ = std::thread([this] { SendLoop(); });
    snapshotter_ = std::thread([this] { SnapshotLoop(); });
  }

  ~Peer() { Stop(); }

  void SetAddresses(std::vector<std::string> addresses) {
    absl::MutexLock lock(&mu_);
    addresses_ = std::move(addresses);
    next_address_ = 0;
    channel_.reset();
  }

  // Never blocks.
  void Enqueue(raftpb::Message message) {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    if (message.type() == raftpb::MsgSnap) {
      // A snapshot superseded before it was sent failed as far as raft
      // knows; the snapshot thread says so (never the caller's thread).
      if (snapshot_.has_value()) ++superseded_snapshots_;
      snapshot_ = std::move(message);
    } else if (queue_.size() >= options_.queue_capacity) {
      ++stats_.dropped;
      if (!drop_logged_) {
        drop_logged_ = true;
        logger_->Warn(
            "dropped internal Raft message since sending buffer is full (overloaded network)",
            {{"message-type", raftpb::MessageType_Name(message.type())},
             {"remote-peer-id", Hex(id_)}});
      }
    } else {
      queue_.push_back(std::move(message));
    }
  }

  PeerStats Stats() const {
    absl::MutexLock lock(&mu_);
    return stats_;
  }

  absl::Time ActiveSince() const {
    absl::MutexLock lock(&mu_);
    return active_since_;
  }

  absl::StatusOr<std::string> Call(const std::string& method, const std::string& payload,
                                   absl::Time deadline) {
    std::shared_ptr<grpc::Channel> channel;
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return absl::UnavailableError("peer transport stopped");
      channel = ChannelLocked();
    }
    if (channel == nullptr) return absl::UnavailableError("no peer URL");
    grpc::ClientContext ctx;
    AddMetadata(&ctx);
    ctx.set_deadline(absl::ToChronoTime(deadline));
    etcdcpp::peerpb::PeerCall call;
    call.set_method(method);
    call.set_payload(payload);
    etcdcpp::peerpb::PeerReply reply;
    grpc::Status status = etcdcpp::peerpb::Peer::NewStub(channel)->Call(&ctx, call, &reply);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return std::move(*reply.mutable_payload());
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
      if (stream_ != nullptr) stream_->Cancel();
      if (snapshot_context_ != nullptr) snapshot_context_->TryCancel();
    }
    sender_.join();
    snapshotter_.join();
  }

 private:
  std::shared_ptr<grpc::Channel> ChannelLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (channel_ == nullptr && !addresses_.empty()) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, Millis(options_.keepalive_time));
      args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Millis(options_.keepalive_timeout));
      args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
      args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, Millis(options_.reconnect_backoff));
      args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, Millis(options_.reconnect_backoff));
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                  Millis(std::max(options_.reconnect_backoff, absl::Seconds(1))));
      args.SetMaxSendMessageSize(options_.max_message_bytes);
      // Each peer gets a connection of its own, not one shared by URL.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      const std::string& address = addresses_[next_address_ % addresses_.size()];
      channel_ = grpc::CreateCustomChannel(address, ChannelCredentials(options_.tls), args);
    }
    return channel_;
  }

  void AddMetadata(grpc::ClientContext* ctx) const {
    ctx->AddMetadata(kClusterIdKey, Hex(options_.cluster_id));
    ctx->AddMetadata(kFromKey, Hex(options_.member_id));
    ctx->AddMetadata(kToKey, Hex(id_));
  }

  // After a failed call: logs, counts, tells raft, moves to the next URL.
  void OnFailure(const grpc::Status& status, size_t lost) {
    bool removed = status.error_code() == grpc::StatusCode::PERMISSION_DENIED &&
                   status.error_message() == kMemberRemoved;
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      ++stats_.failures;
      stats_.dropped += lost;
      if (stats_.connected) ++stats_.disconnects;
      stats_.connected = false;
      active_since_ = absl::InfinitePast();
      ++next_address_;
      channel_.reset();
      if (!failure_logged_) {
        failure_logged_ = true;
        logger_->Warn("lost TCP streaming connection with remote peer",
                      {{"remote-peer-id", Hex(id_)}, {"error", status.error_message()}});
      }
    }
    if (removed) options_.handler->OnRemoved();
    options_.handler->ReportUnreachable(id_);
  }

  // Sleeps for the reconnect backoff unless stopped; returns !stopped.
  bool Backoff() {
    absl::MutexLock lock(&mu_);
    auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopped_; };
    mu_.AwaitWithTimeout(absl::Condition(&stopped), options_.reconnect_backoff);
    return !stopped_;
  }

  // The raft message stream: writes come from the sender thread, one at a
  // time; a read is kept pending so the end of the stream (refusal, peer
  // gone) is seen at once even when nothing is being written.
  class StreamClient
      : public grpc::ClientBidiReactor<etcdcpp::peerpb::MessageBatch, etcdcpp::peerpb::StreamAck> {
   public:
    StreamClient(Peer* peer, const std::shared_ptr<grpc::Channel>& channel) : peer_(peer) {
      peer_->AddMetadata(&ctx_);
      stub_ = etcdcpp::peerpb::Peer::NewStub(channel);
      stub_->async()->Stream(&ctx_, this);
      StartRead(&ack_);
      AddHold();
      StartCall();
    }
    void Write(etcdcpp::peerpb::MessageBatch batch) {
      batch_ = std::move(batch);
      bytes_ = batch_.ByteSizeLong();
      StartWrite(&batch_);
    }
    // Ends the call; OnDone follows.
    void Close() {
      ctx_.TryCancel();
      RemoveHold();
    }
    void Cancel() { ctx_.TryCancel(); }
    void OnWriteDone(bool ok) override {
      peer_->WriteDone(ok, static_cast<size_t>(batch_.messages_size()), bytes_);
    }
    void OnReadDone(bool ok) override {
      if (ok) {
        StartRead(&ack_);
      } else {
        peer_->StreamBroken();
      }
    }
    void OnReadInitialMetadataDone(bool ok) override {
      if (!ok) return;
      const auto& md = ctx_.GetServerInitialMetadata();
      if (md.find(kAcceptedKey) != md.end()) peer_->StreamAccepted();
    }
    void OnDone(const grpc::Status& status) override { peer_->StreamDone(status); }

   private:
    Peer* const peer_;
    grpc::ClientContext ctx_;
    std::unique_ptr<etcdcpp::peerpb::Peer::Stub> stub_;
    etcdcpp::peerpb::MessageBatch batch_;
    size_t bytes_ = 0;
    etcdcpp::peerpb::StreamAck ack_;
  };

  void WriteDone(bool ok, size_t count, size_t bytes) {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    if (!ok) {
      stream_broken_ = true;
      lost_ += count;
      return;
    }
    stats_.sent += count;
    stats_.sent_bytes += bytes;
    drop_logged_ = false;
  }

  // The peer accepted the stream: it is active from now until the stream
  // fails.
  void StreamAccepted() {
    absl::MutexLock lock(&mu_);
    if (stats_.connected) return;
    stats_.connected = true;
    active_since_ = absl::Now();
    if (failure_logged_) {
      failure_logged_ = false;
      logger_->Info("established TCP streaming connection with remote peer",
                    {{"remote-peer-id", Hex(id_)}});
    }
  }

  void StreamBroken() {
    absl::MutexLock lock(&mu_);
    stream_broken_ = true;
  }

  void StreamDone(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    stream_broken_ = true;
    stream_done_ = true;
    stream_status_ = status;
  }

  // Ends the current stream and waits for gRPC to be done with it; returns
  // its status and the messages lost in a failed write.
  std::pair<grpc::Status, size_t> TearDownStream() {
    StreamClient* stream;
    {
      absl::MutexLock lock(&mu_);
      stream = stream_;
    }
    stream->Close();
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stream_done_ && !write_in_flight_;
    };
    mu_.Await(absl::Condition(&done));
    delete stream_;
    stream_ = nullptr;
    stream_broken_ = false;
    stream_done_ = false;
    size_t lost = lost_;
    lost_ = 0;
    return {stream_status_, lost};
  }

  void SendLoop() {
    while (true) {
      etcdcpp::peerpb::MessageBatch batch;
      std::shared_ptr<grpc::Channel> channel;
      bool broken = false;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          if (stopped_) return true;
          if (write_in_flight_) return false;
          // No stream yet: open one even with nothing to send, so that the
          // peer's reachability is known (ActiveSince) before it is needed.
          if (stream_ == nullptr) return !addresses_.empty() || !queue_.empty();
          return stream_broken_ || !queue_.empty();
        };
        mu_.Await(absl::Condition(&ready));
        if (stopped_) break;
        broken = stream_ != nullptr && stream_broken_;
        if (!broken) {
          while (!queue_.empty() &&
                 static_cast<size_t>(batch.messages_size()) < options_.max_batch) {
            *batch.add_messages() = std::move(queue_.front());
            queue_.pop_front();
          }
          if (stream_ == nullptr) {
            channel = ChannelLocked();
            if (channel == nullptr) {
              stats_.dropped += batch.messages_size();
              continue;
            }
          }
        }
      }
      if (broken) {
        auto [status, lost] = TearDownStream();
        OnFailure(status, lost);
        if (!Backoff()) break;
        continue;
      }
      // Created and written outside the lock: gRPC may call back at once.
      StreamClient* stream = channel != nullptr ? new StreamClient(this, channel) : nullptr;
      {
        absl::MutexLock lock(&mu_);
        if (stream != nullptr) stream_ = stream;
        stream = stream_;
        if (batch.messages_size() == 0) continue;
        write_in_flight_ = true;
      }
      stream->Write(std::move(batch));
    }
    bool open;
    {
      absl::MutexLock lock(&mu_);
      open = stream_ != nullptr;
    }
    if (open) (void)TearDownStream();
  }

  void SnapshotLoop() {
    while (true) {
      raftpb::Message message;
      std::shared_ptr<grpc::Channel> channel;
      grpc::ClientContext ctx;
      int superseded = 0;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopped_ || snapshot_.has_value();
        };
        mu_.Await(absl::Condition(&ready));
        if (stopped_) return;
        std::swap(superseded, superseded_snapshots_);
        stats_.snapshot_failures += superseded;
        message = std::move(*snapshot_);
        snapshot_.reset();
        channel = ChannelLocked();
        snapshot_context_ = &ctx;
      }
      for (; superseded > 0; --superseded) options_.handler->ReportSnapshot(id_, false);
      absl::Status sent = channel == nullptr ? absl::UnavailableError("no peer URL")
                                             : SendSnapshot(channel, message, &ctx);
      {
        absl::MutexLock lock(&mu_);
        snapshot_context_ = nullptr;
      }
      if (sent.ok()) {
        logger_->Info("sent database snapshot to remote peer",
                      {{"remote-peer-id", Hex(id_)}, {"snapshot-index",
                                                       message.snapshot().metadata().index()}});
      } else {
        logger_->Warn("failed to send database snapshot to remote peer",
                      {{"remote-peer-id", Hex(id_)}, {"error", sent}});
        options_.handler->ReportUnreachable(id_);
      }
      {
        absl::MutexLock lock(&mu_);
        ++(sent.ok() ? stats_.snapshots_sent : stats_.snapshot_failures);
      }
      options_.handler->ReportSnapshot(id_, sent.ok());
    }
  }

  absl::Status SendSnapshot(const std::shared_ptr<grpc::Channel>& channel,
                            const raftpb::Message& message, grpc::ClientContext* ctx) {
    if (!options_.snapshot_db) return absl::FailedPreconditionError("no snapshot database source");
    absl::StatusOr<std::string> path = options_.snapshot_db(message);
    if (!path.ok()) return path.status();
    struct Done {
      const TransportOptions& options;
      const std::string& path;
      ~Done() {
        if (options.snapshot_db_done) options.snapshot_db_done(path);
      }
    } done{options_, *path};
    absl::StatusOr<std::unique_ptr<SnapshotFileReader>> reader = SnapshotFileReader::Open(*path);
    if (!reader.ok()) return reader.status();
    AddMetadata(ctx);
    etcdcpp::peerpb::SnapshotAck ack;
    std::unique_ptr<grpc::ClientWriter<etcdcpp::peerpb::SnapshotChunk>> writer =
        etcdcpp::peerpb::Peer::NewStub(channel)->SendSnapshot(ctx, &ack);
    etcdcpp::peerpb::SnapshotChunk head;
    *head.mutable_message() = message;
    head.set_db_size((*reader)->size());
    bool ok = writer->Write(head);
    std::string data;
    while (ok) {
      if (absl::Status s = (*reader)->Next(kSnapshotChunkBytes, &data); !s.ok()) {
        ctx->TryCancel();
        (void)writer->Finish();
        return s;
      }
      if (data.empty()) break;
      etcdcpp::peerpb::SnapshotChunk chunk;
      chunk.set_data(std::move(data));
      ok = writer->Write(chunk);
    }
    if (ok) {
      etcdcpp::peerpb::SnapshotChunk tail;
      tail.set_sha256((*reader)->Digest());
      ok = writer->Write(tail) && writer->WritesDone();
    }
    grpc::Status status = writer->Finish();
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return ok ? absl::OkStatus() : absl::UnavailableError("snapshot stream broken");
  }

  const uint64_t id_;
  const TransportOptions& options_;
  log::Logger* const logger_;
  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> addresses_ ABSL_GUARDED_BY(mu_);
  size_t next_address_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
  std::deque<raftpb::Message> queue_ ABSL_GUARDED_BY(mu_);
  std::optional<raftpb::Message> snapshot_ ABSL_GUARDED_BY(mu_);
  int superseded_snapshots_ ABSL_GUARDED_BY(mu_) = 0;
  // The current raft message stream (owned; deleted after its OnDone).
  StreamClient* stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  // The stream failed (a write, the pending read, or the call ended).
  bool stream_broken_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status stream_status_ ABSL_GUARDED_BY(mu_);
  // Messages of the failed write, counted as dropped on teardown.
  size_t lost_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ClientContext* snapshot_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  PeerStats stats_ ABSL_GUARDED_BY(mu_);
  // When the current stream was accepted; InfinitePast while there is none.
  absl::Time active_since_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool drop_logged_ ABSL_GUARDED_BY(mu_) = false;
  bool failure_logged_ ABSL_GUARDED_BY(mu_) = false;
  std::thread sender_;
  std::thread snapshotter_;
};

struct PeerTransport::Impl {
  TransportOptions options;
  std::unique_ptr<log::Logger> own_logger;
  log::Logger* logger = nullptr;
  std::unique_ptr<grpc::Service> service;
  std::unique_ptr<grpc::Server> server;
  std::vector<int> ports;
  std::atomic<uint64_t> rejected{0};
  mutable absl::Mutex mu;
  bool stopped ABSL_GUARDED_BY(mu) = false;
  std::map<uint64_t, std::shared_ptr<Peer>> peers ABSL_GUARDED_BY(mu);
  // Peer calls being handled on threads of their own (PeerService::Call).
  int calls_in_flight ABSL_GUARDED_BY(mu) = 0;

  // --peer-cert-allowed-cn: whether the caller's verified certificate has
  // one of the allowed common names (any caller when none are set).
  bool CommonNameAllowed(const grpc::CallbackServerContext* ctx) const {
    if (!options.tls.has_value() || options.tls->allowed_cns.empty()) return true;
    std::shared_ptr<const grpc::AuthContext> auth = ctx->auth_context();
    if (auth == nullptr) return false;
    for (const grpc::string_ref& cn : auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME)) {
      const std::string name(cn.data(), cn.size());
      for (const std::string& allowed : options.tls->allowed_cns) {
        if (name == allowed) return true;
      }
    }
    return false;
  }

  // Checks the caller of an incoming call; returns who it is.
  grpc::Status CheckCall(const grpc::CallbackServerContext* ctx, uint64_t* from) {
    std::optional<uint64_t> cluster = HexMetadata(ctx, kClusterIdKey);
    std::optional<uint64_t> sender = HexMetadata(ctx, kFromKey);
    std::optional<uint64_t> to = HexMetadata(ctx, kToKey);
    if (!cluster.has_value() || !sender.has_value() || !to.has_value()) {
      ++rejected;
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "peer call without cluster and member IDs");
    }
    if (*cluster != options.cluster_id) {
      ++rejected;
      logger->Warn("request cluster ID mismatch", {{"local-member-cluster-id",
                                                    Hex(options.cluster_id)},
                                                   {"remote-peer-cluster-id", Hex(*cluster)},
                                                   {"remote-peer-id", Hex(*sender)}});
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, kClusterIdMismatch);
    }
    if (*to != options.member_id) {
      ++rejected;
      logger->Warn("request member ID mismatch",
                   {{"local-member-id", Hex(options.member_id)}, {"requested-to", Hex(*to)}});
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, kMemberIdMismatch);
    }
    if (!CommonNameAllowed(ctx)) {
      ++rejected;
      logger->Warn("rejected connection from a peer whose certificate common name is not allowed",
                   {{"remote-peer-id", Hex(*sender)}});
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, kCommonNameNotAllowed);
    }
    if (options.handler->IsRemoved(*sender)) {
      ++rejected;
      logger->Warn("rejected request from removed member", {{"remote-peer-id", Hex(*sender)}});
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, kMemberRemoved);
    }
    *from = *sender;
    return grpc::Status::OK;
  }
};

namespace {

// Reads raft message batches from one peer and hands them to the handler.
class StreamReactor
    : public grpc::ServerBidiReactor<etcdcpp::peerpb::MessageBatch, etcdcpp::peerpb::StreamAck> {
 public:
  StreamReactor(PeerTransport::Impl* impl, grpc::CallbackServerContext* ctx) : impl_(impl) {
    grpc::Status status = impl_->CheckCall(ctx, &from_);
    if (!status.ok()) {
      Finish(status);
      return;
    }
    ctx->AddInitialMetadata(kAcceptedKey, "1");
    StartSendInitialMetadata();
    StartRead(&batch_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    if (impl_->options.handler->IsRemoved(from_)) {
      Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, kMemberRemoved));
      return;
    }
    for (const raftpb::Message& m : batch_.messages()) {
      absl::Status s = impl_->options.handler->Process(m);
      if (!s.ok()) {
        impl_->logger->Debug("failed to process raft message",
                             {{"remote-peer-id", Hex(from_)}, {"error", s}});
      }
    }
    batch_.Clear();
    StartRead(&batch_);
  }

  void OnDone() override { delete this; }

 private:
  PeerTransport::Impl* const impl_;
  uint64_t from_ = 0;
  etcdcpp::peerpb::MessageBatch batch_;
};

// Receives one snapshot into the snapshot directory.
class SnapshotReactor : public grpc::ServerReadReactor<etcdcpp::peerpb::SnapshotChunk> {
 public:
  SnapshotReactor(PeerTransport::Impl* impl, grpc::CallbackServerContext* ctx)
      : impl_(impl), receiver_(impl->options.snapshot_dir) {
    grpc::Status status = impl_->CheckCall(ctx, &from_);
    if (!status.ok()) {
      Finish(status);
      return;
    }
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    grpc::Status status = ok ? Take() : Complete();
    if (!ok || !status.ok()) {
      if (!status.ok()) {
        impl_->logger->Warn("failed to receive database snapshot",
                            {{"remote-peer-id", Hex(from_)}, {"error", status.error_message()}});
      }
      Finish(status);
      return;
    }
    chunk_.Clear();
    StartRead(&chunk_);
  }

  void OnDone() override { delete this; }

 private:
  static grpc::Status ToGrpc(const absl::Status& s) {
    return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
  }

  grpc::Status Take() { return ToGrpc(receiver_.Take(chunk_)); }

  grpc::Status Complete() {
    absl::StatusOr<std::string> path = receiver_.Complete();
    if (!path.ok()) return ToGrpc(path.status());
    const raftpb::Message& message = receiver_.message();
    impl_->logger->Info("received and saved database snapshot",
                        {{"remote-peer-id", Hex(from_)},
                         {"snapshot-index", message.snapshot().metadata().index()},
                         {"path", *path}});
    return ToGrpc(impl_->options.handler->ProcessSnapshot(message, *path));
  }

  PeerTransport::Impl* const impl_;
  uint64_t from_ = 0;
  etcdcpp::peerpb::SnapshotChunk chunk_;
  SnapshotReceiver receiver_;
};

class PeerService : public etcdcpp::peerpb::Peer::CallbackService {
 public:
  explicit PeerService(PeerTransport::Impl* impl) : impl_(impl) {}

  grpc::ServerBidiReactor<etcdcpp::peerpb::MessageBatch, etcdcpp::peerpb::StreamAck>* Stream(
      grpc::CallbackServerContext* ctx) override {
    return new StreamReactor(impl_, ctx);
  }

  grpc::ServerReadReactor<etcdcpp::peerpb::SnapshotChunk>* SendSnapshot(
      grpc::CallbackServerContext* ctx, etcdcpp::peerpb::SnapshotAck*) override {
    return new SnapshotReactor(impl_, ctx);
  }

  grpc::ServerUnaryReactor* Members(grpc::CallbackServerContext* ctx,
                                    const etcdcpp::peerpb::MembersRequest*,
                                    etcdcpp::peerpb::MembersReply* reply) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::StatusOr<std::string> members = impl_->options.handler->Members();
    if (!members.ok()) {
      reactor->Finish(grpc::Status(static_cast<grpc::StatusCode>(members.status().code()),
                                   std::string(members.status().message())));
      return reactor;
    }
    reply->set_cluster_id(impl_->options.cluster_id);
    reply->set_payload(std::move(*members));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* ctx,
                                 const etcdcpp::peerpb::PeerCall* call,
                                 etcdcpp::peerpb::PeerReply* reply) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    uint64_t from = 0;
    grpc::Status status = impl_->CheckCall(ctx, &from);
    if (!status.ok()) {
      reactor->Finish(status);
      return reactor;
    }
    // The handler may wait (a membership change forwarded to the leader
    // waits for its commit), which must not hold up gRPC's own threads: the
    // raft stream that commits it runs on them. Stop() waits for these
    // threads.
    {
      absl::MutexLock lock(&impl_->mu);
      ++impl_->calls_in_flight;
    }
    std::thread([impl = impl_, reactor, from, call, reply] {
      absl::StatusOr<std::string> r =
          impl->options.handler->HandleCall(from, call->method(), call->payload());
      if (r.ok()) {
        reply->set_payload(std::move(*r));
        reactor->Finish(grpc::Status::OK);
      } else {
        reactor->Finish(grpc::Status(static_cast<grpc::StatusCode>(r.status().code()),
                                     std::string(r.status().message())));
      }
      absl::MutexLock lock(&impl->mu);
      --impl->calls_in_flight;
    }).detach();
    return reactor;
  }

 private:
  PeerTransport::Impl* const impl_;
};

}  // namespace

PeerTransport::PeerTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PeerTransport::~PeerTransport() { Stop(); }

absl::StatusOr<std::unique_ptr<PeerTransport>> PeerTransport::Start(TransportOptions options) {
  if (options.handler == nullptr) return absl::InvalidArgumentError("transport needs a handler");
  if (options.queue_capacity == 0 || options.max_batch == 0) {
    return absl::InvalidArgumentError("transport queue capacity and batch must be positive");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (impl->options.logger != nullptr) {
    impl->logger = impl->options.logger;
  } else {
    impl->own_logger = std::make_unique<log::Logger>(log::LoggerOptions{},
                                                     std::vector<std::shared_ptr<log::Sink>>{});
    impl->logger = impl->own_logger.get();
  }
  if (!impl->options.listen_addresses.empty()) {
    impl->service = std::make_unique<PeerService>(impl.get());
    grpc::ServerBuilder builder;
    builder.RegisterService(impl->service.get());
    builder.SetMaxReceiveMessageSize(impl->options.max_message_bytes);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                               Millis(impl->options.keepalive_time) / 2);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, Millis(impl->options.keepalive_time));
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                               Millis(impl->options.keepalive_timeout));
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    impl->ports.assign(impl->options.listen_addresses.size(), 0);
    for (size_t i = 0; i < impl->options.listen_addresses.size(); ++i) {
      builder.AddListeningPort(impl->options.listen_addresses[i],
                               ServerCredentials(impl->options.tls), &impl->ports[i]);
    }
    impl->server = builder.BuildAndStart();
    for (size_t i = 0; i < impl->ports.size(); ++i) {
      if (impl->server == nullptr || impl->ports[i] == 0) {
        if (impl->server != nullptr) impl->server->Shutdown();
        return absl::UnavailableError(absl::StrCat("failed to listen for peers on ",
                                                   impl->options.listen_addresses[i]));
      }
    }
  }
  return std::unique_ptr<PeerTransport>(new PeerTransport(std::move(impl)));
}

std::vector<int> PeerTransport::ports() const { return impl_->ports; }

void PeerTransport::Send(std::vector<raftpb::Message> messages) {
  absl::MutexLock lock(&impl_->mu);
  if (impl_->stopped) return;
  for (raftpb::Message& m : messages) {
    auto it = impl_->peers.find(m.to());
    if (it == impl_->peers.end()) continue;
    it->second->Enqueue(std::move(m));
  }
}

void PeerTransport::AddPeer(uint64_t id, const std::vector<std::string>& peer_urls) {
  std::vector<std::string> addresses;
  for (const std::string& url : peer_urls) {
    absl::StatusOr<std::string> address = PeerAddress(url);
    if (!address.ok()) {
      impl_->logger->Warn("ignored peer URL", {{"remote-peer-id", Hex(id)},
                                               {"error", address.status()}});
      continue;
    }
    addresses.push_back(std::move(*address));
  }
  absl::MutexLock lock(&impl_->mu);
  if (impl_->stopped || id == impl_->options.member_id) return;
  auto it = impl_->peers.find(id);
  if (it != impl_->peers.end()) {
    it->second->SetAddresses(std::move(addresses));
    return;
  }
  impl_->peers[id] =
      std::make_shared<Peer>(id, std::move(addresses), impl_->options, impl_->logger);
  impl_->logger->Info("added remote peer", {{"remote-peer-id", Hex(id)}});
}

void PeerTransport::RemovePeer(uint64_t id) {
  std::shared_ptr<Peer> peer;
  {
    absl::MutexLock lock(&impl_->mu);
    auto it = impl_->peers.find(id);
    if (it == impl_->peers.end()) return;
    peer = std::move(it->second);
    impl_->peers.erase(it);
  }
  peer->Stop();
  impl_->logger->Info("removed remote peer", {{"remote-peer-id", Hex(id)}});
}

PeerStats PeerTransport::Stats(uint64_t id) const {
  absl::MutexLock lock(&impl_->mu);
  auto it = impl_->peers.find(id);
  return it == impl_->peers.end() ? PeerStats{} : it->second->Stats();
}

std::map<uint64_t, PeerStats> PeerTransport::AllStats() const {
  std::map<uint64_t, std::shared_ptr<Peer>> peers;
  {
    absl::MutexLock lock(&impl_->mu);
    peers = impl_->peers;
  }
  std::map<uint64_t, PeerStats> out;
  for (const auto& [id, peer] : peers) out[id] = peer->Stats();
  return out;
}

absl::Time PeerTransport::ActiveSince(uint64_t id) const {
  absl::MutexLock lock(&impl_->mu);
  auto it = impl_->peers.find(id);
  return it == impl_->peers.end() ? absl::InfinitePast() : it->second->ActiveSince();
}

absl::StatusOr<ClusterMembers> FetchMembers(const std::string& peer_url, absl::Time deadline,
                                            const std::optional<PeerTls>& tls) {
  absl::StatusOr<std::string> address = PeerAddress(peer_url);
  if (!address.ok()) return address.status();
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(*address, ChannelCredentials(tls));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(deadline));
  etcdcpp::peerpb::MembersReply reply;
  grpc::Status status =
      etcdcpp::peerpb::Peer::NewStub(channel)->Members(&ctx, etcdcpp::peerpb::MembersRequest(), &reply);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("could not get the cluster members from ", peer_url, ": ",
                                     status.error_message()));
  }
  return ClusterMembers{reply.cluster_id(), std::move(*reply.mutable_payload())};
}

absl::StatusOr<std::string> PeerTransport::Call(uint64_t to, const std::string& method,
                                                const std::string& payload, absl::Time deadline) {
  std::shared_ptr<Peer> peer;
  {
    absl::MutexLock lock(&impl_->mu);
    auto it = impl_->peers.find(to);
    if (impl_->stopped || it == impl_->peers.end()) {
      return absl::UnavailableError(absl::StrFormat("unknown peer %x", to));
    }
    peer = it->second;
  }
  // A call racing with RemovePeer/Stop fails with Unavailable.
  return peer->Call(method, payload, deadline);
}

uint64_t PeerTransport::RejectedCalls() const { return impl_->rejected.load(); }

void PeerTransport::Stop() {
  std::map<uint64_t, std::shared_ptr<Peer>> peers;
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
    peers = std::move(impl_->peers);
  }
  for (auto& [id, peer] : peers) peer->Stop();
  if (impl_->server != nullptr) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    impl_->server->Wait();
  }
  absl::MutexLock lock(&impl_->mu);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl_->mu) {
    return impl_->calls_in_flight == 0;
  };
  impl_->mu.Await(absl::Condition(&idle));
}

}  // namespace etcd::transport
