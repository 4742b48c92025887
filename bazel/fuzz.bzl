"""etcd_cc_fuzz_test: a fuzz target that is also a regular test.

    etcd_cc_fuzz_test(
        name = "crc_fuzz",
        srcs = ["crc_fuzz.cc"],
        deps = [":crc"],
    )

The source defines `extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t)`.
This creates:
  * `:crc_fuzz`, a cc_test (gcc, any config) that replays every file of the
    seed corpus directory `crc_fuzz_corpus/` through the target;
  * `:crc_fuzz_fuzzer`, a `manual` binary: with `--config=fuzz` (clang-14)
    it is a libFuzzer binary; otherwise it is the same replayer.
`.ci/run` builds every target tagged `fuzzer` with `--config=fuzz` and runs it
for a bounded time on a copy of its corpus.
"""

load("//bazel:copts.bzl", "ETCD_TEST_COPTS")

def etcd_cc_fuzz_test(name, srcs, deps = [], corpus = None, copts = [], size = "small", **kwargs):
    corpus = corpus or (name + "_corpus")
    corpus_files = native.glob([corpus + "/**"], exclude_directories = 1)
    if not corpus_files:
        fail("fuzz target %s needs a non-empty seed corpus directory %s/" % (name, corpus))
    pkg = native.package_name()
    corpus_path = (pkg + "/" + corpus) if pkg else corpus

    native.cc_test(
        name = name,
        srcs = srcs,
        copts = ETCD_TEST_COPTS + copts,
        deps = deps + ["//bazel:fuzz_replay_main"],
        data = corpus_files,
        args = [corpus_path],
        size = size,
        **kwargs
    )

    native.cc_binary(
        name = name + "_fuzzer",
        srcs = srcs,
        copts = ETCD_TEST_COPTS + copts,
        deps = deps + select({
            "//bazel:fuzzing": [],
            "//conditions:default": ["//bazel:fuzz_replay_main"],
        }),
        linkopts = select({
            "//bazel:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        data = corpus_files,
        tags = ["manual", "fuzzer", "corpus=" + corpus_path],
        testonly = 1,
    )
