// The merged key permissions of one user: what the permission checks of the
// auth store consult on every request (internal to //auth; etcd's
// range_perm_cache.go).
//
//   std::vector<const authpb::Role*> roles = {&readers, &writers};
//   etcd::auth::UserPermissions perms = etcd::auth::UserPermissions::Build(
//       /*root=*/false, roles);
//   perms.IsPermitted("foo", "", etcd::auth::Access::kRead);      // the key "foo"
//   perms.IsPermitted("a", "b", etcd::auth::Access::kWrite);      // every key in [a, b)
//   perms.IsPermitted("a", "\0", etcd::auth::Access::kRead);      // every key >= "a"
//
// Build takes every permission of every role, turns each into an interval
// with etcd's (key, range_end) convention (empty range_end: the single key;
// "\0": every key >= key; otherwise [key, range_end)), splits them into read
// and write sets (READWRITE goes into both; unknown types are ignored, as in
// etcd), merges each set into sorted, disjoint, non-adjacent intervals, and
// stores those in an //pkg/adt interval tree. A request is permitted when
// its own interval (same convention) is covered entirely by the union; a
// request with a bounded range_end <= key covers no key and is denied.
// Because the intervals are merged, a check is one O(log n) descent whatever
// the overlaps between grants.
//
// A user with the root role is permitted everything (root()), permissions or
// not.
//
// Thread safety: immutable after Build; const methods may run concurrently.

#ifndef ETCD_AUTH_RANGE_PERM_CACHE_H_
#define ETCD_AUTH_RANGE_PERM_CACHE_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/authpb/auth.pb.h"
#include "pkg/adt/interval_tree.h"

namespace etcd::auth {

// What an operation does to a key range.
enum class Access { kRead, kWrite };

// The interval a granted permission covers (see the header comment).
adt::Interval PermissionInterval(const authpb::Permission& perm);

// The union of `intervals` as sorted, disjoint, non-adjacent intervals
// (empty intervals dropped).
std::vector<adt::Interval> MergeIntervals(std::vector<adt::Interval> intervals);

class UserPermissions {
 public:
  UserPermissions() = default;
  UserPermissions(UserPermissions&&) = default;
  UserPermissions& operator=(UserPermissions&&) = default;

  // The permissions of a user holding `roles` (null entries, for roles the
  // user names but that do not exist, are skipped). `root`: the user has the
  // root role.
  static UserPermissions Build(bool root, absl::Span<const authpb::Role* const> roles);

  bool root() const { return root_; }

  // Whether `access` to (key, range_end) is permitted; always true for root.
  bool IsPermitted(absl::string_view key, absl::string_view range_end, Access access) const;

  // The merged intervals of one access kind, in order.
  std::vector<adt::Interval> Ranges(Access access) const;

 private:
  const adt::IntervalTree<char>& tree(Access access) const {
    return access == Access::kRead ? read_ : write_;
  }

  bool root_ = false;
  adt::IntervalTree<char> read_;
  adt::IntervalTree<char> write_;
};

}  // namespace etcd::auth

#endif  // ETCD_AUTH_RANGE_PERM_CACHE_H_
