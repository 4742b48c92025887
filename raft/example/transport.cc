#include "raft/example/transport.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "absl/time/time.h"
#include "raft/example/net_util.h"

namespace etcd::raftexample {
namespace {

constexpr int kDialTimeoutMs = 1000;
constexpr int kWriteTimeoutMs = 5000;
constexpr absl::Duration kRedialBackoff = absl::Milliseconds(100);
// Incoming connections kept open.
constexpr size_t kMaxReaders = 64;

void AppendFrame(const raftpb::Message& m, std::string* out) {
  const size_t size = m.ByteSizeLong();
  const uint32_t n = static_cast<uint32_t>(size);
  const char header[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                          static_cast<char>(n >> 8), static_cast<char>(n)};
  out->append(header, 4);
  const size_t at = out->size();
  out->resize(at + size);
  m.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(&(*out)[at]));
}

}  // namespace

// Sends to one peer from its own thread.
class Transport::Peer {
 public:
  Peer(uint64_t id, std::string host, int port, const Callbacks* callbacks)
      : id_(id), host_(std::move(host)), port_(port), callbacks_(callbacks) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Peer() {
    {
      absl::MutexLock lock(&mu_);
      stopped_ = true;
      if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);  // unblocks a write in progress
    }
    thread_.join();
    CloseFd(&fd_);
  }

  void Enqueue(raftpb::Message m) {
    {
      absl::MutexLock lock(&mu_);
      if (queue_.size() < kMaxQueuedMessages) {
        queue_.push_back(std::move(m));
        return;
      }
    }
    Fail({m});
  }

 private:
  void Run() {
    for (;;) {
      std::vector<raftpb::Message> batch;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](Peer* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
              return p->stopped_ || !p->queue_.empty();
            },
            this));
        if (stopped_) return;
        batch.assign(std::make_move_iterator(queue_.begin()),
                     std::make_move_iterator(queue_.end()));
        queue_.clear();
      }
      if (fd_ < 0 && !Connect()) {
        Fail(batch);
        // Wait a little before the next attempt (messages meanwhile queue up).
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithTimeout(absl::Condition(&stopped_), kRedialBackoff);
        continue;
      }
      std::string buffer;
      for (const raftpb::Message& m : batch) AppendFrame(m, &buffer);
      if (!WriteAll(fd_, buffer)) {
        {
          absl::MutexLock lock(&mu_);
          CloseFd(&fd_);
        }
        Fail(batch);
        continue;
      }
      for (const raftpb::Message& m : batch) {
        if (m.type() == raftpb::MsgSnap) {
          callbacks_->on_snapshot_status(id_, raft::SnapshotStatus::kFinish);
        }
      }
    }
  }

  bool Connect() {
    absl::StatusOr<int> fd = Dial(host_, port_, kDialTimeoutMs);
    if (!fd.ok()) return false;
    SetIoTimeout(*fd, kWriteTimeoutMs);
    absl::MutexLock lock(&mu_);
    if (stopped_) {
      close(*fd);
      return false;
    }
    fd_ = *fd;
    return true;
  }

  void Fail(const std::vector<raftpb::Message>& batch) {
    if (batch.empty()) return;
    callbacks_->on_unreachable(id_);
    for (const raftpb::Message& m : batch) {
      if (m.type() == raftpb::MsgSnap) {
        callbacks_->on_snapshot_status(id_, raft::SnapshotStatus::kFailure);
      }
    }
  }

  const uint64_t id_;
  const std::string host_;
  const int port_;
  const Callbacks* const callbacks_;  // the Transport's; outlives the peer
  std::thread thread_;

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<raftpb::Message> queue_ ABSL_GUARDED_BY(mu_);
  // Written by the sender thread with mu_ held (so the destructor can shut it
  // down); read by the sender thread without it.
  int fd_ = -1;
};

Transport::Transport(uint64_t id, Callbacks callbacks)
    : id_(id), callbacks_(std::move(callbacks)) {}

Transport::~Transport() { Stop(); }

absl::Status Transport::Start(const std::string& host, int port) {
  absl::StatusOr<int> fd = Listen(host, port);
  if (!fd.ok()) return fd.status();
  {
    absl::MutexLock lock(&mu_);
    listen_fd_ = *fd;
  }
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void Transport::AddPeer(uint64_t id, const std::string& host, int port) {
  if (id == id_) return;
  std::unique_ptr<Peer> old;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    old = std::move(peers_[id]);
    peers_[id] = std::make_unique<Peer>(id, host, port, &callbacks_);
  }
}

void Transport::RemovePeer(uint64_t id) {
  std::unique_ptr<Peer> old;  // joined after the lock is released
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  old = std::move(it->second);
  peers_.erase(it);
}

bool Transport::HasPeer(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  return peers_.count(id) > 0;
}

void Transport::Send(std::vector<raftpb::Message> messages) {
  absl::MutexLock lock(&mu_);
  for (raftpb::Message& m : messages) {
    auto it = peers_.find(m.to());
    if (it != peers_.end()) it->second->Enqueue(std::move(m));
  }
}

void Transport::Stop() {
  std::map<uint64_t, std::unique_ptr<Peer>> peers;
  std::vector<std::unique_ptr<Reader>> readers;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
    for (auto& r : readers_) shutdown(r->fd, SHUT_RDWR);
    peers.swap(peers_);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    absl::MutexLock lock(&mu_);
    readers.swap(readers_);  // the accept loop adds no more
    CloseFd(&listen_fd_);
  }
  for (auto& r : readers) {
    r->thread.join();
    CloseFd(&r->fd);
  }
  peers.clear();
}

void Transport::AcceptLoop() {
  int listen_fd;
  {
    absl::MutexLock lock(&mu_);
    listen_fd = listen_fd_;
  }
  for (;;) {
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      // Out of descriptors or memory: let things settle.
      mu_.AwaitWithTimeout(absl::Condition(&stopped_), absl::Milliseconds(10));
      continue;
    }
    absl::MutexLock lock(&mu_);
    ReapReadersLocked();
    if (stopped_) {
      close(fd);
      return;
    }
    // Peers reconnect after errors; connections nobody closed properly stay
    // idle forever. At the cap, the oldest goes.
    if (readers_.size() >= kMaxReaders) shutdown(readers_.front()->fd, SHUT_RDWR);
    auto reader = std::make_unique<Reader>();
    reader->fd = fd;
    Reader* r = reader.get();
    reader->thread = std::thread([this, r] { ReadLoop(r); });
    readers_.push_back(std::move(reader));
  }
}

void Transport::ReapReadersLocked() {
  for (auto it = readers_.begin(); it != readers_.end();) {
    if ((*it)->done.load()) {
      (*it)->thread.join();
      CloseFd(&(*it)->fd);
      it = readers_.erase(it);
    } else {
      ++it;
    }
  }
}

void Transport::ReadLoop(Reader* reader) {
  std::string body;
  for (;;) {
    unsigned char header[4];
    if (!ReadFull(reader->fd, reinterpret_cast<char*>(header), 4)) break;
    const uint32_t n = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
                       (uint32_t{header[2]} << 8) | uint32_t{header[3]};
    if (n > kMaxFrameBytes) {
      std::fprintf(stderr, "raftexample: dropping peer connection: frame of %u bytes\n", n);
      break;
    }
    body.resize(n);
    if (n > 0 && !ReadFull(reader->fd, body.data(), n)) break;
    raftpb::Message m;
    if (!m.ParseFromString(body)) {
      std::fprintf(stderr, "raftexample: dropping peer connection: unparsable message\n");
      break;
    }
    if (m.to() != id_) continue;  // misrouted
    callbacks_.on_message(std::move(m));
  }
  // Shut down rather than close: the descriptor is closed when reaped, so
  // Stop never shuts down a number reused by someone else.
  shutdown(reader->fd, SHUT_RDWR);
  reader->done.store(true);
}

}  // namespace etcd::raftexample
