// Destinations for log lines, and etcd's --log-outputs names for them.
//
//   absl::StatusOr<std::vector<std::shared_ptr<etcd::log::Sink>>> sinks =
//       etcd::log::OpenOutputs({"stderr", "/var/log/etcd.log"});
//
//   auto captured = std::make_shared<etcd::log::StringSink>();  // in tests
//   ... captured->Lines() ...
//
// A sink writes each line with one call under its own mutex, so lines from
// concurrent writers (and from loggers sharing the sink) never interleave.
// All sinks here are thread-safe.

#ifndef ETCD_PKG_LOG_SINK_H_
#define ETCD_PKG_LOG_SINK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace etcd::log {

class Sink {
 public:
  virtual ~Sink() = default;

  // Writes `line` (one complete line ending in '\n') as a unit. Write errors
  // are dropped: logging must not fail the caller.
  virtual void Write(absl::string_view line) = 0;

  // Flushes what the sink buffers and, for files, fsyncs.
  virtual absl::Status Sync() { return absl::OkStatus(); }
};

// Keeps every line in memory; for tests.
class StringSink : public Sink {
 public:
  void Write(absl::string_view line) override;

  // Everything written so far.
  std::string contents() const;
  // Everything written so far, split into lines without their '\n'.
  std::vector<std::string> Lines() const;
  void Clear();

 private:
  mutable absl::Mutex mu_;
  std::string contents_ ABSL_GUARDED_BY(mu_);
};

// Writes to a file descriptor with write(2), one call per line where the
// kernel allows.
class FdSink : public Sink {
 public:
  // Closes `fd` on destruction when `owned`.
  FdSink(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~FdSink() override;

  FdSink(const FdSink&) = delete;
  FdSink& operator=(const FdSink&) = delete;

  void Write(absl::string_view line) override;
  // fsync(2) for regular files; a no-op for pipes and terminals.
  absl::Status Sync() override;

 private:
  absl::Mutex mu_;
  const int fd_;
  const bool owned_;
};

// Process-wide sinks for the standard streams, shared so that every logger
// writing there takes the same lock.
std::shared_ptr<Sink> StderrSink();
std::shared_ptr<Sink> StdoutSink();

// Opens `path` for appending (created with mode 0666 less the umask).
absl::StatusOr<std::shared_ptr<Sink>> OpenFileSink(const std::string& path);

// Resolves etcd's --log-outputs values: "default" and "stderr" are standard
// error, "stdout" standard output, "/dev/null" discards everything (it wins
// over any other output, as in etcd), anything else is a file path opened
// for appending. Duplicates are opened once; an empty list means "default".
// "journal" (systemd) is not supported: Unimplemented.
absl::StatusOr<std::vector<std::shared_ptr<Sink>>> OpenOutputs(
    absl::Span<const std::string> outputs);

}  // namespace etcd::log

#endif  // ETCD_PKG_LOG_SINK_H_
