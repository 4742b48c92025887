#include "raft/log_unstable.h"

#include <iterator>

namespace etcd::raft {

std::optional<uint64_t> Unstable::MaybeFirstIndex() const {
  if (snapshot_.has_value()) return snapshot_->metadata().index() + 1;
  return std::nullopt;
}

std::optional<uint64_t> Unstable::MaybeLastIndex() const {
  if (!entries_.empty()) return offset_ + entries_.size() - 1;
  if (snapshot_.has_value()) return snapshot_->metadata().index();
  return std::nullopt;
}

std::optional<uint64_t> Unstable::MaybeTerm(uint64_t i) const {
  if (i < offset_) {
    if (snapshot_.has_value() && snapshot_->metadata().index() == i) {
      return snapshot_->metadata().term();
    }
    return std::nullopt;
  }
  std::optional<uint64_t> last = MaybeLastIndex();
  if (!last.has_value() || i > *last) return std::nullopt;
  return entries_[i - offset_].term();
}

void Unstable::StableTo(uint64_t i, uint64_t t) {
  std::optional<uint64_t> gt = MaybeTerm(i);
  if (!gt.has_value()) return;
  // Only entries that are still here with the same term became stable; a
  // snapshot index below offset means nothing of ours was written.
  if (*gt == t && i >= offset_) {
    entries_.erase(entries_.begin(), entries_.begin() + (i + 1 - offset_));
    offset_ = i + 1;
    // Give back memory when most of the buffer is unused.
    if (entries_.empty()) {
      std::vector<raftpb::Entry>().swap(entries_);
    } else if (entries_.size() * 2 < entries_.capacity()) {
      entries_.shrink_to_fit();
    }
  }
}

void Unstable::StableSnapTo(uint64_t i) {
  if (snapshot_.has_value() && snapshot_->metadata().index() == i) snapshot_.reset();
}

void Unstable::Restore(const raftpb::Snapshot& snapshot) {
  offset_ = snapshot.metadata().index() + 1;
  entries_.clear();
  snapshot_ = snapshot;
}

void Unstable::TruncateAndAppend(absl::Span<const raftpb::Entry> entries) {
  uint64_t after = entries[0].index();
  if (after == offset_ + entries_.size()) {
    // Directly after the last entry held.
    entries_.insert(entries_.end(), entries.begin(), entries.end());
  } else if (after <= offset_) {
    // Replaces everything held (and moves the offset back).
    logger_->Infof("replace the unstable entries from index %d", after);
    offset_ = after;
    entries_.assign(entries.begin(), entries.end());
  } else {
    // Keeps [offset, after) and replaces the rest.
    logger_->Infof("truncate the unstable entries before index %d", after);
    MustCheckOutOfBounds(offset_, after);
    entries_.resize(after - offset_);
    entries_.insert(entries_.end(), entries.begin(), entries.end());
  }
}

std::vector<raftpb::Entry> Unstable::Slice(uint64_t lo, uint64_t hi) const {
  MustCheckOutOfBounds(lo, hi);
  return std::vector<raftpb::Entry>(entries_.begin() + (lo - offset_),
                                    entries_.begin() + (hi - offset_));
}

void Unstable::MustCheckOutOfBounds(uint64_t lo, uint64_t hi) const {
  if (lo > hi) logger_->Panicf("invalid unstable.slice %d > %d", lo, hi);
  uint64_t upper = offset_ + entries_.size();
  if (lo < offset_ || hi > upper) {
    logger_->Panicf("unstable.slice[%d,%d) out of bound [%d,%d]", lo, hi, offset_, upper);
  }
}

}  // namespace etcd::raft
