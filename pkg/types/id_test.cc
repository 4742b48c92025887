#include "pkg/types/id.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"

namespace etcd::types {
namespace {

TEST(IDTest, StringIsLowercaseHexWithoutLeadingZeros) {
  EXPECT_EQ(ID(0).String(), "0");
  EXPECT_EQ(ID(12).String(), "c");
  EXPECT_EQ(ID(0x00ab).String(), "ab");
  EXPECT_EQ(ID(0x8e9e05c52164694d).String(), "8e9e05c52164694d");
  EXPECT_EQ(ID(UINT64_MAX).String(), "ffffffffffffffff");
}

TEST(IDTest, ParseAcceptsEitherCaseAndLeadingZeros) {
  EXPECT_EQ(ParseID("1f").value(), ID(31));
  EXPECT_EQ(ParseID("1F").value(), ID(31));
  EXPECT_EQ(ParseID("0000000000000000000001").value(), ID(1));
  EXPECT_EQ(ParseID("ffffffffffffffff").value(), ID(UINT64_MAX));
}

TEST(IDTest, RoundTrip) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{0x10}, uint64_t{0xdeadbeef},
                     uint64_t{0x8000000000000000}, UINT64_MAX}) {
    absl::StatusOr<ID> parsed = ParseID(ID(v).String());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->value(), v);
  }
}

TEST(IDTest, ParseErrors) {
  struct Case {
    const char* input;
    const char* message;
  };
  for (const Case& c : {
           Case{"", "strconv.ParseUint: parsing \"\": invalid syntax"},
           Case{"XYZ", "strconv.ParseUint: parsing \"XYZ\": invalid syntax"},
           Case{"0x1f", "strconv.ParseUint: parsing \"0x1f\": invalid syntax"},
           Case{"-1", "strconv.ParseUint: parsing \"-1\": invalid syntax"},
           Case{"+1", "strconv.ParseUint: parsing \"+1\": invalid syntax"},
           Case{"1_000", "strconv.ParseUint: parsing \"1_000\": invalid syntax"},
           Case{" 1", "strconv.ParseUint: parsing \" 1\": invalid syntax"},
           Case{"10000000000000000",
                "strconv.ParseUint: parsing \"10000000000000000\": value out of range"},
           Case{"612840dae127353612840dae127353",
                "strconv.ParseUint: parsing \"612840dae127353612840dae127353\": value out "
                "of range"},
           // A bad digit after an overflow is still a syntax error.
           Case{"10000000000000000z",
                "strconv.ParseUint: parsing \"10000000000000000z\": invalid syntax"},
       }) {
    absl::StatusOr<ID> got = ParseID(c.input);
    ASSERT_FALSE(got.ok()) << c.input;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message(), c.message);
  }
}

TEST(IDTest, SortIDsIsNumeric) {
  IDSlice ids = {ID(10), ID(500), ID(5), ID(1), ID(100), ID(25), ID(UINT64_MAX)};
  SortIDs(&ids);
  EXPECT_EQ(ids, (IDSlice{ID(1), ID(5), ID(10), ID(25), ID(100), ID(500), ID(UINT64_MAX)}));
}

TEST(IDTest, ComparisonAndHash) {
  EXPECT_LT(ID(1), ID(2));
  EXPECT_NE(ID(1), ID(2));
  absl::flat_hash_set<ID> set = {ID(7), ID(7), ID(8)};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_TRUE(set.contains(ID(8)));
}

}  // namespace
}  // namespace etcd::types
