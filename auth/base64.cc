#include "auth/base64.h"

#include <array>
#include <cstdint>

namespace etcd::auth {
namespace {

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

using DecodeTable = std::array<int8_t, 256>;

constexpr DecodeTable MakeTable(const char* alphabet) {
  DecodeTable table{};
  for (int i = 0; i < 256; ++i) table[i] = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr DecodeTable kUrlTable = MakeTable(kUrlAlphabet);
constexpr DecodeTable kStdTable = MakeTable(kStdAlphabet);

std::string Encode(absl::string_view data, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  const auto byte = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(data[k]));
  };
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out.push_back(alphabet[v >> 18]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    uint32_t v = byte(i) << 16;
    out.push_back(alphabet[v >> 18]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out.push_back(alphabet[v >> 18]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

// Decodes unpadded `encoded` (the caller strips and checks padding).
std::optional<std::string> DecodeUnpadded(absl::string_view encoded, const DecodeTable& table) {
  if (encoded.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(encoded.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : encoded) {
    int v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits (2 or 4) must be zero for the encoding to be canonical.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::string Base64UrlEncode(absl::string_view data) { return Encode(data, kUrlAlphabet, false); }

std::optional<std::string> Base64UrlDecode(absl::string_view encoded) {
  return DecodeUnpadded(encoded, kUrlTable);
}

std::string Base64StdEncode(absl::string_view data) { return Encode(data, kStdAlphabet, true); }

std::optional<std::string> Base64StdDecode(absl::string_view encoded) {
  if (encoded.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  while (pad < 2 && pad < encoded.size() && encoded[encoded.size() - 1 - pad] == '=') ++pad;
  absl::string_view body = encoded.substr(0, encoded.size() - pad);
  // "xx==" leaves 2 characters, "xxx=" leaves 3; a full group never pads.
  if (pad > 0 && body.size() % 4 != 4 - pad) return std::nullopt;
  return DecodeUnpadded(body, kStdTable);
}

}  // namespace etcd::auth
