#include "api/version/version.h"

#include <gtest/gtest.h>

namespace etcd::version {
namespace {

TEST(VersionTest, ClusterKeepsMajorMinor) {
  EXPECT_EQ(Cluster("3.5.17"), "3.5.0");
  EXPECT_EQ(Cluster("3.4.0"), "3.4.0");
  EXPECT_EQ(Cluster("garbage"), "garbage");
  EXPECT_EQ(Cluster("3."), "3.");
}

TEST(VersionTest, ApiVersionMatchesServerVersion) {
  EXPECT_EQ(Cluster(kServerVersion), std::string(kApiVersion) + ".0");
}

TEST(VersionTest, VersionJsonHasEtcdShape) {
  EXPECT_EQ(VersionJson("3.5.0"), "{\"etcdserver\":\"3.5.0\",\"etcdcluster\":\"3.5.0\"}");
}

}  // namespace
}  // namespace etcd::version
