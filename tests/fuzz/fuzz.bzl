"""swift_fuzz_target: a libFuzzer target of Swift's (see tests/fuzz/BUILD)."""

def swift_fuzz_target(name, srcs, deps = [], **kwargs):
    """A libFuzzer binary, built only by --config=fuzz (tools/fuzz/run).

    Tagged manual (so `bazel build //...` with gcc skips it) and fuzz_target
    (so tools/fuzz/run finds it); its seed corpus is corpus/<name>/.

    Args:
      name: the target, e.g. "endpoint_fuzz".
      srcs: the source defining LLVMFuzzerTestOneInput.
      deps: the code under test.
      **kwargs: passed to cc_binary.
    """
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps + ["//tests/fuzz:fuzz_support"],
        linkopts = select(
            {"//tests/fuzz:fuzzing": ["-fsanitize=fuzzer"]},
            no_match_error = "fuzz targets build with --config=fuzz " +
                             "(clang and libFuzzer): run tools/fuzz/run",
        ),
        tags = ["manual", "fuzz_target"],
        testonly = True,
        **kwargs
    )
