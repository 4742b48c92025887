// Feeds arbitrary request bodies to the gateway's JSON side: the first byte
// picks a route, the rest is the body. Splitting and parsing must never
// crash, and whatever parses must survive JSON -> binary -> JSON -> binary
// unchanged; the raw bytes, read as a response, must not crash the printer.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "server/gateway/gateway.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& routes = etcd::gateway::Routes();
  const etcd::gateway::Route& route = routes[data[0] % routes.size()];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);

  bool rest_ok = false;
  for (const std::string& object : etcd::gateway::SplitJsonObjects(body, &rest_ok)) {
    absl::StatusOr<std::string> binary = etcd::gateway::JsonToBinary(*route.request, object);
    if (!binary.ok()) continue;
    absl::StatusOr<std::string> json = etcd::gateway::BinaryToJson(*route.request, *binary);
    if (!json.ok()) {
      std::fprintf(stderr, "cannot print a message that parsed: %s\n", object.c_str());
      std::abort();
    }
    absl::StatusOr<std::string> again = etcd::gateway::JsonToBinary(*route.request, *json);
    if (!again.ok() || *again != *binary) {
      std::fprintf(stderr, "JSON round trip changed the message: %s -> %s (%s vs %s)\n",
                   object.c_str(), json->c_str(), absl::BytesToHexString(*binary).c_str(),
                   again.ok() ? absl::BytesToHexString(*again).c_str() : "error");
      std::abort();
    }
  }
  (void)etcd::gateway::BinaryToJson(*route.response, body);
  return 0;
}
