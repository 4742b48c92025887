#include "pkg/types/urls.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "pkg/status/status_macros.h"

namespace etcd::types {
namespace {

// Go's net.SplitHostPort accepts "host:port", "[v6]:port", ":port" (and an
// empty port, which ParseURL has already rejected).
bool HasHostPortForm(const URL& url) { return !url.port.empty(); }

absl::StatusOr<URL> ValidateURL(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  ASSIGN_OR_RETURN(URL url, ParseURL(text));
  if (url.scheme != "http" && url.scheme != "https" && url.scheme != "unix" &&
      url.scheme != "unixs") {
    return absl::InvalidArgumentError(
        absl::StrCat("URL scheme must be http, https, unix, or unixs: ", text));
  }
  if (!HasHostPortForm(url)) {
    return absl::InvalidArgumentError(
        absl::StrCat("URL address does not have the form \"host:port\": ", text));
  }
  if (!url.path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("URL must not contain a path: ", text));
  }
  return url;
}

}  // namespace

absl::StatusOr<URLs> URLs::FromStrings(absl::Span<const std::string> texts) {
  if (texts.empty()) return absl::InvalidArgumentError("no valid URLs given");
  std::vector<URL> urls;
  urls.reserve(texts.size());
  for (const std::string& text : texts) {
    ASSIGN_OR_RETURN(URL url, ValidateURL(text));
    urls.push_back(std::move(url));
  }
  URLs out(std::move(urls));
  out.Sort();
  return out;
}

absl::StatusOr<URLs> URLs::Parse(absl::string_view comma_separated) {
  const std::vector<std::string> texts = absl::StrSplit(comma_separated, ',');
  return FromStrings(texts);
}

std::string URLs::String() const { return absl::StrJoin(StringSlice(), ","); }

std::vector<std::string> URLs::StringSlice() const {
  std::vector<std::string> out;
  out.reserve(urls_.size());
  for (const URL& url : urls_) out.push_back(url.String());
  return out;
}

void URLs::Sort() {
  std::vector<std::pair<std::string, URL>> keyed;
  keyed.reserve(urls_.size());
  for (URL& url : urls_) keyed.emplace_back(url.String(), std::move(url));
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < keyed.size(); ++i) urls_[i] = std::move(keyed[i].second);
}

}  // namespace etcd::types
