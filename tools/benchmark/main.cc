// A load generator for etcd's v3 API, after etcd's tools/benchmark:
//
//   benchmark --endpoints=127.0.0.1:2379 --conns=10 --clients=100 \
//       put --total=50000 --key-size=8 --val-size=256 [--sequential-keys]
//       [--key-space-size=N]
//   benchmark --clients=100 range KEY [END] --total=10000 --consistency=l|s
//
// `clients` requests are in flight at a time, spread over `conns` gRPC
// channels (client i uses channel i % conns). Requests run on gRPC's
// callback API: a client issues its next request from the completion of
// the previous one, so there is no thread per client. Prints etcd's summary
// (report.h) and exits 0, or 1 on bad flags or when no request succeeded.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "api/etcdserverpb/rpc.grpc.pb.h"
#include "tools/benchmark/report.h"

namespace etcd::benchmark {
namespace {

struct Options {
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  int64_t conns = 1;
  int64_t clients = 1;
  int64_t total = 10000;
  int64_t key_size = 8;
  int64_t val_size = 8;
  int64_t key_space_size = 1;
  bool sequential_keys = false;
  std::string consistency = "l";
  std::string command;
  std::vector<std::string> args;
};

constexpr char kUsage[] =
    "usage: benchmark [--endpoints=HOST:PORT,...] [--conns=N] [--clients=N] COMMAND\n"
    "  put   [--total=N] [--key-size=N] [--val-size=N] [--sequential-keys] "
    "[--key-space-size=N]\n"
    "  range KEY [END] [--total=N] [--consistency=l|s]\n";

bool Fail(const std::string& message) {
  std::cerr << "benchmark: " << message << "\n" << kUsage;
  return false;
}

bool ParseInt(const std::string& name, const std::string& value, int64_t min, int64_t* out) {
  if (!absl::SimpleAtoi(value, out) || *out < min) {
    return Fail(absl::StrCat("invalid value \"", value, "\" for --", name));
  }
  return true;
}

bool ParseFlags(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      if (o->command.empty()) {
        o->command = arg;
      } else {
        o->args.push_back(arg);
      }
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (name == "sequential-keys") {
      o->sequential_keys = !has_value || value == "true";
      continue;
    }
    if (name == "help" || name == "h") return Fail("help requested");
    if (!has_value) {
      if (i + 1 >= argc) return Fail(absl::StrCat("flag needs an argument: --", name));
      value = argv[++i];
    }
    if (name == "endpoints") {
      o->endpoints = absl::StrSplit(value, ',', absl::SkipEmpty());
      if (o->endpoints.empty()) return Fail("--endpoints is empty");
    } else if (name == "conns") {
      if (!ParseInt(name, value, 1, &o->conns)) return false;
    } else if (name == "clients") {
      if (!ParseInt(name, value, 1, &o->clients)) return false;
    } else if (name == "total") {
      if (!ParseInt(name, value, 1, &o->total)) return false;
    } else if (name == "key-size") {
      if (!ParseInt(name, value, 1, &o->key_size)) return false;
    } else if (name == "val-size") {
      if (!ParseInt(name, value, 0, &o->val_size)) return false;
    } else if (name == "key-space-size") {
      if (!ParseInt(name, value, 1, &o->key_space_size)) return false;
    } else if (name == "consistency") {
      if (value != "l" && value != "s") {
        return Fail(absl::StrCat("consistency must be l or s, got \"", value, "\""));
      }
      o->consistency = value;
    } else {
      return Fail(absl::StrCat("unknown flag: --", name));
    }
  }
  if (o->command != "put" && o->command != "range") {
    return Fail(o->command.empty() ? "no command" : "unknown command \"" + o->command + "\"");
  }
  if (o->command == "range" && (o->args.empty() || o->args.size() > 2)) {
    return Fail("range needs KEY [END]");
  }
  if (o->command == "put" && !o->args.empty()) return Fail("put takes no arguments");
  return true;
}

// etcd's key: the varint of n in a key_size-byte buffer.
std::string Key(int64_t n, int64_t key_size) {
  std::string k(static_cast<size_t>(key_size), '\0');
  uint64_t ux = static_cast<uint64_t>(n) << 1;  // zig-zag, as Go's PutVarint
  if (n < 0) ux = ~ux;
  size_t i = 0;
  while (ux >= 0x80 && i < k.size()) {
    k[i++] = static_cast<char>(ux | 0x80);
    ux >>= 7;
  }
  if (i < k.size()) k[i] = static_cast<char>(ux);
  return k;
}

// Runs `total` requests with `clients` in flight over `conns` channels.
// MakeRequest(i, request) fills request i; Call starts it on a stub.
template <typename Req, typename Resp>
class Runner {
 public:
  using Call = std::function<void(etcdserverpb::KV::Stub*, grpc::ClientContext*, const Req*, Resp*,
                                  std::function<void(grpc::Status)>)>;
  using MakeRequest = std::function<void(int64_t, Req*)>;

  Runner(const Options& o, Call call, MakeRequest make)
      : o_(o), call_(std::move(call)), make_(std::move(make)) {}

  bool Connect() {
    for (int64_t i = 0; i < o_.conns; ++i) {
      grpc::ChannelArguments args;
      args.SetInt("grpc.use_local_subchannel_pool", 1);  // a connection per channel
      args.SetInt("etcd.benchmark.conn", static_cast<int>(i));
      const std::string& target = o_.endpoints[static_cast<size_t>(i) % o_.endpoints.size()];
      auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
      if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5))) {
        std::cerr << "benchmark: cannot connect to " << target << "\n";
        return false;
      }
      stubs_.push_back(etcdserverpb::KV::NewStub(channel));
    }
    return true;
  }

  const Report& Run() {
    clients_.resize(static_cast<size_t>(o_.clients));
    {
      absl::MutexLock l(&mu_);
      active_ = o_.clients;
    }
    report_.Start();
    for (size_t i = 0; i < clients_.size(); ++i) {
      clients_[i].stub = stubs_[i % stubs_.size()].get();
      Issue(&clients_[i]);
    }
    absl::MutexLock l(&mu_);
    auto finished = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_ == 0; };
    mu_.Await(absl::Condition(&finished));
    report_.Finish();
    return report_;
  }

 private:
  struct Client {
    etcdserverpb::KV::Stub* stub = nullptr;
    std::unique_ptr<grpc::ClientContext> context;
    Req request;
    Resp response;
    absl::Time start;
  };

  void Issue(Client* c) {
    const int64_t i = next_.fetch_add(1);
    if (i >= o_.total) {
      absl::MutexLock l(&mu_);
      --active_;
      return;
    }
    make_(i, &c->request);
    c->context = std::make_unique<grpc::ClientContext>();
    c->context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    c->start = absl::Now();
    call_(c->stub, c->context.get(), &c->request, &c->response, [this, c](grpc::Status s) {
      if (s.ok()) {
        report_.Add(absl::Now() - c->start);
      } else {
        report_.AddError(s.error_message());
      }
      Issue(c);
    });
  }

  const Options& o_;
  const Call call_;
  const MakeRequest make_;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs_;
  std::vector<Client> clients_;
  std::atomic<int64_t> next_{0};
  Report report_;
  absl::Mutex mu_;
  int64_t active_ ABSL_GUARDED_BY(mu_) = 0;
};

int RunPut(const Options& o) {
  std::mt19937_64 rng(std::random_device{}());
  std::string value(static_cast<size_t>(o.val_size), '\0');
  for (char& ch : value) ch = static_cast<char>(rng());
  auto make = [&o, value, rng](int64_t i, etcdserverpb::PutRequest* r) mutable {
    const int64_t n = o.sequential_keys
                          ? i % o.key_space_size
                          : static_cast<int64_t>(rng() % static_cast<uint64_t>(o.key_space_size));
    r->set_key(Key(n, o.key_size));
    if (r->value().size() != value.size()) r->set_value(value);
  };
  auto call = [](etcdserverpb::KV::Stub* stub, grpc::ClientContext* ctx,
                 const etcdserverpb::PutRequest* req, etcdserverpb::PutResponse* resp,
                 std::function<void(grpc::Status)> done) {
    stub->async()->Put(ctx, req, resp, std::move(done));
  };
  // make runs on several callback threads at once: one generator per call
  // would be cleaner, but the key choice only needs to be spread, so a
  // lock keeps it simple.
  absl::Mutex make_mu;
  Runner<etcdserverpb::PutRequest, etcdserverpb::PutResponse> runner(
      o, call, [&make_mu, &make](int64_t i, etcdserverpb::PutRequest* r) {
        absl::MutexLock l(&make_mu);
        make(i, r);
      });
  if (!runner.Connect()) return 1;
  const Report& report = runner.Run();
  std::cout << report.String();
  return report.stats().latencies.empty() ? 1 : 0;
}

int RunRange(const Options& o) {
  etcdserverpb::RangeRequest request;
  request.set_key(o.args[0]);
  if (o.args.size() > 1) request.set_range_end(o.args[1]);
  request.set_serializable(o.consistency == "s");
  auto call = [](etcdserverpb::KV::Stub* stub, grpc::ClientContext* ctx,
                 const etcdserverpb::RangeRequest* req, etcdserverpb::RangeResponse* resp,
                 std::function<void(grpc::Status)> done) {
    stub->async()->Range(ctx, req, resp, std::move(done));
  };
  Runner<etcdserverpb::RangeRequest, etcdserverpb::RangeResponse> runner(
      o, call, [request](int64_t, etcdserverpb::RangeRequest* r) { *r = request; });
  if (!runner.Connect()) return 1;
  const Report& report = runner.Run();
  std::cout << report.String();
  return report.stats().latencies.empty() ? 1 : 0;
}

}  // namespace
}  // namespace etcd::benchmark

int main(int argc, char** argv) {
  // Debian's Abseil is built without NDEBUG, so every Mutex::Lock would
  // also update a global lock graph; the load generator must stay cheap.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  etcd::benchmark::Options options;
  if (!etcd::benchmark::ParseFlags(argc, argv, &options)) return 2;
  if (options.command == "put") return etcd::benchmark::RunPut(options);
  return etcd::benchmark::RunRange(options);
}
