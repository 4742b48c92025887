#include "mvcc/revision.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace etcd::mvcc {
namespace {

TEST(RevisionTest, EncodingIsEtcdsBigEndianLayout) {
  const RevBytes b = RevToBytes(Revision{0x0102030405060708, 0x1112131415161718});
  EXPECT_EQ(b.view(),
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08_\x11\x12\x13\x14\x15\x16\x17\x18", 17));
  EXPECT_EQ(RevToBytes(Revision{1, 0}).view(),
            std::string("\0\0\0\0\0\0\0\1_\0\0\0\0\0\0\0\0", 17));
  const std::string tomb = TombstoneKey(Revision{1, 2});
  EXPECT_EQ(tomb, std::string("\0\0\0\0\0\0\0\1_\0\0\0\0\0\0\0\2t", 18));
  EXPECT_TRUE(IsTombstone(tomb));
  EXPECT_FALSE(IsTombstone(RevToBytes(Revision{1, 2}).view()));
  EXPECT_FALSE(IsTombstone(tomb.substr(0, 17) + "x"));
}

TEST(RevisionTest, RoundTripAndOrder) {
  // etcd's revision_test: encoding preserves order.
  std::vector<Revision> revs = {
      {0, 0},
      {1, 0},
      {1, 1},
      {2, 0},
      {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max()},
  };
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200; ++i) {
    revs.push_back(Revision{static_cast<int64_t>(rng() >> 1), static_cast<int64_t>(rng() >> 1)});
  }
  for (size_t i = 0; i < revs.size(); ++i) {
    const RevBytes bi = RevToBytes(revs[i]);
    EXPECT_EQ(BytesToRev(bi.view()), revs[i]);
    EXPECT_EQ(BytesToRev(TombstoneKey(revs[i])), revs[i]);
    for (size_t j = 0; j < revs.size(); ++j) {
      const RevBytes bj = RevToBytes(revs[j]);
      EXPECT_EQ(revs[i] < revs[j], bi.view() < bj.view()) << i << " " << j;
    }
  }
  EXPECT_TRUE((Revision{2, 0}).GreaterThan(Revision{1, 5}));
  EXPECT_TRUE((Revision{2, 1}).GreaterThan(Revision{2, 0}));
  EXPECT_FALSE((Revision{2, 1}).GreaterThan(Revision{2, 1}));
  EXPECT_EQ((Revision{3, 4}).DebugString(), "{3 4}");
}

TEST(RevisionTest, ParseRevisionKeyIsStrict) {
  auto ok = ParseRevisionKey(RevToBytes(Revision{7, 3}).view());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->rev, (Revision{7, 3}));
  EXPECT_FALSE(ok->tombstone);
  auto tomb = ParseRevisionKey(TombstoneKey(Revision{7, 3}));
  ASSERT_TRUE(tomb.ok());
  EXPECT_TRUE(tomb->tombstone);

  EXPECT_FALSE(ParseRevisionKey("").ok());
  EXPECT_FALSE(ParseRevisionKey(std::string(16, '\0')).ok());
  EXPECT_FALSE(ParseRevisionKey(std::string(19, '\0')).ok());
  std::string bad_sep(RevToBytes(Revision{1, 1}).view());
  bad_sep[8] = '-';
  EXPECT_FALSE(ParseRevisionKey(bad_sep).ok());
  std::string bad_mark = TombstoneKey(Revision{1, 1});
  bad_mark.back() = 'x';
  EXPECT_FALSE(ParseRevisionKey(bad_mark).ok());
}

}  // namespace
}  // namespace etcd::mvcc
