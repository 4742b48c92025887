#include "tools/benchmark/report.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace etcd::benchmark {
namespace {

TEST(ReportTest, SummaryOfKnownLatencies) {
  // 1..100 ms, shuffled.
  std::vector<double> l;
  for (int i = 100; i >= 1; --i) l.push_back(i / 1000.0);
  Stats s = Summarize(l, {}, 2.0);
  EXPECT_DOUBLE_EQ(s.fastest, 0.001);
  EXPECT_DOUBLE_EQ(s.slowest, 0.100);
  EXPECT_NEAR(s.average, 0.0505, 1e-12);
  // Population stddev of 1..100 is sqrt((100^2 - 1) / 12) = 28.866...
  EXPECT_NEAR(s.stddev, 0.0288660700, 1e-9);
  EXPECT_DOUBLE_EQ(s.rps, 50.0);
  EXPECT_EQ(s.latencies.front(), 0.001);  // sorted
}

TEST(ReportTest, PercentilesFollowEtcdsRule) {
  std::vector<double> l;
  for (int i = 1; i <= 1000; ++i) l.push_back(i);
  // Index i is taken at the first i with i*100/n >= p: p10 -> i=100 -> 101.
  std::vector<double> p = Percentiles(l);
  ASSERT_EQ(p.size(), 8u);
  EXPECT_EQ(p[0], 101);   // 10
  EXPECT_EQ(p[1], 251);   // 25
  EXPECT_EQ(p[2], 501);   // 50
  EXPECT_EQ(p[3], 751);   // 75
  EXPECT_EQ(p[4], 901);   // 90
  EXPECT_EQ(p[5], 951);   // 95
  EXPECT_EQ(p[6], 991);   // 99
  EXPECT_EQ(p[7], 1000);  // 99.9: i = 999
  // Too few samples for the high percentiles: those stay 0.
  std::vector<double> few = Percentiles({1, 2});
  EXPECT_EQ(few[0], 2);  // i=1: 50 >= 10
  EXPECT_EQ(few[3], 0);  // 75: never reached
}

TEST(ReportTest, FormatPrintsEtcdsSections) {
  Stats s = Summarize({0.002, 0.004, 0.006, 0.008}, {{"etcdserver: request timed out", 3}}, 1.0);
  const std::string out = Format(s);
  EXPECT_TRUE(absl::StrContains(out, "\nSummary:\n  Total:\t1.0000 secs.\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "  Slowest:\t0.0080 secs.\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "  Fastest:\t0.0020 secs.\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "  Average:\t0.0050 secs.\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "  Requests/sec:\t4.0000\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "\nResponse time histogram:\n  0.0020 [1]\t|")) << out;
  EXPECT_TRUE(absl::StrContains(out, "  0.0080 [1]\t|")) << out;
  EXPECT_TRUE(absl::StrContains(out, "\nLatency distribution:\n  10% in 0.0040 secs.\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "  25% in 0.0060 secs.\n  50% in 0.0080 secs.\n")) << out;
  EXPECT_FALSE(absl::StrContains(out, "99.9%")) << out;
  EXPECT_TRUE(
      absl::StrContains(out, "\nError distribution:\n  [3]\tetcdserver: request timed out\n"))
      << out;
}

TEST(ReportTest, HistogramCountsEverySample) {
  std::vector<double> l;
  for (int i = 0; i < 1000; ++i) l.push_back(0.001 + (i % 37) * 0.0001);
  Stats s = Summarize(l, {}, 1.0);
  const std::string out = Format(s);
  // Sum the [n] counts of the histogram lines.
  int total = 0;
  size_t pos = out.find("Response time histogram:");
  size_t end = out.find("Latency distribution:");
  ASSERT_NE(pos, std::string::npos);
  while ((pos = out.find('[', pos)) != std::string::npos && pos < end) {
    total += std::stoi(out.substr(pos + 1));
    ++pos;
  }
  EXPECT_EQ(total, 1000);
}

TEST(ReportTest, ReportCollectsFromThreads) {
  Report r;
  r.Start();
  r.Add(absl::Milliseconds(3));
  r.Add(absl::Milliseconds(1));
  r.AddError("boom");
  r.AddError("boom");
  r.Finish();
  Stats s = r.stats();
  ASSERT_EQ(s.latencies.size(), 2u);
  EXPECT_DOUBLE_EQ(s.fastest, 0.001);
  EXPECT_EQ(s.errors.at("boom"), 2);
}

}  // namespace
}  // namespace etcd::benchmark
