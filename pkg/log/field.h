// Structured-logging fields: a key and a typed value, borrowed for the length
// of one logging call.
//
//   logger.Info("ready to serve client requests",
//               {{"address", address}, {"count", 3}, {"took", elapsed}});
//
// A Field stores views of its key and string values, never copies: build
// fields inside the logging call's argument list (temporaries live until the
// call returns) and do not keep them. Value types: strings, bool, every
// integer type, double, absl::Duration (printed like Go's time.Duration:
// "1.5s"), absl::Status (its message; an OK status is left out, like zap's
// nil error) and a list of strings (a JSON array).
//
// Thread-compatible value type.

#ifndef ETCD_PKG_LOG_FIELD_H_
#define ETCD_PKG_LOG_FIELD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace etcd::log {

class Field {
 public:
  enum class Kind { kString, kBool, kInt, kUint, kDouble, kDuration, kStrings, kSkip };

  Field(absl::string_view key, absl::string_view value)
      : key_(key), kind_(Kind::kString), string_(value) {}
  Field(absl::string_view key, const char* value)
      : key_(key), kind_(Kind::kString), string_(value) {}
  Field(absl::string_view key, const std::string& value)
      : key_(key), kind_(Kind::kString), string_(value) {}
  Field(absl::string_view key, std::string_view value)
      : key_(key), kind_(Kind::kString), string_(value.data(), value.size()) {}
  Field(absl::string_view key, bool value) : key_(key), kind_(Kind::kBool), bool_(value) {}
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Field(absl::string_view key, T value)
      : key_(key), kind_(std::is_signed_v<T> ? Kind::kInt : Kind::kUint) {
    if constexpr (std::is_signed_v<T>) {
      int_ = value;
    } else {
      uint_ = value;
    }
  }
  Field(absl::string_view key, double value) : key_(key), kind_(Kind::kDouble), double_(value) {}
  Field(absl::string_view key, absl::Duration value)
      : key_(key), kind_(Kind::kDuration), duration_(value) {}
  Field(absl::string_view key, const absl::Status& status)
      : key_(key), kind_(status.ok() ? Kind::kSkip : Kind::kString), string_(status.message()) {}
  Field(absl::string_view key, absl::Span<const std::string> values)
      : key_(key), kind_(Kind::kStrings), strings_(values) {}

  absl::string_view key() const { return key_; }
  Kind kind() const { return kind_; }
  // The value; only the accessor matching kind() is meaningful.
  absl::string_view string_value() const { return string_; }
  bool bool_value() const { return bool_; }
  int64_t int_value() const { return int_; }
  uint64_t uint_value() const { return uint_; }
  double double_value() const { return double_; }
  absl::Duration duration_value() const { return duration_; }
  absl::Span<const std::string> strings_value() const { return strings_; }

 private:
  absl::string_view key_;
  Kind kind_;
  absl::string_view string_;
  union {
    bool bool_;
    int64_t int_;
    uint64_t uint_ = 0;
    double double_;
  };
  absl::Duration duration_;
  absl::Span<const std::string> strings_;
};

using Fields = absl::Span<const Field>;

}  // namespace etcd::log

#endif  // ETCD_PKG_LOG_FIELD_H_
