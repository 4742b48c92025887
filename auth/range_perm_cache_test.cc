#include "auth/range_perm_cache.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "auth/perm_model.h"

namespace etcd::auth {
namespace {

const std::string kOpen(1, '\0');  // range_end "\0": every key >= key

authpb::Permission Perm(authpb::Permission::Type type, std::string key, std::string end = "") {
  authpb::Permission p;
  p.set_permtype(type);
  p.set_key(std::move(key));
  p.set_range_end(std::move(end));
  return p;
}

UserPermissions Build(const std::vector<authpb::Permission>& perms) {
  authpb::Role role;
  for (const auto& p : perms) *role.add_keypermission() = p;
  std::vector<const authpb::Role*> roles = {&role};
  return UserPermissions::Build(false, roles);
}

constexpr auto R = authpb::Permission::READ;
constexpr auto W = authpb::Permission::WRITE;
constexpr auto RW = authpb::Permission::READWRITE;

// etcd's TestRangePermission.
TEST(RangePermCache, RangeCoveredByUnion) {
  EXPECT_FALSE(Build({Perm(R, "a", "c"), Perm(R, "x", "z")}).IsPermitted("a", "z", Access::kRead));
  EXPECT_TRUE(Build({Perm(R, "a", "f"), Perm(R, "c", "d"), Perm(R, "f", "z")})
                  .IsPermitted("a", "z", Access::kRead));
  EXPECT_TRUE(Build({Perm(R, "a", "d"), Perm(R, "a", "b"), Perm(R, "c", "f")})
                  .IsPermitted("a", "f", Access::kRead));
}

// etcd's TestKeyPermission.
TEST(RangePermCache, KeyInSomeRange) {
  EXPECT_FALSE(Build({Perm(R, "a", "c"), Perm(R, "x", "z")}).IsPermitted("f", "", Access::kRead));
  EXPECT_TRUE(Build({Perm(R, "a", "f"), Perm(R, "c", "d"), Perm(R, "f", "z")})
                  .IsPermitted("b", "", Access::kRead));
  EXPECT_TRUE(Build({Perm(R, "a", "d"), Perm(R, "a", "b"), Perm(R, "c", "f")})
                  .IsPermitted("d", "", Access::kRead));
  EXPECT_FALSE(Build({Perm(R, "a", "d"), Perm(R, "a", "b"), Perm(R, "c", "f")})
                   .IsPermitted("f", "", Access::kRead));
}

TEST(RangePermCache, SingleKeyGrant) {
  UserPermissions p = Build({Perm(W, "foo")});
  EXPECT_TRUE(p.IsPermitted("foo", "", Access::kWrite));
  EXPECT_FALSE(p.IsPermitted("foo", "", Access::kRead));
  EXPECT_FALSE(p.IsPermitted("foo0", "", Access::kWrite));
  EXPECT_FALSE(p.IsPermitted("fo", "", Access::kWrite));
  // The range holding exactly "foo" is [foo, foo\0).
  EXPECT_TRUE(p.IsPermitted("foo", std::string("foo\0", 4), Access::kWrite));
  EXPECT_FALSE(p.IsPermitted("foo", "fop", Access::kWrite));
}

TEST(RangePermCache, PrefixGrant) {
  // etcdctl role grant-permission --prefix r readwrite /app/ -> [/app/, /app0)
  UserPermissions p = Build({Perm(RW, "/app/", "/app0")});
  EXPECT_TRUE(p.IsPermitted("/app/", "", Access::kRead));
  EXPECT_TRUE(p.IsPermitted("/app/x/y", "", Access::kWrite));
  EXPECT_TRUE(p.IsPermitted("/app/", "/app0", Access::kRead));
  EXPECT_TRUE(p.IsPermitted("/app/a", "/app/b", Access::kRead));
  EXPECT_FALSE(p.IsPermitted("/app", "", Access::kRead));
  EXPECT_FALSE(p.IsPermitted("/app0", "", Access::kRead));
  EXPECT_FALSE(p.IsPermitted("/app/", "/app1", Access::kRead));
  EXPECT_FALSE(p.IsPermitted("/app/", kOpen, Access::kRead));
}

TEST(RangePermCache, OpenEndedGrantAndRequest) {
  UserPermissions p = Build({Perm(R, "m", kOpen)});
  EXPECT_TRUE(p.IsPermitted("m", "", Access::kRead));
  EXPECT_TRUE(p.IsPermitted("\xff\xff\xff", "", Access::kRead));
  EXPECT_TRUE(p.IsPermitted("m", kOpen, Access::kRead));
  EXPECT_TRUE(p.IsPermitted("zz", kOpen, Access::kRead));
  EXPECT_FALSE(p.IsPermitted("l", kOpen, Access::kRead));
  EXPECT_FALSE(p.IsPermitted("l", "", Access::kRead));
  // Every key: key "\0" with range_end "\0".
  UserPermissions all = Build({Perm(R, kOpen, kOpen)});
  EXPECT_TRUE(all.IsPermitted(kOpen, kOpen, Access::kRead));
  EXPECT_TRUE(all.IsPermitted("a", "", Access::kRead));
  EXPECT_FALSE(all.IsPermitted(kOpen, kOpen, Access::kWrite));
}

TEST(RangePermCache, AdjacentAndOverlappingGrantsMerge) {
  UserPermissions p = Build({Perm(R, "a"), Perm(R, std::string("a\0", 2), "c"), Perm(R, "b", "e"),
                             Perm(R, "e", "g"), Perm(R, "x", kOpen), Perm(R, "y", "z")});
  std::vector<adt::Interval> ranges = p.Ranges(Access::kRead);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], adt::Interval("a", "g"));
  EXPECT_EQ(ranges[1], adt::Interval("x", ""));
  EXPECT_TRUE(p.IsPermitted("a", "g", Access::kRead));
  EXPECT_FALSE(p.IsPermitted("a", "h", Access::kRead));
  EXPECT_TRUE(p.IsPermitted("x", kOpen, Access::kRead));
  EXPECT_TRUE(p.Ranges(Access::kWrite).empty());
}

TEST(RangePermCache, ReadWriteSplit) {
  UserPermissions p = Build({Perm(R, "a", "c"), Perm(W, "b", "d"), Perm(RW, "k")});
  EXPECT_TRUE(p.IsPermitted("a", "c", Access::kRead));
  EXPECT_FALSE(p.IsPermitted("a", "c", Access::kWrite));
  EXPECT_TRUE(p.IsPermitted("b", "d", Access::kWrite));
  EXPECT_FALSE(p.IsPermitted("b", "d", Access::kRead));
  EXPECT_TRUE(p.IsPermitted("k", "", Access::kRead));
  EXPECT_TRUE(p.IsPermitted("k", "", Access::kWrite));
}

TEST(RangePermCache, EmptyAndInvertedRequestsAreDenied) {
  UserPermissions p = Build({Perm(RW, "a", kOpen)});
  EXPECT_FALSE(p.IsPermitted("c", "b", Access::kRead));
  EXPECT_FALSE(p.IsPermitted("c", "c", Access::kRead));
}

TEST(RangePermCache, UnknownTypesAndMissingRolesGrantNothing) {
  authpb::Permission odd = Perm(R, "a", "z");
  odd.set_permtype(static_cast<authpb::Permission::Type>(7));
  UserPermissions p = Build({odd});
  EXPECT_FALSE(p.IsPermitted("b", "", Access::kRead));
  EXPECT_FALSE(p.IsPermitted("b", "", Access::kWrite));
  std::vector<const authpb::Role*> none = {nullptr};
  EXPECT_FALSE(UserPermissions::Build(false, none).IsPermitted("a", "", Access::kRead));
}

TEST(RangePermCache, RootIsPermittedEverything) {
  std::vector<const authpb::Role*> none;
  UserPermissions root = UserPermissions::Build(true, none);
  EXPECT_TRUE(root.IsPermitted("anything", kOpen, Access::kWrite));
}

TEST(RangePermCache, SeveralRolesUnion) {
  authpb::Role r1, r2;
  *r1.add_keypermission() = Perm(R, "a", "m");
  *r2.add_keypermission() = Perm(R, "m", "z");
  std::vector<const authpb::Role*> roles = {&r1, nullptr, &r2};
  UserPermissions p = UserPermissions::Build(false, roles);
  EXPECT_TRUE(p.IsPermitted("a", "z", Access::kRead));
}

TEST(RangePermCache, MergeIntervals) {
  EXPECT_TRUE(MergeIntervals({}).empty());
  EXPECT_TRUE(MergeIntervals({adt::Interval("b", "a")}).empty());
  std::vector<adt::Interval> m =
      MergeIntervals({adt::Interval("c", "d"), adt::Interval("a", "b"), adt::Interval("b", "c"),
                      adt::Interval("q", ""), adt::Interval("r", "s"), adt::Interval("e", "f")});
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0], adt::Interval("a", "d"));
  EXPECT_EQ(m[1], adt::Interval("e", "f"));
  EXPECT_EQ(m[2], adt::Interval("q", ""));
}

// Random grants over a tiny alphabet against the brute-force model.
TEST(RangePermCache, MatchesModel) {
  std::mt19937 rng(20240229);
  const std::string alphabet = std::string("ab\0c", 4);
  auto random_key = [&](int max_len) {
    std::string k;
    int len = std::uniform_int_distribution<int>(0, max_len)(rng);
    for (int i = 0; i < len; ++i) k.push_back(alphabet[rng() % alphabet.size()]);
    return k;
  };
  auto random_end = [&](const std::string& key) {
    switch (rng() % 4) {
      case 0:
        return std::string();
      case 1:
        return kOpen;
      default:
        return random_key(3);
    }
  };
  for (int round = 0; round < 300; ++round) {
    PermModel model;
    authpb::Role role;
    int n = std::uniform_int_distribution<int>(0, 8)(rng);
    for (int i = 0; i < n; ++i) {
      std::string key = random_key(3);
      authpb::Permission p =
          Perm(static_cast<authpb::Permission::Type>(rng() % 3), key, random_end(key));
      model.Grant(p);
      *role.add_keypermission() = p;
    }
    std::vector<const authpb::Role*> roles = {&role};
    UserPermissions perms = UserPermissions::Build(false, roles);
    for (int q = 0; q < 100; ++q) {
      std::string key = random_key(3);
      std::string end = random_end(key);
      for (bool write : {false, true}) {
        ASSERT_EQ(perms.IsPermitted(key, end, write ? Access::kWrite : Access::kRead),
                  model.IsPermitted(key, end, write))
            << "round " << round << " key=" << testing::PrintToString(key)
            << " end=" << testing::PrintToString(end) << " write=" << write;
      }
    }
  }
}

}  // namespace
}  // namespace etcd::auth
