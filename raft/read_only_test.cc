#include "raft/read_only.h"

#include <string>

#include "gtest/gtest.h"

namespace etcd::raft {
namespace {

raftpb::Message Request(uint64_t from, const std::string& ctx) {
  raftpb::Message m;
  m.set_type(raftpb::MsgReadIndex);
  m.set_from(from);
  m.add_entries()->set_data(ctx);
  return m;
}

raftpb::Message Ack(const std::string& ctx) {
  raftpb::Message m;
  m.set_type(raftpb::MsgHeartbeatResp);
  m.set_context(ctx);
  return m;
}

TEST(ReadOnlyTest, RequestsAreAnsweredInOrderUpToTheAcknowledgedOne) {
  ReadOnly ro(ReadOnlyOption::kSafe);
  ro.AddRequest(5, Request(2, "a"));
  ro.AddRequest(6, Request(3, "b"));
  ro.AddRequest(7, Request(2, "c"));
  ro.AddRequest(9, Request(2, "a"));  // duplicate context: ignored
  EXPECT_EQ(ro.pending_count(), 3u);
  EXPECT_EQ(ro.LastPendingRequestCtx(), "c");

  const quorum::VoteMap* acks = ro.RecvAck(1, "b");
  ASSERT_NE(acks, nullptr);
  EXPECT_EQ(acks->size(), 1u);
  EXPECT_EQ(ro.RecvAck(2, "b")->size(), 2u);
  EXPECT_EQ(ro.RecvAck(2, "unknown"), nullptr);

  // Acknowledging "b" releases "a" and "b".
  std::vector<ReadIndexStatus> done = ro.Advance(Ack("b"));
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].index, 5u);
  EXPECT_EQ(done[0].req.entries(0).data(), "a");
  EXPECT_EQ(done[1].index, 6u);
  EXPECT_EQ(done[1].req.from(), 3u);
  EXPECT_EQ(ro.pending_count(), 1u);
  EXPECT_EQ(ro.queue_size(), 1u);

  // An unknown context releases nothing.
  EXPECT_TRUE(ro.Advance(Ack("zzz")).empty());
  EXPECT_EQ(ro.Advance(Ack("c")).size(), 1u);
  EXPECT_EQ(ro.LastPendingRequestCtx(), "");
}

}  // namespace
}  // namespace etcd::raft
