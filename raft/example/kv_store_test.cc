#include "raft/example/kv_store.h"

#include <gtest/gtest.h>

#include <string>

#include "pkg/testutil/status_matchers.h"

namespace etcd::raftexample {
namespace {

TEST(ProposalTest, RoundTrips) {
  const Proposal p{0x0102030405060708, std::string("k\0ey", 4), std::string("v\0\xff", 3)};
  ASSERT_OK_AND_ASSIGN(Proposal q, DecodeProposal(EncodeProposal(p)));
  EXPECT_EQ(q.request_id, p.request_id);
  EXPECT_EQ(q.key, p.key);
  EXPECT_EQ(q.value, p.value);

  ASSERT_OK_AND_ASSIGN(Proposal empty, DecodeProposal(EncodeProposal({})));
  EXPECT_EQ(empty.key, "");
  EXPECT_EQ(empty.value, "");
}

TEST(ProposalTest, TruncatedIsAnError) {
  const std::string full = EncodeProposal({7, "key", "value"});
  // Every prefix that cuts the ID, the key length or the key is refused.
  for (size_t n = 0; n < 8 + 4 + 3; ++n) {
    EXPECT_FALSE(DecodeProposal(full.substr(0, n)).ok()) << n;
  }
}

TEST(KvStoreTest, PutGetAndOverwrite) {
  KvStore kv;
  EXPECT_FALSE(kv.Get("a").has_value());
  kv.Put("a", "1");
  kv.Put("a", "2");
  kv.Put("b", "");
  EXPECT_EQ(kv.Get("a"), "2");
  EXPECT_EQ(kv.Get("b"), "");
  EXPECT_EQ(kv.Size(), 2u);
}

TEST(KvStoreTest, SnapshotRestoresEverything) {
  KvStore kv;
  for (int i = 0; i < 100; ++i) kv.Put("key" + std::to_string(i), std::string(i, 'x'));
  kv.Put(std::string("\0", 1), std::string("\0\0", 2));
  KvStore other;
  other.Put("stale", "gone after restore");
  ASSERT_OK(other.Restore(kv.Snapshot()));
  EXPECT_EQ(other.Size(), 101u);
  EXPECT_FALSE(other.Get("stale").has_value());
  EXPECT_EQ(other.Get("key42"), std::string(42, 'x'));
  EXPECT_EQ(other.Get(std::string("\0", 1)), std::string("\0\0", 2));
  EXPECT_EQ(other.Snapshot(), kv.Snapshot());

  ASSERT_OK(other.Restore(""));
  EXPECT_EQ(other.Size(), 0u);
}

TEST(KvStoreTest, CorruptSnapshotChangesNothing) {
  KvStore kv;
  kv.Put("a", "1");
  kv.Put("b", "2");
  const std::string snap = kv.Snapshot();
  KvStore other;
  other.Put("keep", "me");
  for (size_t n = 1; n < snap.size(); ++n) {
    if (n == 4 + 1 + 4 + 1) continue;  // a whole first pair is a valid snapshot
    EXPECT_FALSE(other.Restore(snap.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(other.Restore("\xff\xff\xff\xff").ok());
  EXPECT_EQ(other.Size(), 1u);
  EXPECT_EQ(other.Get("keep"), "me");
}

}  // namespace
}  // namespace etcd::raftexample
