#include "lease/lease_queue.h"

#include <algorithm>

namespace etcd::lease::internal {
namespace {

// A 4-ary heap: half the depth of a binary one, and a node's children share
// one or two cache lines, so a sift touches fewer queued objects.
constexpr size_t kArity = 4;

}  // namespace

void ExpiryQueue::Upsert(QueueNode* node, absl::Time time) {
  if (node->queued()) {
    size_t i = static_cast<size_t>(node->index_);
    heap_[i].time = time;
    Fix(i);
    return;
  }
  heap_.push_back(Entry{time, node});
  node->index_ = static_cast<int64_t>(heap_.size() - 1);
  SiftUp(heap_.size() - 1);
}

void ExpiryQueue::Remove(QueueNode* node) {
  if (!node->queued()) return;
  size_t i = static_cast<size_t>(node->index_);
  node->index_ = -1;
  Entry last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;  // it was the last entry
  Place(i, last);
  Fix(i);
}

void ExpiryQueue::Clear() {
  for (Entry& entry : heap_) entry.node->index_ = -1;
  heap_.clear();
}

void ExpiryQueue::Fix(size_t i) {
  if (i > 0 && heap_[i].time < heap_[(i - 1) / kArity].time) {
    SiftUp(i);
  } else {
    SiftDown(i);
  }
}

void ExpiryQueue::SiftUp(size_t i) {
  Entry moving = heap_[i];
  while (i > 0) {
    size_t parent = (i - 1) / kArity;
    if (!(moving.time < heap_[parent].time)) break;
    Place(i, heap_[parent]);
    i = parent;
  }
  Place(i, moving);
}

void ExpiryQueue::SiftDown(size_t i) {
  const size_t n = heap_.size();
  Entry moving = heap_[i];
  for (;;) {
    const size_t first = kArity * i + 1;
    if (first >= n) break;
    const size_t last = std::min(first + kArity, n);
    size_t child = first;
    for (size_t c = first + 1; c < last; ++c) {
      if (heap_[c].time < heap_[child].time) child = c;
    }
    if (!(heap_[child].time < moving.time)) break;
    Place(i, heap_[child]);
    i = child;
  }
  Place(i, moving);
}

}  // namespace etcd::lease::internal
