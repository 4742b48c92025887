#include "wal/names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pkg/testutil/status_matchers.h"
#include "wal/errors.h"
#include "wal/fault_file_system.h"

namespace etcd::wal::internal {
namespace {

using ::testing::ElementsAre;

TEST(NamesTest, WalName) {
  EXPECT_EQ(WalName(0, 0), "0000000000000000-0000000000000000.wal");
  EXPECT_EQ(WalName(1, 0x21), "0000000000000001-0000000000000021.wal");
  EXPECT_EQ(WalName(UINT64_MAX, 0xabc), "ffffffffffffffff-0000000000000abc.wal");
}

// etcd's TestScanWalName, plus stricter cases.
TEST(NamesTest, ParseWalName) {
  uint64_t seq = 9, index = 9;
  EXPECT_TRUE(ParseWalName("0000000000000000-0000000000000000.wal", &seq, &index));
  EXPECT_EQ(seq, 0u);
  EXPECT_EQ(index, 0u);
  EXPECT_TRUE(ParseWalName("00000000000000aB-ffffffffffffffff.wal", &seq, &index));
  EXPECT_EQ(seq, 0xabu);
  EXPECT_EQ(index, UINT64_MAX);
  EXPECT_FALSE(ParseWalName("0000000000000000.wal", &seq, &index));
  EXPECT_FALSE(ParseWalName("0000000000000000-0000000000000000.snap", &seq, &index));
  EXPECT_FALSE(ParseWalName("0000000000000000-0000000000000000.wal.broken", &seq, &index));
  EXPECT_FALSE(ParseWalName("000000000000000g-0000000000000000.wal", &seq, &index));
  EXPECT_FALSE(ParseWalName("0000000000000000_0000000000000000.wal", &seq, &index));
  EXPECT_FALSE(ParseWalName("0.tmp", &seq, &index));
}

// etcd's TestSearchIndex.
TEST(NamesTest, SearchIndex) {
  EXPECT_EQ(
      SearchIndex({"0000000000000000-0000000000000000.wal", "0000000000000001-0000000000001000.wal",
                   "0000000000000002-0000000000002000.wal"},
                  0x1000),
      1u);
  EXPECT_EQ(
      SearchIndex({"0000000000000001-0000000000004000.wal", "0000000000000002-0000000000003000.wal",
                   "0000000000000003-0000000000005000.wal"},
                  0x4000),
      1u);
  EXPECT_EQ(
      SearchIndex({"0000000000000001-0000000000002000.wal", "0000000000000002-0000000000003000.wal",
                   "0000000000000003-0000000000005000.wal"},
                  0x1000),
      std::nullopt);
  EXPECT_EQ(SearchIndex({}, 0), std::nullopt);
}

TEST(NamesTest, IsValidSeq) {
  EXPECT_TRUE(IsValidSeq({}));
  EXPECT_TRUE(IsValidSeq({WalName(3, 0)}));
  EXPECT_TRUE(IsValidSeq({WalName(3, 0), WalName(4, 9), WalName(5, 9)}));
  EXPECT_FALSE(IsValidSeq({WalName(3, 0), WalName(5, 9)}));
  EXPECT_FALSE(IsValidSeq({WalName(0, 0), WalName(2, 9)}));  // etcd lets a gap after 0 pass
  EXPECT_FALSE(IsValidSeq({WalName(4, 0), WalName(3, 9)}));
}

TEST(NamesTest, ReadWalNamesSkipsOtherFiles) {
  FaultFileSystem fs;
  fs.MakeDurableDir("/w");
  OpenOptions create;
  create.create = true;
  for (const char* name :
       {"0.tmp", "0000000000000001-0000000000000005.wal", "notes.txt",
        "0000000000000000-0000000000000000.wal", "0000000000000000-0000000000000000.wal.broken"}) {
    ASSERT_OK(fs.OpenLocked(std::string("/w/") + name, create).status());
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ReadWalNames(&fs, "/w"));
  EXPECT_THAT(names, ElementsAre("0000000000000000-0000000000000000.wal",
                                 "0000000000000001-0000000000000005.wal"));
  fs.MakeDurableDir("/empty");
  EXPECT_TRUE(IsFileNotFound(ReadWalNames(&fs, "/empty").status()));
  EXPECT_FALSE(ReadWalNames(&fs, "/missing").ok());
}

}  // namespace
}  // namespace etcd::wal::internal
