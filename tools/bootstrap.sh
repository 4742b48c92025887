#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests, the sanitizer and fuzz
# checks and the differential tests need. Idempotent: on a ready machine it
# only checks and exits; `apt-get update` runs only when something is missing.
set -euo pipefail

PACKAGES=(
  # Build system: Bazel 4.2.3 and its offline platform definitions.
  bazel-bootstrap
  bazel-platforms
  # Compilers: gcc for the build, clang-14 + compiler-rt for libFuzzer.
  g++
  clang-14
  libclang-rt-14-dev
  # Libraries (see third_party/BUILD.bazel).
  libgrpc++-dev
  libprotobuf-dev
  libprotoc-dev
  protobuf-compiler
  protobuf-compiler-grpc
  libabsl-dev
  liblmdb-dev
  libre2-dev
  libssl-dev
  libcrypt-dev
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  libyaml-cpp-dev
  # The live reference: etcd 3.4's server, client and sources (protos, test data).
  etcd-server
  etcd-client
  golang-etcd-server-dev
  # Go, to run etcd's own benchmarks from those sources for side-by-side figures.
  golang-go
  # etcd's Python client library, for the client-library e2e test.
  python3-etcd3
  # perf, for the CPU profiles in docs/benchmarks.md.
  linux-perf
  # Scripts.
  python3
  git
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=()
  if [[ "$(id -u)" != 0 ]]; then SUDO=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's etcd-server package enables a system etcd on 127.0.0.1:2379 where
# systemd runs; stop it so `bazel run //:etcd` gets the default port. The
# tests start their own members on free ports either way.
if [[ "$(id -u)" == 0 ]] && [[ -d /run/systemd/system ]]; then
  if systemctl is-active --quiet etcd 2>/dev/null; then
    systemctl stop etcd || true
    systemctl disable etcd >/dev/null 2>&1 || true
  fi
fi

echo "bootstrap: ready"
