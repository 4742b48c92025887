#include "pkg/types/url.h"

#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/status/status_macros.h"

namespace etcd::types {
namespace {

absl::Status ParseError(absl::string_view text, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("parse \"", text, "\": ", reason));
}

bool IsHex(char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); }

// Every '%' starts a two-digit escape; returns the bad escape otherwise.
bool ValidEscapes(absl::string_view s, absl::string_view* bad) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 >= s.size() || !IsHex(s[i + 1]) || !IsHex(s[i + 2])) {
      *bad = s.substr(i, 3);
      return false;
    }
    i += 2;
  }
  return true;
}

// Bytes Go's net/url accepts unescaped in a host (plus '%' escapes and
// non-ASCII bytes).
bool ValidHostByte(unsigned char c) {
  if (c >= 0x80 || absl::ascii_isalnum(c)) return true;
  return absl::string_view("-._~!$&'()*+,;=:[]<>\"").find(static_cast<char>(c)) !=
         absl::string_view::npos;
}

bool ValidUserInfoByte(unsigned char c) {
  if (absl::ascii_isalnum(c)) return true;
  return absl::string_view("-._:~!$&'()*+,;=%@").find(static_cast<char>(c)) !=
         absl::string_view::npos;
}

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Splits "scheme:rest". Returns false on a leading ':'.
bool SplitScheme(absl::string_view text, absl::string_view* scheme, absl::string_view* rest) {
  *scheme = {};
  *rest = text;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (absl::ascii_isalpha(c)) continue;
    if (absl::ascii_isdigit(c) || c == '+' || c == '-' || c == '.') {
      if (i == 0) return true;  // Not a scheme: a relative reference.
      continue;
    }
    if (c == ':') {
      if (i == 0) return false;
      *scheme = text.substr(0, i);
      *rest = text.substr(i + 1);
    }
    return true;
  }
  return true;
}

absl::Status ParseHost(absl::string_view text, absl::string_view hostport, URL* url) {
  absl::string_view host = hostport;
  absl::string_view colon_port;
  const bool bracketed = absl::StartsWith(hostport, "[");
  if (bracketed) {
    const size_t close = hostport.rfind(']');
    if (close == absl::string_view::npos) return ParseError(text, "missing ']' in host");
    host = hostport.substr(1, close - 1);
    if (host.empty()) return ParseError(text, "empty IPv6 literal \"[]\"");
    colon_port = hostport.substr(close + 1);
    if (!colon_port.empty() && colon_port[0] != ':') {
      return ParseError(text, absl::StrCat("invalid port \"", colon_port, "\" after host"));
    }
  } else if (const size_t colon = hostport.rfind(':'); colon != absl::string_view::npos) {
    host = hostport.substr(0, colon);
    colon_port = hostport.substr(colon);
  }
  if (!colon_port.empty() && (colon_port.size() == 1 || !AllDigits(colon_port.substr(1)))) {
    return ParseError(text, absl::StrCat("invalid port \"", colon_port, "\" after host"));
  }
  if (host.find_first_of("[]") != absl::string_view::npos) {
    return ParseError(text, "unexpected '[' or ']' in host");
  }
  if (!bracketed && host.find(':') != absl::string_view::npos) {
    return ParseError(text, "too many colons in address");
  }
  for (char c : host) {
    if (c != '%' && !ValidHostByte(static_cast<unsigned char>(c))) {
      return ParseError(
          text, absl::StrCat("invalid character \"", absl::string_view(&c, 1), "\" in host name"));
    }
  }
  absl::string_view bad;
  if (!ValidEscapes(host, &bad)) {
    return ParseError(text, absl::StrCat("invalid URL escape \"", bad, "\""));
  }
  url->host = std::string(host);
  url->port = colon_port.empty() ? "" : std::string(colon_port.substr(1));
  return absl::OkStatus();
}

absl::Status ParseAuthority(absl::string_view text, absl::string_view authority, URL* url) {
  const size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) {
    const absl::string_view user_info = authority.substr(0, at);
    // Go keeps an empty user info; this URL type could not print it back.
    if (user_info.empty()) return ParseError(text, "empty user info before '@'");
    for (char c : user_info) {
      if (!ValidUserInfoByte(static_cast<unsigned char>(c))) {
        return ParseError(text, "net/url: invalid userinfo");
      }
    }
    url->user_info = std::string(user_info);
    authority = authority.substr(at + 1);
  }
  return ParseHost(text, authority, url);
}

}  // namespace

std::string URL::HostPort() const {
  const bool bracket = host.find(':') != std::string::npos;
  std::string out = bracket ? absl::StrCat("[", host, "]") : host;
  if (!port.empty()) absl::StrAppend(&out, ":", port);
  return out;
}

std::string URL::String() const {
  std::string out;
  if (!scheme.empty()) absl::StrAppend(&out, scheme, ":");
  if (!opaque.empty()) {
    absl::StrAppend(&out, opaque);
  } else {
    const bool has_authority = !host.empty() || !port.empty() || !user_info.empty();
    if ((!scheme.empty() || has_authority) && (has_authority || !path.empty())) {
      absl::StrAppend(&out, "//");
      if (!user_info.empty()) absl::StrAppend(&out, user_info, "@");
      absl::StrAppend(&out, HostPort());
    }
    absl::StrAppend(&out, path);
  }
  if (!raw_query.empty()) absl::StrAppend(&out, "?", raw_query);
  if (!fragment.empty()) absl::StrAppend(&out, "#", fragment);
  return out;
}

bool operator==(const URL& a, const URL& b) {
  return std::tie(a.scheme, a.opaque, a.user_info, a.host, a.port, a.path, a.raw_query,
                  a.fragment) ==
         std::tie(b.scheme, b.opaque, b.user_info, b.host, b.port, b.path, b.raw_query, b.fragment);
}

absl::StatusOr<URL> ParseURL(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return ParseError(text, "net/url: invalid control character in URL");
    }
  }
  URL url;
  absl::string_view rest = text;
  if (const size_t hash = rest.find('#'); hash != absl::string_view::npos) {
    url.fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  absl::string_view scheme;
  if (!SplitScheme(rest, &scheme, &rest)) return ParseError(text, "missing protocol scheme");
  url.scheme = absl::AsciiStrToLower(scheme);
  if (const size_t question = rest.find('?'); question != absl::string_view::npos) {
    url.raw_query = std::string(rest.substr(question + 1));
    rest = rest.substr(0, question);
  }

  if (!absl::StartsWith(rest, "/")) {
    if (!url.scheme.empty()) {
      url.opaque = std::string(rest);
      return url;
    }
    // A relative path: its first segment must not look like "scheme:".
    const absl::string_view segment = rest.substr(0, rest.find('/'));
    if (segment.find(':') != absl::string_view::npos) {
      return ParseError(text, "first path segment in URL cannot contain colon");
    }
  }
  if ((!url.scheme.empty() || !absl::StartsWith(rest, "///")) && absl::StartsWith(rest, "//")) {
    rest.remove_prefix(2);
    const size_t slash = rest.find('/');
    RETURN_IF_ERROR(ParseAuthority(text, rest.substr(0, slash), &url));
    rest = slash == absl::string_view::npos ? absl::string_view() : rest.substr(slash);
  }
  absl::string_view bad;
  if (!ValidEscapes(rest, &bad)) {
    return ParseError(text, absl::StrCat("invalid URL escape \"", bad, "\""));
  }
  url.path = std::string(rest);
  return url;
}

}  // namespace etcd::types
