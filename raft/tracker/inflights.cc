#include "raft/tracker/inflights.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace etcd::raft::tracker {

void Inflights::Add(uint64_t inflight) {
  if (Full()) {
    std::fprintf(stderr, "raft: cannot add into a full inflights window\n");
    std::abort();
  }
  size_t next = start_ + count_;
  if (next >= size_) next -= size_;
  if (next >= buffer_.size()) Grow();
  buffer_[next] = inflight;
  ++count_;
}

void Inflights::Grow() {
  size_t new_size = buffer_.empty() ? 1 : std::min(buffer_.size() * 2, size_);
  buffer_.resize(new_size, 0);
}

void Inflights::FreeLE(uint64_t to) {
  if (count_ == 0 || to < buffer_[start_]) return;
  size_t idx = start_;
  size_t freed = 0;
  for (; freed < count_; ++freed) {
    if (to < buffer_[idx]) break;
    if (++idx >= size_) idx -= size_;
  }
  count_ -= freed;
  start_ = idx;
  // An empty window restarts at slot 0 so the buffer does not grow needlessly.
  if (count_ == 0) start_ = 0;
}

void Inflights::FreeFirstOne() {
  if (count_ == 0) return;
  FreeLE(buffer_[start_]);
}

}  // namespace etcd::raft::tracker
