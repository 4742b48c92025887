#include "server/embed/yaml_tree.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/testutil/status_matchers.h"

namespace etcd::embed::internal {
namespace {

TEST(ParseYamlTest, MapsSequencesAndScalars) {
  ASSERT_OK_AND_ASSIGN(YamlNode root, ParseYaml("name: 'm1'\n"
                                                "count: 5\n"
                                                "outputs: [stderr, \"a b\"]\n"
                                                "empty:\n"
                                                "tls:\n"
                                                "  cert-file: a.crt\n"));
  ASSERT_EQ(root.kind, YamlNode::Kind::kMap);
  ASSERT_EQ(root.entries.size(), 5u);
  EXPECT_EQ(root.entries[0].first, "name");
  EXPECT_EQ(root.entries[0].second.scalar, "m1");
  EXPECT_TRUE(root.entries[0].second.quoted);
  EXPECT_EQ(root.entries[1].second.scalar, "5");
  EXPECT_FALSE(root.entries[1].second.quoted);
  EXPECT_EQ(root.entries[1].second.line, 2);
  ASSERT_EQ(root.entries[2].second.kind, YamlNode::Kind::kSequence);
  ASSERT_EQ(root.entries[2].second.items.size(), 2u);
  EXPECT_EQ(root.entries[2].second.items[1].scalar, "a b");
  EXPECT_EQ(root.entries[3].second.kind, YamlNode::Kind::kNull);
  ASSERT_EQ(root.entries[4].second.kind, YamlNode::Kind::kMap);
  EXPECT_EQ(root.entries[4].second.entries[0].second.scalar, "a.crt");
}

TEST(ParseYamlTest, EmptyDocumentIsNull) {
  ASSERT_OK_AND_ASSIGN(YamlNode root, ParseYaml(""));
  EXPECT_EQ(root.kind, YamlNode::Kind::kNull);
  ASSERT_OK_AND_ASSIGN(root, ParseYaml("# only a comment\n"));
  EXPECT_EQ(root.kind, YamlNode::Kind::kNull);
}

TEST(ParseYamlTest, SyntaxErrorsNameTheLine) {
  absl::StatusOr<YamlNode> root = ParseYaml("name: m1\nlist: [a\n");
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(root.status().message(), "yaml: line ")) << root.status();
}

TEST(ParseYamlTest, AliasesAreExpandedWithinLimits) {
  ASSERT_OK_AND_ASSIGN(YamlNode root, ParseYaml("a: &x hello\nb: *x\n"));
  EXPECT_EQ(root.entries[1].second.scalar, "hello");

  // Each level doubles the expanded size: 2^20 nodes is over the limit.
  std::string bomb = "l0: &l0 [x, x]\n";
  for (int i = 1; i <= 20; ++i) {
    absl::StrAppend(&bomb, "l", i, ": &l", i, " [*l", i - 1, ", *l", i - 1, "]\n");
  }
  absl::StatusOr<YamlNode> expanded = ParseYaml(bomb);
  ASSERT_FALSE(expanded.ok());
  EXPECT_TRUE(absl::StrContains(expanded.status().message(), "nodes")) << expanded.status();
}

TEST(ParseYamlTest, DeepNestingIsRejected) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  EXPECT_FALSE(ParseYaml(deep).ok());
}

TEST(ParseYamlTest, NonScalarKeysAreRejected) { EXPECT_FALSE(ParseYaml("? [a, b]\n: c\n").ok()); }

}  // namespace
}  // namespace etcd::embed::internal
