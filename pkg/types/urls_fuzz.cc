// Fuzzes URL, URLs and URLsMap parsing: no crash, and whatever parses prints
// back to text that parses to the same value.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "pkg/types/url.h"
#include "pkg/types/urls.h"
#include "pkg/types/urlsmap.h"

namespace {

void Check(bool ok, const char* what, absl::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "%s: %.*s\n", what, static_cast<int>(input.size()), input.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  using etcd::types::URL;
  using etcd::types::URLs;
  using etcd::types::URLsMap;

  if (absl::StatusOr<URL> url = etcd::types::ParseURL(input); url.ok()) {
    absl::StatusOr<URL> again = etcd::types::ParseURL(url->String());
    Check(again.ok() && *again == *url, "URL round trip", input);
  }
  if (absl::StatusOr<URLs> urls = URLs::Parse(input); urls.ok()) {
    absl::StatusOr<URLs> again = URLs::Parse(urls->String());
    Check(again.ok() && *again == *urls, "URLs round trip", input);
  }
  if (absl::StatusOr<URLsMap> map = URLsMap::Parse(input); map.ok()) {
    absl::StatusOr<URLsMap> again = URLsMap::Parse(map->String());
    Check(again.ok() && again->String() == map->String(), "URLsMap round trip", input);
  }
  return 0;
}
