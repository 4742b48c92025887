// Wire compatibility with etcd: every message, field, enum value, service and
// method that etcd 3.4's own .proto files define must exist, identical on the
// wire, in this project's generated descriptors.
//
// etcd's files come from Debian's golang-etcd-server-dev (tools/bootstrap.sh
// installs it) and are parsed at test time with libprotoc. Each of them is
// compared, definition by definition, against DescriptorPool::generated_pool(),
// which holds the files of //api/..., //raft/raftpb, //wal/walpb, //snap/snappb
// and //lease/leasepb linked into this test. What this project adds on top
// (etcd 3.5's fields and RPCs) is allowed; anything etcd has that differs here
// or is missing fails the test with the full name of the definition.

#include <gmock/gmock.h>
#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "api/authpb/auth.pb.h"
#include "api/etcdserverpb/etcdserver.pb.h"
#include "api/etcdserverpb/raft_internal.pb.h"
#include "api/etcdserverpb/rpc.pb.h"
#include "api/membershippb/membership.pb.h"
#include "api/mvccpb/kv.pb.h"
#include "api/v3electionpb/v3election.pb.h"
#include "api/v3lockpb/v3lock.pb.h"
#include "lease/leasepb/lease.pb.h"
#include "raft/raftpb/raft.pb.h"
#include "snap/snappb/snap.pb.h"
#include "wal/walpb/record.pb.h"

namespace etcd::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FieldDescriptorProto;
using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;
using google::protobuf::compiler::DiskSourceTree;
using google::protobuf::compiler::Importer;
using google::protobuf::compiler::MultiFileErrorCollector;
using google::protobuf::compiler::SourceTree;

// ---------------------------------------------------------------------------
// The comparison.

// What CompareFile found: one line per difference, and how many definitions
// (messages, fields, enums, enum values, services, methods) it looked at.
struct Comparison {
  std::vector<std::string> differences;
  int checked = 0;
};

const char* LabelName(FieldDescriptor::Label label) {
  switch (label) {
    case FieldDescriptor::LABEL_OPTIONAL:
      return "optional";
    case FieldDescriptor::LABEL_REQUIRED:
      return "required";
    case FieldDescriptor::LABEL_REPEATED:
      return "repeated";
  }
  return "?";
}

// The message or enum type a field refers to, by full name; empty for scalars.
std::string FieldTypeName(const FieldDescriptor& field) {
  if (field.message_type() != nullptr) return field.message_type()->full_name();
  if (field.enum_type() != nullptr) return field.enum_type()->full_name();
  return "";
}

std::string OneofName(const FieldDescriptor& field) {
  return field.containing_oneof() == nullptr ? "" : field.containing_oneof()->name();
}

std::string FieldDefault(const FieldDescriptor& field) {
  if (!field.has_default_value()) return "(none)";
  FieldDescriptorProto proto;
  field.CopyTo(&proto);
  return "\"" + proto.default_value() + "\"";
}

// Checks one fact about `what`; records "what: <fact> <etcd> (etcd) vs <ours>
// (ours)" when the two differ.
class Differ {
 public:
  explicit Differ(Comparison* out) : out_(out) {}

  template <typename T>
  void Check(const std::string& what, const char* fact, const T& etcd, const T& ours) {
    if (etcd == ours) return;
    out_->differences.push_back(what + ": " + fact + " " + ToString(etcd) + " (etcd) vs " +
                                ToString(ours) + " (ours)");
  }

  void Missing(const std::string& kind, const std::string& what) {
    out_->differences.push_back(kind + " " + what + ": missing (ours)");
  }

  void Counted() { ++out_->checked; }

 private:
  static std::string ToString(const std::string& s) { return s.empty() ? "(none)" : s; }
  static std::string ToString(bool b) { return b ? "true" : "false"; }
  static std::string ToString(int i) { return std::to_string(i); }

  Comparison* out_;
};

void CompareEnum(const EnumDescriptor& etcd, const DescriptorPool& ours_pool, Differ* d) {
  d->Counted();
  const EnumDescriptor* ours = ours_pool.FindEnumTypeByName(etcd.full_name());
  if (ours == nullptr) {
    d->Missing("enum", etcd.full_name());
    return;
  }
  // Closed (proto2) and open (proto3) enums treat unknown values differently.
  d->Check(etcd.full_name(), "syntax",
           std::string(FileDescriptor::SyntaxName(etcd.file()->syntax())),
           std::string(FileDescriptor::SyntaxName(ours->file()->syntax())));
  for (int i = 0; i < etcd.value_count(); ++i) {
    const EnumValueDescriptor& value = *etcd.value(i);
    d->Counted();
    const std::string what = etcd.full_name() + "." + value.name();
    const EnumValueDescriptor* mine = ours->FindValueByName(value.name());
    if (mine == nullptr) {
      d->Missing("enum value", what);
      continue;
    }
    d->Check(what, "number", value.number(), mine->number());
  }
}

void CompareField(const FieldDescriptor& etcd, const FieldDescriptor& ours, Differ* d) {
  const std::string& what = etcd.full_name();
  d->Check(what, "number", etcd.number(), ours.number());
  d->Check(what, "type", std::string(FieldDescriptor::TypeName(etcd.type())),
           std::string(FieldDescriptor::TypeName(ours.type())));
  d->Check(what, "label", std::string(LabelName(etcd.label())),
           std::string(LabelName(ours.label())));
  d->Check(what, "type name", FieldTypeName(etcd), FieldTypeName(ours));
  d->Check(what, "oneof", OneofName(etcd), OneofName(ours));
  // Packed or not, and presence, follow from the file's syntax as much as from
  // the field: a proto3 `repeated uint64` is packed, a proto2 one is not.
  d->Check(what, "packed", etcd.is_packed(), ours.is_packed());
  d->Check(what, "presence", etcd.has_presence(), ours.has_presence());
  d->Check(what, "default", FieldDefault(etcd), FieldDefault(ours));
}

void CompareMessage(const Descriptor& etcd, const DescriptorPool& ours_pool, Differ* d) {
  d->Counted();
  const Descriptor* ours = ours_pool.FindMessageTypeByName(etcd.full_name());
  if (ours == nullptr) {
    d->Missing("message", etcd.full_name());
    return;
  }
  d->Check(etcd.full_name(), "syntax",
           std::string(FileDescriptor::SyntaxName(etcd.file()->syntax())),
           std::string(FileDescriptor::SyntaxName(ours->file()->syntax())));
  for (int i = 0; i < etcd.field_count(); ++i) {
    const FieldDescriptor& field = *etcd.field(i);
    d->Counted();
    const FieldDescriptor* mine = ours->FindFieldByName(field.name());
    if (mine == nullptr) {
      d->Missing("field", field.full_name());
      continue;
    }
    CompareField(field, *mine, d);
  }
  for (int i = 0; i < etcd.nested_type_count(); ++i) {
    CompareMessage(*etcd.nested_type(i), ours_pool, d);
  }
  for (int i = 0; i < etcd.enum_type_count(); ++i) {
    CompareEnum(*etcd.enum_type(i), ours_pool, d);
  }
}

void CompareService(const ServiceDescriptor& etcd, const DescriptorPool& ours_pool, Differ* d) {
  d->Counted();
  const ServiceDescriptor* ours = ours_pool.FindServiceByName(etcd.full_name());
  if (ours == nullptr) {
    d->Missing("service", etcd.full_name());
    return;
  }
  for (int i = 0; i < etcd.method_count(); ++i) {
    const MethodDescriptor& method = *etcd.method(i);
    d->Counted();
    const MethodDescriptor* mine = ours->FindMethodByName(method.name());
    if (mine == nullptr) {
      d->Missing("method", method.full_name());
      continue;
    }
    const std::string& what = method.full_name();
    d->Check(what, "input type", method.input_type()->full_name(), mine->input_type()->full_name());
    d->Check(what, "output type", method.output_type()->full_name(),
             mine->output_type()->full_name());
    d->Check(what, "client streaming", method.client_streaming(), mine->client_streaming());
    d->Check(what, "server streaming", method.server_streaming(), mine->server_streaming());
  }
}

// Compares what `etcd` itself defines (not what it imports) against the
// definitions of the same full names in `ours`.
Comparison CompareFile(const FileDescriptor& etcd, const DescriptorPool& ours) {
  Comparison result;
  Differ d(&result);
  for (int i = 0; i < etcd.message_type_count(); ++i) {
    CompareMessage(*etcd.message_type(i), ours, &d);
  }
  for (int i = 0; i < etcd.enum_type_count(); ++i) {
    CompareEnum(*etcd.enum_type(i), ours, &d);
  }
  for (int i = 0; i < etcd.service_count(); ++i) {
    CompareService(*etcd.service(i), ours, &d);
  }
  return result;
}

// ---------------------------------------------------------------------------
// Loading .proto files with libprotoc.

class CollectErrors : public MultiFileErrorCollector {
 public:
  void AddError(const std::string& filename, int line, int column,
                const std::string& message) override {
    text_ += filename + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
             message + "\n";
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// A source tree of in-memory files, for the comparison's own tests.
class MemorySourceTree : public SourceTree {
 public:
  explicit MemorySourceTree(std::map<std::string, std::string> files) : files_(std::move(files)) {}

  google::protobuf::io::ZeroCopyInputStream* Open(const std::string& filename) override {
    auto it = files_.find(filename);
    if (it == files_.end()) return nullptr;
    return new google::protobuf::io::ArrayInputStream(it->second.data(),
                                                      static_cast<int>(it->second.size()));
  }

 private:
  const std::map<std::string, std::string> files_;
};

// One parsed file with everything it needs kept alive.
struct Parsed {
  std::unique_ptr<SourceTree> tree;
  CollectErrors errors;
  std::unique_ptr<Importer> importer;
  const FileDescriptor* file = nullptr;
};

std::unique_ptr<Parsed> Parse(std::unique_ptr<SourceTree> tree, const std::string& path) {
  auto parsed = std::make_unique<Parsed>();
  parsed->tree = std::move(tree);
  parsed->importer = std::make_unique<Importer>(parsed->tree.get(), &parsed->errors);
  parsed->file = parsed->importer->Import(path);
  return parsed;
}

// ---------------------------------------------------------------------------
// etcd's files.

constexpr char kEtcdRoot[] = "/usr/share/gocode/src/go.etcd.io/etcd/";
constexpr char kGogoProto[] = "/usr/share/gocode/src/github.com/gogo/protobuf/gogoproto/";
constexpr char kGoogleApi[] =
    "/usr/share/gocode/src/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis/"
    "google/api/";
constexpr char kProtobufIncludes[] = "/usr/include/google/protobuf/";

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// etcd's import paths resolved the way etcd's scripts/genproto.sh sets up
// protoc: "etcd/..." is the etcd tree, gogoproto and google/api come from
// their Go packages, and raft_internal.proto's bare "etcdserver.proto" and
// "rpc.proto" are found in its own directory.
std::unique_ptr<SourceTree> EtcdSourceTree() {
  auto tree = std::make_unique<DiskSourceTree>();
  tree->MapPath("etcd/", kEtcdRoot);
  tree->MapPath("gogoproto/", kGogoProto);
  tree->MapPath("github.com/gogo/protobuf/gogoproto/", kGogoProto);
  tree->MapPath("google/api/", kGoogleApi);
  tree->MapPath("google/protobuf/", kProtobufIncludes);
  tree->MapPath("", std::string(kEtcdRoot) + "etcdserver/etcdserverpb/");
  return tree;
}

struct EtcdFile {
  // Virtual path under "etcd/".
  const char* path;
  // The file of this project that must carry the same definitions.
  const FileDescriptor* (*ours)();
};

// Names the file in test output instead of dumping its bytes.
void PrintTo(const EtcdFile& file, std::ostream* os) { *os << file.path; }

template <typename Message>
const FileDescriptor* FileOf() {
  // Naming a generated message also makes the linker keep its file, so the
  // file is registered in the generated pool.
  return Message::descriptor()->file();
}

const std::vector<EtcdFile>& EtcdFiles() {
  static const auto* files = new std::vector<EtcdFile>{
      {"etcd/mvcc/mvccpb/kv.proto", &FileOf<mvccpb::KeyValue>},
      {"etcd/auth/authpb/auth.proto", &FileOf<authpb::User>},
      {"etcd/etcdserver/etcdserverpb/rpc.proto", &FileOf<etcdserverpb::RangeRequest>},
      {"etcd/etcdserver/etcdserverpb/etcdserver.proto", &FileOf<etcdserverpb::Metadata>},
      {"etcd/etcdserver/etcdserverpb/raft_internal.proto",
       &FileOf<etcdserverpb::InternalRaftRequest>},
      {"etcd/lease/leasepb/lease.proto", &FileOf<leasepb::Lease>},
      {"etcd/raft/raftpb/raft.proto", &FileOf<raftpb::Entry>},
      {"etcd/wal/walpb/record.proto", &FileOf<walpb::Record>},
      {"etcd/etcdserver/api/snap/snappb/snap.proto", &FileOf<snappb::snapshot>},
      {"etcd/etcdserver/api/v3lock/v3lockpb/v3lock.proto", &FileOf<v3lockpb::LockRequest>},
      {"etcd/etcdserver/api/v3election/v3electionpb/v3election.proto",
       &FileOf<v3electionpb::CampaignRequest>},
  };
  return *files;
}

std::string DiskPath(const EtcdFile& file) {
  return std::string(kEtcdRoot) + (file.path + std::string("etcd/").size());
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += "  " + line + "\n";
  return out;
}

class EtcdWireCompatTest : public testing::TestWithParam<EtcdFile> {};

TEST_P(EtcdWireCompatTest, EveryEtcdDefinitionIsIdenticalHere) {
  const EtcdFile& file = GetParam();
  const FileDescriptor* ours = file.ours();
  ASSERT_NE(ours, nullptr);
  ASSERT_TRUE(IsFile(DiskPath(file)))
      << "etcd's " << DiskPath(file) << " is not installed; run tools/bootstrap.sh "
      << "(it installs golang-etcd-server-dev, etcd 3.4's sources with its .proto files)";

  std::unique_ptr<Parsed> etcd = Parse(EtcdSourceTree(), file.path);
  ASSERT_NE(etcd->file, nullptr) << "cannot parse " << file.path << ":\n" << etcd->errors.text();

  // Definitions are looked up by full name in the whole generated pool;
  // this file must at least share the package.
  EXPECT_EQ(etcd->file->package(), ours->package()) << ours->name();

  Comparison result = CompareFile(*etcd->file, *DescriptorPool::generated_pool());
  EXPECT_GT(result.checked, 1) << file.path << " defines nothing to compare";
  EXPECT_TRUE(result.differences.empty()) << file.path << " differs from " << ours->name() << ":\n"
                                          << Joined(result.differences);
}

std::string TestName(const testing::TestParamInfo<EtcdFile>& info) {
  std::string name = info.param.path + std::string("etcd/").size();
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(EtcdProtos, EtcdWireCompatTest, testing::ValuesIn(EtcdFiles()), TestName);

TEST(EtcdWireCompatTest, ServicePathsAreEtcds) {
  // gRPC's path is "/" + service full name + "/" + method name.
  const DescriptorPool& pool = *DescriptorPool::generated_pool();
  for (const char* method :
       {"etcdserverpb.KV.Range", "etcdserverpb.Watch.Watch", "etcdserverpb.Lease.LeaseKeepAlive",
        "etcdserverpb.Cluster.MemberList", "etcdserverpb.Maintenance.Snapshot",
        "etcdserverpb.Auth.Authenticate", "v3lockpb.Lock.Lock", "v3electionpb.Election.Campaign"}) {
    EXPECT_NE(pool.FindMethodByName(method), nullptr) << method;
  }
}

TEST(EtcdWireCompatTest, OurFilesKeepEtcdsSyntax) {
  struct Expected {
    const FileDescriptor* file;
    const char* name;
    FileDescriptor::Syntax syntax;
  };
  const Expected expected[] = {
      {FileOf<mvccpb::KeyValue>(), "api/mvccpb/kv.proto", FileDescriptor::SYNTAX_PROTO3},
      {FileOf<authpb::User>(), "api/authpb/auth.proto", FileDescriptor::SYNTAX_PROTO3},
      {FileOf<membershippb::Member>(), "api/membershippb/membership.proto",
       FileDescriptor::SYNTAX_PROTO3},
      {FileOf<etcdserverpb::RangeRequest>(), "api/etcdserverpb/rpc.proto",
       FileDescriptor::SYNTAX_PROTO3},
      {FileOf<etcdserverpb::Request>(), "api/etcdserverpb/etcdserver.proto",
       FileDescriptor::SYNTAX_PROTO2},
      {FileOf<etcdserverpb::InternalRaftRequest>(), "api/etcdserverpb/raft_internal.proto",
       FileDescriptor::SYNTAX_PROTO3},
      {FileOf<v3lockpb::LockRequest>(), "api/v3lockpb/v3lock.proto", FileDescriptor::SYNTAX_PROTO3},
      {FileOf<v3electionpb::LeaderKey>(), "api/v3electionpb/v3election.proto",
       FileDescriptor::SYNTAX_PROTO3},
      {FileOf<leasepb::Lease>(), "lease/leasepb/lease.proto", FileDescriptor::SYNTAX_PROTO3},
      {FileOf<raftpb::Message>(), "raft/raftpb/raft.proto", FileDescriptor::SYNTAX_PROTO2},
      {FileOf<walpb::Snapshot>(), "wal/walpb/record.proto", FileDescriptor::SYNTAX_PROTO2},
      {FileOf<snappb::snapshot>(), "snap/snappb/snap.proto", FileDescriptor::SYNTAX_PROTO2},
  };
  for (const Expected& e : expected) {
    EXPECT_EQ(e.file->name(), e.name);
    EXPECT_EQ(e.file->syntax(), e.syntax) << e.name;
  }
}

// etcd 3.5's additions, which etcd 3.4's files cannot check.
TEST(EtcdWireCompatTest, HasEtcd35Additions) {
  const DescriptorPool& pool = *DescriptorPool::generated_pool();
  struct Field {
    const char* name;
    int number;
  };
  for (const Field& f : std::vector<Field>{
           {"etcdserverpb.MemberListRequest.linearizable", 1},
           {"etcdserverpb.AuthUserAddRequest.hashedPassword", 4},
           {"etcdserverpb.AuthUserChangePasswordRequest.hashedPassword", 3},
           {"etcdserverpb.AuthStatusResponse.authRevision", 3},
           {"etcdserverpb.DowngradeRequest.version", 2},
           {"etcdserverpb.HashKVResponse.hash_revision", 4},
           {"etcdserverpb.InternalRaftRequest.auth_status", 1013},
           {"etcdserverpb.InternalRaftRequest.cluster_version_set", 1300},
           {"etcdserverpb.InternalRaftRequest.cluster_member_attr_set", 1301},
           {"etcdserverpb.InternalRaftRequest.downgrade_info_set", 1302},
           {"etcdserverpb.AuthStatusResponse.enabled", 2},
           {"etcdserverpb.DowngradeRequest.action", 1},
           {"etcdserverpb.DowngradeResponse.version", 2},
           {"walpb.Snapshot.conf_state", 3},
           {"membershippb.RaftAttributes.peer_urls", 1},
           {"membershippb.RaftAttributes.is_learner", 2},
           {"membershippb.Attributes.name", 1},
           {"membershippb.Attributes.client_urls", 2},
           {"membershippb.Member.ID", 1},
           {"membershippb.Member.raft_attributes", 2},
           {"membershippb.Member.member_attributes", 3},
           {"membershippb.ClusterVersionSetRequest.ver", 1},
           {"membershippb.ClusterMemberAttrSetRequest.member_ID", 1},
           {"membershippb.ClusterMemberAttrSetRequest.member_attributes", 2},
           {"membershippb.DowngradeInfoSetRequest.enabled", 1},
           {"membershippb.DowngradeInfoSetRequest.ver", 2},
       }) {
    const FieldDescriptor* field = pool.FindFieldByName(f.name);
    ASSERT_NE(field, nullptr) << f.name;
    EXPECT_EQ(field->number(), f.number) << f.name;
  }
  EXPECT_NE(pool.FindMethodByName("etcdserverpb.Auth.AuthStatus"), nullptr);
  EXPECT_NE(pool.FindMethodByName("etcdserverpb.Maintenance.Downgrade"), nullptr);
  const EnumDescriptor* action =
      pool.FindEnumTypeByName("etcdserverpb.DowngradeRequest.DowngradeAction");
  ASSERT_NE(action, nullptr);
  const char* const values[] = {"VALIDATE", "ENABLE", "CANCEL"};
  for (int number = 0; number < 3; ++number) {
    const EnumValueDescriptor* value = action->FindValueByName(values[number]);
    ASSERT_NE(value, nullptr) << values[number];
    EXPECT_EQ(value->number(), number) << values[number];
  }
}

// ---------------------------------------------------------------------------
// The comparison must notice differences.

constexpr char kReference[] = R"(
syntax = "proto3";
package t;
enum Color {
  RED = 0;
  BLUE = 1;
}
message Inner {}
message Item {
  enum Kind {
    A = 0;
    B = 1;
  }
  message Nested { int64 n = 1; }
  int64 id = 1;
  repeated string names = 2;
  Inner inner = 3;
  Kind kind = 4;
  Color color = 5;
  oneof choice {
    int64 x = 6;
    bytes y = 7;
  }
  repeated uint64 ids = 8;
}
service S {
  rpc Get(Item) returns (Item);
  rpc Stream(stream Item) returns (stream Item);
}
)";

std::unique_ptr<Parsed> ParseText(const std::string& text) {
  return Parse(
      std::make_unique<MemorySourceTree>(std::map<std::string, std::string>{{"t.proto", text}}),
      "t.proto");
}

// CompareFile with `etcd` as etcd's file and `ours` as this project's.
Comparison CompareTexts(const std::string& etcd, const std::string& ours) {
  std::unique_ptr<Parsed> theirs = ParseText(etcd);
  std::unique_ptr<Parsed> mine = ParseText(ours);
  EXPECT_NE(theirs->file, nullptr) << theirs->errors.text();
  EXPECT_NE(mine->file, nullptr) << mine->errors.text();
  if (theirs->file == nullptr || mine->file == nullptr) return {{"parse error"}, 0};
  return CompareFile(*theirs->file, *mine->importer->pool());
}

// Differences between kReference (as etcd) and `ours`.
std::vector<std::string> DiffAgainst(const std::string& ours) {
  return CompareTexts(kReference, ours).differences;
}

// kReference with `from` replaced by `to` (exactly once).
std::string Edited(const std::string& from, const std::string& to) {
  std::string text = kReference;
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at == std::string::npos) return text;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from << " is ambiguous";
  return text.replace(at, from.size(), to);
}

using testing::ElementsAre;
using testing::IsEmpty;

TEST(CompareFileTest, IdenticalFilesHaveNoDifferences) {
  Comparison result = CompareTexts(kReference, kReference);
  EXPECT_THAT(result.differences, IsEmpty());
  // 3 messages, 9 fields, 2 enums, 4 values, 1 service, 2 methods.
  EXPECT_EQ(result.checked, 21);
}

TEST(CompareFileTest, AdditionsAreAllowed) {
  EXPECT_THAT(
      DiffAgainst(Edited("repeated uint64 ids = 8;", "repeated uint64 ids = 8; string added = 9;") +
                  "message Extra {}\n"),
      IsEmpty());
  EXPECT_THAT(DiffAgainst(Edited("  rpc Get(Item)",
                                 "  rpc Added(Item) returns (Item);\n"
                                 "  rpc Get(Item)")),
              IsEmpty());
  EXPECT_THAT(DiffAgainst(Edited("BLUE = 1;", "BLUE = 1; GREEN = 2;")), IsEmpty());
}

TEST(CompareFileTest, WrongFieldNumber) {
  EXPECT_THAT(DiffAgainst(Edited("int64 id = 1;", "int64 id = 9;")),
              ElementsAre("t.Item.id: number 1 (etcd) vs 9 (ours)"));
}

TEST(CompareFileTest, WrongFieldType) {
  EXPECT_THAT(DiffAgainst(Edited("int64 id = 1;", "uint64 id = 1;")),
              ElementsAre("t.Item.id: type int64 (etcd) vs uint64 (ours)"));
  EXPECT_THAT(DiffAgainst(Edited("int64 id = 1;", "sint64 id = 1;")),
              ElementsAre("t.Item.id: type int64 (etcd) vs sint64 (ours)"));
  EXPECT_THAT(DiffAgainst(Edited("bytes y = 7;", "string y = 7;")),
              ElementsAre("t.Item.y: type bytes (etcd) vs string (ours)"));
}

TEST(CompareFileTest, WrongMessageOrEnumType) {
  EXPECT_THAT(DiffAgainst(Edited("Inner inner = 3;", "Nested inner = 3;")),
              ElementsAre("t.Item.inner: type name t.Inner (etcd) vs t.Item.Nested (ours)"));
  EXPECT_THAT(DiffAgainst(Edited("Color color = 5;", "Kind color = 5;")),
              ElementsAre("t.Item.color: type name t.Color (etcd) vs t.Item.Kind (ours)"));
}

TEST(CompareFileTest, WrongLabel) {
  EXPECT_THAT(DiffAgainst(Edited("repeated string names", "string names")),
              ElementsAre("t.Item.names: label repeated (etcd) vs optional (ours)"));
}

TEST(CompareFileTest, MissingFieldMessageAndEnumValue) {
  EXPECT_THAT(DiffAgainst(Edited("  Color color = 5;\n", "")),
              ElementsAre("field t.Item.color: missing (ours)"));
  EXPECT_THAT(DiffAgainst(Edited("message Nested { int64 n = 1; }", "")),
              ElementsAre("message t.Item.Nested: missing (ours)"));
  EXPECT_THAT(DiffAgainst(Edited("  BLUE = 1;\n", "")),
              ElementsAre("enum value t.Color.BLUE: missing (ours)"));
  EXPECT_THAT(DiffAgainst(Edited("BLUE = 1;", "BLUE = 2;")),
              ElementsAre("t.Color.BLUE: number 1 (etcd) vs 2 (ours)"));
}

TEST(CompareFileTest, FieldMovedOutOfOneof) {
  EXPECT_THAT(DiffAgainst(Edited("    int64 x = 6;\n", "")),
              ElementsAre("field t.Item.x: missing (ours)"));
  std::vector<std::string> diffs =
      DiffAgainst(Edited("oneof choice {\n    int64 x = 6;", "int64 x = 6;\n  oneof choice {"));
  EXPECT_THAT(diffs, testing::Contains("t.Item.x: oneof choice (etcd) vs (none) (ours)"));
}

TEST(CompareFileTest, MissingOrChangedMethod) {
  EXPECT_THAT(DiffAgainst(Edited("  rpc Get(Item) returns (Item);\n", "")),
              ElementsAre("method t.S.Get: missing (ours)"));
  EXPECT_THAT(
      DiffAgainst(Edited("rpc Get(Item) returns (Item);", "rpc Get(Inner) returns (Item);")),
      ElementsAre("t.S.Get: input type t.Item (etcd) vs t.Inner (ours)"));
  EXPECT_THAT(DiffAgainst(Edited("rpc Stream(stream Item) returns (stream Item);",
                                 "rpc Stream(stream Item) returns (Item);")),
              ElementsAre("t.S.Stream: server streaming true (etcd) vs false (ours)"));
  EXPECT_THAT(DiffAgainst(Edited("service S {", "service Renamed {")),
              ElementsAre("service t.S: missing (ours)"));
}

TEST(CompareFileTest, SyntaxDifferencesShowOnFields) {
  // The same definitions in proto3 (as etcd) and proto2 (ours). The labels
  // agree (a proto3 singular field is "optional" too), but packing, presence
  // and enum openness differ, and each is reported.
  constexpr char kProto3[] = R"(
syntax = "proto3";
package t;
enum Color { RED = 0; }
message M {
  int64 id = 1;
  repeated uint64 ids = 2;
  Color c = 3;
}
)";
  constexpr char kProto2[] = R"(
syntax = "proto2";
package t;
enum Color { RED = 0; }
message M {
  optional int64 id = 1;
  repeated uint64 ids = 2;
  optional Color c = 3;
}
)";
  EXPECT_THAT(CompareTexts(kProto3, kProto2).differences,
              testing::UnorderedElementsAre("t.M: syntax proto3 (etcd) vs proto2 (ours)",
                                            "t.M.id: presence false (etcd) vs true (ours)",
                                            "t.M.ids: packed true (etcd) vs false (ours)",
                                            "t.M.c: presence false (etcd) vs true (ours)",
                                            "t.Color: syntax proto3 (etcd) vs proto2 (ours)"));
  EXPECT_THAT(CompareTexts(kProto2, kProto2).differences, IsEmpty());
}

TEST(CompareFileTest, Proto2DefaultsAndRequiredAreCompared) {
  constexpr char kEtcd[] = R"(
syntax = "proto2";
package t;
message M {
  optional int64 a = 1 [default = 5];
  required int64 b = 2;
}
)";
  constexpr char kOurs[] = R"(
syntax = "proto2";
package t;
message M {
  optional int64 a = 1 [default = 6];
  optional int64 b = 2;
}
)";
  EXPECT_THAT(CompareTexts(kEtcd, kOurs).differences,
              ElementsAre("t.M.a: default \"5\" (etcd) vs \"6\" (ours)",
                          "t.M.b: label required (etcd) vs optional (ours)"));
}

}  // namespace
}  // namespace etcd::api
