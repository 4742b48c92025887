// Line encoders for log entries, with the shapes zap gives etcd's logs.
//
//   std::string line;
//   etcd::log::Entry entry{time, etcd::log::Level::kInfo, "log/x.cc:12", "ready", "", fields};
//   etcd::log::EncodeJson(entry, absl::UTCTimeZone(), &line);
//   // {"level":"info","ts":"2026-11-23T19:00:00.123Z","caller":"log/x.cc:12","msg":"ready"}\n
//   etcd::log::EncodeConsole(entry, absl::UTCTimeZone(), &line);
//   // 2026-11-23T19:00:00.123Z\tinfo\tlog/x.cc:12\tready\n
//
// JSON strings are escaped as zap escapes them: '"', '\\', \n, \r, \t get a
// backslash, other bytes below 0x20 become \u00XX, and each byte that is not
// part of valid UTF-8 becomes \ufffd. The console encoder writes the message
// as is and the fields as one JSON object.
//
// Functions only; thread-safe.

#ifndef ETCD_PKG_LOG_ENCODER_H_
#define ETCD_PKG_LOG_ENCODER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "pkg/log/field.h"
#include "pkg/log/level.h"

namespace etcd::log {

// One log entry, borrowed from the caller while it is encoded.
struct Entry {
  absl::Time time;
  Level level = Level::kInfo;
  // "dir/file.cc:line", or empty for none.
  absl::string_view caller;
  absl::string_view message;
  // Fields already encoded by AppendJsonFields (a logger's With() context),
  // written before `fields`; empty for none.
  absl::string_view context;
  Fields fields;
};

// Appends `entry` as one JSON object and '\n' to `out`.
void EncodeJson(const Entry& entry, absl::TimeZone zone, std::string* out);

// Appends "time\tlevel[\tcaller]\tmessage[\t{fields}]\n" to `out`.
void EncodeConsole(const Entry& entry, absl::TimeZone zone, std::string* out);

// Appends `s` as a quoted, escaped JSON string.
void AppendJsonString(absl::string_view s, std::string* out);

// Appends `"key":value` pairs separated by ',' (no braces). Fields of kind
// kSkip are left out. Returns whether anything was appended.
bool AppendJsonFields(Fields fields, std::string* out);

// ISO 8601 with milliseconds and the zone as zap writes it:
// "2026-11-23T19:00:00.123Z" in UTC, "2026-11-23T20:00:00.123+0100" elsewhere.
std::string FormatTimestamp(absl::Time time, absl::TimeZone zone);

// Go's time.Duration.String(): "0s", "1.5s", "2m3s", "100µs".
std::string FormatGoDuration(absl::Duration d);

// The last two elements of `file` and the line, as zap's short caller:
// "server/etcdserver/server.cc", 42 -> "etcdserver/server.cc:42".
std::string ShortCaller(absl::string_view file, int line);

}  // namespace etcd::log

#endif  // ETCD_PKG_LOG_ENCODER_H_
