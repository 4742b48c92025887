// Versions this project reports, as etcd clients see them.
//
//   std::cout << etcd::version::kServerVersion;   // "3.5.0"
//
// `kServerVersion` is the etcd release whose behaviour this server implements;
// clients compare it (Status.version, /version "etcdserver") to decide which
// features they may use. `kProjectVersion` is this C++ project's own release.
// All values are constants; the functions are thread-safe.

#ifndef ETCD_API_VERSION_VERSION_H_
#define ETCD_API_VERSION_VERSION_H_

#include <string>

namespace etcd::version {

// This project's own release.
inline constexpr char kProjectVersion[] = "0.1.0";
// The etcd server version this implementation is compatible with.
inline constexpr char kServerVersion[] = "3.5.0";
// The lowest cluster version this member can join (etcd's MinClusterVersion).
inline constexpr char kMinClusterVersion[] = "3.0.0";
// The v3 API version (major.minor), as `etcdctl version` prints it.
inline constexpr char kApiVersion[] = "3.5";

// "major.minor.0" of a "major.minor.patch" version; returns the input
// unchanged when it does not have that shape.
std::string Cluster(const std::string& version);

// The JSON body etcd serves at /version, e.g.
// {"etcdserver":"3.5.0","etcdcluster":"3.5.0"}.
std::string VersionJson(const std::string& cluster_version);

}  // namespace etcd::version

#endif  // ETCD_API_VERSION_VERSION_H_
