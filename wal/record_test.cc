// The record format, encoder and decoder (etcd's record_test.go and more).

#include "wal/record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "pkg/crc/crc.h"
#include "pkg/testutil/status_matchers.h"
#include "wal/decoder.h"
#include "wal/encoder.h"
#include "wal/errors.h"
#include "wal/fault_file_system.h"

namespace etcd::wal::internal {
namespace {

using ::testing::HasSubstr;

// etcd's record_test.go fixture: a metadata record of 4 data bytes.
const std::string kInfoData("\b\xef\xfd\x02", 4);
const std::string kInfoRecord =
    std::string("\x0e\x00\x00\x00\x00\x00\x00\x00\b\x01\x10\x99\xb5\xe4\xd0\x03\x1a\x04", 18) +
    kInfoData;

// In-memory files for the decoder.
class Files {
 public:
  Files() { fs_.MakeDurableDir("/d"); }

  File* Add(const std::string& name, const std::string& bytes) {
    OpenOptions options;
    options.create = true;
    std::unique_ptr<File> f = fs_.OpenLocked("/d/" + name, options).value();
    EXPECT_OK(f->WriteAt(0, bytes));
    files_.push_back(std::move(f));
    return files_.back().get();
  }

  std::string Read(const std::string& name) { return fs_.ReadFile("/d/" + name).value(); }
  FaultFileSystem& fs() { return fs_; }

 private:
  FaultFileSystem fs_;
  std::vector<std::unique_ptr<File>> files_;
};

// Decodes every record of one file; returns the error that ended it (OK at
// a clean end).
absl::Status DecodeAll(const std::string& bytes, std::vector<Record>* records = nullptr,
                       std::vector<std::string>* data = nullptr) {
  Files files;
  Decoder decoder({{files.Add("f", bytes), "/d/f"}});
  Record record;
  while (true) {
    absl::StatusOr<bool> more = decoder.Next(&record);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    if (records != nullptr) records->push_back(record);
    if (data != nullptr) data->emplace_back(record.data);
  }
}

TEST(RecordTest, FrameSize) {
  int64_t pad;
  EXPECT_EQ(EncodeFrameSize(8, &pad), 8u);
  EXPECT_EQ(pad, 0);
  EXPECT_EQ(EncodeFrameSize(0, &pad), 0u);
  EXPECT_EQ(EncodeFrameSize(5, &pad), 5u | (uint64_t{0x83} << 56));
  EXPECT_EQ(pad, 3);
  EXPECT_EQ(EncodeFrameSize(1, &pad), 1u | (uint64_t{0x87} << 56));
  EXPECT_EQ(pad, 7);
  for (uint64_t n : {0ull, 1ull, 7ull, 8ull, 9ull, 1000ull, (1ull << 56) - 1}) {
    int64_t rec, got_pad;
    const uint64_t field = EncodeFrameSize(n, &pad);
    DecodeFrameSize(field, &rec, &got_pad);
    EXPECT_EQ(static_cast<uint64_t>(rec), n);
    EXPECT_EQ(got_pad, pad);
    EXPECT_EQ((n + pad) % 8, 0u);
  }
  // A length word without the padding flag has no padding, whatever its top
  // bits say.
  int64_t rec, got_pad;
  DecodeFrameSize(uint64_t{0x07} << 56 | 16, &rec, &got_pad);
  EXPECT_EQ(rec, 16);
  EXPECT_EQ(got_pad, 0);
}

TEST(RecordTest, MarshalsLikeGogoproto) {
  std::string out;
  AppendRecord(kMetadataType, crc::Value(kInfoData.data(), kInfoData.size()), kInfoData, &out);
  EXPECT_EQ(out, kInfoRecord.substr(8));
  // Records parse back, data included, and agree with protobuf.
  Record record;
  ASSERT_TRUE(ParseRecord(out, &record));
  EXPECT_EQ(record.type, kMetadataType);
  EXPECT_EQ(record.data, kInfoData);
  EXPECT_TRUE(record.has_data);
  walpb::Record proto;
  ASSERT_TRUE(proto.ParseFromString(out));
  EXPECT_EQ(proto.crc(), record.crc);

  // A crc record has no data field; negative types use ten-byte varints.
  out.clear();
  AppendRecord(kCrcType, 0x1234, "", &out);
  EXPECT_EQ(out, std::string("\x08\x04\x10\xb4\x24", 5));
  out.clear();
  AppendRecord(-1, 0, "", &out);
  ASSERT_TRUE(ParseRecord(out, &record));
  EXPECT_EQ(record.type, -1);
  EXPECT_FALSE(record.has_data);

  raftpb::Entry entry;
  entry.set_index(5);
  entry.set_term(0);
  std::string bytes;
  AppendEntry(entry, &bytes);
  EXPECT_EQ(bytes, std::string("\x08\x00\x10\x00\x18\x05", 6));  // zero fields kept
  raftpb::HardState state;
  EXPECT_EQ(MarshalHardState(state), std::string("\x08\x00\x10\x00\x18\x00", 6));
  EXPECT_EQ(MarshalSnapshot(walpb::Snapshot()), std::string("\x08\x00\x10\x00", 4));
}

TEST(RecordTest, ParseRejectsMalformedRecords) {
  Record record;
  EXPECT_TRUE(ParseRecord("", &record));                                  // all defaults
  EXPECT_FALSE(ParseRecord(std::string("\x08", 1), &record));             // truncated varint
  EXPECT_FALSE(ParseRecord(std::string("\x1a\x05\x01", 3), &record));     // short data
  EXPECT_FALSE(ParseRecord(std::string("\x0a\x00", 2), &record));         // type as bytes
  EXPECT_FALSE(ParseRecord(std::string("\x00\x00", 2), &record));         // field 0
  EXPECT_FALSE(ParseRecord(std::string("\x0b", 1), &record));             // group
  EXPECT_FALSE(ParseRecord(std::string(11, '\xff'), &record));            // varint too long
  EXPECT_TRUE(ParseRecord(std::string("\x20\x07\x08\x02", 4), &record));  // unknown field
  EXPECT_EQ(record.type, 2);
}

// etcd's TestReadRecord.
TEST(DecoderTest, ReadRecord) {
  std::vector<std::string> data;
  ASSERT_OK(DecodeAll(kInfoRecord, nullptr, &data));
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0], kInfoData);

  EXPECT_OK(DecodeAll(""));  // clean EOF

  for (size_t cut : {size_t{8}, kInfoRecord.size() - kInfoData.size() - 8,
                     kInfoRecord.size() - kInfoData.size(), kInfoRecord.size() - 8}) {
    absl::Status status = DecodeAll(kInfoRecord.substr(0, cut));
    EXPECT_TRUE(IsUnexpectedEOF(status)) << cut << ": " << status;
  }

  std::string bad = kInfoRecord;
  bad.back() = 'a';
  absl::Status status = DecodeAll(bad);
  EXPECT_TRUE(IsCRCMismatch(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("offset 0 of /d/f"));
}

// etcd's TestWriteRecord.
TEST(EncoderTest, WriteRecordReadsBack) {
  Files files;
  File* f = files.Add("f", "");
  Encoder encoder(f, 0, 0);
  ASSERT_OK(encoder.Encode(0xABCD, "Hello world!"));
  ASSERT_OK(encoder.Flush());
  std::vector<Record> records;
  std::vector<std::string> data;
  // Type 0xABCD is only a problem for the WAL, not for the decoder.
  ASSERT_OK(DecodeAll(files.Read("f"), &records, &data));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].type, 0xABCD);
  EXPECT_EQ(data[0], "Hello world!");
}

TEST(EncoderTest, ChainsCrcAndAlignsFrames) {
  Files files;
  File* f = files.Add("f", "");
  Encoder encoder(f, 0, 0x5555);
  const std::vector<std::string> payloads = {"", "a", "abcdefg", "abcdefgh",
                                             std::string(1000, 'z')};
  uint32_t crc = 0x5555;
  for (const std::string& p : payloads) {
    ASSERT_OK(encoder.Encode(kEntryType, p));
    crc = crc::Update(crc, p.data(), p.size());
    EXPECT_EQ(encoder.crc(), crc);
    EXPECT_EQ(encoder.offset() % 8, 0);
  }
  EXPECT_EQ(files.Read("f"), "");  // buffered until Flush
  ASSERT_OK(encoder.Flush());
  const std::string bytes = files.Read("f");
  EXPECT_EQ(static_cast<int64_t>(bytes.size()), encoder.offset());

  Decoder decoder({{f, "/d/f"}}, 0x5555);
  Record record;
  for (const std::string& p : payloads) {
    ASSERT_TRUE(decoder.Next(&record).value());
    EXPECT_EQ(record.data, p);
  }
  EXPECT_FALSE(decoder.Next(&record).value());
  EXPECT_EQ(decoder.crc(), crc);
  EXPECT_EQ(decoder.last_offset(), encoder.offset());
}

TEST(EncoderTest, WritesWholePagesWhenTheBufferFills) {
  Files files;
  File* f = files.Add("f", "");
  Encoder encoder(f, 100 * 8, 0);  // starting mid-page
  const std::string payload(100000, 'p');
  while (files.Read("f").empty()) ASSERT_OK(encoder.Encode(kEntryType, payload));
  const std::string bytes = files.Read("f");
  EXPECT_EQ(bytes.size() % kPageBytes, 0u);
  EXPECT_LT(static_cast<int64_t>(bytes.size()), encoder.offset());
  ASSERT_OK(encoder.Flush());
  EXPECT_EQ(static_cast<int64_t>(files.Read("f").size()), encoder.offset());
}

// The zeroed-sector rule: a record that fails and has an all-zero sector
// piece in the last file is a torn write; without one it is corruption.
TEST(DecoderTest, ZeroSectorMeansTornWrite) {
  Files files;
  File* f = files.Add("f", "");
  Encoder encoder(f, 0, 0);
  ASSERT_OK(encoder.Encode(kEntryType, std::string(100, 'a')));
  ASSERT_OK(encoder.Encode(kEntryType, std::string(2000, 'b')));  // spans sectors 0-4
  ASSERT_OK(encoder.Flush());
  std::string bytes = files.Read("f");

  std::string torn = bytes;
  std::fill(torn.begin() + 1024, torn.begin() + 1536, '\0');
  absl::Status status = DecodeAll(torn);
  EXPECT_TRUE(IsUnexpectedEOF(status)) << status;
  EXPECT_FALSE(IsCorruption(status));

  std::string flipped = bytes;
  flipped[1100] ^= 1;
  status = DecodeAll(flipped);
  EXPECT_TRUE(IsCRCMismatch(status)) << status;

  // Zeros that do not fill a sector piece are corruption too.
  std::string partly = bytes;
  std::fill(partly.begin() + 1024, partly.begin() + 1500, '\0');
  status = DecodeAll(partly);
  EXPECT_TRUE(IsCRCMismatch(status)) << status;
}

// Only the last file may end in a torn record.
TEST(DecoderTest, TornRecordInEarlierFileIsCorruption) {
  Files files;
  File* f1 = files.Add("1", "");
  Encoder e1(f1, 0, 0);
  ASSERT_OK(e1.Encode(kEntryType, std::string(600, 'a')));
  ASSERT_OK(e1.Flush());
  std::string first = files.Read("1");
  std::fill(first.begin() + 512, first.end(), '\0');
  File* torn = files.Add("torn", first);
  File* f2 = files.Add("2", "");
  Encoder e2(f2, 0, 0);
  ASSERT_OK(e2.Encode(kCrcType, ""));
  ASSERT_OK(e2.Flush());

  Decoder decoder({{torn, "/d/torn"}, {f2, "/d/2"}});
  Record record;
  absl::StatusOr<bool> more = decoder.Next(&record);
  EXPECT_TRUE(IsCRCMismatch(more.status())) << more.status();

  Decoder last({{f2, "/d/2"}, {torn, "/d/torn"}});
  ASSERT_TRUE(last.Next(&record).value());
  more = last.Next(&record);
  EXPECT_TRUE(IsUnexpectedEOF(more.status())) << more.status();
}

TEST(DecoderTest, ZeroLengthEndsAFileAndMovesToTheNext) {
  Files files;
  File* f1 = files.Add("1", "");
  Encoder e1(f1, 0, 0);
  ASSERT_OK(e1.Encode(kEntryType, "one"));
  ASSERT_OK(e1.Flush());
  ASSERT_OK(f1->Preallocate(4096));
  File* f2 = files.Add("2", "");
  Encoder e2(f2, 0, e1.crc());
  ASSERT_OK(e2.Encode(kEntryType, "two"));
  ASSERT_OK(e2.Flush());

  Decoder decoder({{f1, "/d/1"}, {f2, "/d/2"}});
  Record record;
  ASSERT_TRUE(decoder.Next(&record).value());
  EXPECT_EQ(record.data, "one");
  EXPECT_EQ(decoder.current_segment(), 0u);
  ASSERT_TRUE(decoder.Next(&record).value());
  EXPECT_EQ(record.data, "two");
  EXPECT_EQ(decoder.current_segment(), 1u);
  EXPECT_EQ(decoder.last_offset(), e2.offset());
  EXPECT_FALSE(decoder.Next(&record).value());
}

TEST(DecoderTest, OversizedFrames) {
  // A length past the end of the (last) file is a torn tail.
  std::string frame(8, '\0');
  frame[0] = 0x10;
  frame[3] = 0x01;  // 16 MiB + 16
  absl::Status status = DecodeAll(frame + std::string(64, 'x'));
  EXPECT_TRUE(IsUnexpectedEOF(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("file ends at 72"));

  // Inside the file but beyond what etcd ever writes: corruption.
  std::string big(8, '\0');
  big[3] = 0x01;  // 16 MiB
  big.resize(8 + (16 << 20) + 64, 'y');
  status = DecodeAll(big);
  EXPECT_TRUE(IsMaxEntrySizeLimitExceeded(status)) << status;

  // A partial length word.
  status = DecodeAll(std::string("\x10\x00\x00", 3));
  EXPECT_TRUE(IsUnexpectedEOF(status)) << status;
}

// A file whose size is not a multiple of 8 (a crash while it grew) may end
// in a partial length word: zeros there are the end, anything else a tear.
TEST(DecoderTest, PartialLengthWordAtTheEnd) {
  std::string one;
  AppendRecord(kEntryType, crc::Value("x", 1), "x", &one);
  int64_t pad;
  const uint64_t len = EncodeFrameSize(one.size(), &pad);
  std::string frame(8, '\0');
  for (int i = 0; i < 8; ++i) frame[i] = static_cast<char>(len >> (8 * i));
  frame += one + std::string(pad, '\0');
  for (size_t tail = 1; tail < 8; ++tail) {
    std::vector<std::string> data;
    EXPECT_OK(DecodeAll(frame + std::string(tail, '\0'), nullptr, &data)) << tail;
    EXPECT_EQ(data.size(), 1u);
    std::string garbage(tail, '\0');
    garbage[tail - 1] = 1;
    EXPECT_TRUE(IsUnexpectedEOF(DecodeAll(frame + garbage))) << tail;
  }
}

TEST(DecoderTest, FailureIsFinal) {
  Files files;
  Decoder decoder({{files.Add("f", std::string("\x10\x00\x00", 3)), "/d/f"}});
  Record record;
  EXPECT_FALSE(decoder.Next(&record).ok());
  absl::StatusOr<bool> again = decoder.Next(&record);
  EXPECT_TRUE(IsBadState(again.status())) << again.status();
}

TEST(RecordTest, MustSync) {
  raftpb::HardState prev;
  prev.set_term(1);
  prev.set_vote(2);
  prev.set_commit(3);
  raftpb::HardState st = prev;
  EXPECT_FALSE(MustSync(st, prev, 0));
  EXPECT_TRUE(MustSync(st, prev, 1));
  st.set_commit(10);
  EXPECT_FALSE(MustSync(st, prev, 0));
  st.set_vote(3);
  EXPECT_TRUE(MustSync(st, prev, 0));
  st = prev;
  st.set_term(2);
  EXPECT_TRUE(MustSync(st, prev, 0));
  EXPECT_TRUE(IsEmptyHardState(raftpb::HardState()));
  EXPECT_FALSE(IsEmptyHardState(prev));
}

}  // namespace
}  // namespace etcd::wal::internal
