#include "auth/range_perm_cache.h"

#include <algorithm>
#include <utility>

namespace etcd::auth {
namespace {

// Whether interval `a` ends at or after `b` (an empty end is +infinity).
bool EndAtLeast(const adt::Interval& a, const adt::Interval& b) {
  if (a.unbounded()) return true;
  if (b.unbounded()) return false;
  return a.end >= b.end;
}

void InsertAll(std::vector<adt::Interval> intervals, adt::IntervalTree<char>& tree) {
  for (adt::Interval& ivl : MergeIntervals(std::move(intervals))) tree.Insert(std::move(ivl), 0);
}

}  // namespace

adt::Interval PermissionInterval(const authpb::Permission& perm) {
  return adt::Interval::FromKeyRange(perm.key(), perm.range_end());
}

std::vector<adt::Interval> MergeIntervals(std::vector<adt::Interval> intervals) {
  intervals.erase(std::remove_if(intervals.begin(), intervals.end(),
                                 [](const adt::Interval& ivl) { return ivl.empty(); }),
                  intervals.end());
  std::sort(intervals.begin(), intervals.end(),
            [](const adt::Interval& a, const adt::Interval& b) { return a.begin < b.begin; });
  std::vector<adt::Interval> merged;
  for (adt::Interval& ivl : intervals) {
    if (!merged.empty()) {
      adt::Interval& last = merged.back();
      // `ivl` starts inside or right at the end of `last`: extend `last`.
      if (last.unbounded() || ivl.begin <= last.end) {
        if (!EndAtLeast(last, ivl)) last.end = std::move(ivl.end);
        continue;
      }
    }
    merged.push_back(std::move(ivl));
  }
  return merged;
}

UserPermissions UserPermissions::Build(bool root, absl::Span<const authpb::Role* const> roles) {
  UserPermissions perms;
  perms.root_ = root;
  std::vector<adt::Interval> read;
  std::vector<adt::Interval> write;
  for (const authpb::Role* role : roles) {
    if (role == nullptr) continue;
    for (const authpb::Permission& perm : role->keypermission()) {
      switch (perm.permtype()) {
        case authpb::Permission::READ:
          read.push_back(PermissionInterval(perm));
          break;
        case authpb::Permission::WRITE:
          write.push_back(PermissionInterval(perm));
          break;
        case authpb::Permission::READWRITE:
          read.push_back(PermissionInterval(perm));
          write.push_back(PermissionInterval(perm));
          break;
        default:
          break;  // unknown types grant nothing
      }
    }
  }
  InsertAll(std::move(read), perms.read_);
  InsertAll(std::move(write), perms.write_);
  return perms;
}

bool UserPermissions::IsPermitted(absl::string_view key, absl::string_view range_end,
                                  Access access) const {
  if (root_) return true;
  const adt::IntervalTree<char>& t = tree(access);
  if (range_end.empty()) return t.Intersects(adt::Interval::Point(key));
  return t.Contains(adt::Interval::FromKeyRange(key, range_end));
}

std::vector<adt::Interval> UserPermissions::Ranges(Access access) const {
  std::vector<adt::Interval> out;
  // Every interval overlaps ["", +inf) except empty ones, which are never stored.
  tree(access).Visit(adt::Interval("", ""), [&out](const adt::Interval& ivl, const char&) {
    out.push_back(ivl);
    return true;
  });
  return out;
}

}  // namespace etcd::auth
