// Quorum arithmetic for Raft: committed indexes and election outcomes over
// majority and joint (two-majority) configurations, as etcd's raft/quorum.
//
//   quorum::JointConfig voters(quorum::MajorityConfig{1, 2, 3},   // incoming
//                              quorum::MajorityConfig{1, 2});     // outgoing
//   quorum::MapAckIndexer acked{{1, 10}, {2, 7}, {3, 12}};
//   quorum::Index committed = voters.CommittedIndex(acked);        // 7
//   quorum::VoteResult r = voters.GetVoteResult({{1, true}, {3, true}});
//   // r == VoteResult::kVotePending: the outgoing half (1 2) lacks a majority.
//
// All types here are single-threaded value types: copy them freely, and
// synchronize externally if one is shared between threads.

#ifndef ETCD_RAFT_QUORUM_QUORUM_H_
#define ETCD_RAFT_QUORUM_QUORUM_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace etcd::raft::quorum {

// A Raft log position.
using Index = uint64_t;

// What an empty majority "commits": everything. Printed as "∞".
inline constexpr Index kInfinity = std::numeric_limits<Index>::max();

// `idx` in decimal, or "∞" for kInfinity (etcd's Index.String()).
std::string IndexString(Index idx);

// Looks up the index a voter has acknowledged (for the leader: the follower's
// Match). Implementations must be cheap; CommittedIndex calls AckedIndex once
// per voter.
class AckedIndexer {
 public:
  virtual ~AckedIndexer() = default;
  // The index acknowledged by `voter_id`, or nullopt if nothing is known.
  virtual std::optional<Index> AckedIndex(uint64_t voter_id) const = 0;
};

// An AckedIndexer over a map, for tests and simple callers.
class MapAckIndexer : public AckedIndexer {
 public:
  MapAckIndexer() = default;
  explicit MapAckIndexer(absl::flat_hash_map<uint64_t, Index> acked) : acked_(std::move(acked)) {}
  MapAckIndexer(std::initializer_list<std::pair<const uint64_t, Index>> acked) : acked_(acked) {}

  std::optional<Index> AckedIndex(uint64_t voter_id) const override;

  void Set(uint64_t voter_id, Index idx) { acked_[voter_id] = idx; }

 private:
  absl::flat_hash_map<uint64_t, Index> acked_;
};

// The outcome of a vote. The numeric values are etcd's.
enum class VoteResult : uint8_t {
  // Neither "yes" nor "no" has reached a quorum yet.
  kVotePending = 1,
  // A quorum has voted "no" (or "yes" can no longer reach one).
  kVoteLost = 2,
  // A quorum has voted "yes".
  kVoteWon = 3,
};

// "VotePending", "VoteLost", "VoteWon" (etcd's names), or "VoteResult(n)".
std::string VoteResultString(VoteResult r);
std::ostream& operator<<(std::ostream& os, VoteResult r);

// Votes received: voter ID -> granted (true) or rejected (false). Voters
// absent from the map have not voted.
using VoteMap = absl::flat_hash_map<uint64_t, bool>;

// A set of voter IDs that decides by simple majority. Iteration is in
// ascending ID order. Also used as a plain sorted ID set (e.g. learners), as
// etcd does.
class MajorityConfig {
 public:
  using const_iterator = std::vector<uint64_t>::const_iterator;

  MajorityConfig() = default;
  MajorityConfig(std::initializer_list<uint64_t> ids);
  // From IDs in any order; duplicates collapse.
  explicit MajorityConfig(std::vector<uint64_t> ids);
  template <typename It>
  MajorityConfig(It first, It last) : MajorityConfig(std::vector<uint64_t>(first, last)) {}

  bool Contains(uint64_t id) const;
  // Adds `id`; returns false if it was already present.
  bool Insert(uint64_t id);
  // Removes `id`; returns false if it was absent.
  bool Erase(uint64_t id);
  void Clear() { ids_.clear(); }

  size_t size() const { return ids_.size(); }
  bool empty() const { return ids_.empty(); }
  const_iterator begin() const { return ids_.begin(); }
  const_iterator end() const { return ids_.end(); }

  // The IDs in ascending order (etcd's Slice()).
  const std::vector<uint64_t>& Slice() const { return ids_; }

  // "(1 2 3)"; "()" when empty.
  std::string String() const;

  // A multi-line table of each voter's acknowledged index, as etcd prints it:
  // a header, then per voter (by ID) a bar whose length is the voter's rank
  // among the acknowledged indexes, the index and the ID; "?" marks voters
  // without an index. "<empty majority quorum>" (no newline) when empty.
  std::string Describe(const AckedIndexer& l) const;

  // The largest index acknowledged by a majority of the voters (voters with
  // no known index count as 0). kInfinity for the empty config, so that an
  // empty half of a joint config defers to the other half.
  Index CommittedIndex(const AckedIndexer& l) const;

  // kVoteWon once a majority voted yes, kVoteLost once a majority can no
  // longer be reached, kVotePending otherwise. The empty config wins.
  VoteResult GetVoteResult(const VoteMap& votes) const;

  friend bool operator==(const MajorityConfig& a, const MajorityConfig& b) {
    return a.ids_ == b.ids_;
  }
  friend bool operator!=(const MajorityConfig& a, const MajorityConfig& b) { return !(a == b); }

 private:
  std::vector<uint64_t> ids_;  // sorted, unique
};

// Two majority configurations, incoming ([0]) and outgoing ([1]); a decision
// needs both. Outside of a joint state the outgoing half is empty and the
// JointConfig behaves exactly like its incoming MajorityConfig.
class JointConfig {
 public:
  JointConfig() = default;
  explicit JointConfig(MajorityConfig incoming, MajorityConfig outgoing = {})
      : configs_{std::move(incoming), std::move(outgoing)} {}

  // configs[0] is the incoming, configs[1] the outgoing config (etcd's
  // Voters[0] and Voters[1]).
  MajorityConfig& operator[](size_t i) { return configs_[i]; }
  const MajorityConfig& operator[](size_t i) const { return configs_[i]; }
  MajorityConfig& incoming() { return configs_[0]; }
  const MajorityConfig& incoming() const { return configs_[0]; }
  MajorityConfig& outgoing() { return configs_[1]; }
  const MajorityConfig& outgoing() const { return configs_[1]; }

  // "(1 2 3)&&(1 2)", or just the incoming config when not joint.
  std::string String() const;

  // The union of both halves.
  MajorityConfig IDs() const;

  // Describe() of the union of both halves.
  std::string Describe(const AckedIndexer& l) const;

  // The smaller of the two halves' committed indexes.
  Index CommittedIndex(const AckedIndexer& l) const;

  // Won if both halves won, lost if either lost, pending otherwise.
  VoteResult GetVoteResult(const VoteMap& votes) const;

  friend bool operator==(const JointConfig& a, const JointConfig& b) {
    return a.configs_ == b.configs_;
  }
  friend bool operator!=(const JointConfig& a, const JointConfig& b) { return !(a == b); }

 private:
  std::array<MajorityConfig, 2> configs_;
};

}  // namespace etcd::raft::quorum

#endif  // ETCD_RAFT_QUORUM_QUORUM_H_
