// Flow control for log replication: how many MsgApp a leader has in flight to
// one follower.
//
//   tracker::Inflights in(/*size=*/256);
//   if (!in.Full()) {
//     SendAppend(...);               // carrying entries up to `last`
//     in.Add(last);                  // indexes must be added in order
//   }
//   ...
//   in.FreeLE(resp.index());         // on MsgAppResp: frees everything <= index
//
// Each in-flight message is represented by the index of its last entry, kept
// in a ring buffer that grows on demand (doubling) up to `size` slots, so
// that thousands of idle followers cost little memory.
//
// A single-threaded value type: copying copies the window.

#ifndef ETCD_RAFT_TRACKER_INFLIGHTS_H_
#define ETCD_RAFT_TRACKER_INFLIGHTS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace etcd::raft::tracker {

class Inflights {
 public:
  // A window of at most `size` messages. A zero-size window is always full.
  explicit Inflights(size_t size = 0) : size_(size) {}

  // Records a message whose last entry is `inflight`. Aborts if Full();
  // consecutive calls must pass non-decreasing indexes.
  void Add(uint64_t inflight);

  // Frees every in-flight message whose index is <= `to`.
  void FreeLE(uint64_t to);

  // Frees the oldest in-flight message; no-op if none.
  void FreeFirstOne();

  // Whether no more messages may be sent.
  bool Full() const { return count_ == size_; }

  // Number of messages in flight.
  size_t Count() const { return count_; }

  // Frees everything.
  void Reset() {
    count_ = 0;
    start_ = 0;
  }

  // The window's limit.
  size_t size() const { return size_; }

  // Internals, for tests: the ring's first slot and its storage (whose length
  // is the current capacity, at most size()).
  size_t start() const { return start_; }
  const std::vector<uint64_t>& buffer() const { return buffer_; }

  friend bool operator==(const Inflights& a, const Inflights& b) {
    return a.start_ == b.start_ && a.count_ == b.count_ && a.size_ == b.size_ &&
           a.buffer_ == b.buffer_;
  }
  friend bool operator!=(const Inflights& a, const Inflights& b) { return !(a == b); }

 private:
  // Grows buffer_ by doubling, capped at size_.
  void Grow();

  size_t start_ = 0;  // slot of the oldest in-flight message
  size_t count_ = 0;  // messages in flight
  size_t size_ = 0;   // limit on count_
  std::vector<uint64_t> buffer_;
};

}  // namespace etcd::raft::tracker

#endif  // ETCD_RAFT_TRACKER_INFLIGHTS_H_
