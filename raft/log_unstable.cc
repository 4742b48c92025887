#include "raft/log_unstable.h"

#include <algorithm>
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
    offset_in_progress_ = std::max(offset_in_progress_, offset_);
    // Give back memory when most of the buffer is unused, but keep a
    // modest one: the next Ready's entries would otherwise regrow it (and
    // move every entry) from scratch.
    constexpr size_t kKeptCapacity = 4096;
    if (entries_.empty()) {
      if (entries_.capacity() > kKeptCapacity) std::vector<raftpb::Entry>().swap(entries_);
    } else if (entries_.size() * 2 < entries_.capacity() && entries_.capacity() > kKeptCapacity) {
      entries_.shrink_to_fit();
    }
  }
}

void Unstable::StableSnapTo(uint64_t i) {
  if (snapshot_.has_value() && snapshot_->metadata().index() == i) {
    snapshot_.reset();
    snapshot_in_progress_ = false;
  }
}

absl::Span<const raftpb::Entry> Unstable::NextEntries() const {
  const size_t in_progress = offset_in_progress_ - offset_;
  if (in_progress >= entries_.size()) return {};
  return absl::MakeConstSpan(entries_).subspan(in_progress);
}

void Unstable::AcceptInProgress() {
  if (!entries_.empty()) offset_in_progress_ = offset_ + entries_.size();
  if (snapshot_.has_value()) snapshot_in_progress_ = true;
}

void Unstable::Restore(const raftpb::Snapshot& snapshot) {
  offset_ = snapshot.metadata().index() + 1;
  offset_in_progress_ = offset_;
  entries_.clear();
  snapshot_ = snapshot;
  snapshot_in_progress_ = false;
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
    offset_in_progress_ = offset_;
    entries_.assign(entries.begin(), entries.end());
  } else {
    // Keeps [offset, after) and replaces the rest.
    logger_->Infof("truncate the unstable entries before index %d", after);
    MustCheckOutOfBounds(offset_, after);
    entries_.resize(after - offset_);
    // Entries from `after` on are replaced: they must be written again.
    offset_in_progress_ = std::min(offset_in_progress_, after);
    entries_.insert(entries_.end(), entries.begin(), entries.end());
  }
}

void Unstable::TruncateAndAppendMoved(std::vector<raftpb::Entry>&& entries) {
  if (!entries.empty() && entries[0].index() == offset_ + entries_.size()) {
    if (entries_.empty()) {
      entries_ = std::move(entries);
    } else {
      entries_.insert(entries_.end(), std::make_move_iterator(entries.begin()),
                      std::make_move_iterator(entries.end()));
    }
    return;
  }
  TruncateAndAppend(absl::Span<const raftpb::Entry>(entries));
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
