#include "mvcc/watcher_group.h"

#include <utility>

#include "pkg/log/log.h"

namespace etcd::mvcc::internal {

namespace {

void SwapRemove(std::vector<GroupMember*>* v, size_t slot, size_t GroupMember::*slot_field) {
  GroupMember* last = v->back();
  (*v)[slot] = last;
  last->*slot_field = slot;
  v->pop_back();
}

}  // namespace

void WatcherGroup::Add(GroupMember* member, absl::string_view key, absl::string_view end) {
  if (member->list != nullptr) log::Panic("mvcc: watcher added to a second group");
  WatcherList* list;
  if (end.empty()) {
    std::unique_ptr<WatcherList>& slot = keys_[key];
    if (slot == nullptr) {
      slot = std::make_unique<WatcherList>();
      slot->key = std::string(key);
    }
    list = slot.get();
  } else {
    adt::Interval ivl = adt::Interval::FromKeyRange(key, end);
    std::unique_ptr<WatcherList>* found = ranges_.Find(ivl);
    if (found == nullptr) {
      auto fresh = std::make_unique<WatcherList>();
      fresh->key = std::string(key);
      fresh->end = std::string(end);
      list = fresh.get();
      ranges_.Insert(std::move(ivl), std::move(fresh));
    } else {
      list = found->get();
    }
  }
  member->list = list;
  member->list_slot = list->members.size();
  list->members.push_back(member);
  ++size_;
  if (!track_members_) return;
  member->all_slot = all_.size();
  all_.push_back(member);
}

void WatcherGroup::Remove(GroupMember* member) {
  WatcherList* list = member->list;
  if (list == nullptr || member->list_slot >= list->members.size() ||
      list->members[member->list_slot] != member ||
      (track_members_ && (member->all_slot >= all_.size() || all_[member->all_slot] != member))) {
    log::Panic("mvcc: watcher removed from a group it is not in");
  }
  SwapRemove(&list->members, member->list_slot, &GroupMember::list_slot);
  if (track_members_) SwapRemove(&all_, member->all_slot, &GroupMember::all_slot);
  --size_;
  member->list = nullptr;
  if (!list->members.empty()) return;
  if (list->end.empty()) {
    keys_.erase(keys_.find(list->key));  // frees list
  } else {
    ranges_.Delete(adt::Interval::FromKeyRange(list->key, list->end));
  }
}

void WatcherGroup::ForEachMatch(absl::string_view key,
                                absl::FunctionRef<void(GroupMember*)> visit) const {
  if (auto it = keys_.find(key); it != keys_.end()) {
    for (GroupMember* m : it->second->members) visit(m);
  }
  if (ranges_.Len() == 0) return;
  ranges_.Visit(adt::Interval::Point(key),
                [&](const adt::Interval&, const std::unique_ptr<WatcherList>& list) {
                  for (GroupMember* m : list->members) visit(m);
                  return true;
                });
}

void WatcherGroup::ForEachMember(absl::FunctionRef<void(GroupMember*)> visit) const {
  for (const auto& [key, list] : keys_) {
    for (GroupMember* m : list->members) visit(m);
  }
  ranges_.Visit(adt::Interval("", ""),
                [&](const adt::Interval&, const std::unique_ptr<WatcherList>& list) {
                  for (GroupMember* m : list->members) visit(m);
                  return true;
                });
}

}  // namespace etcd::mvcc::internal
