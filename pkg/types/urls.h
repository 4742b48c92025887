// A validated, sorted list of member URLs, as etcd's --listen-client-urls,
// --initial-advertise-peer-urls and friends hold them.
//
//   absl::StatusOr<etcd::types::URLs> urls =
//       etcd::types::URLs::Parse("http://10.0.0.2:2379,http://10.0.0.1:2379");
//   urls->String();  // "http://10.0.0.1:2379,http://10.0.0.2:2379"
//
// Every URL must have scheme http, https, unix or unixs, an authority of the
// form "host:port" (unix sockets too: "unix://localhost:2379"), and no path;
// surrounding whitespace is ignored. Error messages are etcd's, e.g.
// `URL must not contain a path: http://10.0.0.1:2379/v2`.
//
// URLs is a value type; thread-compatible.

#ifndef ETCD_PKG_TYPES_URLS_H_
#define ETCD_PKG_TYPES_URLS_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "pkg/types/url.h"

namespace etcd::types {

class URLs {
 public:
  using const_iterator = std::vector<URL>::const_iterator;

  URLs() = default;
  // Takes `urls` as they are: not validated, not sorted.
  explicit URLs(std::vector<URL> urls) : urls_(std::move(urls)) {}

  // Validates every string (etcd's NewURLs) and returns them sorted by their
  // text. An empty list is an error ("no valid URLs given").
  static absl::StatusOr<URLs> FromStrings(absl::Span<const std::string> texts);

  // Splits `comma_separated` on ',' and validates as FromStrings does; the
  // way etcd reads a URL-list flag.
  static absl::StatusOr<URLs> Parse(absl::string_view comma_separated);

  // The URLs joined by ',', in their current order.
  std::string String() const;
  std::vector<std::string> StringSlice() const;

  // Sorts by each URL's String().
  void Sort();

  size_t size() const { return urls_.size(); }
  bool empty() const { return urls_.empty(); }
  const URL& operator[](size_t i) const { return urls_[i]; }
  const_iterator begin() const { return urls_.begin(); }
  const_iterator end() const { return urls_.end(); }
  const std::vector<URL>& urls() const { return urls_; }

  friend bool operator==(const URLs& a, const URLs& b) { return a.urls_ == b.urls_; }
  friend bool operator!=(const URLs& a, const URLs& b) { return !(a == b); }

 private:
  std::vector<URL> urls_;
};

}  // namespace etcd::types

#endif  // ETCD_PKG_TYPES_URLS_H_
