#include "pkg/types/urlsmap.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "pkg/status/status_macros.h"

namespace etcd::types {

absl::StatusOr<URLsMap> URLsMap::Parse(absl::string_view text) {
  std::map<std::string, std::vector<std::string>> texts;
  for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    // An entry without '=' is a name with an empty URL, which fails below.
    std::pair<absl::string_view, absl::string_view> name_url =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    texts[std::string(name_url.first)].emplace_back(name_url.second);
  }
  URLsMap out;
  for (const auto& [name, urls] : texts) {
    ASSIGN_OR_RETURN(URLs parsed, URLs::FromStrings(urls));
    out.map_.emplace(name, std::move(parsed));
  }
  return out;
}

absl::StatusOr<URLsMap> URLsMap::FromStringMap(
    const std::map<std::string, std::string>& names_to_urls, absl::string_view separator) {
  URLsMap out;
  for (const auto& [name, urls] : names_to_urls) {
    const std::vector<std::string> texts = absl::StrSplit(urls, separator);
    ASSIGN_OR_RETURN(URLs parsed, URLs::FromStrings(texts));
    out.map_.emplace(name, std::move(parsed));
  }
  return out;
}

std::string URLsMap::String() const {
  std::vector<std::string> pairs;
  for (const auto& [name, urls] : map_) {
    for (const URL& url : urls) pairs.push_back(absl::StrCat(name, "=", url.String()));
  }
  std::sort(pairs.begin(), pairs.end());
  return absl::StrJoin(pairs, ",");
}

std::vector<std::string> URLsMap::AllURLs() const {
  std::vector<std::string> out;
  for (const auto& [name, urls] : map_) {
    for (const URL& url : urls) out.push_back(url.String());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const URLs* URLsMap::Find(absl::string_view name) const {
  const auto it = map_.find(name);
  return it == map_.end() ? nullptr : &it->second;
}

}  // namespace etcd::types
