#include "pkg/adt/interval_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pkg/adt/interval_tree_model.h"

namespace etcd::adt {
namespace {

using ::etcd::adt::testing::Describe;
using ::etcd::adt::testing::Differential;
using ::etcd::adt::testing::Op;

std::vector<std::string> Values(const std::vector<IntervalValue<std::string>>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.value);
  return out;
}

TEST(IntervalTest, PointHoldsExactlyOneKey) {
  Interval p = Interval::Point("foo");
  EXPECT_EQ(p.begin, "foo");
  EXPECT_EQ(p.end, std::string("foo\0", 4));
  EXPECT_TRUE(p.Contains("foo"));
  EXPECT_FALSE(p.Contains("fo"));
  EXPECT_FALSE(p.Contains("foo0"));
  EXPECT_FALSE(p.Contains(std::string("foo\0", 4)));
  EXPECT_FALSE(p.empty());
}

TEST(IntervalTest, EmptyEndIsUnbounded) {
  Interval from_m("m", "");
  EXPECT_TRUE(from_m.unbounded());
  EXPECT_TRUE(from_m.Contains("m"));
  EXPECT_TRUE(from_m.Contains("\xff\xff\xff"));
  EXPECT_FALSE(from_m.Contains("l"));
  EXPECT_TRUE(Interval("", "").Contains(""));
  EXPECT_TRUE(Interval("", "b").Contains(""));  // unlike etcd, "" begins at the smallest key
}

TEST(IntervalTest, FromKeyRangeFollowsEtcdRequests) {
  EXPECT_EQ(Interval::FromKeyRange("k", ""), Interval::Point("k"));
  EXPECT_EQ(Interval::FromKeyRange("k", std::string("\0", 1)), Interval("k", ""));
  EXPECT_EQ(Interval::FromKeyRange("a", "b"), Interval("a", "b"));
}

TEST(IntervalTest, BytesCompareUnsigned) {
  Interval upper("\x80", "");
  EXPECT_TRUE(upper.Contains("\xff"));
  EXPECT_FALSE(upper.Contains("\x7f"));
  EXPECT_TRUE(Interval("a", "\xff").Contains("\x80"));
}

TEST(IntervalTest, OverlapIsHalfOpen) {
  EXPECT_TRUE(Interval("a", "c").Overlaps(Interval("b", "d")));
  EXPECT_FALSE(Interval("a", "c").Overlaps(Interval("c", "d")));
  EXPECT_FALSE(Interval("c", "d").Overlaps(Interval("a", "c")));
  EXPECT_TRUE(Interval("a", "").Overlaps(Interval("zzz", "")));
  EXPECT_TRUE(Interval("a", "c").Overlaps(Interval::Point("a")));
  EXPECT_FALSE(Interval("a", "c").Overlaps(Interval::Point("c")));
  // Empty and inverted intervals hold no key and overlap nothing.
  EXPECT_TRUE(Interval("b", "b").empty());
  EXPECT_TRUE(Interval("c", "a").empty());
  EXPECT_FALSE(Interval("b", "b").Overlaps(Interval("a", "c")));
  EXPECT_FALSE(Interval("a", "c").Overlaps(Interval("c", "a")));
}

TEST(IntervalTreeTest, EmptyTree) {
  IntervalTree<int> tree;
  EXPECT_EQ(tree.Len(), 0u);
  EXPECT_EQ(tree.Height(), 0);
  EXPECT_EQ(tree.MaxHeight(), 0);
  EXPECT_FALSE(tree.Intersects(Interval("", "")));
  EXPECT_FALSE(tree.Contains(Interval("a", "b")));
  EXPECT_TRUE(tree.Stab(Interval("", "")).empty());
  EXPECT_EQ(tree.Find(Interval("a", "b")), nullptr);
  EXPECT_FALSE(tree.Delete(Interval("a", "b")));
  tree.CheckInvariants();
}

TEST(IntervalTreeTest, IntersectsPoints) {
  IntervalTree<int> tree;
  tree.Insert(Interval("1", "3"), 123);
  EXPECT_FALSE(tree.Intersects(Interval::Point("0")));
  EXPECT_TRUE(tree.Intersects(Interval::Point("1")));
  EXPECT_TRUE(tree.Intersects(Interval::Point("11")));
  EXPECT_TRUE(tree.Intersects(Interval::Point("2")));
  EXPECT_FALSE(tree.Intersects(Interval::Point("3")));
}

TEST(IntervalTreeTest, UnboundedEndMatchesEverythingAfter) {
  IntervalTree<int> tree;
  tree.Insert(Interval("8", ""), 1);
  EXPECT_TRUE(tree.Intersects(Interval::Point("9")));
  EXPECT_TRUE(tree.Intersects(Interval::Point("\xff")));
  EXPECT_FALSE(tree.Intersects(Interval::Point("7")));
  EXPECT_TRUE(tree.Contains(Interval("8", "")));
  EXPECT_TRUE(tree.Contains(Interval("85", "9")));
  EXPECT_FALSE(tree.Contains(Interval("7", "")));
}

TEST(IntervalTreeTest, StabReturnsOverlapsInBeginOrder) {
  IntervalTree<std::string> tree;
  tree.Insert(Interval("0", "1"), "a");
  tree.Insert(Interval("0", "2"), "b");
  tree.Insert(Interval("5", "6"), "c");
  tree.Insert(Interval("6", "8"), "d");
  tree.Insert(Interval("0", "3"), "e");
  EXPECT_EQ(Values(tree.Stab(Interval::Point("0"))), (std::vector<std::string>{"a", "b", "e"}));
  EXPECT_EQ(Values(tree.Stab(Interval::Point("1"))), (std::vector<std::string>{"b", "e"}));
  EXPECT_EQ(Values(tree.Stab(Interval::Point("2"))), (std::vector<std::string>{"e"}));
  EXPECT_TRUE(tree.Stab(Interval::Point("3")).empty());
  EXPECT_EQ(Values(tree.Stab(Interval::Point("5"))), (std::vector<std::string>{"c"}));
  EXPECT_EQ(Values(tree.Stab(Interval("55", "65"))), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(Values(tree.Stab(Interval("", ""))),
            (std::vector<std::string>{"a", "b", "e", "c", "d"}));
}

TEST(IntervalTreeTest, VisitStopsWhenVisitorReturnsFalse) {
  IntervalTree<int> tree;
  for (int i = 0; i < 10; ++i) tree.Insert(Interval(std::string(1, 'a' + i), ""), i);
  std::vector<int> seen;
  tree.Visit(Interval::Point("z"), [&](const Interval&, const int& v) {
    seen.push_back(v);
    return seen.size() < 3;
  });
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));
}

TEST(IntervalTreeTest, ContainsNeedsContiguousCover) {
  IntervalTree<int> tree;
  tree.Insert(Interval("a", "c"), 0);
  tree.Insert(Interval("c", "e"), 0);
  tree.Insert(Interval("b", "d"), 0);
  tree.Insert(Interval("f", "g"), 0);
  EXPECT_TRUE(tree.Contains(Interval("a", "e")));
  EXPECT_TRUE(tree.Contains(Interval("b", "c")));
  EXPECT_TRUE(tree.Contains(Interval::Point("d")));
  EXPECT_FALSE(tree.Contains(Interval("a", "f")));  // [e, f) missing
  EXPECT_FALSE(tree.Contains(Interval("0", "b")));  // starts before everything
  EXPECT_FALSE(tree.Contains(Interval("f", "")));   // unbounded query, bounded cover
  EXPECT_FALSE(tree.Contains(Interval::Point("e")));
  // A point-sized gap: "e" itself is uncovered by [a,e) and [e\0, f).
  tree.Insert(Interval(std::string("e\0", 2), "f"), 0);
  EXPECT_FALSE(tree.Contains(Interval("a", "f")));
  tree.Insert(Interval::Point("e"), 0);
  EXPECT_TRUE(tree.Contains(Interval("a", "g")));
  // Empty and inverted queries are never contained.
  EXPECT_FALSE(tree.Contains(Interval("b", "b")));
  EXPECT_FALSE(tree.Contains(Interval("c", "b")));
}

TEST(IntervalTreeTest, PermissionStyleChecks) {
  // Like etcd's auth: grants are ranges or single keys; a range request needs
  // full cover, a key request needs any grant holding the key.
  IntervalTree<bool> read;
  read.Insert(Interval::FromKeyRange("/app/", "/app0"), true);            // prefix "/app/"
  read.Insert(Interval::FromKeyRange("/config", ""), true);               // one key
  read.Insert(Interval::FromKeyRange("/z", std::string("\0", 1)), true);  // from "/z" on
  EXPECT_TRUE(read.Contains(Interval::FromKeyRange("/app/a", "/app/z")));
  EXPECT_TRUE(read.Intersects(Interval::Point("/config")));
  EXPECT_FALSE(read.Intersects(Interval::Point("/config2")));
  EXPECT_FALSE(read.Contains(Interval::FromKeyRange("/app/", "/b")));
  EXPECT_TRUE(read.Contains(Interval::FromKeyRange("/zoo", std::string("\0", 1))));
}

TEST(IntervalTreeTest, FindAndDeleteExactMatchOnly) {
  IntervalTree<int> tree;
  tree.Insert(Interval("a", "c"), 1);
  tree.Insert(Interval("a", "d"), 2);
  tree.Insert(Interval("a", "c"), 3);  // duplicate interval
  tree.Insert(Interval("b", "b"), 4);  // empty: stored, never overlapping
  ASSERT_NE(tree.Find(Interval("a", "d")), nullptr);
  EXPECT_EQ(*tree.Find(Interval("a", "d")), 2);
  EXPECT_EQ(*tree.Find(Interval("a", "c")), 1);
  EXPECT_EQ(tree.Find(Interval("a", "b")), nullptr);
  ASSERT_NE(tree.Find(Interval("b", "b")), nullptr);
  EXPECT_TRUE(tree.Intersects(Interval("a", "z")));
  EXPECT_EQ(tree.Stab(Interval::Point("b")).size(), 3u);  // not the empty one

  *tree.Find(Interval("a", "d")) = 20;  // values are mutable in place
  EXPECT_EQ(*tree.Find(Interval("a", "d")), 20);

  EXPECT_TRUE(tree.Delete(Interval("a", "c")));
  EXPECT_EQ(*tree.Find(Interval("a", "c")), 3);  // the earlier one went first
  EXPECT_TRUE(tree.Delete(Interval("a", "c")));
  EXPECT_FALSE(tree.Delete(Interval("a", "c")));
  EXPECT_TRUE(tree.Delete(Interval("b", "b")));
  EXPECT_EQ(tree.Len(), 1u);
  tree.CheckInvariants();
}

TEST(IntervalTreeTest, EmptyIntervalsNeverMatch) {
  IntervalTree<int> tree;
  tree.Insert(Interval("m", "c"), 1);  // inverted
  tree.Insert(Interval("d", "d"), 2);  // empty
  EXPECT_EQ(tree.Len(), 2u);
  EXPECT_FALSE(tree.Intersects(Interval("", "")));
  EXPECT_FALSE(tree.Intersects(Interval::Point("d")));
  EXPECT_TRUE(tree.Stab(Interval("a", "z")).empty());
  EXPECT_FALSE(tree.Contains(Interval::Point("e")));
  // An empty entry to the left must not hide a real overlap to the right.
  tree.Insert(Interval("n", "p"), 3);
  EXPECT_TRUE(tree.Intersects(Interval("b", "o")));
  EXPECT_TRUE(tree.Contains(Interval("n", "o")));
  tree.CheckInvariants();
}

TEST(IntervalTreeTest, UnionCopiesOverlappingEntries) {
  IntervalTree<int> a, b;
  a.Insert(Interval("a", "b"), 1);
  b.Insert(Interval("c", "d"), 2);
  b.Insert(Interval("x", "y"), 3);
  a.Union(b, Interval("a", "m"));
  EXPECT_EQ(a.Len(), 2u);
  EXPECT_TRUE(a.Intersects(Interval::Point("c")));
  EXPECT_FALSE(a.Intersects(Interval::Point("x")));
  EXPECT_EQ(b.Len(), 2u);
  a.Union(a, Interval("", ""));  // with itself: doubles every entry once
  EXPECT_EQ(a.Len(), 4u);
  a.CheckInvariants();
}

TEST(IntervalTreeTest, StaysBalancedOnSortedInsertsAndDeletes) {
  IntervalTree<int> tree;
  const int n = 4096;
  for (int i = 0; i < n; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "%08d", i);
    tree.Insert(Interval::Point(key), i);
    if ((i & (i + 1)) == 0) {
      tree.CheckInvariants();
      ASSERT_LE(tree.Height(), tree.MaxHeight()) << "after " << i + 1 << " inserts";
    }
  }
  EXPECT_EQ(tree.Len(), static_cast<size_t>(n));
  EXPECT_LE(tree.Height(), tree.MaxHeight());
  EXPECT_GE(tree.Height(), 13);  // log2(4096) + 1: a tree cannot be shorter
  for (int i = 0; i < n; i += 2) {
    char key[16];
    std::snprintf(key, sizeof(key), "%08d", i);
    ASSERT_TRUE(tree.Delete(Interval::Point(key)));
  }
  tree.CheckInvariants();
  EXPECT_LE(tree.Height(), tree.MaxHeight());
  EXPECT_FALSE(tree.Intersects(Interval::Point("00000100")));
  EXPECT_TRUE(tree.Intersects(Interval::Point("00000101")));
}

TEST(IntervalTreeTest, MoveTransfersEntries) {
  IntervalTree<std::unique_ptr<int>> tree;
  tree.Insert(Interval("a", "b"), std::make_unique<int>(7));
  IntervalTree<std::unique_ptr<int>> moved = std::move(tree);
  ASSERT_NE(moved.Find(Interval("a", "b")), nullptr);
  EXPECT_EQ(**moved.Find(Interval("a", "b")), 7);
  moved.Clear();
  EXPECT_EQ(moved.Len(), 0u);
}

// The key pool: a small alphabet so intervals collide, share ends and nest,
// plus "\0"-suffixed keys (point ends) and a high byte.
const std::vector<std::string>& Keys() {
  static const auto* keys = new std::vector<std::string>{"",
                                                         "a",
                                                         std::string("a\0", 2),
                                                         "aa",
                                                         "ab",
                                                         "b",
                                                         std::string("b\0", 2),
                                                         "ba",
                                                         "bb",
                                                         "c",
                                                         "ca",
                                                         "d",
                                                         "\xff"};
  return *keys;
}

// How a random run shapes its intervals; varied per seed so small trees, no
// unbounded ends and many empty intervals all get exercised.
struct Profile {
  int unbounded_percent = 12;
  int point_percent = 12;
  int empty_percent = 8;  // of the plain ranges: equal or inverted ends
  size_t target_size = 60;
};

Interval RandomInterval(std::mt19937& rng, const Profile& profile) {
  const auto& keys = Keys();
  std::uniform_int_distribution<size_t> pick(0, keys.size() - 1);
  const int r = static_cast<int>(rng() % 100);
  if (r < profile.point_percent) return Interval::Point(keys[pick(rng)]);
  if (r < profile.point_percent + profile.unbounded_percent) return Interval(keys[pick(rng)], "");
  std::string a = keys[pick(rng)], b = keys[pick(rng)];
  if (b.empty()) b = "\xff";
  const bool want_empty = static_cast<int>(rng() % 100) < profile.empty_percent;
  if ((b < a) != want_empty) std::swap(a, b);
  if (want_empty && rng() % 2 == 0) b = a;
  return Interval(a, b);
}

const Profile kQueryProfile = {/*unbounded_percent=*/15, /*point_percent=*/25,
                               /*empty_percent=*/3};

Profile ProfileForSeed(uint32_t seed) {
  Profile p;
  switch (seed % 5) {
    case 1:  // bounded ranges only, many of them empty
      p.unbounded_percent = 0;
      p.point_percent = 5;
      p.empty_percent = 30;
      break;
    case 2:  // small trees: rotations near the root
      p.target_size = 8;
      p.empty_percent = 20;
      break;
    case 3:  // mostly points, like key watchers and single-key grants
      p.point_percent = 70;
      p.unbounded_percent = 5;
      break;
    case 4:  // few entries, half of them empty: empty ends must not steer searches
      p.target_size = 6;
      p.unbounded_percent = 0;
      p.point_percent = 0;
      p.empty_percent = 50;
      break;
  }
  return p;
}

TEST(IntervalTreeRandomTest, AgreesWithBruteForceModel) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    const Profile profile = ProfileForSeed(seed);
    Differential d;
    std::vector<Interval> inserted;
    for (int step = 0; step < 1000; ++step) {
      // Queries are rarely empty (an empty query trivially matches nothing).
      Op op{Op::kInsert, RandomInterval(rng, kQueryProfile)};
      const int r = static_cast<int>(rng() % 100);
      // Grow toward the target size, then churn around it.
      const bool grow = d.tree().Len() < profile.target_size;
      if (r < (grow ? 35 : 20)) {
        op.kind = Op::kInsert;
        op.interval = RandomInterval(rng, profile);
      } else if (r < 45) {
        op.kind = Op::kDelete;
        if (!inserted.empty() && rng() % 4 != 0) op.interval = inserted[rng() % inserted.size()];
      } else if (r < 55) {
        op.kind = Op::kStab;
      } else if (r < 63) {
        op.kind = Op::kVisitFirst;
        op.count = static_cast<int>(rng() % 4);
      } else if (r < 75) {
        op.kind = Op::kIntersects;
      } else if (r < 90) {
        op.kind = Op::kContains;
      } else if (r < 98) {
        op.kind = Op::kFind;
        if (!inserted.empty() && rng() % 2 == 0) op.interval = inserted[rng() % inserted.size()];
      } else {
        op.kind = d.tree().Len() < 40 ? Op::kUnionSelf : Op::kStab;
      }
      if (op.kind == Op::kInsert) inserted.push_back(op.interval);
      std::string diff = d.Apply(op);
      ASSERT_EQ(diff, "") << "seed " << seed << " step " << step;
      diff = d.CheckAll();
      ASSERT_EQ(diff, "") << "seed " << seed << " step " << step << " after op on "
                          << Describe(op.interval);
    }
  }
}

TEST(IntervalTreeRandomTest, DrainsToEmpty) {
  std::mt19937 rng(99);
  Differential d;
  std::vector<Interval> inserted;
  for (int i = 0; i < 500; ++i) {
    inserted.push_back(RandomInterval(rng, Profile()));
    ASSERT_EQ(d.Apply({Op::kInsert, inserted.back()}), "");
  }
  std::shuffle(inserted.begin(), inserted.end(), rng);
  for (const Interval& ivl : inserted) {
    ASSERT_EQ(d.Apply({Op::kDelete, ivl}), "");
    ASSERT_EQ(d.CheckAll(), "");
  }
  EXPECT_EQ(d.tree().Len(), 0u);
}

}  // namespace
}  // namespace etcd::adt
