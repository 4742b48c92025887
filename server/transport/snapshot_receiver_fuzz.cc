// A hostile peer's SendSnapshot stream: the input is a sequence of
// length-prefixed SnapshotChunk messages (one length byte each, then the
// bytes; undecodable chunks are skipped). Whatever arrives, the receiver
// must not crash, and a database it accepts must match the digest the
// stream announced.

#include <openssl/evp.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "server/transport/snapshot_file.h"

namespace {

std::string Sha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

const std::string& Dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/snapshot_receiver_fuzz.XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (made == nullptr) abort();
    return std::string(made);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  etcd::transport::SnapshotReceiver receiver(Dir());
  std::string announced;
  size_t pos = 0;
  bool failed = false;
  while (pos < size && !failed) {
    size_t len = data[pos++];
    if (len > size - pos) len = size - pos;
    etcdcpp::peerpb::SnapshotChunk chunk;
    bool parsed = chunk.ParseFromArray(data + pos, static_cast<int>(len));
    pos += len;
    if (!parsed) continue;
    // Keep announced sizes small so a fuzz run cannot fill the disk.
    if (chunk.db_size() > (1u << 20)) chunk.set_db_size(chunk.db_size() % (1u << 20));
    if (!chunk.sha256().empty() && announced.empty()) announced = chunk.sha256();
    failed = !receiver.Take(chunk).ok();
  }
  if (failed) return 0;
  absl::StatusOr<std::string> path = receiver.Complete();
  if (!path.ok()) return 0;
  std::ifstream in(*path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  if (Sha256(contents.str()) != announced) abort();
  unlink(path->c_str());
  return 0;
}
