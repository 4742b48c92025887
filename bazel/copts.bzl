"""Compiler options shared by every target of the project."""

ETCD_COPTS = [
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
    "-Wno-missing-field-initializers",
]

# Generated protobuf / gRPC code: quiet, it is not ours to fix.
ETCD_GENERATED_COPTS = [
    "-w",
]

ETCD_TEST_COPTS = ETCD_COPTS + [
    "-Wno-sign-compare",
]
