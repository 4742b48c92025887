#include "raft/log.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"

namespace etcd::raft {

RaftLog::RaftLog(Storage* storage, Logger* logger, uint64_t max_next_ents_size)
    : storage_(storage),
      unstable_(logger),
      logger_(logger),
      max_next_ents_size_(max_next_ents_size) {
  if (storage == nullptr) logger->Panicf("storage must not be nil");
  absl::StatusOr<uint64_t> first = storage->FirstIndex();
  if (!first.ok()) logger->Panicf("storage FirstIndex failed: %s", first.status().ToString());
  absl::StatusOr<uint64_t> last = storage->LastIndex();
  if (!last.ok()) logger->Panicf("storage LastIndex failed: %s", last.status().ToString());
  unstable_.set_offset(*last + 1);
  // Everything up to the snapshot is committed and applied.
  committed_ = *first - 1;
  applied_ = *first - 1;
  applying_ = applied_;
}

std::string RaftLog::String() const {
  return absl::StrFormat("committed=%d, applied=%d, unstable.offset=%d, len(unstable.Entries)=%d",
                         committed_, applied_, unstable_.offset(), unstable_.entries().size());
}

template <typename Range>
std::optional<uint64_t> RaftLog::MaybeAppendFrom(uint64_t index, uint64_t log_term,
                                                 uint64_t committed, const Range& entries) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  uint64_t last_new = index + entries.size();
  uint64_t ci = FindConflictIn(entries);
  if (ci == 0) {
    // Everything is already in the log.
  } else if (ci <= committed_) {
    logger_->Panicf("entry %d conflict with committed entry [committed(%d)]", ci, committed_);
  } else {
    uint64_t offset = index + 1;
    std::vector<raftpb::Entry> fresh(entries.begin() + (ci - offset), entries.end());
    Append(fresh);
  }
  CommitTo(std::min(committed, last_new));
  return last_new;
}

std::optional<uint64_t> RaftLog::MaybeAppend(uint64_t index, uint64_t log_term, uint64_t committed,
                                             absl::Span<const raftpb::Entry> entries) {
  return MaybeAppendFrom(index, log_term, committed, entries);
}

std::optional<uint64_t> RaftLog::MaybeAppend(
    uint64_t index, uint64_t log_term, uint64_t committed,
    const google::protobuf::RepeatedPtrField<raftpb::Entry>& entries) {
  return MaybeAppendFrom(index, log_term, committed, entries);
}

uint64_t RaftLog::Append(absl::Span<const raftpb::Entry> entries) {
  if (entries.empty()) return LastIndex();
  uint64_t after = entries[0].index() - 1;
  if (after < committed_) {
    logger_->Panicf("after(%d) is out of range [committed(%d)]", after, committed_);
  }
  unstable_.TruncateAndAppend(entries);
  return LastIndex();
}

uint64_t RaftLog::AppendMoved(std::vector<raftpb::Entry>&& entries) {
  if (entries.empty()) return LastIndex();
  uint64_t after = entries[0].index() - 1;
  if (after < committed_) {
    logger_->Panicf("after(%d) is out of range [committed(%d)]", after, committed_);
  }
  unstable_.TruncateAndAppendMoved(std::move(entries));
  return LastIndex();
}

template <typename Range>
uint64_t RaftLog::FindConflictIn(const Range& entries) const {
  for (const raftpb::Entry& e : entries) {
    if (!MatchTerm(e.index(), e.term())) {
      if (e.index() <= LastIndex()) {
        logger_->Infof("found conflict at index %d [existing term: %d, conflicting term: %d]",
                       e.index(), ZeroTermOnErrCompacted(Term(e.index())), e.term());
      }
      return e.index();
    }
  }
  return 0;
}

uint64_t RaftLog::FindConflict(absl::Span<const raftpb::Entry> entries) const {
  return FindConflictIn(entries);
}

uint64_t RaftLog::FindConflict(
    const google::protobuf::RepeatedPtrField<raftpb::Entry>& entries) const {
  return FindConflictIn(entries);
}

std::vector<raftpb::Entry> RaftLog::NextEnts() const {
  uint64_t off = std::max(applied_ + 1, FirstIndex());
  if (committed_ + 1 > off) {
    absl::StatusOr<std::vector<raftpb::Entry>> ents =
        Slice(off, committed_ + 1, max_next_ents_size_);
    if (!ents.ok()) {
      logger_->Panicf("unexpected error when getting unapplied entries (%s)",
                      ents.status().message());
    }
    return *std::move(ents);
  }
  return {};
}

bool RaftLog::HasNextEnts() const {
  uint64_t off = std::max(applied_ + 1, FirstIndex());
  return committed_ + 1 > off;
}

absl::StatusOr<raftpb::Snapshot> RaftLog::Snapshot() const {
  if (unstable_.snapshot().has_value()) return *unstable_.snapshot();
  return storage_->Snapshot();
}

uint64_t RaftLog::FirstIndex() const {
  if (std::optional<uint64_t> i = unstable_.MaybeFirstIndex()) return *i;
  absl::StatusOr<uint64_t> index = storage_->FirstIndex();
  if (!index.ok()) logger_->Panicf("storage FirstIndex failed: %s", index.status().ToString());
  return *index;
}

uint64_t RaftLog::LastIndex() const {
  if (std::optional<uint64_t> i = unstable_.MaybeLastIndex()) return *i;
  absl::StatusOr<uint64_t> index = storage_->LastIndex();
  if (!index.ok()) logger_->Panicf("storage LastIndex failed: %s", index.status().ToString());
  return *index;
}

void RaftLog::CommitTo(uint64_t to_commit) {
  // Never decrease the commit index.
  if (committed_ < to_commit) {
    if (LastIndex() < to_commit) {
      logger_->Panicf(
          "tocommit(%d) is out of range [lastIndex(%d)]. Was the raft log corrupted, truncated, "
          "or lost?",
          to_commit, LastIndex());
    }
    committed_ = to_commit;
  }
}

void RaftLog::AppliedTo(uint64_t i) {
  if (i == 0) return;
  if (committed_ < i || i < applied_) {
    logger_->Panicf("applied(%d) is out of range [prevApplied(%d), committed(%d)]", i, applied_,
                    committed_);
  }
  applied_ = i;
  applying_ = std::max(applying_, i);
}

uint64_t RaftLog::MaxAppliableIndex(bool allow_unstable) const {
  uint64_t hi = committed_;
  if (!allow_unstable) hi = std::min(hi, unstable_.offset() - 1);
  return hi;
}

std::vector<raftpb::Entry> RaftLog::NextCommittedEnts(bool allow_unstable) const {
  if (!HasNextCommittedEnts(allow_unstable)) return {};
  const uint64_t lo = std::max(applying_ + 1, FirstIndex());
  absl::StatusOr<std::vector<raftpb::Entry>> ents =
      Slice(lo, MaxAppliableIndex(allow_unstable) + 1, max_next_ents_size_);
  if (!ents.ok()) {
    logger_->Panicf("unexpected error when getting unapplied entries (%s)",
                    ents.status().message());
  }
  return *std::move(ents);
}

bool RaftLog::HasNextCommittedEnts(bool allow_unstable) const {
  // A pending snapshot must be applied before any entry after it.
  if (unstable_.snapshot().has_value()) return false;
  return std::max(applying_ + 1, FirstIndex()) <= MaxAppliableIndex(allow_unstable);
}

void RaftLog::AcceptApplying(uint64_t i) {
  if (committed_ < i) {
    logger_->Panicf("applying(%d) is out of range [committed(%d)]", i, committed_);
  }
  applying_ = std::max(applying_, i);
}

uint64_t RaftLog::LastTerm() const {
  absl::StatusOr<uint64_t> t = Term(LastIndex());
  if (!t.ok()) {
    logger_->Panicf("unexpected error when getting the last term (%s)", t.status().message());
  }
  return *t;
}

absl::StatusOr<uint64_t> RaftLog::Term(uint64_t i) const {
  // The valid range includes the dummy entry before the first index.
  uint64_t dummy_index = FirstIndex() - 1;
  if (i < dummy_index || i > LastIndex()) return 0;
  if (std::optional<uint64_t> t = unstable_.MaybeTerm(i)) return *t;
  absl::StatusOr<uint64_t> t = storage_->Term(i);
  if (t.ok()) return t;
  if (IsCompacted(t.status()) || IsErrUnavailable(t.status())) return t.status();
  logger_->Panicf("unexpected error from storage Term(%d): %s", i, t.status().ToString());
}

absl::StatusOr<std::vector<raftpb::Entry>> RaftLog::Entries(uint64_t i, uint64_t max_size) const {
  if (i > LastIndex()) return std::vector<raftpb::Entry>();
  return Slice(i, LastIndex() + 1, max_size);
}

std::vector<raftpb::Entry> RaftLog::AllEntries() const {
  for (;;) {
    absl::StatusOr<std::vector<raftpb::Entry>> ents = Entries(FirstIndex(), kNoLimit);
    if (ents.ok()) return *std::move(ents);
    // A compaction raced with us: try again.
    if (IsCompacted(ents.status())) continue;
    logger_->Panicf("unexpected error reading all entries: %s", ents.status().ToString());
  }
}

bool RaftLog::IsUpToDate(uint64_t lasti, uint64_t term) const {
  uint64_t last_term = LastTerm();
  return term > last_term || (term == last_term && lasti >= LastIndex());
}

bool RaftLog::MatchTerm(uint64_t i, uint64_t term) const {
  absl::StatusOr<uint64_t> t = Term(i);
  return t.ok() && *t == term;
}

bool RaftLog::MaybeCommit(uint64_t max_index, uint64_t term) {
  if (max_index > committed_ && ZeroTermOnErrCompacted(Term(max_index)) == term) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::Restore(const raftpb::Snapshot& snapshot) {
  logger_->Infof("log [%s] starts to restore snapshot [index: %d, term: %d]", String(),
                 snapshot.metadata().index(), snapshot.metadata().term());
  committed_ = snapshot.metadata().index();
  unstable_.Restore(snapshot);
}

absl::StatusOr<std::vector<raftpb::Entry>> RaftLog::Slice(uint64_t lo, uint64_t hi,
                                                          uint64_t max_size) const {
  absl::Status bounds = MustCheckOutOfBounds(lo, hi);
  if (!bounds.ok()) return bounds;
  std::vector<raftpb::Entry> ents;
  if (lo == hi) return ents;
  uint64_t offset = unstable_.offset();
  if (lo < offset) {
    uint64_t stored_hi = std::min(hi, offset);
    absl::StatusOr<std::vector<raftpb::Entry>> stored = storage_->Entries(lo, stored_hi, max_size);
    if (!stored.ok()) {
      if (IsCompacted(stored.status())) return stored.status();
      if (IsErrUnavailable(stored.status())) {
        logger_->Panicf("entries[%d:%d) is unavailable from storage", lo, stored_hi);
      }
      logger_->Panicf("unexpected error from storage Entries: %s", stored.status().ToString());
    }
    // The size limit stopped us inside storage: done.
    if (stored->size() < stored_hi - lo) return stored;
    ents = *std::move(stored);
  }
  if (hi > offset) {
    uint64_t from = std::max(lo, offset);
    unstable_.MustCheckOutOfBounds(from, hi);
    // Copy only what fits in max_size together with the stored entries
    // (always at least one entry).
    uint64_t size = 0;
    for (const raftpb::Entry& e : ents) size += EntrySize(e);
    const std::vector<raftpb::Entry>& unstable = unstable_.entries();
    for (uint64_t i = from; i < hi; ++i) {
      const raftpb::Entry& e = unstable[i - offset];
      size += EntrySize(e);
      if (!ents.empty() && size > max_size) break;
      ents.push_back(e);
    }
    return ents;
  }
  LimitSize(&ents, max_size);
  return ents;
}

absl::Status RaftLog::MustCheckOutOfBounds(uint64_t lo, uint64_t hi) const {
  if (lo > hi) logger_->Panicf("invalid slice %d > %d", lo, hi);
  uint64_t fi = FirstIndex();
  if (lo < fi) return ErrCompacted();
  uint64_t length = LastIndex() + 1 - fi;
  if (hi > fi + length) {
    logger_->Panicf("slice[%d,%d) out of bound [%d,%d]", lo, hi, fi, LastIndex());
  }
  return absl::OkStatus();
}

uint64_t RaftLog::ZeroTermOnErrCompacted(const absl::StatusOr<uint64_t>& term) const {
  if (term.ok()) return *term;
  if (IsCompacted(term.status())) return 0;
  logger_->Panicf("unexpected error (%s)", term.status().message());
}

}  // namespace etcd::raft
