// Encoding of mvccpb.KeyValue, the values of the backend's "key" bucket,
// without building protobuf messages on the hot paths.
//
//   etcd::mvcc::KeyValueFields kv;
//   kv.key = "k";
//   kv.value = "v";
//   kv.create_revision = kv.mod_revision = 2;
//   kv.version = 1;
//   std::string bytes;
//   etcd::mvcc::EncodeKeyValue(kv, &bytes);
//   etcd::mvcc::KeyValueFields fields;
//   if (!etcd::mvcc::DecodeKeyValue(bytes, &fields)) { /* corrupt */ }
//
// The bytes are exactly what protobuf's serializer produces for the same
// message (fields in number order, defaults left out), so hashes of the key
// bucket agree with etcd's and any protobuf library can read them.
//
// Pure functions; thread-safe.

#ifndef ETCD_MVCC_KV_CODEC_H_
#define ETCD_MVCC_KV_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "api/mvccpb/kv.pb.h"

namespace etcd::mvcc {

// A KeyValue's fields; the byte fields are views.
struct KeyValueFields {
  absl::string_view key;
  absl::string_view value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

// Replaces `out` with the protobuf encoding of `kv`.
void EncodeKeyValue(const KeyValueFields& kv, std::string* out);

// Decodes protobuf-encoded KeyValue bytes; the views point into `bytes`.
// Unknown fields are skipped. Returns false on malformed input.
bool DecodeKeyValue(absl::string_view bytes, KeyValueFields* kv);

// The same into a message.
bool DecodeKeyValue(absl::string_view bytes, mvccpb::KeyValue* kv);

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_KV_CODEC_H_
