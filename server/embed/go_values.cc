#include "server/embed/go_values.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "pkg/log/encoder.h"

namespace etcd::embed::internal {
namespace {

constexpr char kParseError[] = "parse error";
constexpr char kRangeError[] = "value out of range";

char Lower(char c) { return static_cast<char>(c | ('x' - 'X')); }

// strconv's underscoreOK: underscores only between digits (or after a base
// prefix), never leading or trailing.
bool UnderscoresOk(absl::string_view s) {
  char saw = '^';  // ^ start, 0 digit or prefix, _ underscore, ! other.
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (Lower(s[1]) == 'b' || Lower(s[1]) == 'o' || Lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = Lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && Lower(c) >= 'a' && Lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

}  // namespace

absl::StatusOr<bool> ParseGoBool(absl::string_view text) {
  if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" ||
      text == "True") {
    return true;
  }
  if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" ||
      text == "False") {
    return false;
  }
  return absl::InvalidArgumentError(kParseError);
}

absl::StatusOr<uint64_t> ParseGoUint(absl::string_view text, int bits) {
  if (text.empty()) return absl::InvalidArgumentError(kParseError);
  const absl::string_view original = text;
  int base = 10;
  if (text[0] == '0') {
    if (text.size() >= 3 && Lower(text[1]) == 'b') {
      base = 2;
      text.remove_prefix(2);
    } else if (text.size() >= 3 && Lower(text[1]) == 'o') {
      base = 8;
      text.remove_prefix(2);
    } else if (text.size() >= 3 && Lower(text[1]) == 'x') {
      base = 16;
      text.remove_prefix(2);
    } else {
      base = 8;
      text.remove_prefix(1);
    }
  }
  const uint64_t max = bits >= 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  uint64_t n = 0;
  bool underscores = false;
  bool overflow = false;
  for (const char c : text) {
    int digit;
    if (c == '_') {
      underscores = true;
      continue;
    } else if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (Lower(c) >= 'a' && Lower(c) <= 'z') {
      digit = Lower(c) - 'a' + 10;
    } else {
      return absl::InvalidArgumentError(kParseError);
    }
    if (digit >= base) return absl::InvalidArgumentError(kParseError);
    if (overflow) continue;  // Go keeps checking the syntax after an overflow.
    if (n > (max - static_cast<uint64_t>(digit)) / static_cast<uint64_t>(base)) {
      overflow = true;
      continue;
    }
    n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
  }
  if (underscores && !UnderscoresOk(original)) return absl::InvalidArgumentError(kParseError);
  if (overflow) return absl::InvalidArgumentError(kRangeError);
  return n;
}

absl::StatusOr<int64_t> ParseGoInt(absl::string_view text, int bits) {
  if (text.empty()) return absl::InvalidArgumentError(kParseError);
  bool negative = false;
  absl::string_view digits = text;
  if (digits[0] == '+' || digits[0] == '-') {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  absl::StatusOr<uint64_t> magnitude = ParseGoUint(digits, 64);
  if (!magnitude.ok()) return magnitude.status();
  // Underscores are checked on the signed text, as Go does.
  if (absl::StrContains(text, '_') && !UnderscoresOk(text)) {
    return absl::InvalidArgumentError(kParseError);
  }
  const uint64_t cutoff = uint64_t{1} << (bits - 1);
  if (!negative && *magnitude >= cutoff) return absl::InvalidArgumentError(kRangeError);
  if (negative && *magnitude > cutoff) return absl::InvalidArgumentError(kRangeError);
  if (negative) return static_cast<int64_t>(uint64_t{0} - *magnitude);
  return static_cast<int64_t>(*magnitude);
}

absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text) {
  const absl::string_view original = text;
  const auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat("time: invalid duration \"", original, "\""));
  };
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return absl::ZeroDuration();
  if (text.empty()) return invalid();

  constexpr uint64_t kLimit = uint64_t{1} << 63;
  uint64_t total = 0;
  while (!text.empty()) {
    if (!(text[0] == '.' || (text[0] >= '0' && text[0] <= '9'))) return invalid();
    // The integer part.
    uint64_t whole = 0;
    size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (whole > (kLimit - 1) / 10) return invalid();
      whole = whole * 10 + static_cast<uint64_t>(text[i] - '0');
      if (whole > kLimit) return invalid();
    }
    const bool has_whole = i > 0;
    text.remove_prefix(i);
    // The fraction: digits kept while they fit, the rest only consumed.
    uint64_t fraction = 0;
    double scale = 1;
    bool has_fraction = false;
    if (!text.empty() && text[0] == '.') {
      text.remove_prefix(1);
      bool overflow = false;
      for (i = 0; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        if (overflow) continue;
        if (fraction > (kLimit - 1) / 10) {
          overflow = true;
          continue;
        }
        const uint64_t next = fraction * 10 + static_cast<uint64_t>(text[i] - '0');
        if (next > kLimit) {
          overflow = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      has_fraction = i > 0;
      text.remove_prefix(i);
    }
    if (!has_whole && !has_fraction) return invalid();
    // The unit runs to the next digit or '.'.
    for (i = 0; i < text.size() && text[i] != '.' && !(text[i] >= '0' && text[i] <= '9'); ++i) {
    }
    if (i == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("time: missing unit in duration \"", original, "\""));
    }
    const absl::string_view unit_name = text.substr(0, i);
    text.remove_prefix(i);
    uint64_t unit;
    if (unit_name == "ns") {
      unit = 1;
    } else if (unit_name == "us" || unit_name == "\xC2\xB5s" || unit_name == "\xCE\xBCs") {
      unit = 1000;
    } else if (unit_name == "ms") {
      unit = 1000'000;
    } else if (unit_name == "s") {
      unit = 1000'000'000;
    } else if (unit_name == "m") {
      unit = 60'000'000'000;
    } else if (unit_name == "h") {
      unit = 3600'000'000'000;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("time: unknown unit \"", unit_name, "\" in duration \"", original, "\""));
    }
    if (whole > kLimit / unit) return invalid();
    whole *= unit;
    if (fraction > 0) {
      whole += static_cast<uint64_t>(static_cast<double>(fraction) *
                                     (static_cast<double>(unit) / scale));
      if (whole > kLimit) return invalid();
    }
    total += whole;
    if (total > kLimit) return invalid();
  }
  if (negative) {
    return absl::Nanoseconds(static_cast<int64_t>(uint64_t{0} - total));
  }
  if (total > kLimit - 1) return invalid();
  return absl::Nanoseconds(static_cast<int64_t>(total));
}

std::string GoQuote(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

std::string ShortDuration(absl::Duration d) {
  std::string text = log::FormatGoDuration(d);
  if (text == "0s") return text;
  // "2h0m0s" -> "2h", "10m0s" -> "10m"; fractions and plain seconds stay.
  if (absl::EndsWith(text, "m0s") && text.size() > 3) text.resize(text.size() - 2);
  if (absl::EndsWith(text, "h0m") && text.size() > 3) text.resize(text.size() - 2);
  return text;
}

}  // namespace etcd::embed::internal
