#include "mvcc/index.h"

#include <algorithm>

#include "pkg/log/log.h"

namespace etcd::mvcc {

using internal::IndexKey;
using internal::KeyProbe;

namespace {

// Keys compacted per lock hold.
constexpr int kCompactChunk = 1000;

}  // namespace

void TreeIndex::Visit(absl::string_view key, absl::string_view end,
                      absl::FunctionRef<void(const std::string&, const KeyIndex&)> visit) const {
  const bool unbounded = IsUnboundedEnd(end);
  for (auto it = tree_.lower_bound(KeyProbe(key)); it != tree_.end(); ++it) {
    if (!unbounded && absl::string_view(it->first.key) >= end) break;
    visit(it->first.key, *it->second);
  }
}

bool TreeIndex::Get(absl::string_view key, int64_t at_rev, KeyIndexEntry* entry) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = tree_.find(KeyProbe(key));
  if (it == tree_.end()) return false;
  return it->second->Get(at_rev, entry);
}

int64_t TreeIndex::Revisions(absl::string_view key, absl::string_view end, int64_t at_rev,
                             int64_t limit, std::vector<Revision>* revs) const {
  absl::ReaderMutexLock lock(&mu_);
  KeyIndexEntry entry;
  if (end.empty()) {
    auto it = tree_.find(KeyProbe(key));
    if (it == tree_.end() || !it->second->Get(at_rev, &entry)) return 0;
    revs->push_back(entry.modified);
    return 1;
  }
  int64_t total = 0;
  Visit(key, end, [&](const std::string&, const KeyIndex& ki) {
    if (!ki.Get(at_rev, &entry)) return;
    if (limit <= 0 || total < limit) revs->push_back(entry.modified);
    ++total;
  });
  return total;
}

void TreeIndex::Range(absl::string_view key, absl::string_view end, int64_t at_rev,
                      std::vector<std::string>* keys, std::vector<Revision>* revs) const {
  absl::ReaderMutexLock lock(&mu_);
  KeyIndexEntry entry;
  if (end.empty()) {
    auto it = tree_.find(KeyProbe(key));
    if (it == tree_.end() || !it->second->Get(at_rev, &entry)) return;
    keys->push_back(it->first.key);
    revs->push_back(entry.modified);
    return;
  }
  Visit(key, end, [&](const std::string& k, const KeyIndex& ki) {
    if (!ki.Get(at_rev, &entry)) return;
    keys->push_back(k);
    revs->push_back(entry.modified);
  });
}

bool TreeIndex::Put(absl::string_view key, const Revision& rev, KeyIndexEntry* prev) {
  const KeyProbe probe(key);
  absl::MutexLock lock(&mu_);
  auto it = tree_.find(probe);
  if (it == tree_.end()) {
    it =
        tree_.emplace(IndexKey{probe.prefix, std::string(key)}, std::make_unique<KeyIndex>()).first;
    it->second->Put(rev.main, rev.sub);
    return false;
  }
  const bool found = prev != nullptr && it->second->Get(rev.main, prev);
  it->second->Put(rev.main, rev.sub);
  return found;
}

bool TreeIndex::Tombstone(absl::string_view key, const Revision& rev) {
  absl::MutexLock lock(&mu_);
  auto it = tree_.find(KeyProbe(key));
  if (it == tree_.end()) return false;
  return it->second->Tombstone(rev.main, rev.sub);
}

std::vector<Revision> TreeIndex::RangeSince(absl::string_view key, absl::string_view end,
                                            int64_t rev) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<Revision> revs;
  if (end.empty()) {
    auto it = tree_.find(KeyProbe(key));
    if (it != tree_.end()) it->second->Since(rev, &revs);
    return revs;
  }
  Visit(key, end, [&](const std::string&, const KeyIndex& ki) { ki.Since(rev, &revs); });
  std::sort(revs.begin(), revs.end());
  return revs;
}

absl::flat_hash_set<Revision> TreeIndex::Compact(int64_t rev) {
  absl::flat_hash_set<Revision> available;
  std::string next;
  bool more = true;
  while (more) {
    absl::MutexLock lock(&mu_);
    auto it = tree_.lower_bound(KeyProbe(next));
    for (int n = 0; it != tree_.end() && n < kCompactChunk; ++n) {
      it->second->Compact(rev, &available);
      if (it->second->IsEmpty()) {
        it = tree_.erase(it);
      } else {
        ++it;
      }
    }
    more = it != tree_.end();
    if (more) next = it->first.key;
  }
  return available;
}

absl::flat_hash_set<Revision> TreeIndex::Keep(int64_t rev) const {
  absl::flat_hash_set<Revision> available;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [key, ki] : tree_) ki->Keep(rev, &available);
  return available;
}

void TreeIndex::Restore(absl::string_view key, const Revision& rev, bool tombstone,
                        const Revision& created, int64_t version) {
  const KeyProbe probe(key);
  absl::MutexLock lock(&mu_);
  auto it = tree_.find(probe);
  if (it == tree_.end()) {
    // The oldest retained change of a key; a tombstone there means the key
    // was deleted before the compacted revision and has no history left.
    if (tombstone) return;
    auto ki = std::make_unique<KeyIndex>();
    ki->Restore(created, rev, version);
    tree_.emplace(IndexKey{probe.prefix, std::string(key)}, std::move(ki));
    return;
  }
  if (tombstone) {
    it->second->Tombstone(rev.main, rev.sub);
  } else {
    it->second->Put(rev.main, rev.sub);
  }
}

size_t TreeIndex::KeyCount() const {
  absl::ReaderMutexLock lock(&mu_);
  return tree_.size();
}

void TreeIndex::ForEach(absl::FunctionRef<void(absl::string_view, const KeyIndex&)> visit) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [key, ki] : tree_) visit(key.key, *ki);
}

bool TreeIndex::Equal(const TreeIndex& other) const {
  if (this == &other) return true;
  absl::ReaderMutexLock lock(&mu_);
  absl::ReaderMutexLock other_lock(&other.mu_);
  if (tree_.size() != other.tree_.size()) return false;
  for (auto a = tree_.begin(), b = other.tree_.begin(); a != tree_.end(); ++a, ++b) {
    if (a->first.key != b->first.key || *a->second != *b->second) return false;
  }
  return true;
}

}  // namespace etcd::mvcc
