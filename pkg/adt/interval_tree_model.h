// A brute-force model of IntervalTree and a harness that runs the same
// operations on both, for the randomized test and the fuzz target.
//
//   etcd::adt::testing::Differential d;
//   std::string diff = d.Apply({Op::kInsert, Interval("a", "c")});
//   if (diff.empty()) diff = d.CheckAll();   // "" when tree and model agree
//
// The model keeps a plain vector in insertion order and answers every query
// from the definition of an interval as a set of keys, independently of the
// tree's pruning logic. Not thread-safe.

#ifndef ETCD_PKG_ADT_INTERVAL_TREE_MODEL_H_
#define ETCD_PKG_ADT_INTERVAL_TREE_MODEL_H_

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "pkg/adt/interval_tree.h"

namespace etcd::adt::testing {

class IntervalModel {
 public:
  using Entry = IntervalValue<int>;

  void Insert(Interval ivl, int value) { entries_.push_back({std::move(ivl), value}); }

  bool Delete(const Interval& ivl) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->interval == ivl) {
        entries_.erase(it);
        return true;
      }
    }
    return false;
  }

  size_t Len() const { return entries_.size(); }

  const int* Find(const Interval& ivl) const {
    for (const Entry& e : entries_) {
      if (e.interval == ivl) return &e.value;
    }
    return nullptr;
  }

  // Overlapping entries sorted by begin, ties in insertion order.
  std::vector<Entry> Stab(const Interval& q) const {
    std::vector<Entry> out;
    for (const Entry& e : entries_) {
      if (Overlap(e.interval, q)) out.push_back(e);
    }
    std::stable_sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
      return a.interval.begin < b.interval.begin;
    });
    return out;
  }

  bool Intersects(const Interval& q) const { return !Stab(q).empty(); }

  // Coverage can only stop at q.begin or at some stored end inside q, so it
  // is enough to check those keys.
  bool Contains(const Interval& q) const {
    if (!HasKey(q)) return false;
    std::vector<std::string> critical = {q.begin};
    for (const Entry& e : entries_) {
      if (!e.interval.end.empty() && Holds(q, e.interval.end)) critical.push_back(e.interval.end);
    }
    for (const std::string& key : critical) {
      bool held = false;
      for (const Entry& e : entries_) held = held || Holds(e.interval, key);
      if (!held) return false;
    }
    return true;
  }

  static bool Holds(const Interval& ivl, const std::string& key) {
    return ivl.begin <= key && (ivl.end.empty() || key < ivl.end);
  }
  static bool HasKey(const Interval& ivl) { return Holds(ivl, ivl.begin); }
  // Two sets of keys meet iff the larger begin is in both.
  static bool Overlap(const Interval& a, const Interval& b) {
    const std::string& key = std::max(a.begin, b.begin);
    return Holds(a, key) && Holds(b, key);
  }

 private:
  std::vector<Entry> entries_;
};

inline std::string Describe(const Interval& ivl) {
  return absl::StrCat(
      "[\"", absl::CHexEscape(ivl.begin), "\", ",
      ivl.end.empty() ? std::string("+inf") : "\"" + absl::CHexEscape(ivl.end) + "\"", ")");
}

inline std::string Describe(const std::vector<IntervalModel::Entry>& entries) {
  std::string out = "{";
  for (const auto& e : entries) absl::StrAppend(&out, " ", Describe(e.interval), "=", e.value);
  return out + " }";
}

struct Op {
  enum Kind { kInsert, kDelete, kFind, kStab, kVisitFirst, kIntersects, kContains, kUnionSelf };
  Kind kind;
  Interval interval;
  int count = 0;  // kVisitFirst: stop after this many entries
};

// Runs operations on an IntervalTree<int> and an IntervalModel in lockstep.
class Differential {
 public:
  // Applies `op` to both; returns "" or a description of the disagreement.
  std::string Apply(const Op& op) {
    const Interval& q = op.interval;
    const std::string where = Describe(q);
    switch (op.kind) {
      case Op::kInsert:
        tree_.Insert(q, next_value_);
        model_.Insert(q, next_value_);
        ++next_value_;
        return "";
      case Op::kDelete: {
        bool t = tree_.Delete(q), m = model_.Delete(q);
        if (t != m) return absl::StrCat("Delete", where, ": tree ", t, " model ", m);
        return "";
      }
      case Op::kFind: {
        const int* t = tree_.Find(q);
        const int* m = model_.Find(q);
        if ((t == nullptr) != (m == nullptr) || (t != nullptr && *t != *m)) {
          return absl::StrCat("Find", where, ": tree ", t ? absl::StrCat(*t) : "none", " model ",
                              m ? absl::StrCat(*m) : "none");
        }
        return "";
      }
      case Op::kStab:
        return CompareEntries("Stab" + where, tree_.Stab(q), model_.Stab(q));
      case Op::kVisitFirst: {
        // The visitor sees at least one entry before it can say stop.
        const size_t limit = static_cast<size_t>(std::max(op.count, 1));
        std::vector<IntervalModel::Entry> got;
        tree_.Visit(q, [&](const Interval& ivl, const int& value) {
          got.push_back({ivl, value});
          return got.size() < limit;
        });
        std::vector<IntervalModel::Entry> want = model_.Stab(q);
        if (want.size() > limit) want.resize(limit);
        return CompareEntries(absl::StrCat("Visit", where, " first ", limit), got, want);
      }
      case Op::kIntersects: {
        bool t = tree_.Intersects(q), m = model_.Intersects(q);
        if (t != m) return absl::StrCat("Intersects", where, ": tree ", t, " model ", m);
        return "";
      }
      case Op::kContains: {
        bool t = tree_.Contains(q), m = model_.Contains(q);
        if (t != m) {
          return absl::StrCat("Contains", where, ": tree ", t, " model ", m, " entries ",
                              Describe(model_.Stab(Interval("", ""))));
        }
        return "";
      }
      case Op::kUnionSelf: {
        std::vector<IntervalModel::Entry> picked = model_.Stab(q);
        tree_.Union(tree_, q);
        for (const auto& e : picked) model_.Insert(e.interval, e.value);
        return "";
      }
    }
    return "unknown op";
  }

  // Checks the whole state: invariants (aborting on violation), size, height
  // bound and every non-empty entry in order. Returns "" or the disagreement.
  std::string CheckAll() {
    tree_.CheckInvariants();
    if (tree_.Len() != model_.Len()) {
      return absl::StrCat("Len: tree ", tree_.Len(), " model ", model_.Len());
    }
    if (tree_.Height() > tree_.MaxHeight()) {
      return absl::StrCat("Height ", tree_.Height(), " > MaxHeight ", tree_.MaxHeight());
    }
    const Interval everything("", "");
    return CompareEntries("all entries", tree_.Stab(everything), model_.Stab(everything));
  }

  const IntervalTree<int>& tree() const { return tree_; }
  const IntervalModel& model() const { return model_; }

 private:
  static std::string CompareEntries(const std::string& what,
                                    const std::vector<IntervalModel::Entry>& got,
                                    const std::vector<IntervalModel::Entry>& want) {
    bool same = got.size() == want.size();
    for (size_t i = 0; same && i < got.size(); ++i) {
      same = got[i].interval == want[i].interval && got[i].value == want[i].value;
    }
    if (same) return "";
    return absl::StrCat(what, ": tree ", Describe(got), " model ", Describe(want));
  }

  IntervalTree<int> tree_;
  IntervalModel model_;
  int next_value_ = 0;
};

}  // namespace etcd::adt::testing

#endif  // ETCD_PKG_ADT_INTERVAL_TREE_MODEL_H_
