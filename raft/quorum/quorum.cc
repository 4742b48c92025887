#include "raft/quorum/quorum.h"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace etcd::raft::quorum {

std::string IndexString(Index idx) {
  if (idx == kInfinity) return "∞";
  return absl::StrCat(idx);
}

std::optional<Index> MapAckIndexer::AckedIndex(uint64_t voter_id) const {
  auto it = acked_.find(voter_id);
  if (it == acked_.end()) return std::nullopt;
  return it->second;
}

std::string VoteResultString(VoteResult r) {
  switch (r) {
    case VoteResult::kVotePending:
      return "VotePending";
    case VoteResult::kVoteLost:
      return "VoteLost";
    case VoteResult::kVoteWon:
      return "VoteWon";
  }
  return absl::StrCat("VoteResult(", static_cast<int>(r), ")");
}

std::ostream& operator<<(std::ostream& os, VoteResult r) { return os << VoteResultString(r); }

MajorityConfig::MajorityConfig(std::initializer_list<uint64_t> ids)
    : MajorityConfig(std::vector<uint64_t>(ids)) {}

MajorityConfig::MajorityConfig(std::vector<uint64_t> ids) : ids_(std::move(ids)) {
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
}

bool MajorityConfig::Contains(uint64_t id) const {
  return std::binary_search(ids_.begin(), ids_.end(), id);
}

bool MajorityConfig::Insert(uint64_t id) {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it != ids_.end() && *it == id) return false;
  ids_.insert(it, id);
  return true;
}

bool MajorityConfig::Erase(uint64_t id) {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it == ids_.end() || *it != id) return false;
  ids_.erase(it);
  return true;
}

std::string MajorityConfig::String() const {
  std::string out = "(";
  for (size_t i = 0; i < ids_.size(); ++i) {
    if (i > 0) out.push_back(' ');
    absl::StrAppend(&out, ids_[i]);
  }
  out.push_back(')');
  return out;
}

std::string MajorityConfig::Describe(const AckedIndexer& l) const {
  if (ids_.empty()) return "<empty majority quorum>";
  struct Row {
    uint64_t id;
    Index idx;
    bool known;
    size_t bar;
  };
  const size_t n = ids_.size();
  std::vector<Row> rows;
  rows.reserve(n);
  for (uint64_t id : ids_) {
    std::optional<Index> idx = l.AckedIndex(id);
    rows.push_back({id, idx.value_or(0), idx.has_value(), 0});
  }
  // The bar of a row is its position in index order, except that a row whose
  // index equals its predecessor's gets no bar (etcd's rendering).
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.idx != b.idx ? a.idx < b.idx : a.id < b.id;
  });
  for (size_t i = 1; i < n; ++i) {
    if (rows[i - 1].idx < rows[i].idx) rows[i].bar = i;
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.id < b.id; });

  std::string out = absl::StrCat(std::string(n, ' '), "    idx\n");
  for (const Row& row : rows) {
    if (!row.known) {
      absl::StrAppend(&out, "?", std::string(n, ' '));
    } else {
      absl::StrAppend(&out, std::string(row.bar, 'x'), ">", std::string(n - row.bar, ' '));
    }
    absl::StrAppend(&out, absl::StrFormat(" %5d    (id=%d)\n", row.idx, row.id));
  }
  return out;
}

Index MajorityConfig::CommittedIndex(const AckedIndexer& l) const {
  const size_t n = ids_.size();
  if (n == 0) return kInfinity;
  // Voters that have not reported count as zero.
  absl::InlinedVector<Index, 7> acked(n, 0);
  size_t i = 0;
  for (uint64_t id : ids_) {
    if (std::optional<Index> idx = l.AckedIndex(id)) acked[i++] = *idx;
  }
  std::sort(acked.begin(), acked.end());
  // The highest index that at least n/2+1 voters have reached.
  return acked[n - (n / 2 + 1)];
}

VoteResult MajorityConfig::GetVoteResult(const VoteMap& votes) const {
  if (ids_.empty()) return VoteResult::kVoteWon;
  size_t yes = 0;
  size_t missing = 0;
  for (uint64_t id : ids_) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++yes;
    }
  }
  const size_t quorum = ids_.size() / 2 + 1;
  if (yes >= quorum) return VoteResult::kVoteWon;
  if (yes + missing >= quorum) return VoteResult::kVotePending;
  return VoteResult::kVoteLost;
}

std::string JointConfig::String() const {
  if (!configs_[1].empty()) return absl::StrCat(configs_[0].String(), "&&", configs_[1].String());
  return configs_[0].String();
}

MajorityConfig JointConfig::IDs() const {
  std::vector<uint64_t> ids;
  ids.reserve(configs_[0].size() + configs_[1].size());
  std::set_union(configs_[0].begin(), configs_[0].end(), configs_[1].begin(), configs_[1].end(),
                 std::back_inserter(ids));
  return MajorityConfig(std::move(ids));
}

std::string JointConfig::Describe(const AckedIndexer& l) const { return IDs().Describe(l); }

Index JointConfig::CommittedIndex(const AckedIndexer& l) const {
  return std::min(configs_[0].CommittedIndex(l), configs_[1].CommittedIndex(l));
}

VoteResult JointConfig::GetVoteResult(const VoteMap& votes) const {
  VoteResult r0 = configs_[0].GetVoteResult(votes);
  VoteResult r1 = configs_[1].GetVoteResult(votes);
  if (r0 == r1) return r0;
  if (r0 == VoteResult::kVoteLost || r1 == VoteResult::kVoteLost) return VoteResult::kVoteLost;
  return VoteResult::kVotePending;
}

}  // namespace etcd::raft::quorum
