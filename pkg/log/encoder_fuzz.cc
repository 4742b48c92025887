// Fuzzes JSON string escaping: the output is always one well-formed JSON
// string of valid UTF-8 without raw control bytes, and decoding it gives back
// the input wherever the input was valid UTF-8.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "pkg/log/encoder.h"

namespace {

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "check failed: %s\n", what);
  std::abort();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes the escapes AppendJsonString writes; U+FFFD becomes its UTF-8.
std::string Decode(absl::string_view quoted) {
  Check(quoted.size() >= 2 && quoted.front() == '"' && quoted.back() == '"', "quoted");
  absl::string_view s = quoted.substr(1, quoted.size() - 2);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    Check(c >= 0x20, "no raw control byte");
    Check(c != '"', "no raw quote");
    if (c != '\\') {
      out.push_back(static_cast<char>(c));
      continue;
    }
    Check(i + 1 < s.size(), "complete escape");
    const char e = s[++i];
    if (e == '"' || e == '\\') {
      out.push_back(e);
    } else if (e == 'n') {
      out.push_back('\n');
    } else if (e == 'r') {
      out.push_back('\r');
    } else if (e == 't') {
      out.push_back('\t');
    } else {
      Check(e == 'u' && i + 4 < s.size(), "unicode escape");
      int value = 0;
      for (int k = 1; k <= 4; ++k) {
        const int h = HexValue(s[i + k]);
        Check(h >= 0, "hex digit");
        value = value * 16 + h;
      }
      i += 4;
      if (value == 0xFFFD) {
        out.append("\xEF\xBF\xBD");
      } else {
        Check(value < 0x20, "only control bytes use \\u00XX");
        out.push_back(static_cast<char>(value));
      }
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::string quoted;
  etcd::log::AppendJsonString(input, &quoted);
  const std::string decoded = Decode(quoted);
  // Without replacements the decoding is exact.
  if (quoted.find("\\ufffd") == std::string::npos) Check(decoded == input, "round trip");
  return 0;
}
