#include "pkg/log/log.h"

#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "absl/base/call_once.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "pkg/log/encoder.h"

namespace etcd::log {

absl::StatusOr<Encoding> ParseEncoding(absl::string_view name) {
  if (name == "json") return Encoding::kJson;
  if (name == "console") return Encoding::kConsole;
  return absl::InvalidArgumentError(absl::StrCat("unknown log encoding \"", name, "\""));
}

Logger::Logger(LoggerOptions options, std::vector<std::shared_ptr<Sink>> sinks)
    : options_(std::move(options)),
      sinks_(std::move(sinks)),
      level_(std::make_shared<std::atomic<Level>>(options_.level)) {}

Logger::Logger(const Logger& parent, std::string context)
    : options_(parent.options_),
      sinks_(parent.sinks_),
      level_(parent.level_),
      context_(std::move(context)) {}

absl::StatusOr<std::unique_ptr<Logger>> Logger::Open(LoggerOptions options,
                                                     absl::Span<const std::string> outputs) {
  absl::StatusOr<std::vector<std::shared_ptr<Sink>>> sinks = OpenOutputs(outputs);
  if (!sinks.ok()) return sinks.status();
  return std::make_unique<Logger>(std::move(options), *std::move(sinks));
}

void Logger::Log(Level level, absl::string_view message, Fields fields, SourceLocation caller) {
  if (Enabled(level)) Write(level, message, fields, caller);
  if (level == Level::kPanic) std::abort();
  if (level == Level::kFatal) _exit(1);
}

void Logger::Panic(absl::string_view message, Fields fields, SourceLocation caller) {
  Log(Level::kPanic, message, fields, caller);
  std::abort();  // Unreachable; tells the compiler so.
}

void Logger::Fatal(absl::string_view message, Fields fields, SourceLocation caller) {
  Log(Level::kFatal, message, fields, caller);
  _exit(1);
}

void Logger::Write(Level level, absl::string_view message, Fields fields, SourceLocation caller) {
  Entry entry;
  entry.time = options_.clock ? options_.clock() : absl::Now();
  entry.level = level;
  std::string caller_text;
  if (options_.add_caller) {
    caller_text = ShortCaller(caller.file(), caller.line());
    entry.caller = caller_text;
  }
  entry.message = message;
  entry.context = context_;
  entry.fields = fields;

  std::string line;
  line.reserve(256);
  if (options_.encoding == Encoding::kConsole) {
    EncodeConsole(entry, options_.time_zone, &line);
  } else {
    EncodeJson(entry, options_.time_zone, &line);
  }
  for (const std::shared_ptr<Sink>& sink : sinks_) sink->Write(line);
  // Nothing may be lost when the process is about to die.
  if (level >= Level::kPanic) Sync().IgnoreError();
}

std::unique_ptr<Logger> Logger::With(Fields fields) const {
  std::string context = context_;
  if (!context.empty()) context.push_back(',');
  if (!AppendJsonFields(fields, &context) && !context.empty()) context.pop_back();
  return std::unique_ptr<Logger>(new Logger(*this, std::move(context)));
}

absl::Status Logger::Sync() {
  absl::Status first;
  for (const std::shared_ptr<Sink>& sink : sinks_) first.Update(sink->Sync());
  return first;
}

namespace {

ABSL_CONST_INIT absl::Mutex default_mu(absl::kConstInit);
std::atomic<Logger*> default_logger{nullptr};

Logger* MakeInitialDefault() { return new Logger(LoggerOptions(), {StderrSink()}); }

}  // namespace

Logger& Default() {
  Logger* logger = default_logger.load(std::memory_order_acquire);
  if (logger != nullptr) return *logger;
  absl::MutexLock lock(&default_mu);
  logger = default_logger.load(std::memory_order_relaxed);
  if (logger == nullptr) {
    logger = MakeInitialDefault();
    default_logger.store(logger, std::memory_order_release);
  }
  return *logger;
}

void SetDefault(std::unique_ptr<Logger> logger) {
  absl::MutexLock lock(&default_mu);
  // The previous logger is deliberately leaked: other threads may hold it.
  // It stays reachable from `retired`, so leak checkers stay quiet.
  static auto* const retired = new std::vector<Logger*>();
  if (Logger* previous = default_logger.load(std::memory_order_relaxed)) {
    retired->push_back(previous);
  }
  default_logger.store(logger.release(), std::memory_order_release);
}

}  // namespace etcd::log
