// The revision history of one key: generations of revisions (etcd's keyIndex).
//
//   KeyIndex ki;
//   ki.Put(2, 0);                      // created at 2
//   ki.Put(4, 0);                      // modified at 4
//   ki.Tombstone(6, 0);                // deleted at 6: a new, empty generation starts
//   KeyIndexEntry e;
//   ki.Get(5, &e);                     // true: e.modified = {4 0}, e.created = {2 0}, e.version =
//   2 ki.Get(7, &e);                     // false: deleted
//
// A generation is the life of the key from a creation to a deletion: the
// revisions of its writes, the last one a tombstone, except in the newest
// generation, which is open (empty when the key does not exist now).
// Compaction at revision R drops every revision not needed to read the key
// at R or later, and whole generations that ended at or before R.
//
// Methods on an empty index that etcd treats as bugs (Get, Since, Compact,
// Tombstone on a never-written key, a Put that goes back in time) abort the
// process with a message saying so.
//
// Thread-compatible; TreeIndex (index.h) provides the locking.

#ifndef ETCD_MVCC_KEY_INDEX_H_
#define ETCD_MVCC_KEY_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "mvcc/revision.h"

namespace etcd::mvcc {

struct Generation {
  // Writes in this generation (etcd's version counter).
  int64_t ver = 0;
  // The revision of the put that started the generation.
  Revision created;
  // Revisions of every retained write, ascending; the last one is the
  // tombstone unless this is the newest generation.
  absl::InlinedVector<Revision, 1> revs;

  bool empty() const { return revs.empty(); }
  // Walks revs from newest to oldest and returns the index of the first for
  // which `keep_going` is false, or -1.
  int Walk(absl::FunctionRef<bool(const Revision&)> keep_going) const;

  friend bool operator==(const Generation& a, const Generation& b) {
    return a.ver == b.ver && a.created == b.created && a.revs == b.revs;
  }
};

// What Get finds.
struct KeyIndexEntry {
  Revision modified;
  Revision created;
  int64_t version = 0;
};

class KeyIndex {
 public:
  // Records a write at (main, sub), which must be newer than every revision
  // recorded so far.
  void Put(int64_t main, int64_t sub);

  // Initialises an index read back from the backend: one generation created
  // at `created`, last written at `modified`, with `version` writes.
  void Restore(const Revision& created, const Revision& modified, int64_t version);

  // Records a deletion at (main, sub) and opens a new generation. Returns
  // false (etcd's ErrRevisionNotFound) if the key does not exist now.
  bool Tombstone(int64_t main, int64_t sub);

  // The newest write at or before `at_rev` if the key existed then.
  bool Get(int64_t at_rev, KeyIndexEntry* entry) const;

  // Revisions of the key's writes since `rev` (inclusive), keeping only the
  // last write of each main revision; appended to `out`.
  void Since(int64_t rev, std::vector<Revision>* out) const;

  // Drops what compaction at `at_rev` makes unreachable and adds to
  // `available` the revisions of this key that survive at or below it.
  void Compact(int64_t at_rev, absl::flat_hash_set<Revision>* available);

  // Adds to `available` the revisions Compact(at_rev) would keep, without
  // changing anything.
  void Keep(int64_t at_rev, absl::flat_hash_set<Revision>* available) const;

  // Whether nothing is recorded (one empty generation): compaction removed
  // every revision.
  bool IsEmpty() const { return generations_.size() == 1 && generations_[0].empty(); }

  const Revision& modified() const { return modified_; }
  const absl::InlinedVector<Generation, 1>& generations() const { return generations_; }

  std::string DebugString() const;

  friend bool operator==(const KeyIndex& a, const KeyIndex& b) {
    return a.modified_ == b.modified_ && a.generations_ == b.generations_;
  }
  friend bool operator!=(const KeyIndex& a, const KeyIndex& b) { return !(a == b); }

 private:
  // Finds the generation Compact and Keep work on and the index in it of
  // the newest revision at or below `at_rev` (-1 if none), adding every
  // revision at or below `at_rev` in that generation to `available`.
  std::pair<size_t, int> DoCompact(int64_t at_rev, absl::flat_hash_set<Revision>* available) const;
  // The generation alive at `rev`, or null.
  const Generation* FindGeneration(int64_t rev) const;

  // The revision of the last write (etcd's modified).
  Revision modified_;
  absl::InlinedVector<Generation, 1> generations_;
};

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_KEY_INDEX_H_
