// Member names mapped to their URLs, as etcd's --initial-cluster holds them.
//
//   absl::StatusOr<etcd::types::URLsMap> cluster = etcd::types::URLsMap::Parse(
//       "infra0=http://10.0.0.1:2380,infra1=http://10.0.0.2:2380,"
//       "infra0=http://10.0.0.3:2380");
//   cluster->Find("infra0")->String();  // "http://10.0.0.1:2380,http://10.0.0.3:2380"
//   cluster->String();  // "infra0=http://10.0.0.1:2380,infra0=...,infra1=..."
//
// Entries are "name=url" separated by ','; a name may repeat, its URLs are
// collected and sorted. Every URL is validated as URLs::FromStrings does, so
// an entry without '=' or with an empty URL fails with etcd's error
// `URL scheme must be http, https, unix, or unixs: ` (the empty URL). Names
// are checked in sorted order, so the reported error is deterministic.
//
// URLsMap is a value type; thread-compatible.

#ifndef ETCD_PKG_TYPES_URLSMAP_H_
#define ETCD_PKG_TYPES_URLSMAP_H_

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pkg/types/urls.h"

namespace etcd::types {

class URLsMap {
 public:
  using Map = std::map<std::string, URLs, std::less<>>;
  using const_iterator = Map::const_iterator;

  URLsMap() = default;

  // Parses "name1=url1,name2=url2,name1=url3". The empty string is an empty
  // map.
  static absl::StatusOr<URLsMap> Parse(absl::string_view text);

  // Each value of `names_to_urls` is a list of URLs separated by `separator`.
  static absl::StatusOr<URLsMap> FromStringMap(
      const std::map<std::string, std::string>& names_to_urls, absl::string_view separator);

  // "name=url" pairs joined by ',', sorted as strings; names without URLs
  // are left out. Parse(m.String()) gives back `m` for a parsed map.
  std::string String() const;

  // Every URL of every member, sorted as strings.
  std::vector<std::string> AllURLs() const;

  // The URLs of `name`, or nullptr.
  const URLs* Find(absl::string_view name) const;

  // Adds or replaces the URLs of `name`.
  void Set(std::string name, URLs urls) { map_[std::move(name)] = std::move(urls); }

  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }

  friend bool operator==(const URLsMap& a, const URLsMap& b) { return a.map_ == b.map_; }
  friend bool operator!=(const URLsMap& a, const URLsMap& b) { return !(a == b); }

 private:
  Map map_;
};

}  // namespace etcd::types

#endif  // ETCD_PKG_TYPES_URLSMAP_H_
