// The output of etcd-dump-logs: a data directory's snapshot, WAL metadata
// and WAL entries, with etcd requests decoded.
//
//   etcd::tools::DumpOptions options;
//   options.data_dir = "/var/lib/etcd";
//   std::string out;
//   absl::Status status = etcd::tools::DumpDataDir(options, &out);
//   // Snapshot:
//   // empty
//   // Start dumping log entries from snapshot.
//   // WAL metadata:
//   // nodeID=8e9e05c52164694d clusterID=cdf818194e3a8c32 term=2 commitIndex=6
//   vote=8e9e05c52164694d
//   // WAL entries:
//   // lastIndex=6
//   // term	     index	type	data
//   //    1	         1	conf	method=ConfChangeAddNode id=8e9e05c52164694d
//   //    2	         4	norm	header:<ID:7587861231285799684 > put:<key:"foo" value:"bar"
//   >
//   //
//   // Entry types (Normal,ConfigChange) count is : 2
//
// The format is etcd 3.4's: requests print as Go's compact protobuf text
// (CompactTextString), IDs in hex, the v2 requests of etcd 3.4 as
// "method=... path=... val=...", configuration changes as "method=... id=...".
// Passwords in auth requests are replaced by "<value removed>".
//
// Functions only; thread-safe.

#ifndef ETCD_TOOLS_WAL_DUMP_DUMP_H_
#define ETCD_TOOLS_WAL_DUMP_DUMP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "raft/raftpb/raft.pb.h"

namespace etcd::tools {

struct DumpOptions {
  // The etcd data directory (holding member/wal and member/snap).
  std::string data_dir;
  // The WAL directory when not <data_dir>/member/wal.
  std::string wal_dir;
  // Start after this .snap file (a base name in member/snap) instead of the
  // newest snapshot.
  std::string start_snap;
  // Start at this raft index instead (a missing snapshot record is fine).
  uint64_t start_index = 0;
  // Comma-separated entry types to print (etcd-dump-logs --entry-type).
  std::string entry_types = "Normal,ConfigChange";
};

// Writes the dump of `options.data_dir` to `*out`. Errors: what etcd-dump-logs
// exits for (unreadable snapshot, WAL that does not open or read).
absl::Status DumpDataDir(const DumpOptions& options, std::string* out);

// Go's proto.CompactTextString: "name:value " per set field in declaration
// order, messages as "name:<...> ", strings quoted with octal escapes.
std::string CompactTextString(const google::protobuf::Message& message);

// Parses like gogoproto's Unmarshal: also fails when a known field arrives
// with the wrong wire type (C++ would keep it as an unknown field).
bool StrictParse(absl::string_view data, google::protobuf::Message* message);

// One entry line (without the newline) if it passes the `entry_types`
// filter; false otherwise.
bool FormatEntry(const raftpb::Entry& entry, const std::vector<std::string>& entry_types,
                 std::string* line);

// The "nodes" of a snapshot line: "[1 2 3]" with the IDs in hex.
std::string FormatIDs(const std::vector<uint64_t>& ids);

}  // namespace etcd::tools

#endif  // ETCD_TOOLS_WAL_DUMP_DUMP_H_
