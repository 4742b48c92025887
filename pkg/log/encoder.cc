#include "pkg/log/encoder.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace etcd::log {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at the start of `s` (non-empty, first
// byte >= 0x80), or 0 when it is not valid: overlong forms, surrogates and
// code points above U+10FFFF are invalid, as in Go's utf8.DecodeRune.
size_t ValidUtf8Prefix(absl::string_view s) {
  const auto byte = [&s](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  const unsigned char b0 = byte(0);
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (b0 == 0xE0 && byte(1) < 0xA0) return 0;   // Overlong.
    if (b0 == 0xED && byte(1) >= 0xA0) return 0;  // Surrogate.
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (b0 == 0xF0 && byte(1) < 0x90) return 0;   // Overlong.
    if (b0 == 0xF4 && byte(1) >= 0x90) return 0;  // Above U+10FFFF.
    return 4;
  }
  return 0;
}

void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "\"+Inf\"" : "\"-Inf\"");
    return;
  }
  // Shortest round-trip digits without an exponent, as Go's 'f', -1.
  char buf[400];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  out->append(buf, r.ptr);
}

void AppendValue(const Field& field, std::string* out) {
  switch (field.kind()) {
    case Field::Kind::kString:
      AppendJsonString(field.string_value(), out);
      return;
    case Field::Kind::kBool:
      out->append(field.bool_value() ? "true" : "false");
      return;
    case Field::Kind::kInt:
      absl::StrAppend(out, field.int_value());
      return;
    case Field::Kind::kUint:
      absl::StrAppend(out, field.uint_value());
      return;
    case Field::Kind::kDouble:
      AppendDouble(field.double_value(), out);
      return;
    case Field::Kind::kDuration:
      AppendJsonString(FormatGoDuration(field.duration_value()), out);
      return;
    case Field::Kind::kStrings: {
      out->push_back('[');
      bool first = true;
      for (const std::string& s : field.strings_value()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(s, out);
      }
      out->push_back(']');
      return;
    }
    case Field::Kind::kSkip:
      return;
  }
}

// Appends the context and the fields, comma-separated; returns whether any.
bool AppendAllFields(const Entry& entry, std::string* out) {
  const bool has_context = !entry.context.empty();
  if (has_context) {
    out->append(entry.context.data(), entry.context.size());
    out->push_back(',');
  }
  if (AppendJsonFields(entry.fields, out)) return true;
  if (has_context) out->pop_back();
  return has_context;
}

}  // namespace

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != '\\' && c != '"') {
        out->push_back(static_cast<char>(c));
      } else if (c == '\\' || c == '"') {
        out->push_back('\\');
        out->push_back(static_cast<char>(c));
      } else if (c == '\n') {
        out->append("\\n");
      } else if (c == '\r') {
        out->append("\\r");
      } else if (c == '\t') {
        out->append("\\t");
      } else {
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(escaped, sizeof(escaped));
      }
      ++i;
      continue;
    }
    const size_t n = ValidUtf8Prefix(s.substr(i));
    if (n == 0) {
      out->append("\\ufffd");
      ++i;
    } else {
      out->append(s.data() + i, n);
      i += n;
    }
  }
  out->push_back('"');
}

bool AppendJsonFields(Fields fields, std::string* out) {
  bool any = false;
  for (const Field& field : fields) {
    if (field.kind() == Field::Kind::kSkip) continue;
    if (any) out->push_back(',');
    any = true;
    AppendJsonString(field.key(), out);
    out->push_back(':');
    AppendValue(field, out);
  }
  return any;
}

void EncodeJson(const Entry& entry, absl::TimeZone zone, std::string* out) {
  out->append("{\"level\":\"");
  const absl::string_view level = LevelName(entry.level);
  out->append(level.data(), level.size());
  out->append("\",\"ts\":\"");
  out->append(FormatTimestamp(entry.time, zone));
  out->push_back('"');
  if (!entry.caller.empty()) {
    out->append(",\"caller\":");
    AppendJsonString(entry.caller, out);
  }
  out->append(",\"msg\":");
  AppendJsonString(entry.message, out);
  out->push_back(',');
  if (!AppendAllFields(entry, out)) out->pop_back();
  out->append("}\n");
}

void EncodeConsole(const Entry& entry, absl::TimeZone zone, std::string* out) {
  absl::StrAppend(out, FormatTimestamp(entry.time, zone), "\t", LevelName(entry.level), "\t");
  if (!entry.caller.empty()) absl::StrAppend(out, entry.caller, "\t");
  out->append(entry.message.data(), entry.message.size());
  out->append("\t{");
  if (AppendAllFields(entry, out)) {
    out->append("}\n");
  } else {
    out->resize(out->size() - 2);
    out->push_back('\n');
  }
}

std::string FormatTimestamp(absl::Time time, absl::TimeZone zone) {
  std::string out = absl::FormatTime("%Y-%m-%dT%H:%M:%E3S", time, zone);
  if (zone.At(time).offset == 0) {
    out.push_back('Z');
  } else {
    out.append(absl::FormatTime("%z", time, zone));
  }
  return out;
}

std::string FormatGoDuration(absl::Duration d) {
  // Go's algorithm on the duration in whole nanoseconds (saturated to int64).
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  if (nanos == 0) return "0s";
  uint64_t u =
      nanos < 0 ? uint64_t{0} - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  // "<u / 10^digits>[.<fraction without trailing zeros>]"
  const auto with_fraction = [](uint64_t v, int digits) {
    uint64_t scale = 1;
    for (int i = 0; i < digits; ++i) scale *= 10;
    std::string fraction = absl::StrCat(v % scale + scale).substr(1);  // Zero-padded.
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    return fraction.empty() ? absl::StrCat(v / scale) : absl::StrCat(v / scale, ".", fraction);
  };
  std::string out = nanos < 0 ? "-" : "";
  if (u < 1000) {
    absl::StrAppend(&out, u, "ns");
  } else if (u < 1000'000) {
    absl::StrAppend(&out, with_fraction(u, 3), "\xC2\xB5s");
  } else if (u < 1000'000'000) {
    absl::StrAppend(&out, with_fraction(u, 6), "ms");
  } else {
    const std::string seconds = with_fraction(u % 60'000'000'000, 9);
    u /= 60'000'000'000;  // Whole minutes.
    if (u >= 60) {
      absl::StrAppend(&out, u / 60, "h", u % 60, "m", seconds, "s");
    } else if (u > 0) {
      absl::StrAppend(&out, u, "m", seconds, "s");
    } else {
      absl::StrAppend(&out, seconds, "s");
    }
  }
  return out;
}

std::string ShortCaller(absl::string_view file, int line) {
  size_t cut = file.rfind('/');
  if (cut != absl::string_view::npos && cut > 0) {
    const size_t previous = file.rfind('/', cut - 1);
    file = previous == absl::string_view::npos ? file : file.substr(previous + 1);
  }
  return absl::StrCat(file, ":", line);
}

}  // namespace etcd::log
