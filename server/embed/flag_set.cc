#include "server/embed/flag_set.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/embed/go_values.h"

namespace etcd::embed::internal {
namespace {

absl::Status Invalid(absl::string_view message) { return absl::InvalidArgumentError(message); }

// YAML 1.1 booleans (what etcd's YAML reader takes) and Go's spellings.
absl::StatusOr<bool> ParseYamlBool(absl::string_view text) {
  static constexpr absl::string_view kTrue[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"};
  static constexpr absl::string_view kFalse[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF"};
  if (std::find(std::begin(kTrue), std::end(kTrue), text) != std::end(kTrue)) return true;
  if (std::find(std::begin(kFalse), std::end(kFalse), text) != std::end(kFalse)) return false;
  return ParseGoBool(text);
}

class StringValue : public FlagValue {
 public:
  explicit StringValue(std::string* target) : target_(target) {}
  absl::Status Set(absl::string_view text) override {
    *target_ = std::string(text);
    return absl::OkStatus();
  }
  std::string String() const override { return *target_; }

 private:
  std::string* target_;
};

class BoolValue : public FlagValue {
 public:
  explicit BoolValue(bool* target) : target_(target) {}
  absl::Status Set(absl::string_view text) override {
    absl::StatusOr<bool> value = ParseGoBool(text);
    if (!value.ok()) return value.status();
    *target_ = *value;
    return absl::OkStatus();
  }
  absl::Status SetFromYaml(const YamlNode& node) override {
    if (node.kind == YamlNode::Kind::kNull) return absl::OkStatus();
    if (node.kind != YamlNode::Kind::kScalar) return Invalid("expected a boolean");
    absl::StatusOr<bool> value = ParseYamlBool(node.scalar);
    if (!value.ok()) return value.status();
    *target_ = *value;
    return absl::OkStatus();
  }
  bool IsBool() const override { return true; }
  std::string String() const override { return *target_ ? "true" : "false"; }

 private:
  bool* target_;
};

template <typename T>
class UintValue : public FlagValue {
 public:
  explicit UintValue(T* target) : target_(target) {}
  absl::Status Set(absl::string_view text) override {
    absl::StatusOr<uint64_t> value = ParseGoUint(text, sizeof(T) * 8);
    if (!value.ok()) return value.status();
    *target_ = static_cast<T>(*value);
    return absl::OkStatus();
  }
  std::string String() const override { return absl::StrCat(*target_); }

 private:
  T* target_;
};

class IntValue : public FlagValue {
 public:
  explicit IntValue(int64_t* target) : target_(target) {}
  absl::Status Set(absl::string_view text) override {
    absl::StatusOr<int64_t> value = ParseGoInt(text, 64);
    if (!value.ok()) return value.status();
    *target_ = *value;
    return absl::OkStatus();
  }
  std::string String() const override { return absl::StrCat(*target_); }

 private:
  int64_t* target_;
};

class DurationValue : public FlagValue {
 public:
  explicit DurationValue(absl::Duration* target) : target_(target) {}
  absl::Status Set(absl::string_view text) override {
    absl::StatusOr<absl::Duration> value = ParseGoDuration(text);
    if (!value.ok()) return value.status();
    *target_ = *value;
    return absl::OkStatus();
  }
  // etcd's config file holds durations as integer nanoseconds (Go's
  // time.Duration in JSON); duration strings are accepted too.
  absl::Status SetFromYaml(const YamlNode& node) override {
    if (node.kind == YamlNode::Kind::kNull) return absl::OkStatus();
    if (node.kind != YamlNode::Kind::kScalar) return Invalid("expected a duration");
    if (absl::StatusOr<int64_t> nanos = ParseGoInt(node.scalar, 64); nanos.ok()) {
      *target_ = absl::Nanoseconds(*nanos);
      return absl::OkStatus();
    }
    return Set(node.scalar);
  }
  std::string String() const override { return ShortDuration(*target_); }

 private:
  absl::Duration* target_;
};

class URLsValue : public FlagValue {
 public:
  explicit URLsValue(types::URLs* target) : target_(target) {}
  absl::Status Set(absl::string_view text) override {
    if (text.empty()) return absl::OkStatus();  // etcd keeps the current list.
    absl::StatusOr<types::URLs> urls = types::URLs::Parse(text);
    if (!urls.ok()) return urls.status();
    std::vector<types::URL> unique;
    for (const types::URL& url : *urls) {
      if (unique.empty() || unique.back().String() != url.String()) unique.push_back(url);
    }
    *target_ = types::URLs(std::move(unique));
    return absl::OkStatus();
  }
  bool IsList() const override { return true; }
  std::string String() const override { return target_->String(); }

 private:
  types::URLs* target_;
};

class URLStringsValue : public FlagValue {
 public:
  URLStringsValue(std::vector<std::string>* target, std::set<std::string> exceptions)
      : target_(target), exceptions_(std::move(exceptions)) {}
  absl::Status Set(absl::string_view text) override {
    const std::string value(text);
    if (std::find(target_->begin(), target_->end(), value) != target_->end()) {
      return absl::OkStatus();
    }
    if (exceptions_.count(value) > 0) {
      target_->push_back(value);
      std::sort(target_->begin(), target_->end());
      return absl::OkStatus();
    }
    absl::StatusOr<types::URLs> urls = types::URLs::Parse(text);
    if (!urls.ok()) return urls.status();
    std::vector<std::string> strings = urls->StringSlice();
    strings.erase(std::unique(strings.begin(), strings.end()), strings.end());
    *target_ = std::move(strings);
    return absl::OkStatus();
  }
  absl::Status SetFromYaml(const YamlNode& node) override {
    if (node.kind == YamlNode::Kind::kScalar && node.scalar.empty()) return absl::OkStatus();
    return FlagValue::SetFromYaml(node);
  }
  bool IsList() const override { return true; }
  std::string String() const override { return absl::StrJoin(*target_, ","); }

 private:
  std::vector<std::string>* target_;
  const std::set<std::string> exceptions_;
};

class ChoiceValue : public FlagValue {
 public:
  ChoiceValue(std::string* target, std::vector<std::string> choices, bool multi)
      : target_(target), choices_(std::move(choices)), multi_(multi) {}
  absl::Status Set(absl::string_view text) override {
    if (!multi_) {
      if (!Valid(text)) return Invalid("invalid value");
      *target_ = std::string(text);
      return absl::OkStatus();
    }
    std::vector<std::string> values = absl::StrSplit(text, ',');
    for (const std::string& value : values) {
      if (!Valid(value)) return Invalid(absl::StrCat("invalid value ", GoQuote(value)));
    }
    std::sort(values.begin(), values.end());
    *target_ = absl::StrJoin(values, ",");
    return absl::OkStatus();
  }
  std::string String() const override { return *target_; }

 private:
  bool Valid(absl::string_view value) const {
    return std::find(choices_.begin(), choices_.end(), value) != choices_.end();
  }

  std::string* target_;
  const std::vector<std::string> choices_;
  const bool multi_;
};

class StringsValue : public FlagValue {
 public:
  StringsValue(std::vector<std::string>* target, bool unique) : target_(target), unique_(unique) {}
  absl::Status Set(absl::string_view text) override {
    std::vector<std::string> values = absl::StrSplit(text, ',');
    if (unique_) {
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
    }
    *target_ = std::move(values);
    return absl::OkStatus();
  }
  bool IsList() const override { return true; }
  std::string String() const override { return absl::StrJoin(*target_, ","); }

 private:
  std::vector<std::string>* target_;
  const bool unique_;
};

class IgnoredValue : public FlagValue {
 public:
  absl::Status Set(absl::string_view) override { return absl::OkStatus(); }
  bool IsBool() const override { return true; }
  std::string String() const override { return ""; }
};

}  // namespace

absl::Status FlagValue::SetFromYaml(const YamlNode& node) {
  switch (node.kind) {
    case YamlNode::Kind::kNull:
      return absl::OkStatus();
    case YamlNode::Kind::kScalar:
      return Set(node.scalar);
    case YamlNode::Kind::kSequence: {
      if (!IsList()) return Invalid("expected a single value, not a list");
      std::vector<std::string> items;
      for (const YamlNode& item : node.items) {
        if (item.kind != YamlNode::Kind::kScalar) return Invalid("expected a list of strings");
        items.push_back(item.scalar);
      }
      return Set(absl::StrJoin(items, ","));
    }
    case YamlNode::Kind::kMap:
      return Invalid("expected a value, not a map");
  }
  return Invalid("unexpected YAML node");
}

void FlagSet::Add(const std::string& name, FlagSection section, const std::string& help,
                  std::unique_ptr<FlagValue> value, const std::string& display_default) {
  auto flag = std::make_unique<Flag>();
  flag->name = name;
  flag->section = section;
  flag->help = help;
  flag->default_text = display_default.empty() ? value->String() : display_default;
  flag->value = std::move(value);
  by_name_[name] = flag.get();
  flags_.push_back(std::move(flag));
}

void FlagSet::String(const std::string& name, std::string* target, FlagSection section,
                     const std::string& help, const std::string& display_default) {
  Add(name, section, help, std::make_unique<StringValue>(target), display_default);
}

void FlagSet::Bool(const std::string& name, bool* target, FlagSection section,
                   const std::string& help) {
  Add(name, section, help, std::make_unique<BoolValue>(target), "");
}

void FlagSet::Uint(const std::string& name, uint64_t* target, FlagSection section,
                   const std::string& help) {
  Add(name, section, help, std::make_unique<UintValue<uint64_t>>(target), "");
}

void FlagSet::Uint32(const std::string& name, uint32_t* target, FlagSection section,
                     const std::string& help, const std::string& display_default) {
  Add(name, section, help, std::make_unique<UintValue<uint32_t>>(target), display_default);
}

void FlagSet::Int(const std::string& name, int64_t* target, FlagSection section,
                  const std::string& help) {
  Add(name, section, help, std::make_unique<IntValue>(target), "");
}

void FlagSet::Duration(const std::string& name, absl::Duration* target, FlagSection section,
                       const std::string& help, const std::string& display_default) {
  Add(name, section, help, std::make_unique<DurationValue>(target), display_default);
}

void FlagSet::URLs(const std::string& name, types::URLs* target, FlagSection section,
                   const std::string& help, const std::string& display_default) {
  Add(name, section, help, std::make_unique<URLsValue>(target), display_default);
}

void FlagSet::URLStrings(const std::string& name, std::vector<std::string>* target,
                         std::set<std::string> exceptions, FlagSection section,
                         const std::string& help) {
  Add(name, section, help, std::make_unique<URLStringsValue>(target, std::move(exceptions)), "");
}

void FlagSet::Choice(const std::string& name, std::string* target, std::vector<std::string> choices,
                     FlagSection section, const std::string& help, bool multi) {
  Add(name, section, help, std::make_unique<ChoiceValue>(target, std::move(choices), multi), "");
}

void FlagSet::Strings(const std::string& name, std::vector<std::string>* target, bool unique,
                      FlagSection section, const std::string& help) {
  Add(name, section, help, std::make_unique<StringsValue>(target, unique), "");
}

void FlagSet::Ignored(const std::string& name) {
  Add(name, FlagSection::kHidden, "", std::make_unique<IgnoredValue>(), "");
}

const Flag* FlagSet::Lookup(absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

Flag* FlagSet::Lookup(absl::string_view name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

absl::Status FlagSet::Set(absl::string_view name, absl::string_view value) {
  Flag* flag = Lookup(name);
  if (flag == nullptr) return absl::NotFoundError(absl::StrCat("no such flag -", name));
  absl::Status status = flag->value->Set(value);
  if (!status.ok()) return status;
  set_.insert(std::string(name));
  return absl::OkStatus();
}

absl::Status FlagSet::Parse(absl::Span<const std::string> args, ParseOutcome* outcome) {
  size_t i = 0;
  while (i < args.size()) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') break;  // The first non-flag ends the flags.
    size_t minuses = 1;
    if (arg[1] == '-') {
      minuses = 2;
      if (arg.size() == 2) {  // "--" ends the flags and is dropped.
        ++i;
        break;
      }
    }
    absl::string_view name = absl::string_view(arg).substr(minuses);
    if (name.empty() || name[0] == '-' || name[0] == '=') {
      return Invalid(absl::StrCat("bad flag syntax: ", arg));
    }
    ++i;
    bool has_value = false;
    absl::string_view value;
    if (size_t eq = name.find('=', 1); eq != absl::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    Flag* flag = Lookup(name);
    if (flag == nullptr) {
      if (name == "help" || name == "h") {
        outcome->help = true;
        return absl::OkStatus();
      }
      return Invalid(absl::StrCat("flag provided but not defined: -", name));
    }
    if (flag->value->IsBool()) {
      absl::Status status = flag->value->Set(has_value ? value : "true");
      if (!status.ok()) {
        return Invalid(absl::StrCat("invalid boolean value ", GoQuote(value), " for -", name, ": ",
                                    status.message()));
      }
    } else {
      if (!has_value && i < args.size()) {
        value = args[i++];
        has_value = true;
      }
      if (!has_value) return Invalid(absl::StrCat("flag needs an argument: -", name));
      absl::Status status = flag->value->Set(value);
      if (!status.ok()) {
        return Invalid(absl::StrCat("invalid value ", GoQuote(value), " for flag -", name, ": ",
                                    status.message()));
      }
    }
    if (flag->section == FlagSection::kHidden && flag->help.empty()) {
      outcome->ignored.push_back(flag->name);
    }
    set_.insert(flag->name);
  }
  outcome->positional.assign(args.begin() + static_cast<ptrdiff_t>(i), args.end());
  return absl::OkStatus();
}

}  // namespace etcd::embed::internal
