#include "mvcc/key_index.h"

#include "absl/strings/str_cat.h"
#include "pkg/log/log.h"

namespace etcd::mvcc {

int Generation::Walk(absl::FunctionRef<bool(const Revision&)> keep_going) const {
  for (int i = static_cast<int>(revs.size()) - 1; i >= 0; --i) {
    if (!keep_going(revs[i])) return i;
  }
  return -1;
}

void KeyIndex::Put(int64_t main, int64_t sub) {
  const Revision rev{main, sub};
  if (!rev.GreaterThan(modified_)) {
    log::Panic(
        "mvcc: key index: put with a revision not newer than the last write",
        {{"given-revision", rev.DebugString()}, {"modified-revision", modified_.DebugString()}});
  }
  if (generations_.empty()) generations_.emplace_back();
  Generation& g = generations_.back();
  if (g.revs.empty()) g.created = rev;
  g.revs.push_back(rev);
  ++g.ver;
  modified_ = rev;
}

void KeyIndex::Restore(const Revision& created, const Revision& modified, int64_t version) {
  if (!generations_.empty()) {
    log::Panic("mvcc: key index: restore into a non-empty index",
               {{"generations-size", generations_.size()}});
  }
  modified_ = modified;
  Generation g;
  g.created = created;
  g.ver = version;
  g.revs.push_back(modified);
  generations_.push_back(std::move(g));
}

bool KeyIndex::Tombstone(int64_t main, int64_t sub) {
  if (generations_.empty() || IsEmpty()) {
    log::Panic("mvcc: key index: tombstone on an empty index");
  }
  if (generations_.back().empty()) return false;
  Put(main, sub);
  generations_.emplace_back();
  return true;
}

bool KeyIndex::Get(int64_t at_rev, KeyIndexEntry* entry) const {
  if (generations_.empty() || IsEmpty()) log::Panic("mvcc: key index: get on an empty index");
  const Generation* g = FindGeneration(at_rev);
  if (g == nullptr || g->empty()) return false;
  const int n = g->Walk([at_rev](const Revision& rev) { return rev.main > at_rev; });
  if (n == -1) return false;
  entry->modified = g->revs[n];
  entry->created = g->created;
  entry->version = g->ver - static_cast<int64_t>(g->revs.size() - n - 1);
  return true;
}

void KeyIndex::Since(int64_t rev, std::vector<Revision>* out) const {
  if (generations_.empty() || IsEmpty()) log::Panic("mvcc: key index: since on an empty index");
  const Revision since{rev, 0};
  // The oldest generation that can hold revisions at or after `since`.
  size_t gi = generations_.size() - 1;
  for (; gi > 0; --gi) {
    const Generation& g = generations_[gi];
    if (g.empty()) continue;
    if (since.GreaterThan(g.created)) break;
  }
  const size_t first = out->size();
  int64_t last = 0;
  for (; gi < generations_.size(); ++gi) {
    for (const Revision& r : generations_[gi].revs) {
      if (since.GreaterThan(r)) continue;
      if (out->size() > first && r.main == last) {
        // Only the last change of a main revision is of interest.
        out->back() = r;
        continue;
      }
      out->push_back(r);
      last = r.main;
    }
  }
}

std::pair<size_t, int> KeyIndex::DoCompact(int64_t at_rev,
                                           absl::flat_hash_set<Revision>* available) const {
  size_t gen_idx = 0;
  // Skip generations that ended (were tombstoned) at or before at_rev.
  while (gen_idx + 1 < generations_.size()) {
    const Generation& g = generations_[gen_idx];
    if (g.revs.back().main > at_rev) break;
    ++gen_idx;
  }
  const int rev_index = generations_[gen_idx].Walk([&](const Revision& rev) {
    if (rev.main <= at_rev) {
      available->insert(rev);
      return false;
    }
    return true;
  });
  return {gen_idx, rev_index};
}

void KeyIndex::Compact(int64_t at_rev, absl::flat_hash_set<Revision>* available) {
  if (generations_.empty() || IsEmpty()) {
    log::Panic("mvcc: key index: compact on an empty index");
  }
  auto [gen_idx, rev_index] = DoCompact(at_rev, available);
  Generation& g = generations_[gen_idx];
  if (!g.empty()) {
    if (rev_index != -1) g.revs.erase(g.revs.begin(), g.revs.begin() + rev_index);
    // A closed generation left with only its tombstone is gone entirely.
    if (g.revs.size() == 1 && gen_idx != generations_.size() - 1) {
      available->erase(g.revs[0]);
      ++gen_idx;
    }
  }
  generations_.erase(generations_.begin(), generations_.begin() + gen_idx);
}

void KeyIndex::Keep(int64_t at_rev, absl::flat_hash_set<Revision>* available) const {
  if (generations_.empty() || IsEmpty()) return;
  auto [gen_idx, rev_index] = DoCompact(at_rev, available);
  const Generation& g = generations_[gen_idx];
  if (!g.empty() && rev_index == static_cast<int>(g.revs.size()) - 1 &&
      gen_idx != generations_.size() - 1) {
    available->erase(g.revs[rev_index]);
  }
}

const Generation* KeyIndex::FindGeneration(int64_t rev) const {
  const int last = static_cast<int>(generations_.size()) - 1;
  for (int cg = last; cg >= 0; --cg) {
    const Generation& g = generations_[cg];
    if (g.revs.empty()) continue;
    // A closed generation whose tombstone is at or before `rev`: the key
    // did not exist at `rev` (and older generations are older still).
    if (cg != last && g.revs.back().main <= rev) return nullptr;
    if (g.revs.front().main <= rev) return &g;
  }
  return nullptr;
}

std::string KeyIndex::DebugString() const {
  std::string out;
  for (const Generation& g : generations_) {
    absl::StrAppend(&out, "g: created[", g.created.DebugString(), "] ver[", g.ver, "], revs [");
    for (size_t i = 0; i < g.revs.size(); ++i) {
      absl::StrAppend(&out, i ? " " : "", g.revs[i].DebugString());
    }
    absl::StrAppend(&out, "]\n");
  }
  return out;
}

}  // namespace etcd::mvcc
