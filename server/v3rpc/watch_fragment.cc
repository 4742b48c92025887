#include "server/v3rpc/watch_fragment.h"

#include <utility>

namespace etcd::v3rpc {
namespace {

size_t VarintSize(size_t value) {
  size_t bytes = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++bytes;
  }
  return bytes;
}

}  // namespace

std::vector<etcdserverpb::WatchResponse> FragmentWatchResponse(etcdserverpb::WatchResponse response,
                                                               uint64_t max_request_bytes) {
  std::vector<etcdserverpb::WatchResponse> parts;
  if (response.ByteSizeLong() < max_request_bytes || response.events_size() < 2) {
    parts.push_back(std::move(response));
    return parts;
  }
  etcdserverpb::WatchResponse shell = response;
  shell.clear_events();
  shell.set_fragment(true);
  const int n = response.events_size();
  int next = 0;
  while (next < n) {
    etcdserverpb::WatchResponse part = shell;
    size_t size = part.ByteSizeLong();
    while (next < n) {
      // An event adds its size plus its tag and length prefix.
      size_t event_size = response.events(next).ByteSizeLong();
      size_t added = 1 + VarintSize(event_size) + event_size;
      if (part.events_size() >= 1 && size + added >= max_request_bytes) break;
      *part.add_events() = response.events(next);
      size += added;
      ++next;
    }
    if (next == n) part.set_fragment(false);
    parts.push_back(std::move(part));
  }
  return parts;
}

}  // namespace etcd::v3rpc
