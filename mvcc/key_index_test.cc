#include "mvcc/key_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace etcd::mvcc {
namespace {

// "c2v3[2 4 6(t)]"-style rendering: created, version, revisions (main or
// main.sub); generations separated by spaces, the open one as "[]".
std::string Rev(const Revision& r) {
  return r.sub == 0 ? absl::StrCat(r.main) : absl::StrCat(r.main, ".", r.sub);
}

std::string Describe(const KeyIndex& ki) {
  std::vector<std::string> gens;
  for (const Generation& g : ki.generations()) {
    if (g.empty()) {
      gens.push_back("[]");
      continue;
    }
    std::vector<std::string> revs;
    for (const Revision& r : g.revs) revs.push_back(Rev(r));
    gens.push_back(
        absl::StrCat("c", Rev(g.created), "v", g.ver, "[", absl::StrJoin(revs, " "), "]"));
  }
  return absl::StrJoin(gens, " ");
}

std::string Describe(const absl::flat_hash_set<Revision>& revs) {
  std::vector<Revision> sorted(revs.begin(), revs.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> out;
  for (const Revision& r : sorted) out.push_back(Rev(r));
  return absl::StrCat("{", absl::StrJoin(out, " "), "}");
}

// etcd's test key: three generations, the last one deleted at 16.
//   {2, 4, 6(t)} {8, 10, 12(t)} {14, 14.1, 16(t)} {}
KeyIndex TestKeyIndex() {
  KeyIndex ki;
  ki.Put(2, 0);
  ki.Put(4, 0);
  ki.Tombstone(6, 0);
  ki.Put(8, 0);
  ki.Put(10, 0);
  ki.Tombstone(12, 0);
  ki.Put(14, 0);
  ki.Put(14, 1);
  ki.Tombstone(16, 0);
  return ki;
}

TEST(KeyIndexTest, Get) {
  KeyIndex ki = TestKeyIndex();
  absl::flat_hash_set<Revision> unused;
  ki.Compact(4, &unused);
  struct Case {
    int64_t rev;
    bool found;
    Revision modified, created;
    int64_t version;
  };
  const std::vector<Case> cases = {
      {17, false, {}, {}, 0},          {16, false, {}, {}, 0},
      {15, true, {14, 1}, {14, 0}, 2}, {14, true, {14, 1}, {14, 0}, 2},
      {13, false, {}, {}, 0},          {12, false, {}, {}, 0},
      {11, true, {10, 0}, {8, 0}, 2},  {10, true, {10, 0}, {8, 0}, 2},
      {9, true, {8, 0}, {8, 0}, 1},    {8, true, {8, 0}, {8, 0}, 1},
      {7, false, {}, {}, 0},           {6, false, {}, {}, 0},
      {5, true, {4, 0}, {2, 0}, 2},    {4, true, {4, 0}, {2, 0}, 2},
      {3, false, {}, {}, 0},           {2, false, {}, {}, 0},
      {1, false, {}, {}, 0},           {0, false, {}, {}, 0},
  };
  for (const Case& c : cases) {
    KeyIndexEntry e;
    ASSERT_EQ(ki.Get(c.rev, &e), c.found) << "rev " << c.rev;
    if (!c.found) continue;
    EXPECT_EQ(e.modified, c.modified) << "rev " << c.rev;
    EXPECT_EQ(e.created, c.created) << "rev " << c.rev;
    EXPECT_EQ(e.version, c.version) << "rev " << c.rev;
  }
}

TEST(KeyIndexTest, Since) {
  KeyIndex ki = TestKeyIndex();
  absl::flat_hash_set<Revision> unused;
  ki.Compact(4, &unused);
  const std::vector<Revision> all = {{4, 0}, {6, 0}, {8, 0}, {10, 0}, {12, 0}, {14, 1}, {16, 0}};
  const std::vector<std::pair<int64_t, size_t>> cases = {
      {17, 7}, {16, 6}, {15, 6}, {14, 5}, {13, 5}, {12, 4}, {11, 4}, {10, 3}, {9, 3},
      {8, 2},  {7, 2},  {6, 1},  {5, 1},  {4, 0},  {3, 0},  {2, 0},  {1, 0},  {0, 0},
  };
  for (const auto& [rev, from] : cases) {
    std::vector<Revision> got;
    ki.Since(rev, &got);
    EXPECT_EQ(got, std::vector<Revision>(all.begin() + from, all.end())) << "rev " << rev;
  }
}

TEST(KeyIndexTest, PutRestoreTombstone) {
  KeyIndex ki;
  ki.Put(5, 0);
  EXPECT_EQ(Describe(ki), "c5v1[5]");
  EXPECT_EQ(ki.modified(), (Revision{5, 0}));
  ki.Put(7, 0);
  EXPECT_EQ(Describe(ki), "c5v2[5 7]");

  KeyIndex restored;
  restored.Restore(Revision{5, 0}, Revision{7, 0}, 2);
  EXPECT_EQ(Describe(restored), "c5v2[7]");
  EXPECT_EQ(restored.modified(), (Revision{7, 0}));

  KeyIndex t;
  t.Put(5, 0);
  EXPECT_TRUE(t.Tombstone(7, 0));
  EXPECT_EQ(Describe(t), "c5v2[5 7] []");
  t.Put(8, 0);
  t.Put(9, 0);
  EXPECT_TRUE(t.Tombstone(15, 0));
  EXPECT_EQ(Describe(t), "c5v2[5 7] c8v3[8 9 15] []");
  EXPECT_EQ(t.modified(), (Revision{15, 0}));
  // Deleting a deleted key: etcd's ErrRevisionNotFound.
  EXPECT_FALSE(t.Tombstone(16, 0));
  EXPECT_EQ(Describe(t), "c5v2[5 7] c8v3[8 9 15] []");
}

TEST(KeyIndexTest, PutBackInTimeAborts) {
  KeyIndex ki;
  ki.Put(5, 1);
  EXPECT_DEATH(ki.Put(5, 1), "not newer");
  EXPECT_DEATH(ki.Put(4, 9), "not newer");
}

TEST(KeyIndexTest, OperationsOnEmptyAbort) {
  KeyIndex ki;
  KeyIndexEntry e;
  EXPECT_DEATH(ki.Get(1, &e), "empty");
  EXPECT_DEATH(ki.Tombstone(1, 0), "empty");
}

struct CompactCase {
  int64_t rev;
  std::string after;
  std::string available;
};

// etcd's TestKeyIndexCompactAndKeep table.
const std::vector<CompactCase>& CompactCases() {
  static const auto* cases = new std::vector<CompactCase>{
      {1, "c2v3[2 4 6] c8v3[8 10 12] c14v3[14 14.1 16] []", "{}"},
      {2, "c2v3[2 4 6] c8v3[8 10 12] c14v3[14 14.1 16] []", "{2}"},
      {3, "c2v3[2 4 6] c8v3[8 10 12] c14v3[14 14.1 16] []", "{2}"},
      {4, "c2v3[4 6] c8v3[8 10 12] c14v3[14 14.1 16] []", "{4}"},
      {5, "c2v3[4 6] c8v3[8 10 12] c14v3[14 14.1 16] []", "{4}"},
      {6, "c8v3[8 10 12] c14v3[14 14.1 16] []", "{}"},
      {7, "c8v3[8 10 12] c14v3[14 14.1 16] []", "{}"},
      {8, "c8v3[8 10 12] c14v3[14 14.1 16] []", "{8}"},
      {9, "c8v3[8 10 12] c14v3[14 14.1 16] []", "{8}"},
      {10, "c8v3[10 12] c14v3[14 14.1 16] []", "{10}"},
      {11, "c8v3[10 12] c14v3[14 14.1 16] []", "{10}"},
      {12, "c14v3[14 14.1 16] []", "{}"},
      {13, "c14v3[14 14.1 16] []", "{}"},
      {14, "c14v3[14.1 16] []", "{14.1}"},
      {15, "c14v3[14.1 16] []", "{14.1}"},
      {16, "[]", "{}"},
  };
  return *cases;
}

void CheckKeepThenCompact(KeyIndex& ki, const CompactCase& c) {
  const std::string before = Describe(ki);
  absl::flat_hash_set<Revision> kept;
  ki.Keep(c.rev, &kept);
  EXPECT_EQ(Describe(ki), before) << "Keep changed the index at " << c.rev;
  EXPECT_EQ(Describe(kept), c.available) << "Keep at " << c.rev;
  absl::flat_hash_set<Revision> available;
  ki.Compact(c.rev, &available);
  EXPECT_EQ(Describe(ki), c.after) << "Compact at " << c.rev;
  EXPECT_EQ(Describe(available), c.available) << "Compact at " << c.rev;
}

TEST(KeyIndexTest, CompactAndKeepSuccessively) {
  KeyIndex ki = TestKeyIndex();
  for (const CompactCase& c : CompactCases()) CheckKeepThenCompact(ki, c);
  EXPECT_TRUE(ki.IsEmpty());
}

TEST(KeyIndexTest, CompactAndKeepSkippingRevisions) {
  KeyIndex ki = TestKeyIndex();
  const std::vector<CompactCase>& cases = CompactCases();
  for (size_t i = 0; i < cases.size(); ++i) {
    if ((i % 2 == 0 && i < 6) || (i % 2 == 1 && i > 6)) CheckKeepThenCompact(ki, cases[i]);
  }
}

TEST(KeyIndexTest, CompactAndKeepFromScratch) {
  for (const CompactCase& c : CompactCases()) {
    KeyIndex ki = TestKeyIndex();
    CheckKeepThenCompact(ki, c);
  }
}

TEST(KeyIndexTest, CompactOnFurtherRevision) {
  KeyIndex ki;
  ki.Put(1, 0);
  ki.Put(2, 0);
  absl::flat_hash_set<Revision> available;
  ki.Compact(3, &available);
  EXPECT_EQ(Describe(ki), "c1v2[2]");
  EXPECT_EQ(Describe(available), "{2}");
}

TEST(KeyIndexTest, IsEmpty) {
  KeyIndex ki;
  ki.Put(1, 0);
  EXPECT_FALSE(ki.IsEmpty());
  ki.Tombstone(2, 0);
  EXPECT_FALSE(ki.IsEmpty());
  absl::flat_hash_set<Revision> available;
  ki.Compact(2, &available);
  EXPECT_TRUE(ki.IsEmpty());
}

TEST(GenerationTest, Walk) {
  Generation g;
  g.ver = 3;
  g.created = Revision{2, 0};
  g.revs = {{2, 0}, {4, 0}, {6, 0}};
  const std::vector<std::pair<int64_t, int>> cases = {{7, 2}, {6, 1}, {5, 1},
                                                      {4, 0}, {3, 0}, {2, -1}};
  for (const auto& [bound, want] : cases) {
    EXPECT_EQ(g.Walk([bound = bound](const Revision& r) { return r.main >= bound; }), want);
  }
  EXPECT_TRUE(Generation().empty());
  EXPECT_FALSE(g.empty());
}

// FindGeneration is private; Get exposes which generation is alive when.
TEST(KeyIndexTest, GenerationAliveAt) {
  KeyIndex ki = TestKeyIndex();
  const std::vector<std::pair<int64_t, int64_t>> alive = {{0, 0},  {1, 0},  {2, 2},  {3, 2}, {4, 2},
                                                          {5, 2},  {6, 0},  {7, 0},  {8, 8}, {9, 8},
                                                          {10, 8}, {11, 8}, {12, 0}, {13, 0}};
  for (const auto& [rev, created] : alive) {
    KeyIndexEntry e;
    const bool found = ki.Get(rev, &e);
    EXPECT_EQ(found, created != 0) << rev;
    if (found) {
      EXPECT_EQ(e.created.main, created) << rev;
    }
  }
}

}  // namespace
}  // namespace etcd::mvcc
