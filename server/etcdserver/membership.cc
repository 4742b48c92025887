#include "server/etcdserver/membership.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "pkg/types/urlsmap.h"

namespace etcd::etcdserver {
namespace {

uint64_t FirstEightBytes(const std::string& bytes) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | digest[i];
  return v;
}

}  // namespace

uint64_t ComputeMemberId(std::vector<std::string> peer_urls, absl::string_view cluster_token) {
  std::sort(peer_urls.begin(), peer_urls.end());
  return FirstEightBytes(absl::StrCat(absl::StrJoin(peer_urls, ""), cluster_token));
}

uint64_t ComputeClusterId(std::vector<uint64_t> member_ids) {
  std::sort(member_ids.begin(), member_ids.end());
  std::string b;
  for (uint64_t id : member_ids) {
    for (int shift = 56; shift >= 0; shift -= 8) b.push_back(static_cast<char>(id >> shift));
  }
  return FirstEightBytes(b);
}

absl::StatusOr<std::vector<etcdserverpb::Member>> InitialMembers(
    absl::string_view initial_cluster, absl::string_view cluster_token) {
  absl::StatusOr<types::URLsMap> map = types::URLsMap::Parse(initial_cluster);
  if (!map.ok()) return map.status();
  std::vector<etcdserverpb::Member> members;
  for (const auto& [name, urls] : *map) {
    etcdserverpb::Member m;
    m.set_name(name);
    std::vector<std::string> strs = urls.StringSlice();
    for (const std::string& u : strs) m.add_peerurls(u);
    m.set_id(ComputeMemberId(strs, cluster_token));
    members.push_back(std::move(m));
  }
  std::sort(members.begin(), members.end(),
            [](const etcdserverpb::Member& a, const etcdserverpb::Member& b) {
              return a.id() < b.id();
            });
  for (size_t i = 1; i < members.size(); ++i) {
    if (members[i].id() == members[i - 1].id()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("member count is unequal (duplicate member ID %x)", members[i].id()));
    }
  }
  return members;
}

std::string MemberToJson(const etcdserverpb::Member& member) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(member, &out, options);
  return out;
}

absl::StatusOr<etcdserverpb::Member> MemberFromJson(absl::string_view json) {
  etcdserverpb::Member m;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &m);
  if (!status.ok()) {
    return absl::DataLossError(absl::StrCat("etcdserver: cannot decode member ", json, ": ",
                                            status.ToString()));
  }
  return m;
}

std::string MemberKey(uint64_t id) { return absl::StrFormat("%x", id); }

}  // namespace etcd::etcdserver
