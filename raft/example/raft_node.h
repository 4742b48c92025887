// The raft side of raftexample: a RawNode driven by one thread, persisted
// with //wal and //snap, talking to its peers through Transport, and
// applying committed writes to a KvStore.
//
//   KvStore kv;
//   RaftNodeOptions options;
//   options.id = 1;
//   options.peers = {{1, {"127.0.0.1", 12379}}, {2, {...}}, {3, {...}}};
//   options.data_dir = "raftexample-1";
//   ASSIGN_OR_RETURN(std::unique_ptr<RaftNode> node, RaftNode::Start(options, &kv));
//   RETURN_IF_ERROR(node->Put("k", "v"));   // OK once applied to kv here
//   node->Stop();
//
// The raft thread, every tick (Options::tick_interval) or when work
// arrives: feeds raft the messages, reports and proposals that came in,
// ticks, and handles each Ready in order: the snapshot file and its WAL
// record, then one WAL Save of the entries and HardState (fsynced), the
// in-memory log, the messages to send, the committed entries to apply, and
// a new snapshot with log compaction once Options::snapshot_count entries
// were applied since the last one. A restart loads the newest snapshot the
// WAL knows, replays the WAL after it, and re-applies the committed entries.
//
// Thread-safety: all public methods are thread-safe. The RawNode, the WAL,
// the Snapshotter and the in-memory log are touched by the raft thread only
// (and by Start before it runs).

#ifndef ETCD_RAFT_EXAMPLE_RAFT_NODE_H_
#define ETCD_RAFT_EXAMPLE_RAFT_NODE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "pkg/idutil/id.h"
#include "pkg/wait/wait.h"
#include "raft/example/kv_store.h"
#include "raft/example/transport.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/rawnode.h"
#include "raft/storage.h"
#include "snap/snapshotter.h"
#include "wal/wal.h"

namespace etcd::raftexample {

struct HostPort {
  std::string host;
  int port = 0;
};

struct RaftNodeOptions {
  // This node's ID (not 0); it must be a key of `peers`.
  uint64_t id = 0;
  // Where every member of the cluster listens for raft messages, by ID.
  std::map<uint64_t, HostPort> peers;
  // Joining an existing cluster (added with AddNode there first): start
  // with an empty configuration instead of bootstrapping `peers`.
  bool join = false;
  // Holds "wal/" and "snap/"; created if missing.
  std::string data_dir;
  // Take a snapshot (and compact the log) after this many applied entries.
  uint64_t snapshot_count = 100;
  // Entries kept in the log below a snapshot, for slow followers; those
  // further behind get the snapshot.
  uint64_t snapshot_catchup_entries = 10;
  absl::Duration tick_interval = absl::Milliseconds(100);
  // How long Put, AddNode and RemoveNode wait to be applied.
  absl::Duration request_timeout = absl::Seconds(5);
};

// What /-/status shows.
struct NodeInfo {
  uint64_t id = 0;
  uint64_t leader = 0;  // 0: none known
  uint64_t term = 0;
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t snapshot_index = 0;
};

class RaftNode {
 public:
  // Opens or creates the node's data, starts the transport and the raft
  // thread. `kv` is borrowed and must outlive the node; it must be empty.
  static absl::StatusOr<std::unique_ptr<RaftNode>> Start(RaftNodeOptions options, KvStore* kv);

  ~RaftNode();  // Stop()
  RaftNode(const RaftNode&) = delete;
  RaftNode& operator=(const RaftNode&) = delete;

  // Proposes key=value and waits until this node applied it (it is then
  // committed on a quorum). Unavailable when raft dropped the proposal (no
  // leader known), DeadlineExceeded after Options::request_timeout (the
  // write may still be applied later), Cancelled once stopped.
  absl::Status Put(std::string key, std::string value);

  // Adds node `id`, whose peers reach it at `peer`, or removes one; waits
  // like Put. A node that sees itself removed stops.
  absl::Status AddNode(uint64_t id, const HostPort& peer);
  absl::Status RemoveNode(uint64_t id);

  NodeInfo Info() const;

  // Waits until the raft thread ended by itself (a storage error, or this
  // node was removed) or `timeout` passes; returns whether it ended.
  bool WaitDone(absl::Duration timeout);
  // Why the raft thread ended; OK while it runs or after a removal.
  absl::Status error() const;

  // Stops the raft thread and the transport. Idempotent.
  void Stop();

 private:
  struct Inbox {
    std::vector<raftpb::Message> messages;
    std::vector<uint64_t> unreachable;
    std::vector<std::pair<uint64_t, raft::SnapshotStatus>> snapshot_status;
    std::vector<std::pair<uint64_t, std::string>> proposals;  // request ID, data
    std::vector<raftpb::ConfChange> conf_changes;
    bool empty() const {
      return messages.empty() && unreachable.empty() && snapshot_status.empty() &&
             proposals.empty() && conf_changes.empty();
    }
  };

  RaftNode(RaftNodeOptions options, KvStore* kv);

  absl::Status Open();
  // Waits for `request_id` (registered) to be applied.
  absl::Status WaitApplied(uint64_t request_id, wait::Future<absl::Status> future);
  absl::Status ProposeConfChange(raftpb::ConfChange cc);

  void Run();
  absl::Status HandleReady();
  absl::Status Apply(const std::vector<raftpb::Entry>& entries);
  absl::Status ApplyConfChange(const raftpb::Entry& entry);
  absl::Status MaybeSnapshot();
  // The snapshot file, then its WAL record; releases older WAL segments.
  absl::Status SaveSnapshot(const raftpb::Snapshot& snapshot);
  void PublishInfo();

  const RaftNodeOptions options_;
  KvStore* const kv_;
  idutil::Generator ids_;
  wait::Wait<absl::Status> waiters_;

  // Owned by the raft thread once it runs.
  raft::MemoryStorage storage_;
  std::unique_ptr<snap::Snapshotter> snapshotter_;
  std::unique_ptr<wal::WAL> wal_;
  std::unique_ptr<raft::RawNode> raft_;
  raftpb::ConfState conf_state_;
  uint64_t applied_ = 0;         // last entry applied to kv_
  uint64_t snapshot_index_ = 0;  // index of the newest snapshot saved
  bool removed_ = false;
  // A conf change was applied: snapshot at the next opportunity.
  bool snapshot_needed_ = false;

  std::unique_ptr<Transport> transport_;
  std::thread thread_;
  absl::Notification done_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Inbox inbox_ ABSL_GUARDED_BY(mu_);
  NodeInfo info_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::raftexample

#endif  // ETCD_RAFT_EXAMPLE_RAFT_NODE_H_
