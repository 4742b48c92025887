#include "tools/benchmark/report.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace etcd::benchmark {

std::vector<double> Percentiles(const std::vector<double>& sorted) {
  constexpr size_t kCount = sizeof(kPercentiles) / sizeof(kPercentiles[0]);
  std::vector<double> out(kCount, 0);
  size_t j = 0;
  const size_t n = sorted.size();
  for (size_t i = 0; i < n && j < kCount; ++i) {
    const double current = static_cast<double>(i) * 100.0 / static_cast<double>(n);
    if (current >= kPercentiles[j]) out[j++] = sorted[i];
  }
  return out;
}

Stats Summarize(std::vector<double> latencies, std::map<std::string, int> errors,
                double total_seconds) {
  Stats s;
  s.total = total_seconds;
  s.errors = std::move(errors);
  std::sort(latencies.begin(), latencies.end());
  s.latencies = std::move(latencies);
  const size_t n = s.latencies.size();
  if (n == 0) return s;
  double sum = 0;
  for (double l : s.latencies) sum += l;
  s.average = sum / static_cast<double>(n);
  double var = 0;
  for (double l : s.latencies) var += (l - s.average) * (l - s.average);
  s.stddev = std::sqrt(var / static_cast<double>(n));
  s.fastest = s.latencies.front();
  s.slowest = s.latencies.back();
  s.rps = total_seconds > 0 ? static_cast<double>(n) / total_seconds : 0;
  return s;
}

namespace {

std::string Secs(double v) { return absl::StrFormat("%4.4f secs", v); }

std::string Histogram(const Stats& s) {
  constexpr int kBuckets = 10;
  std::vector<double> bounds(kBuckets + 1);
  std::vector<int> counts(kBuckets + 1, 0);
  const double width = (s.slowest - s.fastest) / kBuckets;
  for (int i = 0; i < kBuckets; ++i) bounds[i] = s.fastest + width * i;
  bounds[kBuckets] = s.slowest;
  int max = 0;
  size_t b = 0;
  for (size_t i = 0; i < s.latencies.size();) {
    if (s.latencies[i] <= bounds[b] || b == bounds.size() - 1) {
      ++i;
      max = std::max(max, ++counts[b]);
    } else {
      ++b;
    }
  }
  std::string out = "\nResponse time histogram:\n";
  for (size_t i = 0; i < bounds.size(); ++i) {
    const int bar = max > 0 ? counts[i] * 40 / max : 0;
    std::string bars;
    for (int k = 0; k < bar; ++k) bars += "\u220e";
    absl::StrAppendFormat(&out, "  %4.4f [%d]\t|%s\n", bounds[i], counts[i], bars);
  }
  return out;
}

}  // namespace

std::string Format(const Stats& s) {
  std::string out;
  if (!s.latencies.empty()) {
    out += "\nSummary:\n";
    absl::StrAppend(&out, "  Total:\t", Secs(s.total), ".\n");
    absl::StrAppend(&out, "  Slowest:\t", Secs(s.slowest), ".\n");
    absl::StrAppend(&out, "  Fastest:\t", Secs(s.fastest), ".\n");
    absl::StrAppend(&out, "  Average:\t", Secs(s.average), ".\n");
    absl::StrAppend(&out, "  Stddev:\t", Secs(s.stddev), ".\n");
    absl::StrAppendFormat(&out, "  Requests/sec:\t%4.4f\n", s.rps);
    out += Histogram(s);
    out += "\nLatency distribution:\n";
    const std::vector<double> p = Percentiles(s.latencies);
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] > 0) absl::StrAppend(&out, "  ", kPercentiles[i], "% in ", Secs(p[i]), ".\n");
    }
  }
  if (!s.errors.empty()) {
    out += "\nError distribution:\n";
    for (const auto& [message, n] : s.errors)
      absl::StrAppendFormat(&out, "  [%d]\t%s\n", n, message);
  }
  return out;
}

void Report::Start() {
  absl::MutexLock l(&mu_);
  start_ = absl::Now();
}

void Report::Add(absl::Duration latency) {
  absl::MutexLock l(&mu_);
  latencies_.push_back(absl::ToDoubleSeconds(latency));
}

void Report::AddError(absl::string_view message) {
  absl::MutexLock l(&mu_);
  ++errors_[std::string(message)];
}

void Report::Finish() {
  absl::MutexLock l(&mu_);
  end_ = absl::Now();
}

Stats Report::stats() const {
  absl::MutexLock l(&mu_);
  return Summarize(latencies_, errors_, absl::ToDoubleSeconds(end_ - start_));
}

}  // namespace etcd::benchmark
