// A brute-force reference for the keys a set of grants permits (testonly),
// written independently of range_perm_cache and //pkg/adt.
//
//   etcd::auth::PermModel model;
//   model.Grant(perm);                                   // authpb::Permission
//   bool ok = model.IsPermitted("a", "c", /*write=*/false);
//
// Each grant is the half-open key set etcd's convention gives it (empty
// range_end: {key}, i.e. [key, key+"\0"); "\0": [key, +inf); else
// [key, range_end), nothing if range_end <= key). A query is permitted when
// every key of its own set lies in some grant of the right kind. The check
// cuts the query at every grant endpoint inside it: on each piece between two
// consecutive cut points, coverage is constant, so testing the piece's first
// key decides it. O(grants^2) per query; for tests only.
//
// Thread-compatible.

#ifndef ETCD_AUTH_PERM_MODEL_H_
#define ETCD_AUTH_PERM_MODEL_H_

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/authpb/auth.pb.h"

namespace etcd::auth {

class PermModel {
 public:
  void Grant(const authpb::Permission& perm) {
    Range r = ToRange(perm.key(), perm.range_end());
    if (r.IsEmpty()) return;
    switch (perm.permtype()) {
      case authpb::Permission::READ:
        read_.push_back(r);
        break;
      case authpb::Permission::WRITE:
        write_.push_back(r);
        break;
      case authpb::Permission::READWRITE:
        read_.push_back(r);
        write_.push_back(r);
        break;
      default:
        break;
    }
  }

  void Clear() {
    read_.clear();
    write_.clear();
  }

  bool IsPermitted(absl::string_view key, absl::string_view range_end, bool write) const {
    const std::vector<Range>& grants = write ? write_ : read_;
    Range q = ToRange(key, range_end);
    if (q.IsEmpty()) return false;
    std::vector<std::string> cuts = {q.begin};
    for (const Range& g : grants) {
      if (q.Holds(g.begin)) cuts.push_back(g.begin);
      if (!g.unbounded && q.Holds(g.end)) cuts.push_back(g.end);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    for (const std::string& c : cuts) {
      bool covered = false;
      for (const Range& g : grants) {
        if (g.Holds(c)) {
          covered = true;
          break;
        }
      }
      if (!covered) return false;
    }
    // The last piece runs to the end of the query; when that is +inf, some
    // grant must run to +inf as well (the cut points alone cannot show it).
    if (q.unbounded) {
      for (const Range& g : grants) {
        if (g.unbounded && g.begin <= cuts.back()) return true;
      }
      return false;
    }
    return true;
  }

 private:
  struct Range {
    std::string begin;
    std::string end;
    bool unbounded = false;

    bool IsEmpty() const { return !unbounded && end <= begin; }
    bool Holds(absl::string_view k) const {
      return begin <= k && (unbounded || k < absl::string_view(end));
    }
  };

  static Range ToRange(absl::string_view key, absl::string_view range_end) {
    Range r;
    r.begin = std::string(key);
    if (range_end.empty()) {
      r.end = r.begin + std::string(1, '\0');
    } else if (range_end == absl::string_view("\0", 1)) {
      r.unbounded = true;
    } else {
      r.end = std::string(range_end);
    }
    return r;
  }

  std::vector<Range> read_;
  std::vector<Range> write_;
};

}  // namespace etcd::auth

#endif  // ETCD_AUTH_PERM_MODEL_H_
