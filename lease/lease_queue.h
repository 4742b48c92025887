// Internal to //lease. An indexed 4-ary min-heap of deadlines (the role of etcd's
// LeaseExpiredNotifier): each queued object embeds a QueueNode that remembers
// its position, so moving or removing an entry is O(log n) and an object is
// queued at most once, however often its deadline changes (a lease renewed
// every 10 ms does not pile up entries).
//
//   struct Item : QueueNode { ... };
//   ExpiryQueue queue;
//   queue.Upsert(&item, deadline);      // insert or move
//   while (!queue.empty() && queue.TopTime() <= now) {
//     Item* due = static_cast<Item*>(queue.Top());
//     queue.Upsert(due, now + retry);   // or queue.Remove(due)
//   }
//
// Looking at what is due next is O(1): the cost of a check does not depend
// on how many queued objects are not due.
//
// Thread-compatible. Queued nodes must stay at the same address until they
// are removed (or the queue is cleared or destroyed).

#ifndef ETCD_LEASE_LEASE_QUEUE_H_
#define ETCD_LEASE_LEASE_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace etcd::lease::internal {

class ExpiryQueue;

// Embedded in (or a base of) an object that can be queued.
class QueueNode {
 public:
  QueueNode() = default;
  QueueNode(const QueueNode&) = delete;
  QueueNode& operator=(const QueueNode&) = delete;

  bool queued() const { return index_ >= 0; }

 private:
  friend class ExpiryQueue;
  int64_t index_ = -1;  // position in the heap; -1 when not queued
};

class ExpiryQueue {
 public:
  ExpiryQueue() = default;
  ExpiryQueue(const ExpiryQueue&) = delete;
  ExpiryQueue& operator=(const ExpiryQueue&) = delete;
  ~ExpiryQueue() { Clear(); }

  // Queues `node` at `time`, or moves it there if already queued.
  void Upsert(QueueNode* node, absl::Time time);
  // Unqueues `node`; no-op if it is not queued.
  void Remove(QueueNode* node);
  // The node with the earliest time; null when empty. Ties: any of them.
  QueueNode* Top() const { return heap_.empty() ? nullptr : heap_.front().node; }
  // Its time; requires !empty().
  absl::Time TopTime() const { return heap_.front().time; }
  // The time `node` is queued at; requires node->queued().
  absl::Time TimeOf(const QueueNode* node) const { return heap_[node->index_].time; }

  size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }
  // Unqueues every node.
  void Clear();

 private:
  struct Entry {
    absl::Time time;
    QueueNode* node;
  };

  void Place(size_t i, Entry entry) {
    entry.node->index_ = static_cast<int64_t>(i);
    heap_[i] = entry;
  }
  // Restores the heap order for the entry at `i` after its time changed.
  void Fix(size_t i);
  void SiftUp(size_t i);
  void SiftDown(size_t i);

  std::vector<Entry> heap_;
};

}  // namespace etcd::lease::internal

#endif  // ETCD_LEASE_LEASE_QUEUE_H_
