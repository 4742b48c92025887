// An interval tree over key ranges, as etcd uses for auth permission ranges
// and range watchers.
//
//   etcd::adt::IntervalTree<int> perms;
//   perms.Insert(etcd::adt::Interval("a", "m"), 1);         // keys a <= k < m
//   perms.Insert(etcd::adt::Interval::Point("zebra"), 2);   // the key "zebra"
//   perms.Insert(etcd::adt::Interval("q", ""), 3);          // every key >= q
//   perms.Intersects(etcd::adt::Interval::Point("c"));      // true
//   perms.Contains(etcd::adt::Interval("b", "n"));          // false: [m, n) is uncovered
//   for (const auto& [ivl, value] : perms.Stab(etcd::adt::Interval("k", "r"))) ...
//
// Keys are byte strings compared lexicographically as unsigned bytes (the
// order std::string uses). An Interval [begin, end) holds the keys k with
// begin <= k < end, following etcd's BytesAffineComparable conventions:
//   * an empty `end` is +infinity, so Interval(k, "") is every key >= k (etcd
//     requests spell this range_end "\0"; see Interval::FromKeyRange);
//   * a single key k is the point [k, k + "\0"), the smallest range holding k.
// One deliberate difference: etcd's comparable makes an empty `begin` +infinity
// too, which turns ["", x) into an interval matching nothing; here an empty
// `begin` is the smallest key. etcd's callers never store such an interval.
//
// An interval with a bounded end <= begin holds no keys. The tree stores it
// (Find and Delete see it) but it overlaps nothing, so Visit, Stab, Intersects
// and Contains ignore it, and Contains of such a query is false: an empty or
// inverted permission request is denied rather than granted vacuously.
//
// The tree is a red-black tree ordered by `begin`, each node augmented with
// the largest `end` of its subtree (CLRS 14.3, as etcd's): Insert, Delete,
// Find (plus the number of entries sharing the begin) and Intersects take
// O(log n); Visit, Stab and Contains reporting k entries take O((k + 1) log n)
// at worst, typically close to O(log n + k). Several entries may share an
// interval (a multiset); they are visited in insertion order and Find/Delete
// act on the earliest inserted.
//
// Thread safety: not thread-safe. Const methods may run concurrently with each
// other; any mutation needs exclusive access.

#ifndef ETCD_PKG_ADT_INTERVAL_TREE_H_
#define ETCD_PKG_ADT_INTERVAL_TREE_H_

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace etcd::adt {

// A half-open key range [begin, end); an empty `end` is unbounded.
struct Interval {
  Interval() = default;
  Interval(std::string begin_key, std::string end_key)
      : begin(std::move(begin_key)), end(std::move(end_key)) {}

  // The single key `key`: [key, key + "\0").
  static Interval Point(absl::string_view key);
  // etcd's request convention for (key, range_end): an empty range_end is the
  // single key, "\0" means every key >= key, anything else is [key, range_end).
  static Interval FromKeyRange(absl::string_view key, absl::string_view range_end);

  bool unbounded() const { return end.empty(); }
  // True when the interval holds no key (bounded and end <= begin).
  bool empty() const { return !end.empty() && end <= begin; }
  // Whether `key` lies in [begin, end).
  bool Contains(absl::string_view key) const;
  // Whether the two intervals share at least one key.
  bool Overlaps(const Interval& other) const;

  std::string begin;
  std::string end;
};

inline bool operator==(const Interval& a, const Interval& b) {
  return a.begin == b.begin && a.end == b.end;
}
inline bool operator!=(const Interval& a, const Interval& b) { return !(a == b); }

// An entry of the tree as Stab returns it.
template <typename V>
struct IntervalValue {
  Interval interval;
  V value;
};

namespace internal {

// The value-independent part of a tree node.
struct NodeBase {
  explicit NodeBase(Interval ivl) : interval(std::move(ivl)) {}

  Interval interval;
  // The largest end among the non-empty intervals of this subtree, pointing at
  // that node's interval.end; null when the subtree has none.
  const std::string* max_end = nullptr;
  NodeBase* left = nullptr;
  NodeBase* right = nullptr;
  NodeBase* parent = nullptr;
  bool red = true;
};

// The red-black machinery, shared by every IntervalTree<V>. Owns its nodes and
// frees them with `destroy`.
class TreeCore {
 public:
  explicit TreeCore(void (*destroy)(NodeBase*)) : destroy_(destroy) {}
  TreeCore(TreeCore&& other) noexcept;
  TreeCore& operator=(TreeCore&& other) noexcept;
  ~TreeCore();

  void Insert(NodeBase* node);                // takes ownership
  void Remove(NodeBase* node);                // unlinks; the caller frees
  NodeBase* Find(const Interval& ivl) const;  // earliest exact match
  void Visit(const Interval& query, absl::FunctionRef<bool(NodeBase&)> visitor) const;
  bool Intersects(const Interval& query) const;
  bool Contains(const Interval& query) const;
  size_t size() const { return size_; }
  int Height() const;
  void CheckInvariants() const;
  void Clear();

 private:
  void RotateLeft(NodeBase* x);
  void RotateRight(NodeBase* x);
  void ReplaceChild(NodeBase* parent, NodeBase* old_child, NodeBase* new_child);
  void InsertFixup(NodeBase* z);
  void RemoveFixup(NodeBase* x, NodeBase* x_parent);

  void (*destroy_)(NodeBase*);
  NodeBase* root_ = nullptr;
  size_t size_ = 0;
};

}  // namespace internal

// A multiset of (Interval, V) entries answering overlap queries. V must be
// movable; Stab and Union also need it copyable.
template <typename V>
class IntervalTree {
 public:
  // Returns false to stop the visit.
  using Visitor = absl::FunctionRef<bool(const Interval& interval, const V& value)>;

  IntervalTree() : core_(&DestroyNode) {}
  IntervalTree(IntervalTree&&) noexcept = default;
  IntervalTree& operator=(IntervalTree&&) noexcept = default;
  IntervalTree(const IntervalTree&) = delete;
  IntervalTree& operator=(const IntervalTree&) = delete;

  // Adds an entry; an interval already present is added again.
  void Insert(Interval interval, V value) {
    core_.Insert(new Node(std::move(interval), std::move(value)));
  }

  // Removes the earliest inserted entry whose interval equals `interval`;
  // returns whether there was one.
  bool Delete(const Interval& interval) {
    internal::NodeBase* node = core_.Find(interval);
    if (node == nullptr) return false;
    core_.Remove(node);
    DestroyNode(node);
    return true;
  }

  // Number of entries.
  size_t Len() const { return core_.size(); }
  // Levels in the tree: 0 when empty, 1 for a single entry.
  int Height() const { return core_.Height(); }
  // The red-black bound on Height for Len() entries, 2 log2(n + 1), rounded.
  int MaxHeight() const { return static_cast<int>(2 * std::log2(Len() + 1.0) + 0.5); }

  // Calls `visitor` on every entry overlapping `query`, in ascending order of
  // begin (ties in insertion order), until it returns false. The visitor must
  // not modify the tree.
  void Visit(const Interval& query, Visitor visitor) const {
    core_.Visit(query, [&](internal::NodeBase& node) {
      return visitor(node.interval, static_cast<const Node&>(node).value);
    });
  }

  // The value of the earliest inserted entry whose interval equals `interval`
  // exactly, or null. The pointer is valid until that entry is deleted.
  V* Find(const Interval& interval) {
    internal::NodeBase* node = core_.Find(interval);
    return node == nullptr ? nullptr : &static_cast<Node*>(node)->value;
  }
  const V* Find(const Interval& interval) const {
    return const_cast<IntervalTree*>(this)->Find(interval);
  }

  // Whether any entry overlaps `query`. O(log n).
  bool Intersects(const Interval& query) const { return core_.Intersects(query); }

  // Whether the union of the entries' intervals covers every key of `query`
  // (false for an empty query).
  bool Contains(const Interval& query) const { return core_.Contains(query); }

  // Copies of the entries overlapping `query`, in Visit order.
  std::vector<IntervalValue<V>> Stab(const Interval& query) const {
    std::vector<IntervalValue<V>> out;
    Visit(query, [&out](const Interval& interval, const V& value) {
      out.push_back(IntervalValue<V>{interval, value});
      return true;
    });
    return out;
  }

  // Inserts a copy of every entry of `other` that overlaps `query`. `other`
  // may be this tree.
  void Union(const IntervalTree& other, const Interval& query) {
    std::vector<const Node*> picked;
    other.core_.Visit(query, [&picked](internal::NodeBase& node) {
      picked.push_back(static_cast<const Node*>(&node));
      return true;
    });
    // Nodes never move, so the pointers stay valid while this tree grows.
    for (const Node* node : picked) Insert(node->interval, node->value);
  }

  // Removes every entry.
  void Clear() { core_.Clear(); }

  // Aborts with a message naming the broken invariant unless the tree is a
  // valid red-black tree ordered by begin with correct subtree maxima and
  // size. O(n); for tests and fuzzing.
  void CheckInvariants() const { core_.CheckInvariants(); }

 private:
  struct Node : internal::NodeBase {
    Node(Interval ivl, V v) : internal::NodeBase(std::move(ivl)), value(std::move(v)) {}
    V value;
  };

  static void DestroyNode(internal::NodeBase* node) { delete static_cast<Node*>(node); }

  internal::TreeCore core_;
};

}  // namespace etcd::adt

#endif  // ETCD_PKG_ADT_INTERVAL_TREE_H_
