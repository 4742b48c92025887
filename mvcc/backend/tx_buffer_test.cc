#include "mvcc/backend/tx_buffer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace etcd::mvcc::backend::internal {
namespace {

std::vector<std::string> Keys(const std::vector<TxBuffer::Entry>& entries) {
  std::vector<std::string> keys;
  for (const TxBuffer::Entry& entry : entries) {
    keys.push_back(std::string(entry.key) +
                   (entry.deleted ? "(del)" : "=" + std::string(entry.value)));
  }
  return keys;
}

TEST(ArenaTest, ViewsStayValid) {
  Arena arena;
  std::vector<absl::string_view> views;
  std::vector<std::string> originals;
  for (int i = 0; i < 5000; ++i) {
    originals.push_back(
        std::string(i % 97 == 0 ? 40000 : i % 300, static_cast<char>('a' + i % 26)));
    views.push_back(arena.Copy(originals.back()));
  }
  for (size_t i = 0; i < views.size(); ++i) EXPECT_EQ(views[i], originals[i]) << i;
}

TEST(TxBufferTest, ReaderSeesOnlyPublishedSequences) {
  TxBuffer buffer;
  EXPECT_EQ(buffer.published(), 0u);
  buffer.Put(Bucket::kKey, "a", "1", 1);
  const uint64_t before = buffer.published();
  absl::string_view value;
  EXPECT_EQ(buffer.Get(Bucket::kKey, "a", before, &value), TxBuffer::Lookup::kAbsent);
  EXPECT_EQ(buffer.Get(Bucket::kKey, "a", TxBuffer::kLatest, &value), TxBuffer::Lookup::kPresent);
  EXPECT_EQ(value, "1");
  buffer.Publish();
  EXPECT_EQ(buffer.published(), 1u);
  EXPECT_EQ(buffer.Get(Bucket::kKey, "a", 1, &value), TxBuffer::Lookup::kPresent);

  buffer.Put(Bucket::kKey, "a", "2", 2);
  buffer.Delete(Bucket::kKey, "b", 2);
  buffer.Publish();
  EXPECT_EQ(buffer.Get(Bucket::kKey, "a", 1, &value), TxBuffer::Lookup::kPresent);
  EXPECT_EQ(value, "1");
  EXPECT_EQ(buffer.Get(Bucket::kKey, "a", 2, &value), TxBuffer::Lookup::kPresent);
  EXPECT_EQ(value, "2");
  EXPECT_EQ(buffer.Get(Bucket::kKey, "b", 1, &value), TxBuffer::Lookup::kAbsent);
  EXPECT_EQ(buffer.Get(Bucket::kKey, "b", 2, &value), TxBuffer::Lookup::kDeleted);
  // Other buckets are separate.
  EXPECT_EQ(buffer.Get(Bucket::kMeta, "a", 2, &value), TxBuffer::Lookup::kAbsent);
}

TEST(TxBufferTest, SameSequenceReplaces) {
  TxBuffer buffer;
  buffer.Put(Bucket::kMeta, "k", "1", 1);
  buffer.Put(Bucket::kMeta, "k", "2", 1);
  buffer.Delete(Bucket::kMeta, "k", 1);
  buffer.Put(Bucket::kMeta, "k", "3", 1);
  buffer.Publish();
  std::vector<TxBuffer::Entry> latest;
  buffer.ForEachLatest(Bucket::kMeta, [&](const TxBuffer::Entry& e) { latest.push_back(e); });
  EXPECT_EQ(Keys(latest), std::vector<std::string>{"k=3"});
}

TEST(TxBufferTest, PublishWithoutWritesKeepsSequence) {
  TxBuffer buffer;
  buffer.Publish();
  EXPECT_EQ(buffer.published(), 0u);
  EXPECT_FALSE(buffer.dirty());
  buffer.Put(Bucket::kKey, "a", "1", 1);
  EXPECT_TRUE(buffer.dirty());
  buffer.Publish();
  buffer.Publish();
  EXPECT_EQ(buffer.published(), 1u);
}

TEST(TxBufferTest, RangeAtSequenceWithLimit) {
  TxBuffer buffer;
  buffer.Put(Bucket::kKey, "a", "1", 1);
  buffer.Put(Bucket::kKey, "b", "1", 1);
  buffer.Put(Bucket::kKey, "c", "1", 1);
  buffer.Publish();
  buffer.Delete(Bucket::kKey, "a", 2);
  buffer.Put(Bucket::kKey, "d", "2", 2);
  buffer.Publish();

  std::vector<TxBuffer::Entry> out;
  buffer.Range(Bucket::kKey, "a", "z", 1, 0, &out);
  EXPECT_EQ(Keys(out), (std::vector<std::string>{"a=1", "b=1", "c=1"}));
  out.clear();
  buffer.Range(Bucket::kKey, "a", "z", 2, 0, &out);
  EXPECT_EQ(Keys(out), (std::vector<std::string>{"a(del)", "b=1", "c=1", "d=2"}));
  out.clear();
  // Deletions do not count against the limit.
  buffer.Range(Bucket::kKey, "a", "z", 2, 2, &out);
  EXPECT_EQ(Keys(out), (std::vector<std::string>{"a(del)", "b=1", "c=1"}));
  out.clear();
  buffer.Range(Bucket::kKey, "b", "d", 2, 0, &out);
  EXPECT_EQ(Keys(out), (std::vector<std::string>{"b=1", "c=1"}));
  out.clear();
  // Empty end: one key.
  buffer.Range(Bucket::kKey, "a", "", 2, 0, &out);
  EXPECT_EQ(Keys(out), (std::vector<std::string>{"a(del)"}));
  out.clear();
  buffer.Range(Bucket::kKey, "zz", "", 2, 0, &out);
  EXPECT_TRUE(out.empty());
}

TEST(TxBufferTest, EmptyAndCounts) {
  TxBuffer buffer;
  EXPECT_TRUE(buffer.empty());
  buffer.Put(Bucket::kLease, "x", "", 1);
  EXPECT_FALSE(buffer.empty());
  EXPECT_EQ(buffer.KeyCount(Bucket::kLease), 1u);
  EXPECT_EQ(buffer.KeyCount(Bucket::kKey), 0u);
  absl::string_view value = "unset";
  EXPECT_EQ(buffer.Get(Bucket::kLease, "x", TxBuffer::kLatest, &value), TxBuffer::Lookup::kPresent);
  EXPECT_EQ(value, "");
}

}  // namespace
}  // namespace etcd::mvcc::backend::internal
