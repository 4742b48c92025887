#include "raft/storage.h"

#include <utility>

#include "raft/logger.h"
#include "raft/util.h"

namespace etcd::raft {

MemoryStorage::MemoryStorage() { ents_.emplace_back(); }

absl::StatusOr<InitialStateResult> MemoryStorage::InitialState() {
  absl::MutexLock lock(&mu_);
  return InitialStateResult{hard_state_, snapshot_.metadata().conf_state()};
}

absl::Status MemoryStorage::SetHardState(const raftpb::HardState& state) {
  absl::MutexLock lock(&mu_);
  hard_state_ = state;
  return absl::OkStatus();
}

uint64_t MemoryStorage::FirstIndexLocked() const { return ents_[0].index() + 1; }

uint64_t MemoryStorage::LastIndexLocked() const { return ents_[0].index() + ents_.size() - 1; }

absl::StatusOr<std::vector<raftpb::Entry>> MemoryStorage::Entries(uint64_t lo, uint64_t hi,
                                                                  uint64_t max_size) {
  absl::MutexLock lock(&mu_);
  uint64_t offset = ents_[0].index();
  if (lo <= offset) return ErrCompacted();
  if (hi > LastIndexLocked() + 1) {
    DefaultLogger()->Panicf("entries' hi(%d) is out of bound lastindex(%d)", hi, LastIndexLocked());
  }
  // Only the dummy entry: nothing is stored.
  if (ents_.size() == 1) return ErrUnavailable();

  std::vector<raftpb::Entry> out;
  if (lo >= hi) return out;
  // Copy no more than the size limit allows (always at least one entry).
  uint64_t size = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const raftpb::Entry& e = ents_[i - offset];
    size += EntrySize(e);
    if (!out.empty() && size > max_size) break;
    out.push_back(e);
  }
  return out;
}

absl::StatusOr<uint64_t> MemoryStorage::Term(uint64_t i) {
  absl::MutexLock lock(&mu_);
  uint64_t offset = ents_[0].index();
  if (i < offset) return ErrCompacted();
  if (i - offset >= ents_.size()) return ErrUnavailable();
  return ents_[i - offset].term();
}

absl::StatusOr<uint64_t> MemoryStorage::LastIndex() {
  absl::MutexLock lock(&mu_);
  return LastIndexLocked();
}

absl::StatusOr<uint64_t> MemoryStorage::FirstIndex() {
  absl::MutexLock lock(&mu_);
  return FirstIndexLocked();
}

absl::StatusOr<raftpb::Snapshot> MemoryStorage::Snapshot() {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

absl::Status MemoryStorage::ApplySnapshot(const raftpb::Snapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  if (snapshot_.metadata().index() >= snapshot.metadata().index()) return ErrSnapOutOfDate();
  snapshot_ = snapshot;
  ents_.clear();
  raftpb::Entry& dummy = ents_.emplace_back();
  dummy.set_term(snapshot.metadata().term());
  dummy.set_index(snapshot.metadata().index());
  return absl::OkStatus();
}

absl::StatusOr<raftpb::Snapshot> MemoryStorage::CreateSnapshot(uint64_t i,
                                                               const raftpb::ConfState* cs,
                                                               std::string data) {
  absl::MutexLock lock(&mu_);
  if (i <= snapshot_.metadata().index()) return ErrSnapOutOfDate();
  uint64_t offset = ents_[0].index();
  if (i > LastIndexLocked()) {
    DefaultLogger()->Panicf("snapshot %d is out of bound lastindex(%d)", i, LastIndexLocked());
  }
  raftpb::SnapshotMetadata* meta = snapshot_.mutable_metadata();
  meta->set_index(i);
  meta->set_term(ents_[i - offset].term());
  if (cs != nullptr) *meta->mutable_conf_state() = *cs;
  snapshot_.set_data(std::move(data));
  return snapshot_;
}

absl::Status MemoryStorage::Compact(uint64_t compact_index) {
  absl::MutexLock lock(&mu_);
  uint64_t offset = ents_[0].index();
  if (compact_index <= offset) return ErrCompacted();
  if (compact_index > LastIndexLocked()) {
    DefaultLogger()->Panicf("compact %d is out of bound lastindex(%d)", compact_index,
                            LastIndexLocked());
  }
  // Entry compact_index becomes the dummy entry, without its payload.
  ents_.erase(ents_.begin(), ents_.begin() + (compact_index - offset));
  raftpb::Entry& dummy = ents_.front();
  dummy.clear_data();
  dummy.clear_type();
  return absl::OkStatus();
}

absl::Status MemoryStorage::Append(absl::Span<const raftpb::Entry> entries) {
  if (entries.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  uint64_t first = FirstIndexLocked();
  uint64_t last = entries[0].index() + entries.size() - 1;
  // Everything given is already compacted.
  if (last < first) return absl::OkStatus();
  // Skip the part that is already compacted.
  if (first > entries[0].index()) entries.remove_prefix(first - entries[0].index());

  uint64_t offset = entries[0].index() - ents_[0].index();
  if (ents_.size() > offset) {
    ents_.resize(offset);
    ents_.insert(ents_.end(), entries.begin(), entries.end());
  } else if (ents_.size() == offset) {
    ents_.insert(ents_.end(), entries.begin(), entries.end());
  } else {
    DefaultLogger()->Panicf("missing log entry [last: %d, append at: %d]", LastIndexLocked(),
                            entries[0].index());
  }
  return absl::OkStatus();
}

}  // namespace etcd::raft
