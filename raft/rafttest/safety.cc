#include "raft/rafttest/safety.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace etcd::raft::rafttest {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t FnvBytes(uint64_t h, absl::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

uint64_t FnvU64(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
  return h;
}

uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string Describe(const EntryView& e) {
  return absl::StrFormat("%d/%d#%04x", e.index, e.term, e.digest & 0xffff);
}

absl::Status Violation(absl::string_view property, const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat(property, ": ", what));
}

bool IsLeader(const NodeView& v) { return v.up && v.state == StateType::kLeader; }

}  // namespace

uint64_t EntryDigest(const raftpb::Entry& entry) {
  uint64_t h = FnvU64(kFnvOffset, entry.term());
  h = FnvU64(h, static_cast<uint64_t>(entry.type()));
  return FnvBytes(h, entry.data());
}

uint64_t NextStateDigest(uint64_t state, uint64_t index, uint64_t entry_digest) {
  return Mix(state ^ Mix(index * kFnvPrime + entry_digest));
}

EntryView ViewOf(const raftpb::Entry& entry) {
  return EntryView{entry.index(), entry.term(), EntryDigest(entry)};
}

const EntryView* NodeView::EntryAt(uint64_t index) const {
  if (index <= snapshot_index || index > LastIndex()) return nullptr;
  return &entries[index - snapshot_index - 1];
}

std::optional<uint64_t> NodeView::TermAt(uint64_t index) const {
  if (index == snapshot_index) return snapshot_term;
  const EntryView* e = EntryAt(index);
  if (e == nullptr) return std::nullopt;
  return e->term;
}

std::string NodeView::DebugString() const {
  std::string out =
      absl::StrFormat("%d (%s%s, term %d, commit %d, log %d/%d [", id, up ? "" : "down, ",
                      StateTypeName(state), term, committed, snapshot_index, snapshot_term);
  // The tail is what usually matters.
  size_t from = entries.size() > 24 ? entries.size() - 24 : 0;
  if (from > 0) absl::StrAppend(&out, "... ");
  for (size_t k = from; k < entries.size(); ++k) {
    absl::StrAppend(&out, k > from ? " " : "", Describe(entries[k]));
  }
  absl::StrAppend(&out, "])");
  return out;
}

absl::Status SafetyChecker::CheckAll(absl::Span<const NodeView> nodes) {
  absl::Status s = CheckElectionSafety(nodes);
  if (s.ok()) s = CheckLeaderAppendOnly(nodes);
  if (s.ok()) s = CheckLogMatching(nodes);
  if (s.ok()) s = CheckLeaderCompleteness(nodes);
  return s;
}

absl::Status SafetyChecker::CheckElectionSafety(absl::Span<const NodeView> nodes) {
  for (const NodeView& v : nodes) {
    if (!IsLeader(v)) continue;
    auto [it, inserted] = leader_of_term_.emplace(v.term, v.id);
    if (!inserted && it->second != v.id) {
      return Violation("election safety", absl::StrFormat("term %d has two leaders, %d and %d",
                                                          v.term, it->second, v.id));
    }
  }
  return absl::OkStatus();
}

absl::Status SafetyChecker::CheckLeaderAppendOnly(absl::Span<const NodeView> nodes) {
  for (const NodeView& v : nodes) {
    if (!IsLeader(v)) {
      // A node leads a term at most once: it must campaign to lead again.
      leader_logs_.erase(v.id);
      continue;
    }
    auto it = leader_logs_.find(v.id);
    if (it != leader_logs_.end() && it->second.term == v.term) {
      for (const EntryView& old : it->second.entries) {
        if (old.index <= v.snapshot_index) continue;  // compacted, not deleted
        const EntryView* now = v.EntryAt(old.index);
        if (now == nullptr) {
          return Violation("leader append-only", absl::StrFormat("leader %s deleted entry %s",
                                                                 v.DebugString(), Describe(old)));
        }
        if (*now != old) {
          return Violation("leader append-only",
                           absl::StrFormat("leader %s overwrote entry %s with %s", v.DebugString(),
                                           Describe(old), Describe(*now)));
        }
      }
    }
    LeaderLog& log = leader_logs_[v.id];
    log.term = v.term;
    log.snapshot_index = v.snapshot_index;
    log.entries = v.entries;
  }
  return absl::OkStatus();
}

absl::Status SafetyChecker::CheckLogMatching(absl::Span<const NodeView> nodes) const {
  for (size_t x = 0; x < nodes.size(); ++x) {
    for (size_t y = x + 1; y < nodes.size(); ++y) {
      const NodeView& a = nodes[x];
      const NodeView& b = nodes[y];
      const uint64_t lo = std::max(a.snapshot_index, b.snapshot_index);
      const uint64_t hi = std::min(a.LastIndex(), b.LastIndex());
      if (lo > hi) continue;
      // The highest index where both logs have the same term...
      uint64_t top = hi;
      while (top > lo && a.TermAt(top) != b.TermAt(top)) --top;
      if (a.TermAt(top) != b.TermAt(top)) continue;
      // ...and below it the logs are identical.
      for (uint64_t i = lo; i <= top; ++i) {
        const EntryView* ea = a.EntryAt(i);
        const EntryView* eb = b.EntryAt(i);
        bool same = (ea != nullptr && eb != nullptr) ? *ea == *eb : a.TermAt(i) == b.TermAt(i);
        if (!same) {
          return Violation(
              "log matching",
              absl::StrFormat("logs agree on term %d at index %d but differ at index %d: %s; %s",
                              *a.TermAt(top), top, i, a.DebugString(), b.DebugString()));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status SafetyChecker::CheckLeaderCompleteness(absl::Span<const NodeView> nodes) {
  for (const NodeView& v : nodes) {
    if (v.committed > v.LastIndex()) {
      return Violation("leader completeness",
                       absl::StrFormat("node %s committed past its log", v.DebugString()));
    }
    for (uint64_t i = v.snapshot_index + 1; i <= v.committed; ++i) {
      const EntryView& e = *v.EntryAt(i);
      auto [it, inserted] = committed_.emplace(i, CommittedEntry{e, v.term, v.id});
      if (inserted) continue;
      CommittedEntry& c = it->second;
      if (c.entry != e) {
        return Violation("leader completeness",
                         absl::StrFormat("entry %s committed on %d, but %s holds %s committed",
                                         Describe(c.entry), c.node, v.DebugString(), Describe(e)));
      }
      c.term = std::min(c.term, v.term);
    }
  }
  for (const NodeView& v : nodes) {
    if (!IsLeader(v)) continue;
    for (auto it = committed_.upper_bound(v.snapshot_index); it != committed_.end(); ++it) {
      const CommittedEntry& c = it->second;
      if (c.term > v.term) continue;
      const EntryView* e = v.EntryAt(it->first);
      if (e == nullptr || *e != c.entry) {
        return Violation("leader completeness",
                         absl::StrFormat("leader %s lacks entry %s, committed on %d by term %d",
                                         v.DebugString(), Describe(c.entry), c.node, c.term));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status SafetyChecker::CheckApply(uint64_t node, const EntryView& entry, uint64_t state) {
  auto [it, inserted] = applied_.try_emplace(entry.index);
  AppliedEntry& a = it->second;
  if (inserted) {
    a = AppliedEntry{true, entry, state, node};
    return absl::OkStatus();
  }
  if (a.has_entry && a.entry != entry) {
    return Violation("state machine safety",
                     absl::StrFormat("node %d applied %s at index %d, node %d applied %s", a.node,
                                     Describe(a.entry), entry.index, node, Describe(entry)));
  }
  if (a.state != state) {
    return Violation("state machine safety",
                     absl::StrFormat("nodes %d and %d reached different states at index %d "
                                     "(%016x, %016x): an entry before it was skipped or differs",
                                     a.node, node, entry.index, a.state, state));
  }
  if (!a.has_entry) {
    a.has_entry = true;
    a.entry = entry;
  }
  return absl::OkStatus();
}

absl::Status SafetyChecker::CheckRestore(uint64_t node, uint64_t index, uint64_t state) {
  auto [it, inserted] = applied_.try_emplace(index);
  AppliedEntry& a = it->second;
  if (inserted) {
    a.state = state;
    a.node = node;
    return absl::OkStatus();
  }
  if (a.state != state) {
    return Violation("state machine safety",
                     absl::StrFormat("node %d restored a snapshot at index %d with state %016x, "
                                     "but node %d reached %016x there",
                                     node, index, state, a.node, a.state));
  }
  return absl::OkStatus();
}

}  // namespace etcd::raft::rafttest
