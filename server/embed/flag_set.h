// A command-line flag set with the semantics of Go's `flag` package, which
// etcd's server uses: `-name=value`, `--name=value`, `-name value`, boolean
// `-name` and `-name=false`, "--" ends the flags, the first non-flag
// argument ends them too, and errors use Go's words ("flag provided but not
// defined: -x").
//
//   FlagSet flags;
//   std::string name = "default";
//   bool verbose = false;
//   flags.String("name", &name, FlagSection::kMember, "Human-readable name.");
//   flags.Bool("verbose", &verbose, FlagSection::kLogging, "Say more.");
//   FlagSet::ParseOutcome out;
//   absl::Status status = flags.Parse({"--name", "m1", "-verbose"}, &out);
//
// Each flag writes into a variable owned by the caller, which must outlive
// the FlagSet. The variable's value at registration is the flag's default,
// shown by help unless a display text is given.
//
// Not thread-safe; used by one thread while parsing.

#ifndef ETCD_SERVER_EMBED_FLAG_SET_H_
#define ETCD_SERVER_EMBED_FLAG_SET_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "pkg/types/urls.h"
#include "server/embed/yaml_tree.h"

namespace etcd::embed::internal {

// The groups of etcd's --help, in the order printed.
enum class FlagSection {
  kMember,
  kClustering,
  kSecurity,
  kAuth,
  kMonitoring,
  kLogging,
  kTracing,
  kProxy,
  kExperimental,
  kUnsafe,
  // Not listed by --help (--config-file, --version, ignored legacy flags).
  kHidden,
};

// A flag's typed value: parses text into the caller's variable.
class FlagValue {
 public:
  virtual ~FlagValue() = default;
  // Parses `text` (a command-line or environment value).
  virtual absl::Status Set(absl::string_view text) = 0;
  // Sets from a config file value. The default accepts a scalar (as Set)
  // and, for list flags, a sequence of scalars; null leaves the value.
  virtual absl::Status SetFromYaml(const YamlNode& node);
  // Go's IsBoolFlag: given without "=value" it means "true".
  virtual bool IsBool() const { return false; }
  // Lists join a YAML sequence with ','.
  virtual bool IsList() const { return false; }
  // The current value as help shows it.
  virtual std::string String() const = 0;
};

struct Flag {
  std::string name;
  FlagSection section;
  // One or more lines of help.
  std::string help;
  // The default as --help shows it.
  std::string default_text;
  std::unique_ptr<FlagValue> value;
};

class FlagSet {
 public:
  FlagSet() = default;
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Registration. `display_default` replaces the default text --help shows.
  void String(const std::string& name, std::string* target, FlagSection section,
              const std::string& help, const std::string& display_default = "");
  void Bool(const std::string& name, bool* target, FlagSection section, const std::string& help);
  // Go's uint (64 bits here) and uint32; int and int64.
  void Uint(const std::string& name, uint64_t* target, FlagSection section,
            const std::string& help);
  void Uint32(const std::string& name, uint32_t* target, FlagSection section,
              const std::string& help, const std::string& display_default = "");
  void Int(const std::string& name, int64_t* target, FlagSection section, const std::string& help);
  void Duration(const std::string& name, absl::Duration* target, FlagSection section,
                const std::string& help, const std::string& display_default = "");
  // A comma-separated URL list (etcd's UniqueURLs): validated, sorted and
  // deduplicated; "" leaves the list as it is. Values in `exceptions` (the
  // CORS "*") are added as they are instead.
  void URLs(const std::string& name, types::URLs* target, FlagSection section,
            const std::string& help, const std::string& display_default = "");
  void URLStrings(const std::string& name, std::vector<std::string>* target,
                  std::set<std::string> exceptions, FlagSection section, const std::string& help);
  // One of `choices`; "invalid value" otherwise. With `multi`, a
  // comma-separated subset (etcd's SelectiveStringsValue).
  void Choice(const std::string& name, std::string* target, std::vector<std::string> choices,
              FlagSection section, const std::string& help, bool multi = false);
  // A comma-separated list, in order (etcd's StringsValue), or sorted and
  // deduplicated (UniqueStringsValue).
  void Strings(const std::string& name, std::vector<std::string>* target, bool unique,
               FlagSection section, const std::string& help);
  // A legacy flag that is accepted and ignored (a boolean, as in etcd).
  void Ignored(const std::string& name);

  // Go's FlagSet.Parse over `args` (without the program name). Stops at
  // "--" or the first non-flag argument; those after are `positional`. A
  // "-h"/"-help"/"--help" that is not a flag sets `help` and stops.
  struct ParseOutcome {
    bool help = false;
    std::vector<std::string> positional;
    // Ignored legacy flags seen.
    std::vector<std::string> ignored;
  };
  absl::Status Parse(absl::Span<const std::string> args, ParseOutcome* outcome);

  // Sets a flag by name and marks it as set. Errors carry only the value's
  // reason ("parse error").
  absl::Status Set(absl::string_view name, absl::string_view value);
  // Whether the flag was set by Parse or Set.
  bool IsSet(absl::string_view name) const { return set_.count(std::string(name)) > 0; }

  const Flag* Lookup(absl::string_view name) const;
  Flag* Lookup(absl::string_view name);
  // In registration order.
  const std::vector<std::unique_ptr<Flag>>& flags() const { return flags_; }

 private:
  void Add(const std::string& name, FlagSection section, const std::string& help,
           std::unique_ptr<FlagValue> value, const std::string& display_default);

  std::vector<std::unique_ptr<Flag>> flags_;
  std::map<std::string, Flag*, std::less<>> by_name_;
  std::set<std::string> set_;
};

}  // namespace etcd::embed::internal

#endif  // ETCD_SERVER_EMBED_FLAG_SET_H_
