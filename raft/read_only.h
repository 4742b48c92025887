// Bookkeeping for ReadIndex requests on the leader (etcd's read_only.go).
//
// Internal to the raft library. With ReadOnlyOption::kSafe, each request is
// remembered with the commit index at the time it arrived and answered once a
// quorum acknowledged a heartbeat carrying its context; requests are answered
// in arrival order. Not thread-safe.

#ifndef ETCD_RAFT_READ_ONLY_H_
#define ETCD_RAFT_READ_ONLY_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "raft/quorum/quorum.h"
#include "raft/raftpb/raft.pb.h"

namespace etcd::raft {

// How read-only requests are served.
enum class ReadOnlyOption {
  // Linearizable by confirming leadership with a quorum (heartbeat round).
  // The default and recommended option.
  kSafe = 0,
  // Linearizable by relying on the leader lease (no extra round trip). Can be
  // broken by unbounded clock drift; requires Config::check_quorum.
  kLeaseBased = 1,
};

// A pending ReadIndex request.
struct ReadIndexStatus {
  raftpb::Message req;
  uint64_t index = 0;
  // Nodes that acknowledged the heartbeat carrying this request's context.
  // Only "true" is recorded; the map doubles as a vote map for the quorum.
  quorum::VoteMap acks;
};

class ReadOnly {
 public:
  explicit ReadOnly(ReadOnlyOption option) : option_(option) {}

  ReadOnlyOption option() const { return option_; }

  // Records a request (m.entries(0).data() is its context) at commit index
  // `index`; a repeated context is ignored.
  void AddRequest(uint64_t index, const raftpb::Message& m);

  // Records that node `id` acknowledged the heartbeat with `context`; returns
  // the acknowledgements so far, or null if the context is unknown. The
  // pointer is valid until the next call that modifies this object.
  const quorum::VoteMap* RecvAck(uint64_t id, const std::string& context);

  // Dequeues the request with context m.context() and all before it, and
  // returns them in order; empty if the context is unknown.
  std::vector<ReadIndexStatus> Advance(const raftpb::Message& m);

  // The context of the newest pending request, or "" if none.
  std::string LastPendingRequestCtx() const;

  // For tests.
  size_t pending_count() const { return pending_read_index_.size(); }
  size_t queue_size() const { return read_index_queue_.size(); }

 private:
  ReadOnlyOption option_;
  absl::flat_hash_map<std::string, ReadIndexStatus> pending_read_index_;
  std::deque<std::string> read_index_queue_;
};

}  // namespace etcd::raft

#endif  // ETCD_RAFT_READ_ONLY_H_
