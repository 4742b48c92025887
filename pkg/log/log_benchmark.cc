// The cost of one entry: encoding and handing it to a sink that drops it,
// and of an entry below the level.

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "pkg/log/log.h"
#include "pkg/log/sink.h"

namespace {

class DiscardSink : public etcd::log::Sink {
 public:
  void Write(absl::string_view line) override { benchmark::DoNotOptimize(line.data()); }
};

std::unique_ptr<etcd::log::Logger> MakeLogger(etcd::log::Encoding encoding) {
  etcd::log::LoggerOptions options;
  options.encoding = encoding;
  options.time_zone = absl::UTCTimeZone();
  return std::make_unique<etcd::log::Logger>(
      options, std::vector<std::shared_ptr<etcd::log::Sink>>{std::make_shared<DiscardSink>()});
}

void BM_Entry(benchmark::State& state) {
  auto logger = MakeLogger(static_cast<etcd::log::Encoding>(state.range(0)));
  const std::string address = "127.0.0.1:2379";
  for (auto _ : state) {
    logger->Info("ready to serve client requests",
                 {{"address", address}, {"count", 3}, {"took", absl::Milliseconds(12)}});
  }
}
BENCHMARK(BM_Entry)
    ->Arg(static_cast<int>(etcd::log::Encoding::kJson))
    ->Arg(static_cast<int>(etcd::log::Encoding::kConsole));

void BM_DisabledEntry(benchmark::State& state) {
  auto logger = MakeLogger(etcd::log::Encoding::kJson);
  for (auto _ : state) logger->Debug("dropped", {{"k", "v"}, {"n", 1}});
}
BENCHMARK(BM_DisabledEntry);

}  // namespace
