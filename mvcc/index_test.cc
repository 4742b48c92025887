#include "mvcc/index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"

namespace etcd::mvcc {
namespace {

using Revs = std::vector<Revision>;
using Keys = std::vector<std::string>;

TEST(TreeIndexTest, Get) {
  TreeIndex ti;
  ti.Put("foo", {2, 0});
  ti.Put("foo", {4, 0});
  ASSERT_TRUE(ti.Tombstone("foo", {6, 0}));
  struct Case {
    int64_t rev;
    bool found;
    Revision modified, created;
    int64_t version;
  };
  for (const Case& c : std::vector<Case>{{0, false, {}, {}, 0},
                                         {1, false, {}, {}, 0},
                                         {2, true, {2, 0}, {2, 0}, 1},
                                         {3, true, {2, 0}, {2, 0}, 1},
                                         {4, true, {4, 0}, {2, 0}, 2},
                                         {5, true, {4, 0}, {2, 0}, 2},
                                         {6, false, {}, {}, 0}}) {
    KeyIndexEntry e;
    ASSERT_EQ(ti.Get("foo", c.rev, &e), c.found) << c.rev;
    if (!c.found) continue;
    EXPECT_EQ(e.modified, c.modified);
    EXPECT_EQ(e.created, c.created);
    EXPECT_EQ(e.version, c.version);
  }
  KeyIndexEntry e;
  EXPECT_FALSE(ti.Get("bar", 5, &e));
}

TEST(TreeIndexTest, Range) {
  const Keys all_keys = {"foo", "foo1", "foo2"};
  const Revs all_revs = {{1, 0}, {2, 0}, {3, 0}};
  TreeIndex ti;
  for (size_t i = 0; i < all_keys.size(); ++i) ti.Put(all_keys[i], all_revs[i]);
  struct Case {
    std::string key, end;
    size_t from, to;
  };
  for (const Case& c : std::vector<Case>{{"bar", "", 0, 0},
                                         {"foo", "", 0, 1},
                                         {"foo", "foo1", 0, 1},
                                         {"foo", "foo2", 0, 2},
                                         {"foo", "fop", 0, 3},
                                         {"foo1", "fop", 1, 3},
                                         {"foo2", "fop", 2, 3},
                                         {"foo3", "fop", 0, 0},
                                         {"", std::string(1, '\0'), 0, 3},
                                         {"foo1", std::string(1, '\0'), 1, 3}}) {
    Keys keys;
    Revs revs;
    ti.Range(c.key, c.end, 3, &keys, &revs);
    EXPECT_EQ(keys, Keys(all_keys.begin() + c.from, all_keys.begin() + c.to))
        << c.key << ".." << c.end;
    EXPECT_EQ(revs, Revs(all_revs.begin() + c.from, all_revs.begin() + c.to));
    Revs limited;
    const int64_t total = ti.Revisions(c.key, c.end, 3, 1, &limited);
    EXPECT_EQ(total, static_cast<int64_t>(c.to - c.from));
    EXPECT_EQ(limited.size(), std::min<size_t>(1, c.to - c.from));
  }
  // At an older revision only the keys that existed then.
  Revs revs;
  EXPECT_EQ(ti.Revisions("foo", "fop", 2, 0, &revs), 2);
  EXPECT_EQ(revs, (Revs{{1, 0}, {2, 0}}));
}

TEST(TreeIndexTest, Tombstone) {
  TreeIndex ti;
  ti.Put("foo", {1, 0});
  EXPECT_TRUE(ti.Tombstone("foo", {2, 0}));
  KeyIndexEntry e;
  EXPECT_FALSE(ti.Get("foo", 2, &e));
  EXPECT_FALSE(ti.Tombstone("foo", {3, 0}));
  EXPECT_FALSE(ti.Tombstone("missing", {3, 0}));
}

TEST(TreeIndexTest, RangeSince) {
  const Keys keys = {"foo", "foo1", "foo2", "foo2", "foo1", "foo"};
  const Revs revs = {{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}, {6, 0}};
  TreeIndex ti;
  for (size_t i = 0; i < keys.size(); ++i) ti.Put(keys[i], revs[i]);
  struct Case {
    std::string key, end;
    Revs want;
  };
  for (const Case& c : std::vector<Case>{
           {"bar", "", {}},
           {"foo", "", {{1, 0}, {6, 0}}},
           {"foo", "foo1", {{1, 0}, {6, 0}}},
           {"foo", "foo2", {{1, 0}, {2, 0}, {5, 0}, {6, 0}}},
           {"foo", "fop", revs},
           {"foo1", "fop", {{2, 0}, {3, 0}, {4, 0}, {5, 0}}},
           {"foo2", "fop", {{3, 0}, {4, 0}}},
           {"foo3", "fop", {}},
       }) {
    EXPECT_EQ(ti.RangeSince(c.key, c.end, 1), c.want) << c.key << ".." << c.end;
  }
}

struct Op {
  std::string key;
  bool remove;
  Revision rev;
  Revision created;
  int64_t version;
};

// etcd's TestIndexCompactAndKeep operations.
const std::vector<Op>& Ops() {
  static const auto* ops = new std::vector<Op>{
      {"foo", false, {1, 0}, {1, 0}, 1},    {"foo1", false, {2, 0}, {2, 0}, 1},
      {"foo2", false, {3, 0}, {3, 0}, 1},   {"foo2", false, {4, 0}, {3, 0}, 2},
      {"foo", false, {5, 0}, {1, 0}, 2},    {"foo1", false, {6, 0}, {2, 0}, 2},
      {"foo1", true, {7, 0}, {}, 0},        {"foo2", true, {8, 0}, {}, 0},
      {"foo", true, {9, 0}, {}, 0},         {"foo", false, {10, 0}, {10, 0}, 1},
      {"foo1", false, {10, 1}, {10, 1}, 1},
  };
  return *ops;
}

void Apply(TreeIndex& ti) {
  for (const Op& op : Ops()) {
    if (op.remove) {
      ti.Tombstone(op.key, op.rev);
    } else {
      ti.Put(op.key, op.rev);
    }
  }
}

// The index a restore from what compaction at `rev` keeps would build.
void ExpectCompactedAs(const TreeIndex& ti, const absl::flat_hash_set<Revision>& kept,
                       int64_t rev) {
  TreeIndex want;
  for (const Op& op : Ops()) {
    if (kept.contains(op.rev) || op.rev.GreaterThan(Revision{rev, 0})) {
      want.Restore(op.key, op.rev, op.remove, op.created, op.version);
    }
  }
  EXPECT_TRUE(ti.Equal(want)) << "compacted at " << rev;
}

TEST(TreeIndexTest, CompactAndKeep) {
  TreeIndex ti;
  Apply(ti);
  for (int64_t rev = 1; rev < 20; ++rev) {
    absl::flat_hash_set<Revision> kept = ti.Compact(rev);
    EXPECT_EQ(kept, ti.Keep(rev)) << rev;
    ExpectCompactedAs(ti, kept, rev);
  }
  for (int64_t rev = 1; rev < 20; ++rev) {
    TreeIndex fresh;
    Apply(fresh);
    absl::flat_hash_set<Revision> keep = fresh.Keep(rev);
    absl::flat_hash_set<Revision> kept = fresh.Compact(rev);
    EXPECT_EQ(kept, keep) << rev;
    ExpectCompactedAs(fresh, kept, rev);
  }
}

TEST(TreeIndexTest, CompactRemovesDeadKeysAcrossChunks) {
  TreeIndex ti;
  const int n = 3500;  // several compaction chunks
  for (int i = 0; i < n; ++i) ti.Put(absl::StrFormat("k%05d", i), {i + 1, 0});
  for (int i = 0; i < n; i += 2)
    ASSERT_TRUE(ti.Tombstone(absl::StrFormat("k%05d", i), {n + 1 + i, 0}));
  absl::flat_hash_set<Revision> kept = ti.Compact(3 * n);
  EXPECT_EQ(ti.KeyCount(), static_cast<size_t>(n / 2));
  EXPECT_EQ(kept.size(), static_cast<size_t>(n / 2));
  Revs revs;
  EXPECT_EQ(ti.Revisions("", std::string(1, '\0'), 3 * n, 0, &revs), n / 2);
}

TEST(TreeIndexTest, CompactDoesNotBlockWriters) {
  TreeIndex ti;
  for (int i = 0; i < 20000; ++i) ti.Put(absl::StrFormat("k%05d", i), {i + 1, 0});
  std::atomic<bool> done{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    int64_t rev = 100000;
    while (!done.load()) {
      ti.Put(absl::StrFormat("w%05d", writes.load() % 1000), {rev++, 0});
      writes.fetch_add(1);
    }
  });
  for (int64_t rev = 1000; rev <= 20000; rev += 1000) ti.Compact(rev);
  done.store(true);
  writer.join();
  EXPECT_GT(writes.load(), 0);
  KeyIndexEntry e;
  EXPECT_TRUE(ti.Get("k19999", 30000, &e));
}

}  // namespace
}  // namespace etcd::mvcc
