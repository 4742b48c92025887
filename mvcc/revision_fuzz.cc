// Fuzz target: decoding of the "key" bucket's keys and values. Any bytes
// either fail to decode or decode to something that encodes back to the
// same bytes (keys) or to an equivalent value (key-values).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "mvcc/kv_codec.h"
#include "mvcc/revision.h"

namespace {

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "revision fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace etcd::mvcc;  // NOLINT: a fuzz target
  const absl::string_view in(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<RevisionKey> key = ParseRevisionKey(in);
  if (key.ok()) {
    const std::string back =
        key->tombstone ? TombstoneKey(key->rev) : std::string(RevToBytes(key->rev).view());
    Check(back == in, "revision key does not round-trip");
    Check(IsTombstone(in) == key->tombstone, "IsTombstone disagrees with the parser");
    Check(BytesToRev(in) == key->rev, "BytesToRev disagrees with the parser");
  } else {
    Check(in.size() != kRevBytesLen || in[8] != '_', "a well-formed key was rejected");
  }
  if (in.size() >= kRevBytesLen) {
    // Lenient decoding of the first 17 bytes never fails, and orders like
    // the bytes do.
    const Revision r = BytesToRev(in);
    const Revision zero{0, 0};
    Check((r == zero) == (RevToBytes(r).view() == RevToBytes(zero).view()), "zero revision");
  }

  KeyValueFields fields;
  if (DecodeKeyValue(in, &fields)) {
    std::string encoded;
    EncodeKeyValue(fields, &encoded);
    KeyValueFields again;
    Check(DecodeKeyValue(encoded, &again), "re-encoded key-value does not decode");
    Check(again.key == fields.key && again.value == fields.value &&
              again.create_revision == fields.create_revision &&
              again.mod_revision == fields.mod_revision && again.version == fields.version &&
              again.lease == fields.lease,
          "key-value does not round-trip");
  }
  return 0;
}
