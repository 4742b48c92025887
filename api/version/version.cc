#include "api/version/version.h"

namespace etcd::version {

std::string Cluster(const std::string& version) {
  size_t first = version.find('.');
  if (first == std::string::npos || first == 0) return version;
  size_t second = version.find('.', first + 1);
  if (second == std::string::npos || second == first + 1) return version;
  return version.substr(0, second) + ".0";
}

std::string VersionJson(const std::string& cluster_version) {
  return std::string("{\"etcdserver\":\"") + kServerVersion + "\",\"etcdcluster\":\"" +
         cluster_version + "\"}";
}

}  // namespace etcd::version
