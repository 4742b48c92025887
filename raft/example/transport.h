// raftexample's peer transport: raft messages over plain TCP.
//
// Each message travels as a frame: its serialized raftpb::Message preceded
// by its length (4 bytes, big-endian). A node listens on the port of its own
// peer URL and reads frames from any connection; it sends to each peer over
// one outgoing connection of its own, opened on first use and re-opened
// after an error. Sending never blocks the caller: messages wait in a
// bounded per-peer queue for the peer's sender thread.
//
//   Transport::Callbacks callbacks;
//   callbacks.on_message = [&](raftpb::Message m) { inbox.Push(std::move(m)); };
//   callbacks.on_unreachable = [&](uint64_t id) { ... };
//   callbacks.on_snapshot_status = [&](uint64_t id, raft::SnapshotStatus s) { ... };
//   Transport transport(my_id, callbacks);
//   RETURN_IF_ERROR(transport.Start("127.0.0.1", 12379));
//   transport.AddPeer(2, "127.0.0.1", 22379);
//   transport.Send(ready.messages);
//
// Raft tolerates lost messages, so failures are not retried: the messages of
// a failed send (or of a full queue) are dropped and reported through
// on_unreachable, and a dropped MsgSnap also through on_snapshot_status
// (kFailure). A MsgSnap whose frame was written to the socket is reported as
// kFinish.
//
// Thread-safety: all methods are thread-safe. Callbacks run on the
// transport's threads (one reader thread per incoming connection, one sender
// thread per peer) and must not call back into the Transport.

#ifndef ETCD_RAFT_EXAMPLE_TRANSPORT_H_
#define ETCD_RAFT_EXAMPLE_TRANSPORT_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/rawnode.h"

namespace etcd::raftexample {

// The largest frame accepted: a snapshot of the whole store must fit.
inline constexpr uint32_t kMaxFrameBytes = 64 << 20;
// Messages that may wait for one peer's sender thread.
inline constexpr size_t kMaxQueuedMessages = 4096;

class Transport {
 public:
  struct Callbacks {
    std::function<void(raftpb::Message)> on_message;
    std::function<void(uint64_t id)> on_unreachable;
    std::function<void(uint64_t id, raft::SnapshotStatus status)> on_snapshot_status;
  };

  Transport(uint64_t id, Callbacks callbacks);
  ~Transport();  // Stop()
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Listens for peers on host:port.
  absl::Status Start(const std::string& host, int port);

  // Starts sending to peer `id` at host:port; replaces an earlier address.
  void AddPeer(uint64_t id, const std::string& host, int port);
  // Stops sending to `id`; messages for it are then dropped silently.
  void RemovePeer(uint64_t id);
  bool HasPeer(uint64_t id) const;

  // Queues each message for its peer (m.to()).
  void Send(std::vector<raftpb::Message> messages);

  // Closes every connection and joins every thread. Idempotent.
  void Stop();

 private:
  class Peer;
  struct Reader {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void AcceptLoop();
  void ReadLoop(Reader* reader);
  // Joins finished readers.
  void ReapReadersLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t id_;
  const Callbacks callbacks_;

  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  int listen_fd_ ABSL_GUARDED_BY(mu_) = -1;
  std::thread accept_thread_;
  std::map<uint64_t, std::unique_ptr<Peer>> peers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Reader>> readers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::raftexample

#endif  // ETCD_RAFT_EXAMPLE_TRANSPORT_H_
