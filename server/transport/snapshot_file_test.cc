#include "server/transport/snapshot_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::transport {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// The digest the reader computes for `data` (written to a file first).
std::string DigestOf(const std::string& dir, const std::string& data) {
  std::string path = dir + "/digest-input";
  WriteFile(path, data);
  auto reader = SnapshotFileReader::Open(path);
  EXPECT_OK(reader.status());
  std::string chunk;
  do {
    EXPECT_OK((*reader)->Next(7, &chunk));
  } while (!chunk.empty());
  return (*reader)->Digest();
}

TEST(SnapshotFileTest, RoundTripsThroughReaderAndWriter) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("snapfile"));
  std::string data;
  for (int i = 0; i < 5000; ++i) data += static_cast<char>(i * 31);
  std::string source = dir.path() + "/source.db";
  WriteFile(source, data);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SnapshotFileReader> reader,
                       SnapshotFileReader::Open(source));
  EXPECT_EQ(reader->size(), data.size());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SnapshotFileWriter> writer,
                       SnapshotFileWriter::Create(dir.path() + "/snap", 0x2a, reader->size()));
  std::string chunk;
  while (true) {
    ASSERT_OK(reader->Next(1000, &chunk));
    if (chunk.empty()) break;
    ASSERT_OK(writer->Append(chunk));
  }
  std::string digest = reader->Digest();
  EXPECT_EQ(digest.size(), 32u);
  ASSERT_OK_AND_ASSIGN(std::string path, writer->Finish(digest));
  EXPECT_EQ(path, dir.path() + "/snap/000000000000002a.snap.db");
  EXPECT_EQ(ReadFile(path), data);
}

TEST(SnapshotFileTest, RejectsWrongDigestAndRemovesTheFile) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("snapfile"));
  std::string digest = DigestOf(dir.path(), "hello world");
  std::string snap = dir.path() + "/snap";
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SnapshotFileWriter> writer,
                         SnapshotFileWriter::Create(snap, 7, 11));
    ASSERT_OK(writer->Append("hello WORLD"));  // one bit of the data flipped in transit
    absl::StatusOr<std::string> path = writer->Finish(digest);
    EXPECT_EQ(path.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(path.status().message(), "snapshot database checksum mismatch");
  }
  // Neither the final nor the temporary file is left behind.
  std::ifstream final_file(snap + "/0000000000000007.snap.db");
  std::ifstream temp_file(snap + "/0000000000000007.snap.db.tmp");
  EXPECT_FALSE(final_file.good());
  EXPECT_FALSE(temp_file.good());
}

TEST(SnapshotFileTest, RejectsTruncatedAndOversizedData) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("snapfile"));
  std::string digest = DigestOf(dir.path(), "abc");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SnapshotFileWriter> truncated,
                       SnapshotFileWriter::Create(dir.path(), 1, 4));
  ASSERT_OK(truncated->Append("abc"));
  EXPECT_EQ(truncated->Finish(digest).status().code(), absl::StatusCode::kDataLoss);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SnapshotFileWriter> oversized,
                       SnapshotFileWriter::Create(dir.path(), 2, 2));
  EXPECT_EQ(oversized->Append("abc").code(), absl::StatusCode::kDataLoss);
}

TEST(SnapshotFileTest, NamesMissingInputs) {
  EXPECT_EQ(SnapshotFileWriter::Create("", 1, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<std::unique_ptr<SnapshotFileReader>> missing =
      SnapshotFileReader::Open("/nonexistent/dir/x.db");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/dir/x.db"), absl::string_view::npos);
}

etcdcpp::peerpb::SnapshotChunk Head(uint64_t index, uint64_t size) {
  etcdcpp::peerpb::SnapshotChunk chunk;
  chunk.mutable_message()->set_type(raftpb::MsgSnap);
  chunk.mutable_message()->mutable_snapshot()->mutable_metadata()->set_index(index);
  chunk.set_db_size(size);
  return chunk;
}

etcdcpp::peerpb::SnapshotChunk Data(const std::string& data) {
  etcdcpp::peerpb::SnapshotChunk chunk;
  chunk.set_data(data);
  return chunk;
}

etcdcpp::peerpb::SnapshotChunk Digest(const std::string& digest) {
  etcdcpp::peerpb::SnapshotChunk chunk;
  chunk.set_sha256(digest);
  return chunk;
}

TEST(SnapshotReceiverTest, AcceptsAWellFormedStream) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("receiver"));
  std::string digest = DigestOf(dir.path(), "abcdef");
  SnapshotReceiver receiver(dir.path() + "/snap");
  ASSERT_OK(receiver.Take(Head(5, 6)));
  ASSERT_OK(receiver.Take(Data("abc")));
  ASSERT_OK(receiver.Take(Data("def")));
  ASSERT_OK(receiver.Take(Digest(digest)));
  ASSERT_OK_AND_ASSIGN(std::string path, receiver.Complete());
  EXPECT_EQ(ReadFile(path), "abcdef");
  EXPECT_EQ(receiver.message().snapshot().metadata().index(), 5u);
}

TEST(SnapshotReceiverTest, RefusesStreamsOutOfOrder) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("receiver"));
  std::string digest = DigestOf(dir.path(), "abc");
  {
    SnapshotReceiver receiver(dir.path());
    EXPECT_EQ(receiver.Take(Data("abc")).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    SnapshotReceiver receiver(dir.path());
    etcdcpp::peerpb::SnapshotChunk not_snap = Head(1, 3);
    not_snap.mutable_message()->set_type(raftpb::MsgApp);
    EXPECT_EQ(receiver.Take(not_snap).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    SnapshotReceiver receiver(dir.path());
    ASSERT_OK(receiver.Take(Head(1, 3)));
    ASSERT_OK(receiver.Take(Data("abc")));
    ASSERT_OK(receiver.Take(Digest(digest)));
    EXPECT_EQ(receiver.Take(Data("more")).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    SnapshotReceiver receiver(dir.path());
    ASSERT_OK(receiver.Take(Head(1, 3)));
    EXPECT_EQ(receiver.Take(Head(2, 3)).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    SnapshotReceiver receiver(dir.path());
    ASSERT_OK(receiver.Take(Head(1, 3)));
    ASSERT_OK(receiver.Take(Data("abc")));
    EXPECT_EQ(receiver.Complete().status().code(), absl::StatusCode::kDataLoss);
  }
}

}  // namespace
}  // namespace etcd::transport
