// The in-memory index from keys to their revision histories (etcd's treeIndex).
//
//   TreeIndex index;
//   index.Put("foo", Revision{2, 0});
//   index.Put("foo", Revision{3, 0});
//   KeyIndexEntry e;
//   index.Get("foo", /*at_rev=*/2, &e);     // true, e.modified == {2 0}
//   std::vector<Revision> revs;
//   int64_t total = index.Revisions("a", "z", /*at_rev=*/3, /*limit=*/10, &revs);
//   absl::flat_hash_set<Revision> keep = index.Compact(/*rev=*/3);
//
// Keys live in a B-tree (absl::btree_map) ordered bytewise, each with its
// KeyIndex. Each tree slot caches the key's first 8 bytes as a big-endian
// integer that is compared first, so a lookup mostly compares integers in the
// node instead of chasing every key's bytes; the KeyIndex lives out of line
// to keep slots small and the tree shallow. The index is rebuilt from the
// backend's "key" bucket when a store opens.
//
// Ranges: an empty `end` means the single key `key`; an `end` of one zero byte
// ("\0", etcd's wire convention) means every key from `key` on; otherwise the
// half-open range [key, end).
//
// Thread-safe: a reader/writer lock; Compact works in chunks of keys and
// releases the lock between them so writers are not stalled by a large index.

#ifndef ETCD_MVCC_INDEX_H_
#define ETCD_MVCC_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "mvcc/key_index.h"
#include "mvcc/revision.h"

namespace etcd::mvcc {

namespace internal {

// The first 8 bytes of `key`, big-endian, zero-padded: ordering these
// agrees with ordering the keys wherever they differ.
inline uint64_t KeyPrefix(absl::string_view key) {
  uint64_t v = 0;
  const size_t n = key.size() < 8 ? key.size() : 8;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(key[i])) << (56 - 8 * i);
  return v;
}

struct IndexKey {
  uint64_t prefix;
  std::string key;
};

struct KeyProbe {
  explicit KeyProbe(absl::string_view k) : prefix(KeyPrefix(k)), key(k) {}
  uint64_t prefix;
  absl::string_view key;
};

struct IndexKeyLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return absl::string_view(a.key) < absl::string_view(b.key);
  }
};

}  // namespace internal

// Whether `end` is etcd's "every key from here on" range end.
inline bool IsUnboundedEnd(absl::string_view end) { return end.size() == 1 && end[0] == '\0'; }

class TreeIndex {
 public:
  TreeIndex() = default;
  TreeIndex(const TreeIndex&) = delete;
  TreeIndex& operator=(const TreeIndex&) = delete;

  // The newest write of `key` at or before `at_rev` if it existed then.
  bool Get(absl::string_view key, int64_t at_rev, KeyIndexEntry* entry) const;

  // The revisions, in key order, of the keys in the range that exist at
  // `at_rev`: at most `limit` appended to `revs` (all when <= 0). Returns
  // how many there are in total.
  int64_t Revisions(absl::string_view key, absl::string_view end, int64_t at_rev, int64_t limit,
                    std::vector<Revision>* revs) const;

  // The keys in the range that exist at `at_rev`, and their revisions.
  void Range(absl::string_view key, absl::string_view end, int64_t at_rev,
             std::vector<std::string>* keys, std::vector<Revision>* revs) const;

  // Records a write of `key` at `rev`. If `prev` is not null, it receives
  // what Get(key, rev.main) found before the write; returns whether it found
  // anything (one tree lookup for both).
  bool Put(absl::string_view key, const Revision& rev, KeyIndexEntry* prev = nullptr);

  // Records a deletion; false if the key does not exist now.
  bool Tombstone(absl::string_view key, const Revision& rev);

  // The revisions of writes to keys in the range since `rev` (inclusive),
  // sorted by revision (what a watcher catching up reads).
  std::vector<Revision> RangeSince(absl::string_view key, absl::string_view end, int64_t rev) const;

  // Compacts every key at `rev` and removes keys left with nothing; returns
  // the revisions at or below `rev` that stay in the backend.
  absl::flat_hash_set<Revision> Compact(int64_t rev);

  // The revisions at or below `rev` that Compact(rev) would keep.
  absl::flat_hash_set<Revision> Keep(int64_t rev) const;

  // Restoring from the backend, in revision order: `rev` is a put (creating
  // a key not in the index with `created`/`version` from its value) or a
  // tombstone (ignored for a key not in the index).
  void Restore(absl::string_view key, const Revision& rev, bool tombstone, const Revision& created,
               int64_t version);

  // Keys in the index (including ones that are deleted now but still have
  // history).
  size_t KeyCount() const;

  // Calls `visit` with every key and its index, in key order, under the
  // reader lock (tests and debugging).
  void ForEach(absl::FunctionRef<void(absl::string_view, const KeyIndex&)> visit) const;

  bool Equal(const TreeIndex& other) const;

 private:
  using Tree =
      absl::btree_map<internal::IndexKey, std::unique_ptr<KeyIndex>, internal::IndexKeyLess>;

  // Calls `visit` for each key of the range, in order.
  void Visit(absl::string_view key, absl::string_view end,
             absl::FunctionRef<void(const std::string&, const KeyIndex&)> visit) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  Tree tree_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_INDEX_H_
