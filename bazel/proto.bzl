"""etcd_proto_library: C++ code from .proto files with Debian's protoc.

Bazel 4.2.3 offline has no usable rules_proto, so this runs the system protoc
(protobuf-compiler) and grpc_cpp_plugin (protobuf-compiler-grpc) from a
genrule and wraps the outputs in cc_library targets:

    etcd_proto_library(
        name = "mvccpb",
        srcs = ["kv.proto"],
    )
    etcd_proto_library(
        name = "etcdserverpb",
        srcs = ["rpc.proto"],
        deps = ["//api/mvccpb"],
        services = True,
    )

creates `:mvccpb` (messages only, no gRPC headers) and, with services,
`:etcdserverpb_grpc` (the generated service stubs, depending on gRPC). Import
paths are workspace-relative: `import "api/mvccpb/kv.proto";`.
"""

load("//bazel:copts.bzl", "ETCD_GENERATED_COPTS")

_PROTOC = "/usr/bin/protoc"
_GRPC_PLUGIN = "/usr/bin/grpc_cpp_plugin"

def _stem(src):
    if not src.endswith(".proto"):
        fail("etcd_proto_library srcs must be .proto files: " + src)
    return src[:-len(".proto")]

def _full_label(label):
    """`//a/b` -> `//a/b:b`, so a suffix can be appended to the target name."""
    if ":" in label:
        return label
    return label + ":" + label.split("/")[-1]

def etcd_proto_library(name, srcs, deps = [], services = False, visibility = None):
    """Generates C++ messages (and optionally gRPC services) for srcs.

    Args:
      name: the cc_library with the messages; `<name>_grpc` holds the services.
      srcs: the .proto files of this package.
      deps: other etcd_proto_library targets whose .proto files srcs import.
      services: whether to run grpc_cpp_plugin too.
      visibility: visibility of the generated libraries.
    """
    pkg = native.package_name()
    prefix = pkg + "/" if pkg else ""

    native.filegroup(
        name = name + "_proto_srcs",
        srcs = srcs + [_full_label(d) + "_proto_srcs" for d in deps],
        visibility = visibility,
    )

    pb_outs = []
    for src in srcs:
        pb_outs += [_stem(src) + ".pb.h", _stem(src) + ".pb.cc"]
    grpc_outs = []
    if services:
        for src in srcs:
            grpc_outs += [_stem(src) + ".grpc.pb.h", _stem(src) + ".grpc.pb.cc"]

    own = " ".join([prefix + s for s in srcs])
    cmd = "%s -I. -I/usr/include --cpp_out=$(GENDIR) %s" % (_PROTOC, own)
    if services:
        cmd += " && %s -I. -I/usr/include --grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=%s %s" % (
            _PROTOC,
            _GRPC_PLUGIN,
            own,
        )

    native.genrule(
        name = name + "_codegen",
        srcs = [name + "_proto_srcs"],
        outs = pb_outs + grpc_outs,
        cmd = cmd,
        message = "protoc " + prefix + name,
        visibility = ["//visibility:private"],
    )

    native.cc_library(
        name = name,
        srcs = [o for o in pb_outs if o.endswith(".cc")],
        hdrs = [o for o in pb_outs if o.endswith(".h")],
        copts = ETCD_GENERATED_COPTS,
        deps = deps + ["//third_party:protobuf"],
        visibility = visibility,
    )

    if services:
        native.cc_library(
            name = name + "_grpc",
            srcs = [o for o in grpc_outs if o.endswith(".cc")],
            hdrs = [o for o in grpc_outs if o.endswith(".h")],
            copts = ETCD_GENERATED_COPTS,
            deps = [":" + name, "//third_party:grpc"],
            visibility = visibility,
        )
