#include "wal/record.h"

namespace etcd::wal::internal {
namespace {

void AppendVarint(uint64_t v, std::string* out) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

// Reads a varint at `*pos`; false if truncated or longer than 10 bytes.
bool ReadVarint(absl::string_view in, size_t* pos, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= in.size()) return false;
    const uint8_t b = static_cast<uint8_t>(in[(*pos)++]);
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      *v = result;
      return true;
    }
  }
  return false;
}

// Skips the value of an unknown field with `wire_type`.
bool SkipField(absl::string_view in, size_t* pos, uint32_t wire_type) {
  uint64_t v;
  switch (wire_type) {
    case 0:
      return ReadVarint(in, pos, &v);
    case 1:
      if (in.size() - *pos < 8) return false;
      *pos += 8;
      return true;
    case 2:
      if (!ReadVarint(in, pos, &v) || v > in.size() - *pos) return false;
      *pos += v;
      return true;
    case 5:
      if (in.size() - *pos < 4) return false;
      *pos += 4;
      return true;
    default:
      return false;  // groups (3, 4) and invalid wire types
  }
}

}  // namespace

uint64_t EncodeFrameSize(uint64_t record_bytes, int64_t* pad_bytes) {
  uint64_t len_field = record_bytes;
  *pad_bytes = static_cast<int64_t>((8 - (record_bytes % 8)) % 8);
  if (*pad_bytes != 0) len_field |= static_cast<uint64_t>(0x80 | *pad_bytes) << 56;
  return len_field;
}

void DecodeFrameSize(uint64_t len_field, int64_t* record_bytes, int64_t* pad_bytes) {
  *record_bytes = static_cast<int64_t>(len_field & ~(uint64_t{0xff} << 56));
  *pad_bytes = 0;
  if (len_field & (uint64_t{1} << 63)) *pad_bytes = static_cast<int64_t>((len_field >> 56) & 0x7);
}

void AppendRecordHeader(int64_t type, uint32_t crc, size_t data_size, std::string* out) {
  out->push_back(0x08);
  AppendVarint(static_cast<uint64_t>(type), out);
  out->push_back(0x10);
  AppendVarint(crc, out);
  if (data_size != 0) {
    out->push_back(0x1a);
    AppendVarint(data_size, out);
  }
}

void AppendRecord(int64_t type, uint32_t crc, absl::string_view data, std::string* out) {
  AppendRecordHeader(type, crc, data.size(), out);
  out->append(data.data(), data.size());
}

bool ParseRecord(absl::string_view in, Record* record) {
  *record = Record();
  size_t pos = 0;
  while (pos < in.size()) {
    uint64_t key;
    if (!ReadVarint(in, &pos, &key)) return false;
    const uint64_t field = key >> 3;
    const uint32_t wire_type = static_cast<uint32_t>(key & 7);
    if (field == 0) return false;
    uint64_t v;
    switch (field) {
      case 1:
        if (wire_type != 0 || !ReadVarint(in, &pos, &v)) return false;
        record->type = static_cast<int64_t>(v);
        break;
      case 2:
        if (wire_type != 0 || !ReadVarint(in, &pos, &v)) return false;
        record->crc = static_cast<uint32_t>(v);
        break;
      case 3:
        if (wire_type != 2 || !ReadVarint(in, &pos, &v) || v > in.size() - pos) return false;
        record->data = in.substr(pos, v);
        record->has_data = true;
        pos += v;
        break;
      default:
        if (!SkipField(in, &pos, wire_type)) return false;
    }
  }
  return true;
}

void AppendEntry(const raftpb::Entry& entry, std::string* out) {
  out->push_back(0x08);
  AppendVarint(static_cast<uint64_t>(static_cast<int64_t>(entry.type())), out);
  out->push_back(0x10);
  AppendVarint(entry.term(), out);
  out->push_back(0x18);
  AppendVarint(entry.index(), out);
  if (entry.has_data()) {
    out->push_back(0x22);
    AppendVarint(entry.data().size(), out);
    out->append(entry.data());
  }
}

std::string MarshalHardState(const raftpb::HardState& state) {
  std::string out;
  out.push_back(0x08);
  AppendVarint(state.term(), &out);
  out.push_back(0x10);
  AppendVarint(state.vote(), &out);
  out.push_back(0x18);
  AppendVarint(state.commit(), &out);
  return out;
}

std::string MarshalSnapshot(const walpb::Snapshot& snapshot) {
  std::string out;
  out.push_back(0x08);
  AppendVarint(snapshot.index(), &out);
  out.push_back(0x10);
  AppendVarint(snapshot.term(), &out);
  if (snapshot.has_conf_state()) {
    std::string conf = snapshot.conf_state().SerializeAsString();
    out.push_back(0x1a);
    AppendVarint(conf.size(), &out);
    out.append(conf);
  }
  return out;
}

bool IsEmptyHardState(const raftpb::HardState& state) {
  return state.term() == 0 && state.vote() == 0 && state.commit() == 0;
}

bool MustSync(const raftpb::HardState& state, const raftpb::HardState& previous,
              size_t entry_count) {
  return entry_count != 0 || state.vote() != previous.vote() || state.term() != previous.term();
}

}  // namespace etcd::wal::internal
