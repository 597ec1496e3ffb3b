"""swift_proto_library: C++ protobuf and gRPC code from .proto files.

Runs Debian's protoc and grpc_cpp_plugin (from @system), so Bazel needs
neither @com_google_protobuf nor @com_github_grpc_grpc. Generated headers keep
their workspace path: proto/swift.proto is included as "proto/swift.pb.h" and
"proto/control_service.grpc.pb.h". Well-known types (google/protobuf/*.proto) resolve
through protoc's built-in /usr/include; their code is in libprotobuf.
"""

def swift_proto_library(name, srcs, deps = [], grpc = True, visibility = None, **kwargs):
    """Generates C++ for `srcs` and wraps it in a cc_library called `name`.

    Args:
      name: the cc_library's name.
      srcs: .proto files of this package.
      deps: other swift_proto_library targets whose .proto files srcs import.
      grpc: also generate gRPC service code (*.grpc.pb.*).
      visibility: of the cc_library and of the .proto filegroup.
      **kwargs: passed on to the cc_library.
    """
    hdrs, cc_srcs = [], []
    for src in srcs:
        if not src.endswith(".proto"):
            fail("swift_proto_library srcs must be .proto files, got " + src)
        stem = src[:-len(".proto")]
        hdrs.append(stem + ".pb.h")
        cc_srcs.append(stem + ".pb.cc")
        if grpc:
            hdrs.append(stem + ".grpc.pb.h")
            cc_srcs.append(stem + ".grpc.pb.cc")

    tools = ["@system//:protoc"]
    cmd = "$(location @system//:protoc) -I. --cpp_out=$(GENDIR)"
    if grpc:
        tools.append("@system//:grpc_cpp_plugin")
        cmd += " --plugin=protoc-gen-grpc=$(location @system//:grpc_cpp_plugin) --grpc_out=$(GENDIR)"
    cmd += " " + " ".join(["$(location %s)" % s for s in srcs])

    native.genrule(
        name = name + "_codegen",
        srcs = srcs + [d + "_files" for d in deps],
        outs = hdrs + cc_srcs,
        cmd = cmd,
        tools = tools,
        message = "protoc %s" % native.package_name(),
        visibility = ["//visibility:private"],
    )
    native.filegroup(
        name = name + "_files",
        srcs = srcs + [d + "_files" for d in deps],
        visibility = visibility,
    )
    native.cc_library(
        name = name,
        srcs = cc_srcs,
        hdrs = hdrs,
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc++"] if grpc else []),
        visibility = visibility,
        **kwargs
    )
