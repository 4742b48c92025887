// A URL as etcd's flags and member records carry them ("http://10.0.0.1:2380",
// "unixs://localhost:2379", "https://[::1]:2379").
//
//   absl::StatusOr<etcd::types::URL> u = etcd::types::ParseURL("http://[::1]:2380");
//   u->host;        // "::1"
//   u->port;        // "2380"
//   u->HostPort();  // "[::1]:2380"
//   u->String();    // "http://[::1]:2380"
//
// ParseURL follows Go's net/url.Parse, which etcd uses, for the URLs an etcd
// configuration can hold: the scheme is lowercased, the host and port are
// split, everything else is kept as written (no percent-decoding), and the
// syntax errors Go reports are reported here with Go's wording, e.g.
// `parse "://x": missing protocol scheme`. It is stricter than Go where Go
// accepts a host that etcd then rejects anyway: an empty port after ':'
// ("http://host:"), an IPv6 literal without brackets ("http://a:b:80"),
// '[' or ']' inside the host, an empty "[]" and an empty user info
// ("http://@host:1") are parse errors here.
//
// URL is a plain value type; thread-compatible.

#ifndef ETCD_PKG_TYPES_URL_H_
#define ETCD_PKG_TYPES_URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::types {

struct URL {
  // Lowercase scheme without the ':' ("http"); empty for a relative URL.
  std::string scheme;
  // What follows "scheme:" when it is not "//authority" ("mailto:x" -> "x").
  std::string opaque;
  // "user:password" before an '@' in the authority, as written.
  std::string user_info;
  // Host name or IP address; an IPv6 literal without its brackets
  // ("fe80::1%25eth0", zone still escaped).
  std::string host;
  // Decimal port, empty when the authority has none.
  std::string port;
  // Path as written ("/v2/keys"), not percent-decoded.
  std::string path;
  // Query without the '?', and fragment without the '#', as written.
  std::string raw_query;
  std::string fragment;

  // "host:port", "host" without a port; IPv6 literals get their brackets back.
  std::string HostPort() const;

  // The URL text; ParseURL(u.String()) gives back `u` for any parsed URL.
  std::string String() const;

  friend bool operator==(const URL& a, const URL& b);
  friend bool operator!=(const URL& a, const URL& b) { return !(a == b); }
};

// Parses `text` (not trimmed). Errors are InvalidArgument.
absl::StatusOr<URL> ParseURL(absl::string_view text);

}  // namespace etcd::types

#endif  // ETCD_PKG_TYPES_URL_H_
