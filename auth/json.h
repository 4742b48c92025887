// A small, strict JSON reader and string quoting for JWT headers and claims
// (internal to //auth).
//
//   std::optional<etcd::auth::JsonValue> claims = etcd::auth::ParseJson(payload);
//   if (!claims || !claims->is_object()) return Invalid();
//   const etcd::auth::JsonValue* user = claims->Find("username");
//   std::optional<uint64_t> rev = claims->Find("revision")->AsUint64();
//
//   std::string body = absl::StrCat("{\"username\":", etcd::auth::JsonQuote(name), "}");
//
// ParseJson accepts RFC 8259 JSON text and nothing else: one value with
// optional surrounding whitespace, no comments, no trailing commas, no NaN,
// no control characters inside strings, no unpaired UTF-16 surrogates in
// \u escapes. Two deliberate restrictions for token claims: objects with a
// repeated member name are rejected (an attacker must not be able to make two
// readers see different claims), and nesting deeper than kMaxJsonDepth is
// rejected (bounded recursion). Bytes >= 0x80 inside strings are kept as they
// are; UTF-8 validity is not checked.
//
// Pure functions and a value type; thread-compatible.

#ifndef ETCD_AUTH_JSON_H_
#define ETCD_AUTH_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace etcd::auth {

inline constexpr int kMaxJsonDepth = 64;

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  JsonValue() = default;

  Type type() const { return type_; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_object() const { return type_ == Type::kObject; }

  // For kBool.
  bool boolean() const { return boolean_; }
  // For kString (unescaped) and kNumber (the literal as written).
  const std::string& text() const { return text_; }
  // For kNumber: the value as a double (may have lost precision).
  double number() const { return number_; }
  // For kNumber: the exact value if it is a non-negative integer that fits,
  // written either as digits or in a form whose double value is integral
  // (e.g. 1e3); nullopt otherwise (and for every other type).
  std::optional<uint64_t> AsUint64() const;

  const std::vector<JsonValue>& array() const { return array_; }
  const std::vector<std::pair<std::string, JsonValue>>& object() const { return object_; }
  // The member named `key` of an object, or null (also for non-objects).
  const JsonValue* Find(absl::string_view key) const;

 private:
  friend class JsonParser;

  Type type_ = Type::kNull;
  bool boolean_ = false;
  double number_ = 0;
  std::string text_;
  std::vector<JsonValue> array_;
  std::vector<std::pair<std::string, JsonValue>> object_;
};

// The value `text` holds, or nullopt if it is not valid JSON (see above).
std::optional<JsonValue> ParseJson(absl::string_view text);

// `s` as a JSON string literal, quotes included. Escapes '"', '\\' and
// control characters, and, like Go's encoding/json, '<', '>' and '&'; other
// bytes are copied unchanged.
std::string JsonQuote(absl::string_view s);

}  // namespace etcd::auth

#endif  // ETCD_AUTH_JSON_H_
