#include "mvcc/kv_codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>

namespace etcd::mvcc {
namespace {

mvccpb::KeyValue Proto(const KeyValueFields& f) {
  mvccpb::KeyValue kv;
  kv.set_key(std::string(f.key));
  kv.set_value(std::string(f.value));
  kv.set_create_revision(f.create_revision);
  kv.set_mod_revision(f.mod_revision);
  kv.set_version(f.version);
  kv.set_lease(f.lease);
  return kv;
}

TEST(KvCodecTest, MatchesProtobufSerialization) {
  std::mt19937_64 rng(3);
  const int64_t specials[] = {0,   1,
                              127, 128,
                              300, std::numeric_limits<int64_t>::max(),
                              -1,  std::numeric_limits<int64_t>::min()};
  for (int i = 0; i < 2000; ++i) {
    const std::string key(rng() % 3 == 0 ? 0 : rng() % 200, static_cast<char>(rng()));
    const std::string value(rng() % 4 == 0 ? 0 : rng() % 5000, static_cast<char>(rng()));
    auto pick = [&] { return rng() % 2 ? specials[rng() % 8] : static_cast<int64_t>(rng()); };
    KeyValueFields f{key, value, pick(), pick(), pick(), pick()};
    std::string mine;
    EncodeKeyValue(f, &mine);
    const mvccpb::KeyValue proto = Proto(f);
    ASSERT_EQ(mine, proto.SerializeAsString()) << i;

    KeyValueFields back;
    ASSERT_TRUE(DecodeKeyValue(mine, &back));
    EXPECT_EQ(back.key, f.key);
    EXPECT_EQ(back.value, f.value);
    EXPECT_EQ(back.create_revision, f.create_revision);
    EXPECT_EQ(back.mod_revision, f.mod_revision);
    EXPECT_EQ(back.version, f.version);
    EXPECT_EQ(back.lease, f.lease);
    mvccpb::KeyValue message;
    ASSERT_TRUE(DecodeKeyValue(mine, &message));
    EXPECT_EQ(message.SerializeAsString(), mine);
  }
}

TEST(KvCodecTest, RejectsMalformedAndSkipsUnknown) {
  KeyValueFields f;
  EXPECT_TRUE(DecodeKeyValue("", &f));
  EXPECT_FALSE(DecodeKeyValue("\x0a", &f));  // key without a length
  EXPECT_FALSE(
      DecodeKeyValue("\x0a\x05"
                     "ab",
                     &f));                                       // key shorter than its length
  EXPECT_FALSE(DecodeKeyValue("\x10", &f));                      // truncated varint
  EXPECT_FALSE(DecodeKeyValue("\x08\x01", &f));                  // key with a varint wire type
  EXPECT_FALSE(DecodeKeyValue(std::string("\x00\x01", 2), &f));  // field 0
  EXPECT_FALSE(DecodeKeyValue("\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", &f));
  // An unknown varint field (7) and an unknown bytes field (9) are skipped.
  ASSERT_TRUE(DecodeKeyValue("\x0a\x01k\x38\x05\x4a\x02zz\x20\x03", &f));
  EXPECT_EQ(f.key, "k");
  EXPECT_EQ(f.version, 3);
}

}  // namespace
}  // namespace etcd::mvcc
