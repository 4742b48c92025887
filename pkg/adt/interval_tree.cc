#include "pkg/adt/interval_tree.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace etcd::adt {
namespace {

// Ends order with "" as +infinity; null (no end at all) is below everything.
bool EndLess(const std::string* a, const std::string* b) {
  if (b == nullptr) return false;
  if (a == nullptr) return true;
  if (b->empty()) return !a->empty();
  if (a->empty()) return false;
  return *a < *b;
}

// Whether a key (or begin) lies before an end: k < end.
bool KeyBeforeEnd(absl::string_view key, const std::string* end) {
  if (end == nullptr) return false;
  return end->empty() || key < *end;
}

[[noreturn]] void InvariantViolated(const char* invariant) {
  std::fprintf(stderr, "etcd::adt::IntervalTree invariant violated: %s\n", invariant);
  std::abort();
}

}  // namespace

Interval Interval::Point(absl::string_view key) {
  std::string end(key);
  end.push_back('\0');
  return Interval(std::string(key), std::move(end));
}

Interval Interval::FromKeyRange(absl::string_view key, absl::string_view range_end) {
  if (range_end.empty()) return Point(key);
  if (range_end == absl::string_view("\0", 1)) return Interval(std::string(key), "");
  return Interval(std::string(key), std::string(range_end));
}

bool Interval::Contains(absl::string_view key) const {
  return begin <= key && KeyBeforeEnd(key, &end);
}

bool Interval::Overlaps(const Interval& other) const {
  return !empty() && !other.empty() && KeyBeforeEnd(begin, &other.end) &&
         KeyBeforeEnd(other.begin, &end);
}

namespace internal {
namespace {

const std::string* OwnEnd(const NodeBase* x) {
  return x->interval.empty() ? nullptr : &x->interval.end;
}

void UpdateMax(NodeBase* x) {
  const std::string* max = OwnEnd(x);
  if (x->left != nullptr && EndLess(max, x->left->max_end)) max = x->left->max_end;
  if (x->right != nullptr && EndLess(max, x->right->max_end)) max = x->right->max_end;
  x->max_end = max;
}

bool IsRed(const NodeBase* x) { return x != nullptr && x->red; }

NodeBase* Leftmost(NodeBase* x) {
  while (x->left != nullptr) x = x->left;
  return x;
}

NodeBase* Successor(NodeBase* x) {
  if (x->right != nullptr) return Leftmost(x->right);
  NodeBase* p = x->parent;
  while (p != nullptr && x == p->right) {
    x = p;
    p = p->parent;
  }
  return p;
}

// In-order walk of `x`'s subtree pruned to nodes that may overlap `query`.
bool VisitSubtree(NodeBase* x, const Interval& query, absl::FunctionRef<bool(NodeBase&)> visitor) {
  while (x != nullptr) {
    // Nothing in this subtree ends after query.begin.
    if (!KeyBeforeEnd(query.begin, x->max_end)) return true;
    if (!VisitSubtree(x->left, query, visitor)) return false;
    // This node and its right subtree begin at or after query.end.
    if (!KeyBeforeEnd(x->interval.begin, &query.end)) return true;
    if (x->interval.Overlaps(query) && !visitor(*x)) return false;
    x = x->right;  // tail position: iterate instead of recursing
  }
  return true;
}

// Returns the black height of `x`'s subtree and checks everything below it.
int CheckSubtree(const NodeBase* x, size_t* count) {
  if (x == nullptr) return 1;
  ++*count;
  if (x->left != nullptr && x->left->parent != x) InvariantViolated("left child's parent pointer");
  if (x->right != nullptr && x->right->parent != x) {
    InvariantViolated("right child's parent pointer");
  }
  if (x->red && (IsRed(x->left) || IsRed(x->right))) InvariantViolated("red node with red child");
  int left_black = CheckSubtree(x->left, count);
  int right_black = CheckSubtree(x->right, count);
  if (left_black != right_black) InvariantViolated("equal black height");

  const std::string* max = OwnEnd(x);
  if (x->left != nullptr && EndLess(max, x->left->max_end)) max = x->left->max_end;
  if (x->right != nullptr && EndLess(max, x->right->max_end)) max = x->right->max_end;
  if (EndLess(max, x->max_end) || EndLess(x->max_end, max)) InvariantViolated("subtree max end");
  return left_black + (x->red ? 0 : 1);
}

int SubtreeHeight(const NodeBase* x) {
  if (x == nullptr) return 0;
  return 1 + std::max(SubtreeHeight(x->left), SubtreeHeight(x->right));
}

}  // namespace

TreeCore::TreeCore(TreeCore&& other) noexcept
    : destroy_(other.destroy_), root_(other.root_), size_(other.size_) {
  other.root_ = nullptr;
  other.size_ = 0;
}

TreeCore& TreeCore::operator=(TreeCore&& other) noexcept {
  if (this != &other) {
    Clear();
    destroy_ = other.destroy_;
    root_ = other.root_;
    size_ = other.size_;
    other.root_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

TreeCore::~TreeCore() { Clear(); }

void TreeCore::Clear() {
  // Post-order without recursion or extra memory: descend to a leaf, free
  // it, detach it from its parent, continue from the parent.
  NodeBase* x = root_;
  while (x != nullptr) {
    if (x->left != nullptr) {
      x = x->left;
    } else if (x->right != nullptr) {
      x = x->right;
    } else {
      NodeBase* parent = x->parent;
      if (parent != nullptr) (parent->left == x ? parent->left : parent->right) = nullptr;
      destroy_(x);
      x = parent;
    }
  }
  root_ = nullptr;
  size_ = 0;
}

void TreeCore::ReplaceChild(NodeBase* parent, NodeBase* old_child, NodeBase* new_child) {
  if (parent == nullptr) {
    root_ = new_child;
  } else if (parent->left == old_child) {
    parent->left = new_child;
  } else {
    parent->right = new_child;
  }
  if (new_child != nullptr) new_child->parent = parent;
}

void TreeCore::RotateLeft(NodeBase* x) {
  NodeBase* y = x->right;
  x->right = y->left;
  if (y->left != nullptr) y->left->parent = x;
  ReplaceChild(x->parent, x, y);
  y->left = x;
  x->parent = y;
  // The subtree as a whole keeps its keys, so only x and y change maxima.
  UpdateMax(x);
  UpdateMax(y);
}

void TreeCore::RotateRight(NodeBase* x) {
  NodeBase* y = x->left;
  x->left = y->right;
  if (y->right != nullptr) y->right->parent = x;
  ReplaceChild(x->parent, x, y);
  y->right = x;
  x->parent = y;
  UpdateMax(x);
  UpdateMax(y);
}

void TreeCore::Insert(NodeBase* z) {
  z->left = z->right = nullptr;
  z->red = true;
  z->max_end = OwnEnd(z);

  NodeBase* parent = nullptr;
  NodeBase* x = root_;
  while (x != nullptr) {
    parent = x;
    // Equal begins go right, so they stay in insertion order.
    x = (z->interval.begin < x->interval.begin) ? x->left : x->right;
  }
  z->parent = parent;
  if (parent == nullptr) {
    root_ = z;
  } else if (z->interval.begin < parent->interval.begin) {
    parent->left = z;
  } else {
    parent->right = z;
  }
  for (NodeBase* p = parent; p != nullptr && EndLess(p->max_end, z->max_end); p = p->parent) {
    p->max_end = z->max_end;
  }
  InsertFixup(z);
  ++size_;
}

void TreeCore::InsertFixup(NodeBase* z) {
  while (IsRed(z->parent)) {
    NodeBase* p = z->parent;
    NodeBase* g = p->parent;  // exists: a red node is never the root
    if (p == g->left) {
      NodeBase* uncle = g->right;
      if (IsRed(uncle)) {
        p->red = false;
        uncle->red = false;
        g->red = true;
        z = g;
        continue;
      }
      if (z == p->right) {
        RotateLeft(p);
        z = p;
        p = z->parent;
      }
      p->red = false;
      g->red = true;
      RotateRight(g);
    } else {
      NodeBase* uncle = g->left;
      if (IsRed(uncle)) {
        p->red = false;
        uncle->red = false;
        g->red = true;
        z = g;
        continue;
      }
      if (z == p->left) {
        RotateRight(p);
        z = p;
        p = z->parent;
      }
      p->red = false;
      g->red = true;
      RotateLeft(g);
    }
  }
  root_->red = false;
}

void TreeCore::Remove(NodeBase* z) {
  // x takes the place of the node that leaves its position; x_parent is x's
  // new parent (x may be null). removed_red is the color that position lost.
  NodeBase* x;
  NodeBase* x_parent;
  bool removed_red;
  if (z->left == nullptr || z->right == nullptr) {
    x = (z->left != nullptr) ? z->left : z->right;
    x_parent = z->parent;
    removed_red = z->red;
    ReplaceChild(z->parent, z, x);
  } else {
    // Move z's successor y (no left child) into z's position.
    NodeBase* y = Leftmost(z->right);
    x = y->right;
    removed_red = y->red;
    if (y->parent == z) {
      x_parent = y;
    } else {
      x_parent = y->parent;
      ReplaceChild(y->parent, y, x);
      y->right = z->right;
      y->right->parent = y;
    }
    ReplaceChild(z->parent, z, y);
    y->left = z->left;
    y->left->parent = y;
    y->red = z->red;
  }
  // Every node whose subtree changed lies on the path from x_parent to the
  // root; recompute all of it (ancestors may point at z's end).
  for (NodeBase* p = x_parent; p != nullptr; p = p->parent) UpdateMax(p);
  if (!removed_red) RemoveFixup(x, x_parent);
  z->left = z->right = z->parent = nullptr;
  --size_;
}

void TreeCore::RemoveFixup(NodeBase* x, NodeBase* x_parent) {
  // x carries an extra black; below the root it always has a parent.
  while (x != root_ && !IsRed(x)) {
    if (x == x_parent->left) {
      NodeBase* w = x_parent->right;  // non-null: x's side is short one black
      if (w->red) {
        w->red = false;
        x_parent->red = true;
        RotateLeft(x_parent);
        w = x_parent->right;
      }
      if (!IsRed(w->left) && !IsRed(w->right)) {
        w->red = true;
        x = x_parent;
        x_parent = x->parent;
        continue;
      }
      if (!IsRed(w->right)) {
        w->left->red = false;
        w->red = true;
        RotateRight(w);
        w = x_parent->right;
      }
      w->red = x_parent->red;
      x_parent->red = false;
      w->right->red = false;
      RotateLeft(x_parent);
      x = root_;
    } else {
      NodeBase* w = x_parent->left;
      if (w->red) {
        w->red = false;
        x_parent->red = true;
        RotateRight(x_parent);
        w = x_parent->left;
      }
      if (!IsRed(w->left) && !IsRed(w->right)) {
        w->red = true;
        x = x_parent;
        x_parent = x->parent;
        continue;
      }
      if (!IsRed(w->left)) {
        w->right->red = false;
        w->red = true;
        RotateLeft(w);
        w = x_parent->left;
      }
      w->red = x_parent->red;
      x_parent->red = false;
      w->left->red = false;
      RotateRight(x_parent);
      x = root_;
    }
  }
  if (x != nullptr) x->red = false;
}

NodeBase* TreeCore::Find(const Interval& ivl) const {
  // The first node in order with begin >= ivl.begin, then its equal-begin run.
  NodeBase* candidate = nullptr;
  for (NodeBase* x = root_; x != nullptr;) {
    if (x->interval.begin < ivl.begin) {
      x = x->right;
    } else {
      candidate = x;
      x = x->left;
    }
  }
  for (NodeBase* x = candidate; x != nullptr && x->interval.begin == ivl.begin; x = Successor(x)) {
    if (x->interval.end == ivl.end) return x;
  }
  return nullptr;
}

void TreeCore::Visit(const Interval& query, absl::FunctionRef<bool(NodeBase&)> visitor) const {
  if (query.empty()) return;
  VisitSubtree(root_, query, visitor);
}

bool TreeCore::Intersects(const Interval& query) const {
  if (query.empty()) return false;
  // CLRS interval search: if the left subtree reaches past query.begin but
  // holds no overlap, its interval with the largest end begins at or after
  // query.end, and so does everything to the right.
  NodeBase* x = root_;
  while (x != nullptr && !x->interval.Overlaps(query)) {
    if (x->left != nullptr && KeyBeforeEnd(query.begin, x->left->max_end)) {
      x = x->left;
    } else {
      x = x->right;
    }
  }
  return x != nullptr;
}

bool TreeCore::Contains(const Interval& query) const {
  if (query.empty()) return false;
  // Sweep the overlapping intervals in begin order, extending the covered
  // prefix [query.begin, covered) until it reaches query.end or a gap shows.
  const std::string* covered = nullptr;
  bool gap = false;
  Visit(query, [&](NodeBase& node) {
    const Interval& ivl = node.interval;
    if (covered == nullptr) {
      if (query.begin < ivl.begin) {
        gap = true;
        return false;
      }
    } else if (!covered->empty() && *covered < ivl.begin) {
      gap = true;  // the key *covered itself is in no interval
      return false;
    }
    if (covered == nullptr || EndLess(covered, &ivl.end)) covered = &ivl.end;
    return EndLess(covered, &query.end);  // stop once query.end is reached
  });
  return !gap && covered != nullptr && !EndLess(covered, &query.end);
}

int TreeCore::Height() const { return SubtreeHeight(root_); }

void TreeCore::CheckInvariants() const {
  if (root_ == nullptr) {
    if (size_ != 0) InvariantViolated("size of an empty tree");
    return;
  }
  if (root_->parent != nullptr) InvariantViolated("root has no parent");
  if (root_->red) InvariantViolated("root is black");
  size_t count = 0;
  CheckSubtree(root_, &count);
  if (count != size_) InvariantViolated("size equals node count");
  const NodeBase* prev = nullptr;
  for (NodeBase* x = Leftmost(root_); x != nullptr; x = Successor(x)) {
    if (prev != nullptr && x->interval.begin < prev->interval.begin) {
      InvariantViolated("in-order by begin");
    }
    prev = x;
  }
}

}  // namespace internal
}  // namespace etcd::adt
