#include "tools/wal-dump/dump.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "api/etcdserverpb/etcdserver.pb.h"
#include "api/etcdserverpb/raft_internal.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "pkg/fileutil/fileutil.h"
#include "pkg/status/status_macros.h"
#include "raft/util.h"
#include "snap/snapshotter.h"
#include "wal/wal.h"

namespace etcd::tools {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using raft::GoQuote;

// Go's proto text quoting: printable ASCII as is, \n \r \t \" \\ escaped,
// everything else as a three-digit octal escape.
void AppendQuoted(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out->push_back(static_cast<char>(c));
        } else {
          out->push_back('\\');
          out->push_back(static_cast<char>('0' + ((c >> 6) & 3)));
          out->push_back(static_cast<char>('0' + ((c >> 3) & 7)));
          out->push_back(static_cast<char>('0' + (c & 7)));
        }
    }
  }
  out->push_back('"');
}

// etcd-dump-logs' excerpt: the quoted string, or its head and tail.
std::string Excerpt(absl::string_view s, size_t pre, size_t suf) {
  if (pre + suf > s.size()) return GoQuote(s);
  return absl::StrCat(GoQuote(s.substr(0, pre)), "...", GoQuote(s.substr(s.size() - suf)));
}

std::string HexID(uint64_t id) { return absl::StrFormat("%x", id); }

void AppendMessage(const Message& message, std::string* out);

void AppendValue(const Message& message, const FieldDescriptor* field, int index,
                 std::string* out) {
  const Reflection* r = message.GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(
          out, repeated ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(
          out, repeated ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(out, repeated ? r->GetRepeatedUInt32(message, field, index)
                                    : r->GetUInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(out, repeated ? r->GetRepeatedUInt64(message, field, index)
                                    : r->GetUInt64(message, field));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      absl::StrAppend(out, repeated ? r->GetRepeatedDouble(message, field, index)
                                    : r->GetDouble(message, field));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      absl::StrAppend(
          out, repeated ? r->GetRepeatedFloat(message, field, index) : r->GetFloat(message, field));
      break;
    case FieldDescriptor::CPPTYPE_BOOL: {
      const bool v =
          repeated ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field);
      out->append(v ? "true" : "false");
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int v = repeated ? r->GetRepeatedEnumValue(message, field, index)
                             : r->GetEnumValue(message, field);
      const google::protobuf::EnumValueDescriptor* value = field->enum_type()->FindValueByNumber(v);
      if (value != nullptr) {
        out->append(value->name());
      } else {
        absl::StrAppend(out, v);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& v = repeated
                                 ? r->GetRepeatedStringReference(message, field, index, &scratch)
                                 : r->GetStringReference(message, field, &scratch);
      AppendQuoted(v, out);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      out->push_back('<');
      AppendMessage(
          repeated ? r->GetRepeatedMessage(message, field, index) : r->GetMessage(message, field),
          out);
      out->push_back('>');
      break;
  }
}

void AppendMessage(const Message& message, std::string* out) {
  const Descriptor* d = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  // etcd's proto2 messages are gogoproto non-nullable: their scalar fields
  // are printed even when unset.
  const bool proto2 = d->file()->syntax() == google::protobuf::FileDescriptor::SYNTAX_PROTO2;
  // Declaration order, which is Go's struct order.
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* field = d->field(i);
    if (field->is_repeated()) {
      const int n = r->FieldSize(message, field);
      for (int j = 0; j < n; ++j) {
        absl::StrAppend(out, field->name(), ":");
        AppendValue(message, field, j, out);
        out->push_back(' ');
      }
      continue;
    }
    const bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (!r->HasField(message, field) && (is_message || !proto2)) continue;
    absl::StrAppend(out, field->name(), ":");
    AppendValue(message, field, 0, out);
    out->push_back(' ');
  }
}

// Whether `message` (recursively) kept a known field number among its
// unknown fields, which happens when the wire type did not match.
bool HasMistypedFields(const Message& message) {
  const Descriptor* d = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown = r->GetUnknownFields(message);
  for (int i = 0; i < unknown.field_count(); ++i) {
    if (d->FindFieldByNumber(unknown.field(i).number()) != nullptr) return true;
  }
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      for (int j = 0; j < r->FieldSize(message, field); ++j) {
        if (HasMistypedFields(r->GetRepeatedMessage(message, field, j))) return true;
      }
    } else if (HasMistypedFields(r->GetMessage(message, field))) {
      return true;
    }
  }
  return false;
}

// The entry kinds of --entry-type and how each decides.
enum class Printer { kInternalRaftRequest, kRequest, kConfigChange, kUnknownNormal };

struct Decoded {
  bool is_irr = false;
  bool is_request = false;
  etcdserverpb::InternalRaftRequest irr;
  etcdserverpb::Request request;
};

Decoded Decode(const raftpb::Entry& entry) {
  Decoded d;
  if (entry.type() == raftpb::EntryNormal) {
    d.is_irr = StrictParse(entry.data(), &d.irr);
    d.is_request = StrictParse(entry.data(), &d.request);
  }
  return d;
}

using Filter = bool (*)(const raftpb::Entry&, const Decoded&, Printer*);

bool PassConfChange(const raftpb::Entry& e, const Decoded&, Printer* p) {
  *p = Printer::kConfigChange;
  return e.type() == raftpb::EntryConfChange;
}
bool PassIRR(const raftpb::Entry&, const Decoded& d, Printer* p) {
  *p = Printer::kInternalRaftRequest;
  return d.is_irr;
}
bool PassRequest(const raftpb::Entry&, const Decoded& d, Printer* p) {
  *p = Printer::kRequest;
  return d.is_request && !d.is_irr;
}
bool PassUnknownNormal(const raftpb::Entry& e, const Decoded& d, Printer* p) {
  *p = Printer::kUnknownNormal;
  return e.type() == raftpb::EntryNormal && !d.is_request && !d.is_irr;
}
#define ETCD_IRR_FILTER(Name, has)                                \
  bool Name(const raftpb::Entry&, const Decoded& d, Printer* p) { \
    *p = Printer::kInternalRaftRequest;                           \
    return d.is_irr && d.irr.has();                               \
  }
ETCD_IRR_FILTER(PassIRRRange, has_range)
ETCD_IRR_FILTER(PassIRRPut, has_put)
ETCD_IRR_FILTER(PassIRRDeleteRange, has_delete_range)
ETCD_IRR_FILTER(PassIRRTxn, has_txn)
ETCD_IRR_FILTER(PassIRRCompaction, has_compaction)
ETCD_IRR_FILTER(PassIRRLeaseGrant, has_lease_grant)
ETCD_IRR_FILTER(PassIRRLeaseRevoke, has_lease_revoke)
ETCD_IRR_FILTER(PassIRRLeaseCheckpoint, has_lease_checkpoint)
#undef ETCD_IRR_FILTER

const std::map<std::string, std::vector<Filter>>& AllFilters() {
  static const auto* const kFilters = new std::map<std::string, std::vector<Filter>>{
      {"ConfigChange", {PassConfChange}},
      {"Normal", {PassIRR, PassRequest, PassUnknownNormal}},
      {"Request", {PassRequest}},
      {"InternalRaftRequest", {PassIRR}},
      {"IRRRange", {PassIRRRange}},
      {"IRRPut", {PassIRRPut}},
      {"IRRDeleteRange", {PassIRRDeleteRange}},
      {"IRRTxn", {PassIRRTxn}},
      {"IRRCompaction", {PassIRRCompaction}},
      {"IRRLeaseGrant", {PassIRRLeaseGrant}},
      {"IRRLeaseRevoke", {PassIRRLeaseRevoke}},
      {"IRRLeaseCheckpoint", {PassIRRLeaseCheckpoint}},
  };
  return *kFilters;
}

std::vector<Filter> FiltersFor(const std::vector<std::string>& types) {
  std::vector<Filter> filters;
  for (const std::string& type : types) {
    auto it = AllFilters().find(type);
    if (it != AllFilters().end())
      filters.insert(filters.end(), it->second.begin(), it->second.end());
  }
  return filters;
}

std::string FormatRequest(const etcdserverpb::Request& r) {
  const std::string& method = r.method();
  if (method.empty()) return "\tnoop";
  if (method == "SYNC") {
    const absl::Time t = absl::FromUnixNanos(r.time());
    return absl::StrCat("\tmethod=SYNC time=\"",
                        absl::FormatTime("%Y-%m-%d %H:%M:%E*S +0000 UTC", t, absl::UTCTimeZone()),
                        "\"");
  }
  if (method == "QGET" || method == "DELETE") {
    return absl::StrCat("\tmethod=", method, " path=", Excerpt(r.path(), 64, 64));
  }
  return absl::StrCat("\tmethod=", method, " path=", Excerpt(r.path(), 64, 64),
                      " val=", Excerpt(r.val(), 128, 0));
}

// Never print a password the log holds.
void MaskPasswords(etcdserverpb::InternalRaftRequest* irr) {
  constexpr char kRemoved[] = "<value removed>";
  if (irr->has_auth_user_change_password() &&
      !irr->auth_user_change_password().password().empty()) {
    irr->mutable_auth_user_change_password()->set_password(kRemoved);
  }
  if (irr->has_auth_user_add() && !irr->auth_user_add().password().empty()) {
    irr->mutable_auth_user_add()->set_password(kRemoved);
  }
  if (irr->has_authenticate() && !irr->authenticate().password().empty()) {
    irr->mutable_authenticate()->set_password(kRemoved);
  }
}

// The newest readable .snap file, nullopt if there is none; broken files
// are skipped, not renamed as etcd does (a dump must not change the data
// directory).
absl::StatusOr<std::optional<raftpb::Snapshot>> LoadNewest(const std::string& snap_dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fileutil::ReadDir(snap_dir));
  std::sort(names.rbegin(), names.rend());
  for (const std::string& name : names) {
    if (!absl::EndsWith(name, ".snap")) continue;
    absl::StatusOr<raftpb::Snapshot> snapshot = snap::Read(snap_dir + "/" + name);
    if (snapshot.ok()) return std::optional<raftpb::Snapshot>(*std::move(snapshot));
  }
  return std::optional<raftpb::Snapshot>();
}

}  // namespace

std::string CompactTextString(const Message& message) {
  std::string out;
  AppendMessage(message, &out);
  return out;
}

bool StrictParse(absl::string_view data, Message* message) {
  if (!message->ParseFromArray(data.data(), static_cast<int>(data.size()))) return false;
  return !HasMistypedFields(*message);
}

std::string FormatIDs(const std::vector<uint64_t>& ids) {
  std::vector<std::string> hex;
  for (uint64_t id : ids) hex.push_back(HexID(id));
  return absl::StrCat("[", absl::StrJoin(hex, " "), "]");
}

bool FormatEntry(const raftpb::Entry& entry, const std::vector<std::string>& entry_types,
                 std::string* line) {
  const Decoded decoded = Decode(entry);
  Printer printer;
  bool passed = false;
  for (Filter filter : FiltersFor(entry_types)) {
    if (filter(entry, decoded, &printer)) {
      passed = true;
      break;
    }
  }
  if (!passed) return false;
  *line = absl::StrFormat("%4d\t%10d", entry.term(), entry.index());
  switch (printer) {
    case Printer::kInternalRaftRequest: {
      etcdserverpb::InternalRaftRequest irr = decoded.irr;
      MaskPasswords(&irr);
      absl::StrAppend(line, "\tnorm\t", CompactTextString(irr));
      break;
    }
    case Printer::kRequest:
      absl::StrAppend(line, "\tnorm", FormatRequest(decoded.request));
      break;
    case Printer::kUnknownNormal:
      absl::StrAppend(line, "\tnorm\t???");
      break;
    case Printer::kConfigChange: {
      absl::StrAppend(line, "\tconf");
      raftpb::ConfChange cc;
      if (!StrictParse(entry.data(), &cc)) {
        absl::StrAppend(line, "\t???");
      } else {
        absl::StrAppend(line, "\tmethod=", raftpb::ConfChangeType_Name(cc.type()),
                        " id=", HexID(cc.node_id()));
      }
      break;
    }
  }
  return true;
}

absl::Status DumpDataDir(const DumpOptions& options, std::string* out) {
  if (!options.start_snap.empty() && options.start_index != 0) {
    return absl::InvalidArgumentError("start-snap and start-index flags cannot be used together.");
  }
  const std::string snap_dir = options.data_dir + "/member/snap";
  const std::string wal_dir =
      options.wal_dir.empty() ? options.data_dir + "/member/wal" : options.wal_dir;

  walpb::Snapshot at;
  const bool from_index = options.start_index != 0;
  if (from_index) {
    absl::StrAppendFormat(out, "Start dumping log entries from index %d.\n", options.start_index);
    at.set_index(options.start_index);
  } else {
    absl::StatusOr<std::optional<raftpb::Snapshot>> snapshot;
    if (options.start_snap.empty()) {
      snapshot = LoadNewest(snap_dir);
    } else {
      absl::StatusOr<raftpb::Snapshot> named = snap::Read(snap_dir + "/" + options.start_snap);
      if (named.ok()) {
        snapshot = std::optional<raftpb::Snapshot>(*std::move(named));
      } else {
        snapshot = named.status();
      }
    }
    if (snapshot.ok() && snapshot->has_value()) {
      const raftpb::Snapshot& s = **snapshot;
      at.set_index(s.metadata().index());
      at.set_term(s.metadata().term());
      const auto& voters = s.metadata().conf_state().voters();
      absl::StrAppendFormat(out, "Snapshot:\nterm=%d index=%d nodes=%s\n", at.term(), at.index(),
                            FormatIDs(std::vector<uint64_t>(voters.begin(), voters.end())));
    } else if (snapshot.ok()) {
      absl::StrAppend(out, "Snapshot:\nempty\n");
    } else {
      return absl::Status(snapshot.status().code(),
                          absl::StrCat("Failed loading snapshot: ", snapshot.status().message()));
    }
    absl::StrAppend(out, "Start dumping log entries from snapshot.\n");
  }

  absl::StatusOr<std::unique_ptr<wal::WAL>> w = wal::WAL::OpenForRead(wal_dir, at);
  if (!w.ok()) {
    return absl::Status(w.status().code(),
                        absl::StrCat("Failed opening WAL: ", w.status().message()));
  }
  absl::StatusOr<wal::ReadResult> read =
      (*w)->ReadAll(from_index ? wal::SnapshotCheck::kAllowMissing : wal::SnapshotCheck::kRequire);
  (*w)->Close().IgnoreError();
  if (!read.ok()) {
    return absl::Status(read.status().code(),
                        absl::StrCat("Failed reading WAL: ", read.status().message()));
  }
  etcdserverpb::Metadata metadata;
  if (!metadata.ParseFromString(read->metadata)) {
    return absl::DataLossError("Failed reading WAL: the metadata record is not etcd's Metadata");
  }
  absl::StrAppendFormat(out,
                        "WAL metadata:\nnodeID=%s clusterID=%s term=%d commitIndex=%d vote=%s\n",
                        HexID(metadata.nodeid()), HexID(metadata.clusterid()), read->state.term(),
                        read->state.commit(), HexID(read->state.vote()));
  absl::StrAppend(out, "WAL entries:\n");
  if (!read->entries.empty()) {
    absl::StrAppendFormat(out, "lastIndex=%d\n", read->entries.back().index());
  }
  absl::StrAppendFormat(out, "%4s\t%10s\ttype\tdata\n", "term", "index");

  std::vector<std::string> types;
  if (!options.entry_types.empty()) types = absl::StrSplit(options.entry_types, ',');
  for (const std::string& type : types) {
    if (AllFilters().count(type) != 0) continue;
    std::fprintf(stderr,
                 "[%s] is not a valid entry-type, ignored.\n"
                 "Please set entry-type to one or more of the following:\n"
                 "ConfigChange, Normal, Request, InternalRaftRequest,\n"
                 "IRRRange, IRRPut, IRRDeleteRange, IRRTxn,\n"
                 "IRRCompaction, IRRLeaseGrant, IRRLeaseRevoke, IRRLeaseCheckpoint\n",
                 type.c_str());
  }
  int count = 0;
  std::string line;
  for (const raftpb::Entry& entry : read->entries) {
    if (!FormatEntry(entry, types, &line)) continue;
    ++count;
    absl::StrAppend(out, line, "\n");
  }
  absl::StrAppendFormat(out, "\nEntry types (%s) count is : %d\n", options.entry_types, count);
  return absl::OkStatus();
}

}  // namespace etcd::tools
