// Conformance: runs etcd's own quorum transcripts (raft/quorum/testdata/*.txt
// from Debian's golang-etcd-server-dev, read in place) against this package.
//
// Commands: "committed" (CommittedIndex and Describe) and "vote"
// (GetVoteResult). Arguments: cfg=(ids) is the majority config, cfgj=(ids) or
// cfgj=zero makes it a joint config, idx=(...) gives each voter's acked index
// and votes=(...) each voter's vote (y, n or _ for none), in the order in which
// voters first appear in cfg and then cfgj. Like etcd's harness, each case also
// cross-checks results that must not change (an alternative computation,
// joining with the empty or the same config, swapping the halves, lowering
// indexes) and prints any disagreement into the output, which then fails the
// comparison.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pkg/datadriven/datadriven.h"
#include "raft/quorum/quorum.h"
#include "raft/quorum/quorum_test_util.h"

namespace etcd::raft::quorum {
namespace {

constexpr char kTestdataDir[] = "/usr/share/gocode/src/go.etcd.io/etcd/raft/quorum/testdata";

// Gives the i-th distinct voter of `ids` then `idsj` the i-th entry of `vals`;
// zero entries stand for "_" and are left out.
MapAckIndexer MakeLookuper(const std::vector<Index>& vals, const std::vector<uint64_t>& ids,
                           const std::vector<uint64_t>& idsj) {
  absl::flat_hash_map<uint64_t, Index> m;
  size_t p = 0;
  std::vector<uint64_t> all = ids;
  all.insert(all.end(), idsj.begin(), idsj.end());
  for (uint64_t id : all) {
    if (m.contains(id)) continue;
    if (p < vals.size()) m[id] = vals[p++];
  }
  absl::erase_if(m, [](const auto& kv) { return kv.second == 0; });
  return MapAckIndexer(std::move(m));
}

// A copy of `l` restricted to `c`, with `id` overridden to `idx`.
MapAckIndexer Overlay(const MajorityConfig& c, const AckedIndexer& l, uint64_t id, Index idx) {
  MapAckIndexer out;
  for (uint64_t iid : c) {
    if (iid == id) {
      out.Set(iid, idx);
    } else if (std::optional<Index> v = l.AckedIndex(iid)) {
      out.Set(iid, *v);
    }
  }
  return out;
}

std::string Handle(const datadriven::TestData& d) {
  bool joint = false;
  std::vector<uint64_t> ids, idsj;
  std::vector<Index> idxs, votes;
  for (const datadriven::CmdArg& arg : d.cmd_args) {
    for (size_t i = 0; i < arg.vals.size(); ++i) {
      if (arg.key == "cfg") {
        uint64_t n = 0;
        EXPECT_TRUE(arg.Scan(i, &n).ok()) << d.pos;
        ids.push_back(n);
      } else if (arg.key == "cfgj") {
        joint = true;
        if (arg.vals[i] == "zero") {
          EXPECT_EQ(arg.vals.size(), 1u) << d.pos << ": cannot mix 'zero' into configuration";
        } else {
          uint64_t n = 0;
          EXPECT_TRUE(arg.Scan(i, &n).ok()) << d.pos;
          idsj.push_back(n);
        }
      } else if (arg.key == "idx") {
        uint64_t n = 0;
        if (arg.vals[i] != "_") {
          EXPECT_TRUE(arg.Scan(i, &n).ok()) << d.pos;
          EXPECT_NE(n, 0u) << d.pos << ": cannot use 0 as idx";
        }
        idxs.push_back(n);
      } else if (arg.key == "votes") {
        const std::string& v = arg.vals[i];
        if (v == "y") {
          votes.push_back(2);
        } else if (v == "n") {
          votes.push_back(1);
        } else if (v == "_") {
          votes.push_back(0);
        } else {
          ADD_FAILURE() << d.pos << ": unknown vote: " << v;
        }
      } else {
        ADD_FAILURE() << d.pos << ": unknown arg " << arg.key;
      }
    }
  }

  MajorityConfig c(ids);
  MajorityConfig cj(idsj);

  const std::vector<Index>& input = d.cmd == "vote" ? votes : idxs;
  MajorityConfig voters = JointConfig(c, cj).IDs();
  if (voters.size() != input.size()) {
    std::vector<std::string> voter_strs, input_strs;
    for (uint64_t id : voters) voter_strs.push_back(absl::StrCat(id, ":{}"));
    for (Index v : input) input_strs.push_back(IndexString(v));
    return absl::StrCat("error: mismatched input (explicit or _) for voters map[",
                        absl::StrJoin(voter_strs, " "), "]: [", absl::StrJoin(input_strs, " "),
                        "]");
  }

  std::string buf;
  if (d.cmd == "committed") {
    MapAckIndexer l = MakeLookuper(idxs, ids, idsj);
    if (!joint) {
      Index idx = c.CommittedIndex(l);
      absl::StrAppend(&buf, c.Describe(l));
      if (Index a = AlternativeMajorityCommittedIndex(c, l); a != idx) {
        absl::StrAppend(&buf, IndexString(a), " <-- via alternative computation\n");
      }
      if (Index a = JointConfig(c, MajorityConfig()).CommittedIndex(l); a != idx) {
        absl::StrAppend(&buf, IndexString(a), " <-- via zero-joint quorum\n");
      }
      if (Index a = JointConfig(c, c).CommittedIndex(l); a != idx) {
        absl::StrAppend(&buf, IndexString(a), " <-- via self-joint quorum\n");
      }
      for (uint64_t id : c) {
        Index iidx = l.AckedIndex(id).value_or(0);
        if (idx > iidx && iidx > 0) {
          // Lowering an index that was already below the committed index
          // must not change the result.
          if (Index a = c.CommittedIndex(Overlay(c, l, id, iidx - 1)); a != idx) {
            absl::StrAppend(&buf, IndexString(a), " <-- overlaying ", id, "->", iidx);
          }
          if (Index a = c.CommittedIndex(Overlay(c, l, id, 0)); a != idx) {
            absl::StrAppend(&buf, IndexString(a), " <-- overlaying ", id, "->0");
          }
        }
      }
      absl::StrAppend(&buf, IndexString(idx), "\n");
    } else {
      JointConfig cc(c, cj);
      absl::StrAppend(&buf, cc.Describe(l));
      Index idx = cc.CommittedIndex(l);
      if (Index a = JointConfig(cj, c).CommittedIndex(l); a != idx) {
        absl::StrAppend(&buf, IndexString(a), " <-- via symmetry\n");
      }
      absl::StrAppend(&buf, IndexString(idx), "\n");
    }
  } else if (d.cmd == "vote") {
    MapAckIndexer ll = MakeLookuper(votes, ids, idsj);
    VoteMap l;
    for (uint64_t id : voters) {
      if (std::optional<Index> v = ll.AckedIndex(id)) l[id] = *v != 1;
    }
    if (!joint) {
      absl::StrAppend(&buf, VoteResultString(c.GetVoteResult(l)), "\n");
    } else {
      VoteResult r = JointConfig(c, cj).GetVoteResult(l);
      if (VoteResult a = JointConfig(cj, c).GetVoteResult(l); a != r) {
        absl::StrAppend(&buf, VoteResultString(a), " <-- via symmetry\n");
      }
      absl::StrAppend(&buf, VoteResultString(r), "\n");
    }
  } else {
    ADD_FAILURE() << d.pos << ": unknown command: " << d.cmd;
  }
  return buf;
}

class QuorumDataDrivenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(QuorumDataDrivenTest, MatchesEtcdTranscript) {
  datadriven::Options options;
  options.allow_rewrite = false;  // etcd's files, not ours
  datadriven::RunTest(GetParam(), Handle, options);
}

INSTANTIATE_TEST_SUITE_P(Etcd, QuorumDataDrivenTest,
                         ::testing::ValuesIn(datadriven::ListTestFiles(kTestdataDir)),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return datadriven::TestName(info.param);
                         });

// The conformance run must not pass vacuously.
TEST(QuorumDataDrivenFilesTest, EtcdTranscriptsAreInstalled) {
  EXPECT_EQ(datadriven::ListTestFiles(kTestdataDir).size(), 4u)
      << "expected etcd's quorum transcripts in " << kTestdataDir
      << " (Debian package golang-etcd-server-dev)";
}

}  // namespace
}  // namespace etcd::raft::quorum
