// A YAML document as a plain tree, for reading etcd's --config-file.
//
//   absl::StatusOr<YamlNode> doc = ParseYaml("name: m1\nlog-outputs: [stderr]\n");
//   doc->kind;                     // YamlNode::Kind::kMap
//   doc->entries[0].first;         // "name"
//   doc->entries[1].second.items;  // one scalar, "stderr"
//
// yaml-cpp (Debian's libyaml-cpp) does the parsing. It reports errors by
// throwing; ParseYaml catches them here and returns InvalidArgument with the
// line and column, so no exception leaves this file. The tree has no
// aliases left: each is expanded, and a document that expands to more than
// kMaxYamlNodes nodes (an alias bomb) is rejected.
//
// Functions only; thread-safe. YamlNode is a value type.

#ifndef ETCD_SERVER_EMBED_YAML_TREE_H_
#define ETCD_SERVER_EMBED_YAML_TREE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::embed::internal {

inline constexpr int kMaxYamlNodes = 100000;

struct YamlNode {
  enum class Kind { kNull, kScalar, kSequence, kMap };

  Kind kind = Kind::kNull;
  // The text of a scalar, as written without its quotes.
  std::string scalar;
  // The scalar was quoted ('x' or "x"): a string even if it reads like a
  // number, a boolean or null.
  bool quoted = false;
  // Items of a sequence.
  std::vector<YamlNode> items;
  // Entries of a map, in document order; keys are scalars.
  std::vector<std::pair<std::string, YamlNode>> entries;
  // 1-based line of the node in the document.
  int line = 0;
};

// Parses the first document of `text`. An empty document is a kNull node.
absl::StatusOr<YamlNode> ParseYaml(absl::string_view text);

}  // namespace etcd::embed::internal

#endif  // ETCD_SERVER_EMBED_YAML_TREE_H_
