// Which verified client certificate stands behind each plaintext socket the
// TLS terminator hands to gRPC, so that a gRPC call can learn its client's
// certificate common name (etcd's AuthInfoFromTLS: with auth on and no
// token, the CN is the user name).
//
// gRPC names a connection adopted from a socket "fd:<n>" (its peer()), so
// the registry is keyed by descriptor number. Whoever hands a socket to
// gRPC sets the entry first, to a name or to "" (no certificate), which
// also overwrites what a closed socket with the same number left behind:
//
//   etcd::tls::SetPeerCommonName(fd, "root");   // the terminator, TLS
//   etcd::tls::SetPeerCommonName(fd, "");       // the plaintext listener
//   grpc_server->AddConnection(fd);
//   ...
//   std::string cn = etcd::tls::PeerCommonName(context->peer());  // "root"
//
// Thread-safe.

#ifndef ETCD_SERVER_TLS_PEER_IDENTITY_H_
#define ETCD_SERVER_TLS_PEER_IDENTITY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace etcd::tls {

// Records `common_name` ("" for none) for the socket `fd` about to be
// handed to gRPC.
void SetPeerCommonName(int fd, absl::string_view common_name);

// The common name recorded for gRPC's peer string "fd:<n>"; "" for other
// peers or when none was recorded.
std::string PeerCommonName(absl::string_view grpc_peer);

}  // namespace etcd::tls

#endif  // ETCD_SERVER_TLS_PEER_IDENTITY_H_
