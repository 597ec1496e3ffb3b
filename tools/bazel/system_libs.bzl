"""@system: Debian's libraries and code generators as one local repository.

Swift takes all third-party code from Debian packages. This repository rule
asks pkg-config for each library's flags and writes a cc_library per library
that carries only linkopts, defines and (rarely) include paths; the headers
are in /usr/include, which the auto-configured toolchain already searches.
protoc and grpc_cpp_plugin are linked in as tools for genrules.

A missing library fails with the Debian package that provides it.

Bazel does not track headers under /usr/include, so after an `apt upgrade`
objects built against old headers would be reused (also from a shared
--disk_cache). Every library therefore carries a define that hashes the dpkg
versions of its packages and the compiler version: any upgrade changes the
key of every dependent compile action. The rule is `local`: it re-runs on
each Bazel server start, which costs a fraction of a second.
"""

# Target name in @system -> (pkg-config module, Debian package).
_PKG_CONFIG_LIBS = {
    "benchmark": ("benchmark", "libbenchmark-dev"),
    # OpenSSL's libcrypto: HMAC-SHA256 of the peer credentials.
    "crypto": ("libcrypto", "libssl-dev"),
    "gflags": ("gflags", "libgflags-dev"),
    "glog": ("libglog", "libgoogle-glog-dev"),
    "gmock": ("gmock", "libgmock-dev"),
    "grpc++": ("grpc++", "libgrpc++-dev"),
    "gtest": ("gtest", "libgtest-dev"),
    "gtest_main": ("gtest_main", "libgtest-dev"),
    "ibverbs": ("libibverbs", "libibverbs-dev"),
    "protobuf": ("protobuf", "libprotobuf-dev"),
    "rdmacm": ("librdmacm", "librdmacm-dev"),
}

# Libraries added after the first set, each keyed by a fingerprint of its
# own package (see _system_libs_impl): adding one to this list must not
# change the key of every compile action that uses the others (a full
# rebuild on every machine). Same shape as _PKG_CONFIG_LIBS.
_PKG_CONFIG_LIBS_OWN_KEY = {
    # Prometheus metrics (daemon/metrics): the data model and the HTTP
    # exposer (civetweb), Debian's prometheus-cpp.
    "prometheus_core": ("prometheus-cpp-core", "prometheus-cpp-dev"),
    "prometheus_pull": ("prometheus-cpp-pull", "prometheus-cpp-dev"),
}

# Abseil ships one pkg-config module per library: absl_<name>.
_ABSL_LIBS = [
    "base",
    "cleanup",
    "flags",
    "flags_parse",
    "flags_usage",
    "flat_hash_map",
    "flat_hash_set",
    "function_ref",
    "status",
    "statusor",
    "str_format",
    "strings",
    "synchronization",
    "time",
]

# Libraries without a .pc file of their own: (linkopts, Debian package).
_PLAIN_LIBS = {
    # Server reflection; its .so registers the plugin from a static
    # initializer, so callers must also call InitProtoReflectionServerBuilderPlugin().
    "grpc++_reflection": (["-lgrpc++_reflection"], "libgrpc++-dev"),
}

# Name in @system -> (program, Debian package).
_TOOLS = {
    "grpc_cpp_plugin": ("grpc_cpp_plugin", "protobuf-compiler-grpc"),
    "protoc": ("protoc", "protobuf-compiler"),
}

def _all_libs():
    libs = dict(_PKG_CONFIG_LIBS)
    for name in _ABSL_LIBS:
        libs["absl_" + name] = ("absl_" + name, "libabsl-dev")
    return libs

def _words(text):
    # Bazel 4.2's str.split() needs an explicit separator.
    return [w for w in text.replace("\n", " ").replace("\t", " ").split(" ") if w]

def _keep_last_of_each_lib(flags):
    # For static archives (gtest, gmock) the last -lfoo of a line is the one
    # that resolves symbols; earlier duplicates only confuse the link order.
    last = {}
    for i, flag in enumerate(flags):
        if flag.startswith("-l"):
            last[flag] = i
    return [f for i, f in enumerate(flags) if not f.startswith("-l") or last[f] == i]

def _run(rctx, args, what):
    result = rctx.execute(args)
    if result.return_code != 0:
        fail("%s failed: %s" % (what, result.stderr.strip()))
    return result.stdout.strip()

def _pkg_config(rctx, name, module, package):
    result = rctx.execute(["pkg-config", "--cflags", "--libs", module])
    if result.return_code != 0:
        fail("library '%s' not found by pkg-config (%s). Install it: " % (module, result.stderr.strip()) +
             "apt-get install %s (or run tools/setup)" % package)
    linkopts, defines, includes = [], [], []
    for word in _words(result.stdout):
        if word.startswith("-D"):
            defines.append(word[2:])
        elif word.startswith("-I"):
            directory = word[2:]
            if directory in ("/usr/include", "/usr/include/x86_64-linux-gnu"):
                continue

            # Bazel's `includes` must be inside the repository (libibverbs
            # adds -I/usr/include/libnl3): link the directory in.
            link = "include/%s_%d" % (name.replace("+", "p"), len(includes))
            rctx.symlink(directory, link)
            includes.append(link)
        else:
            linkopts.append(word)
    version = _run(rctx, ["pkg-config", "--modversion", module], "pkg-config --modversion " + module)
    return struct(
        linkopts = _keep_last_of_each_lib(linkopts),
        defines = defines,
        includes = includes,
        version = version,
    )

def _fingerprint(rctx, packages, versions):
    script = ("{ dpkg-query -W -f='${Package} ${Version}\\n' \"$@\" 2>/dev/null; " +
              "${CC:-gcc} -dumpfullversion 2>/dev/null; printf '%s\\n' \"$VERSIONS\"; } | sha256sum")
    result = rctx.execute(
        ["sh", "-c", script, "sh"] + packages,
        environment = {"VERSIONS": "\n".join(versions)},
    )
    if result.return_code != 0 or len(result.stdout) < 16:
        fail("cannot fingerprint the system libraries: " + result.stderr)
    return result.stdout[:16]

def _find_tool(rctx, program):
    # Prefer Debian's binary: another protoc first on PATH would generate
    # code that does not match libprotobuf's headers.
    path = rctx.path("/usr/bin/" + program)
    return path if path.exists else rctx.which(program)

def _system_libs_impl(rctx):
    if not rctx.which("pkg-config"):
        fail("pkg-config not found. Install it: apt-get install pkg-config (or run tools/setup)")
    libs = _all_libs()
    found, versions = [], []
    for name, (module, package) in sorted(libs.items()):
        flags = _pkg_config(rctx, name, module, package)
        found.append((name, module, package, flags))
        versions.append("%s %s" % (module, flags.version))
    packages = sorted({p: 1 for _, p in libs.values() + _PLAIN_LIBS.values() + _TOOLS.values()}.keys())
    fingerprint = "SWIFT_SYSTEM_LIBS_FINGERPRINT=" + _fingerprint(rctx, packages, versions)
    own_keys = {}
    for name, (module, package) in sorted(_PKG_CONFIG_LIBS_OWN_KEY.items()):
        flags = _pkg_config(rctx, name, module, package)
        found.append((name, module, package, flags))
        versions.append("%s %s" % (module, flags.version))
        own_keys[name] = "SWIFT_SYSTEM_LIBS_FINGERPRINT_%s=%s" % (
            name.upper(),
            _fingerprint(rctx, [package], ["%s %s" % (module, flags.version)]),
        )

    out = [
        "# Generated by //tools/bazel:system_libs.bzl; do not edit.",
        'package(default_visibility = ["//visibility:public"])',
        "",
    ]
    for name, module, package, flags in found:
        hdrs = [i + "/**" for i in flags.includes]
        out.append("# %s %s (Debian package %s)" % (module, flags.version, package))
        out.append("cc_library(name = %r, linkopts = %r, defines = %r, includes = %r, hdrs = glob(%r))\n" %
                   (name, flags.linkopts, flags.defines + [own_keys.get(name, fingerprint)], flags.includes, hdrs))
    for name, (linkopts, package) in sorted(_PLAIN_LIBS.items()):
        out.append("# (Debian package %s)" % package)
        out.append("cc_library(name = %r, linkopts = %r, defines = %r)\n" % (name, linkopts, [fingerprint]))
    for name, (program, package) in sorted(_TOOLS.items()):
        path = _find_tool(rctx, program)
        if not path:
            fail("%s not found. Install it: apt-get install %s (or run tools/setup)" % (program, package))
        rctx.symlink(path, "bin/" + program)
        out.append("alias(name = %r, actual = %r)" % (name, "bin/" + program))
    out.append('exports_files(glob(["bin/*"]))')
    rctx.file("VERSIONS", "\n".join(versions) + "\n")
    rctx.file("BUILD.bazel", "\n".join(out) + "\n")
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)

system_libs = repository_rule(
    implementation = _system_libs_impl,
    local = True,
    configure = True,
    environ = ["PATH", "PKG_CONFIG_PATH", "CC"],
)
