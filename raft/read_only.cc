#include "raft/read_only.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_format.h"

namespace etcd::raft {

void ReadOnly::AddRequest(uint64_t index, const raftpb::Message& m) {
  const std::string& ctx = m.entries(0).data();
  if (pending_read_index_.contains(ctx)) return;
  ReadIndexStatus& status = pending_read_index_[ctx];
  status.req = m;
  status.index = index;
  read_index_queue_.push_back(ctx);
}

const quorum::VoteMap* ReadOnly::RecvAck(uint64_t id, const std::string& context) {
  auto it = pending_read_index_.find(context);
  if (it == pending_read_index_.end()) return nullptr;
  it->second.acks[id] = true;
  return &it->second.acks;
}

std::vector<ReadIndexStatus> ReadOnly::Advance(const raftpb::Message& m) {
  const std::string& ctx = m.context();
  size_t n = 0;
  bool found = false;
  for (const std::string& queued : read_index_queue_) {
    ++n;
    if (!pending_read_index_.contains(queued)) {
      absl::FPrintF(stderr, "cannot find corresponding read state from pending map\n");
      std::abort();
    }
    if (queued == ctx) {
      found = true;
      break;
    }
  }
  std::vector<ReadIndexStatus> out;
  if (!found) return out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto it = pending_read_index_.find(read_index_queue_.front());
    out.push_back(std::move(it->second));
    pending_read_index_.erase(it);
    read_index_queue_.pop_front();
  }
  return out;
}

std::string ReadOnly::LastPendingRequestCtx() const {
  if (read_index_queue_.empty()) return "";
  return read_index_queue_.back();
}

}  // namespace etcd::raft
