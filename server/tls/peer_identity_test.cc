#include "server/tls/peer_identity.h"

#include <gtest/gtest.h>

namespace etcd::tls {
namespace {

TEST(PeerIdentityTest, RecordsOverwritesAndClears) {
  EXPECT_EQ(PeerCommonName("fd:41"), "");
  SetPeerCommonName(41, "root");
  EXPECT_EQ(PeerCommonName("fd:41"), "root");
  // A new socket with the same number replaces the old entry.
  SetPeerCommonName(41, "alice");
  EXPECT_EQ(PeerCommonName("fd:41"), "alice");
  SetPeerCommonName(41, "");
  EXPECT_EQ(PeerCommonName("fd:41"), "");
}

TEST(PeerIdentityTest, OnlyFdPeersHaveNames) {
  SetPeerCommonName(7, "root");
  EXPECT_EQ(PeerCommonName("ipv4:127.0.0.1:7"), "");
  EXPECT_EQ(PeerCommonName("fd:"), "");
  EXPECT_EQ(PeerCommonName("fd:7x"), "");
  EXPECT_EQ(PeerCommonName("fd:7"), "root");
  SetPeerCommonName(7, "");
}

}  // namespace
}  // namespace etcd::tls
