// Flag values read the way Go's `flag` and `strconv` packages read them, so
// that every value etcd accepts on its command line is accepted here with
// the same meaning, and everything it rejects is rejected.
//
//   ParseGoBool("T");             // true
//   ParseGoUint("0x10", 64);      // 16 (base prefixes 0x, 0o, 0b and 0 work)
//   ParseGoInt("-1_000", 64);     // -1000 (underscores between digits)
//   ParseGoDuration("1h30m");     // 90 minutes; "5" fails: missing unit
//
// Errors are InvalidArgument. Numbers fail with Go flag's words ("parse
// error", "value out of range"); durations with Go time's, e.g.
// `time: missing unit in duration "5"`.
//
// Pure functions; thread-safe.

#ifndef ETCD_SERVER_EMBED_GO_VALUES_H_
#define ETCD_SERVER_EMBED_GO_VALUES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace etcd::embed::internal {

// strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
absl::StatusOr<bool> ParseGoBool(absl::string_view text);

// strconv.ParseUint(text, 0, bits) for bits in 1..64.
absl::StatusOr<uint64_t> ParseGoUint(absl::string_view text, int bits);

// strconv.ParseInt(text, 0, bits) for bits in 1..64.
absl::StatusOr<int64_t> ParseGoInt(absl::string_view text, int bits);

// time.ParseDuration: a sequence of decimal numbers with optional fraction
// and a unit each (ns, us, µs, ms, s, m, h), optionally signed; "0" alone
// needs no unit.
absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text);

// `text` in double quotes with Go's %q escapes for quotes, backslashes and
// control characters (other bytes are kept as they are).
std::string GoQuote(absl::string_view text);

// A duration the way etcd's help shows defaults: Go's String() without the
// zero trailing components ("2h", "10m", "1h30m", "100ms", "0s").
std::string ShortDuration(absl::Duration d);

}  // namespace etcd::embed::internal

#endif  // ETCD_SERVER_EMBED_GO_VALUES_H_
