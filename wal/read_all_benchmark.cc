// ReadAll of a large WAL: MB/s end to end, and what each byte costs in CRC,
// in frame and record decoding (with the CRC) and in entry parsing.
//
//   bazel run -c opt //wal:read_all_benchmark -- [--wal_mb=256] [--entry_bytes=256]
//       [--bench_dir=/tmp] [benchmark flags]
//
// The log is written once (without fsync) into bench_dir and read from the
// page cache, so the figures are CPU costs, not disk reads.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "pkg/crc/crc.h"
#include "wal/decoder.h"
#include "wal/names.h"
#include "wal/record.h"
#include "wal/wal.h"

namespace etcd::wal {
namespace {

std::string g_bench_dir = "/tmp";
int64_t g_wal_mb = 256;
int64_t g_entry_bytes = 256;

struct Log {
  std::string dir;
  int64_t bytes = 0;  // record bytes in the segments
  int64_t entries = 0;
};

// Writes the log once per process.
const Log& TheLog() {
  static Log* log = [] {
    auto* l = new Log;
    std::string pattern = absl::StrCat(g_bench_dir, "/readall.XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    l->dir = pattern + "/wal";
    Options options;
    options.unsafe_no_fsync = true;
    std::unique_ptr<WAL> w = WAL::Create(l->dir, "benchmark", options).value();
    const std::string data(static_cast<size_t>(g_entry_bytes), 'e');
    std::vector<raftpb::Entry> batch(100);
    raftpb::HardState hs;
    hs.set_term(1);
    hs.set_vote(1);
    uint64_t index = 0;
    const int64_t target = g_wal_mb << 20;
    int64_t written = 0;
    while (written < target) {
      for (raftpb::Entry& e : batch) {
        e.set_index(++index);
        e.set_term(1);
        e.set_data(data);
        written += g_entry_bytes + 24;  // data and framing, roughly
      }
      hs.set_commit(index);
      if (!w->Save(hs, batch).ok()) std::abort();
    }
    if (!w->Close().ok()) std::abort();
    l->entries = static_cast<int64_t>(index);
    // Exact record bytes, as the decoder sees them.
    std::vector<std::string> names = internal::ReadWalNames(FileSystem::Default(), l->dir).value();
    for (const std::string& name : names) {
      std::unique_ptr<File> f = FileSystem::Default()->OpenForRead(l->dir + "/" + name).value();
      internal::Decoder decoder({{f.get(), name}});
      internal::Record record;
      while (decoder.Next(&record).value()) {
        if (record.type == internal::kCrcType) decoder.UpdateCRC(record.crc);
      }
      l->bytes += decoder.last_offset();
    }
    std::fprintf(stderr,
                 "log: %s, %lld entries of %lld bytes, %.1f MB of records in %zu segments\n",
                 l->dir.c_str(), static_cast<long long>(l->entries),
                 static_cast<long long>(g_entry_bytes), l->bytes / 1e6, names.size());
    return l;
  }();
  return *log;
}

void BM_ReadAll(benchmark::State& state) {
  const Log& log = TheLog();
  for (auto _ : state) {
    std::unique_ptr<WAL> w = WAL::OpenForRead(log.dir, walpb::Snapshot()).value();
    absl::StatusOr<ReadResult> read = w->ReadAll();
    if (!read.ok() || static_cast<int64_t>(read->entries.size()) != log.entries) {
      state.SkipWithError("ReadAll failed");
      break;
    }
    benchmark::DoNotOptimize(read->entries.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * log.bytes);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * log.entries);
}
BENCHMARK(BM_ReadAll)->Unit(benchmark::kMillisecond)->UseRealTime();

// Reading, framing, record decoding and CRC checking, without parsing the
// entries.
void BM_DecodeRecords(benchmark::State& state) {
  const Log& log = TheLog();
  std::vector<std::string> names = internal::ReadWalNames(FileSystem::Default(), log.dir).value();
  for (auto _ : state) {
    std::vector<std::unique_ptr<File>> files;
    std::vector<internal::Decoder::Segment> segments;
    for (const std::string& name : names) {
      files.push_back(FileSystem::Default()->OpenForRead(log.dir + "/" + name).value());
      segments.push_back({files.back().get(), name});
    }
    internal::Decoder decoder(std::move(segments));
    internal::Record record;
    int64_t records = 0;
    while (true) {
      absl::StatusOr<bool> more = decoder.Next(&record);
      if (!more.ok()) {
        state.SkipWithError("decode failed");
        return;
      }
      if (!*more) break;
      if (record.type == internal::kCrcType) decoder.UpdateCRC(record.crc);
      ++records;
    }
    benchmark::DoNotOptimize(records);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * log.bytes);
}
BENCHMARK(BM_DecodeRecords)->Unit(benchmark::kMillisecond)->UseRealTime();

// The CRC alone, over the same number of bytes in 256-byte pieces.
void BM_Crc(benchmark::State& state) {
  std::string piece(static_cast<size_t>(g_entry_bytes) + 8, 'e');
  const int64_t pieces = (64 << 20) / static_cast<int64_t>(piece.size());
  for (auto _ : state) {
    uint32_t crc = 0;
    for (int64_t i = 0; i < pieces; ++i) crc = crc::Update(crc, piece.data(), piece.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * pieces *
                          static_cast<int64_t>(piece.size()));
}
BENCHMARK(BM_Crc)->Unit(benchmark::kMillisecond)->UseRealTime();

// Parsing raftpb.Entry from its bytes, per byte.
void BM_ParseEntries(benchmark::State& state) {
  raftpb::Entry e;
  e.set_index(123456);
  e.set_term(3);
  e.set_data(std::string(static_cast<size_t>(g_entry_bytes), 'e'));
  const std::string bytes = e.SerializeAsString();
  constexpr int kCount = 100000;
  for (auto _ : state) {
    std::vector<raftpb::Entry> out(kCount);
    for (int i = 0; i < kCount; ++i) out[i].ParseFromString(bytes);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kCount *
                          static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_ParseEntries)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace etcd::wal

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    bool ok = true;
    if (absl::ConsumePrefix(&arg, "--bench_dir=")) {
      etcd::wal::g_bench_dir = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--wal_mb=")) {
      ok = absl::SimpleAtoi(arg, &etcd::wal::g_wal_mb);
    } else if (absl::ConsumePrefix(&arg, "--entry_bytes=")) {
      ok = absl::SimpleAtoi(arg, &etcd::wal::g_entry_bytes);
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "bad flag %s (--bench_dir=, --wal_mb=, --entry_bytes=)\n", argv[i]);
      return 2;
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  std::string dir = etcd::wal::TheLog().dir;
  etcd::wal::FileSystem::Default()->RemoveAll(dir.substr(0, dir.rfind('/'))).IgnoreError();
  return 0;
}
