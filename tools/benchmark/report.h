// Latency statistics of a load run, printed like etcd's benchmark tool
// (etcd's pkg/report): Summary (Total, Slowest, Fastest, Average, Stddev,
// Requests/sec), a ten-bucket response time histogram, the latency
// percentiles 10 .. 99.9 and the errors by message.
//
//   etcd::benchmark::Report report;
//   report.Start();
//   ... report.Add(latency) or report.AddError(status.message()) per request,
//       from any thread ...
//   report.Finish();
//   std::cout << report.String();
//
// Thread-safe.

#ifndef ETCD_TOOLS_BENCHMARK_REPORT_H_
#define ETCD_TOOLS_BENCHMARK_REPORT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace etcd::benchmark {

// The percentiles reported (etcd's pctls).
inline constexpr double kPercentiles[] = {10, 25, 50, 75, 90, 95, 99, 99.9};

// What a finished run measured; latencies in seconds, sorted.
struct Stats {
  double total = 0;  // wall time of the run
  double fastest = 0;
  double slowest = 0;
  double average = 0;
  double stddev = 0;  // population standard deviation
  double rps = 0;     // successful requests per second of `total`
  std::vector<double> latencies;
  std::map<std::string, int> errors;
};

// etcd's percentile rule: the latency at the first index i (of n sorted)
// with i * 100 / n >= p, for each p of kPercentiles; 0 where none.
std::vector<double> Percentiles(const std::vector<double>& sorted);

// Computes every field from the raw latencies (sorted here) and errors.
Stats Summarize(std::vector<double> latencies, std::map<std::string, int> errors,
                double total_seconds);

// The text etcd's benchmark prints for `stats` ("%4.4f" precision).
std::string Format(const Stats& stats);

class Report {
 public:
  void Start();
  void Add(absl::Duration latency);
  void AddError(absl::string_view message);
  void Finish();
  // After Finish().
  Stats stats() const;
  std::string String() const { return Format(stats()); }

 private:
  mutable absl::Mutex mu_;
  absl::Time start_ ABSL_GUARDED_BY(mu_);
  absl::Time end_ ABSL_GUARDED_BY(mu_);
  std::vector<double> latencies_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> errors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::benchmark

#endif  // ETCD_TOOLS_BENCHMARK_REPORT_H_
