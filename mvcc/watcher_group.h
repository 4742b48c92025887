// A set of watchers indexed by what they watch (etcd's watcherGroup): single
// keys in a hash map, ranges in an interval tree (//pkg/adt), so that the
// watchers of one changed key are found in O(1 + log ranges + matches).
//
//   WatcherGroup group;
//   group.Add(&member, "a", "c");             // watches [a, c)
//   group.ForEachMatch("k", [](GroupMember* m) { ... });
//   group.Remove(&member);
//
// Members are owned elsewhere and belong to at most one group at a time; the
// group keeps their positions in the members themselves, so Add and Remove
// are O(1) for keys and O(log ranges) for ranges.
//
// Thread safety: not thread-safe (the watchable store guards its groups with
// its mutex).

#ifndef ETCD_MVCC_WATCHER_GROUP_H_
#define ETCD_MVCC_WATCHER_GROUP_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "pkg/adt/interval_tree.h"

namespace etcd::mvcc::internal {

struct WatcherList;

// What a group keeps in a watcher: its position, so that Remove is O(1).
struct GroupMember {
  WatcherList* list = nullptr;  // null when in no group
  size_t list_slot = 0;
  size_t all_slot = 0;
};

// The members watching one key or one exact range.
struct WatcherList {
  // The key, and the range end: empty for the single key, "\0" for every
  // key >= key, else [key, end).
  std::string key;
  std::string end;
  std::vector<GroupMember*> members;
};

class WatcherGroup {
 public:
  // With `track_members`, members() lists every member (what a catch-up
  // round picks from); without, the group saves that bookkeeping.
  explicit WatcherGroup(bool track_members = true) : track_members_(track_members) {}
  WatcherGroup(const WatcherGroup&) = delete;
  WatcherGroup& operator=(const WatcherGroup&) = delete;

  // Adds `member` watching `key` (end empty), [key, end), or every key >=
  // key (end "\0"). `member` must be in no group.
  void Add(GroupMember* member, absl::string_view key, absl::string_view end);
  // `member` must be in this group.
  void Remove(GroupMember* member);

  // Calls `visit` for every member whose key or range holds `key`: the
  // single-key watchers of `key` first, then range watchers by range start.
  // `visit` must not change the group.
  void ForEachMatch(absl::string_view key, absl::FunctionRef<void(GroupMember*)> visit) const;

  // Every member, in an order that Add appends to and Remove perturbs only
  // by moving the last member into the removed one's place. Only with
  // track_members.
  const std::vector<GroupMember*>& members() const { return all_; }
  // Every member, in any order (any group). `visit` must not change the group.
  void ForEachMember(absl::FunctionRef<void(GroupMember*)> visit) const;
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  const bool track_members_;
  size_t size_ = 0;
  absl::flat_hash_map<std::string, std::unique_ptr<WatcherList>> keys_;
  adt::IntervalTree<std::unique_ptr<WatcherList>> ranges_;
  std::vector<GroupMember*> all_;
};

}  // namespace etcd::mvcc::internal

#endif  // ETCD_MVCC_WATCHER_GROUP_H_
