// Test tool: silently changes the value stored at one revision in a
// member's backend (what a disk or memory error would do), for the
// corruption-check tests. The member must not be running.
//
//   corrupt_db <db path> <main revision> <new value>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "mvcc/backend/backend.h"
#include "mvcc/kv_codec.h"
#include "mvcc/revision.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: corrupt_db <db path> <main revision> <new value>\n");
    return 2;
  }
  etcd::mvcc::backend::BackendOptions options;
  options.path = argv[1];
  auto be = etcd::mvcc::backend::Backend::Open(options);
  if (!be.ok()) {
    std::fprintf(stderr, "corrupt_db: %s\n", be.status().ToString().c_str());
    return 1;
  }
  etcd::mvcc::Revision rev;
  rev.main = std::atoll(argv[2]);
  const std::string key(etcd::mvcc::RevToBytes(rev).view());
  std::string value;
  {
    std::unique_ptr<etcd::mvcc::backend::ReadTx> tx = (*be)->ConcurrentReadTx();
    auto v = tx->UnsafeGet(etcd::mvcc::backend::Bucket::kKey, key);
    if (!v.has_value()) {
      std::fprintf(stderr, "corrupt_db: no entry at revision %s\n", argv[2]);
      return 1;
    }
    value = std::string(*v);
  }
  etcd::mvcc::KeyValueFields kv;
  if (!etcd::mvcc::DecodeKeyValue(value, &kv)) return 1;
  std::string encoded;
  kv.value = argv[3];
  etcd::mvcc::EncodeKeyValue(kv, &encoded);
  etcd::mvcc::backend::BatchTx* tx = (*be)->batch_tx();
  tx->Lock();
  tx->UnsafePut(etcd::mvcc::backend::Bucket::kKey, key, encoded);
  tx->Unlock();
  (*be)->ForceCommit();
  return (*be)->Close().ok() ? 0 : 1;
}
