#include "mvcc/kv_codec.h"

#include <cstring>

namespace etcd::mvcc {
namespace {

enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

char* PutVarint(uint64_t v, char* p) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    if (shift == 63 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

size_t FieldSize(int64_t v) { return v == 0 ? 0 : 1 + VarintSize(static_cast<uint64_t>(v)); }

size_t BytesFieldSize(absl::string_view b) {
  return b.empty() ? 0 : 1 + VarintSize(b.size()) + b.size();
}

char* PutIntField(int field, int64_t v, char* p) {
  if (v == 0) return p;
  *p++ = static_cast<char>(field << 3 | kVarint);
  return PutVarint(static_cast<uint64_t>(v), p);
}

char* PutBytesField(int field, absl::string_view b, char* p) {
  if (b.empty()) return p;
  *p++ = static_cast<char>(field << 3 | kLengthDelimited);
  p = PutVarint(b.size(), p);
  std::memcpy(p, b.data(), b.size());
  return p + b.size();
}

}  // namespace

void EncodeKeyValue(const KeyValueFields& kv, std::string* out) {
  const size_t size = BytesFieldSize(kv.key) + FieldSize(kv.create_revision) +
                      FieldSize(kv.mod_revision) + FieldSize(kv.version) +
                      BytesFieldSize(kv.value) + FieldSize(kv.lease);
  out->resize(size);
  char* p = out->data();
  p = PutBytesField(1, kv.key, p);
  p = PutIntField(2, kv.create_revision, p);
  p = PutIntField(3, kv.mod_revision, p);
  p = PutIntField(4, kv.version, p);
  p = PutBytesField(5, kv.value, p);
  PutIntField(6, kv.lease, p);
}

bool DecodeKeyValue(absl::string_view bytes, KeyValueFields* kv) {
  *kv = KeyValueFields();
  absl::string_view in = bytes;
  while (!in.empty()) {
    uint64_t tag;
    if (!GetVarint(&in, &tag) || tag > UINT32_MAX) return false;
    const uint64_t field = tag >> 3;
    const int wire = static_cast<int>(tag & 7);
    if (field == 0) return false;
    switch (wire) {
      case kVarint: {
        uint64_t v;
        if (!GetVarint(&in, &v)) return false;
        const int64_t s = static_cast<int64_t>(v);
        if (field == 2) kv->create_revision = s;
        if (field == 3) kv->mod_revision = s;
        if (field == 4) kv->version = s;
        if (field == 6) kv->lease = s;
        if (field == 1 || field == 5) return false;
        break;
      }
      case kLengthDelimited: {
        uint64_t n;
        if (!GetVarint(&in, &n) || n > in.size()) return false;
        const absl::string_view b = in.substr(0, n);
        in.remove_prefix(n);
        if (field == 1) kv->key = b;
        if (field == 5) kv->value = b;
        if (field >= 2 && field <= 4) return false;
        if (field == 6) return false;
        break;
      }
      case kFixed64:
        if (in.size() < 8 || (field >= 1 && field <= 6)) return false;
        in.remove_prefix(8);
        break;
      case kFixed32:
        if (in.size() < 4 || (field >= 1 && field <= 6)) return false;
        in.remove_prefix(4);
        break;
      default:
        return false;
    }
  }
  return true;
}

bool DecodeKeyValue(absl::string_view bytes, mvccpb::KeyValue* kv) {
  KeyValueFields fields;
  if (!DecodeKeyValue(bytes, &fields)) return false;
  kv->Clear();
  kv->set_key(fields.key.data(), fields.key.size());
  kv->set_value(fields.value.data(), fields.value.size());
  kv->set_create_revision(fields.create_revision);
  kv->set_mod_revision(fields.mod_revision);
  kv->set_version(fields.version);
  kv->set_lease(fields.lease);
  return true;
}

}  // namespace etcd::mvcc
