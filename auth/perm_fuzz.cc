// Fuzzes permission merging: grants decoded from the input, merged by
// UserPermissions, then queries answered both by it and by the brute-force
// PermModel; any disagreement aborts. Also checks that the merged ranges are
// sorted, disjoint and non-adjacent.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "api/authpb/auth.pb.h"
#include "auth/perm_model.h"
#include "auth/range_perm_cache.h"

namespace {

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }

  // Keys over a tiny alphabet with "\0" and "\xff", so bounds collide often.
  std::string Key() {
    static const char kAlphabet[] = {'a', 'b', '\0', '\xff', 'c'};
    std::string k;
    int len = Byte() % 4;
    for (int i = 0; i < len; ++i) k.push_back(kAlphabet[Byte() % sizeof(kAlphabet)]);
    return k;
  }
  std::string End() {
    switch (Byte() % 4) {
      case 0:
        return "";
      case 1:
        return std::string(1, '\0');
      default:
        return Key();
    }
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "perm_fuzz: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using etcd::auth::Access;
  Reader in(data, size);
  etcd::auth::PermModel model;
  std::vector<authpb::Role> roles(1 + in.Byte() % 3);
  int grants = in.Byte() % 24;
  for (int i = 0; i < grants; ++i) {
    authpb::Permission p;
    p.set_permtype(static_cast<authpb::Permission::Type>(in.Byte() % 4));  // 3: unknown
    p.set_key(in.Key());
    p.set_range_end(in.End());
    model.Grant(p);
    *roles[in.Byte() % roles.size()].add_keypermission() = p;
  }
  std::vector<const authpb::Role*> ptrs;
  for (const authpb::Role& r : roles) ptrs.push_back(&r);
  etcd::auth::UserPermissions perms = etcd::auth::UserPermissions::Build(false, ptrs);

  for (Access a : {Access::kRead, Access::kWrite}) {
    std::vector<etcd::adt::Interval> ranges = perms.Ranges(a);
    for (size_t i = 0; i < ranges.size(); ++i) {
      Require(!ranges[i].empty(), "empty merged range");
      if (i > 0) {
        Require(!ranges[i - 1].unbounded() && ranges[i - 1].end < ranges[i].begin,
                "merged ranges overlap or touch");
      }
    }
  }
  int queries = 0;
  while (!in.empty() && queries++ < 64) {
    std::string key = in.Key();
    std::string end = in.End();
    bool write = in.Byte() & 1;
    bool got = perms.IsPermitted(key, end, write ? Access::kWrite : Access::kRead);
    Require(got == model.IsPermitted(key, end, write), "cache and model disagree");
  }
  return 0;
}
