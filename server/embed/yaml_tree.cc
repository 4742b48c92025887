#include "server/embed/yaml_tree.h"

#include <yaml-cpp/yaml.h>

#include <exception>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace etcd::embed::internal {
namespace {

// Deeper than any configuration needs; keeps the conversion's recursion (and
// a self-referencing alias) bounded.
constexpr int kMaxDepth = 64;

class Converter {
 public:
  absl::Status Convert(const YAML::Node& in, int depth, YamlNode* out) {
    if (++nodes_ > kMaxYamlNodes) {
      return absl::InvalidArgumentError(
          absl::StrCat("yaml: document has more than ", kMaxYamlNodes, " nodes"));
    }
    if (depth > kMaxDepth) {
      return absl::InvalidArgumentError(
          absl::StrCat("yaml: document nests deeper than ", kMaxDepth, " levels"));
    }
    out->line = in.Mark().line + 1;
    switch (in.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out->kind = YamlNode::Kind::kNull;
        return absl::OkStatus();
      case YAML::NodeType::Scalar:
        out->kind = YamlNode::Kind::kScalar;
        out->scalar = in.Scalar();
        // yaml-cpp tags quoted scalars "!" and plain ones "?".
        out->quoted = in.Tag() == "!";
        return absl::OkStatus();
      case YAML::NodeType::Sequence:
        out->kind = YamlNode::Kind::kSequence;
        for (const YAML::Node& item : in) {
          out->items.emplace_back();
          absl::Status status = Convert(item, depth + 1, &out->items.back());
          if (!status.ok()) return status;
        }
        return absl::OkStatus();
      case YAML::NodeType::Map:
        out->kind = YamlNode::Kind::kMap;
        for (const auto& entry : in) {
          if (!entry.first.IsScalar()) {
            return absl::InvalidArgumentError(absl::StrCat(
                "yaml: line ", entry.first.Mark().line + 1, ": map keys must be scalars"));
          }
          out->entries.emplace_back(entry.first.Scalar(), YamlNode());
          absl::Status status = Convert(entry.second, depth + 1, &out->entries.back().second);
          if (!status.ok()) return status;
        }
        return absl::OkStatus();
    }
    return absl::InternalError("yaml: unknown node type");
  }

 private:
  int nodes_ = 0;
};

}  // namespace

absl::StatusOr<YamlNode> ParseYaml(absl::string_view text) {
  // The only place exceptions are handled: yaml-cpp throws on malformed input.
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("yaml: line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("yaml: ", e.what()));
  }
  YamlNode out;
  Converter converter;
  absl::Status status;
  try {
    status = converter.Convert(root, 0, &out);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("yaml: ", e.what()));
  }
  if (!status.ok()) return status;
  return out;
}

}  // namespace etcd::embed::internal
