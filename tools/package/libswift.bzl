"""libswift as one static archive, for the Debian package (tools/package).

Applications outside Bazel link libswift as `-lswift` plus Debian's shared
libraries. This rule gathers the static archives of Swift's own libraries
behind the given targets (client/, common/, proto/: everything Bazel
compiled here) into one `lib<name>.a`, and writes the link flags of the
Debian libraries they need (the @system targets' linkopts, in link order)
to `<name>.linkopts`, one per line, for the package's pkg-config file.
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")

def _static_archive_impl(ctx):
    cc_info = cc_common.merge_cc_infos(
        cc_infos = [dep[CcInfo] for dep in ctx.attr.deps],
    )
    archives = []
    flag_groups = []
    for linker_input in cc_info.linking_context.linker_inputs.to_list():
        for library in linker_input.libraries:
            # Debian's gcc makes position-independent code by default, so
            # either archive links into a PIE application.
            archive = library.pic_static_library or library.static_library
            if archive and archive not in archives:
                archives.append(archive)
        # A library's flags stay together: some come in groups
        # (-Wl,--push-state,--as-needed ... -Wl,--pop-state).
        flags = list(linker_input.user_link_flags)
        if flags and flags not in flag_groups:
            flag_groups.append(flags)

    output = ctx.actions.declare_file("lib%s.a" % ctx.label.name)
    # ar's MRI script merges archives member by member; members of the same
    # name from different packages (two status.o) are all kept.
    script = ctx.actions.declare_file("%s.mri" % ctx.label.name)
    ctx.actions.write(
        script,
        "\n".join(
            ["CREATE %s" % output.path] +
            ["ADDLIB %s" % archive.path for archive in archives] +
            ["SAVE", "END", ""],
        ),
    )
    ar = find_cpp_toolchain(ctx).ar_executable
    ctx.actions.run_shell(
        inputs = archives + [script],
        outputs = [output],
        tools = find_cpp_toolchain(ctx).all_files,
        command = '"%s" -M < "%s"' % (ar, script.path),
        mnemonic = "StaticArchiveMerge",
        progress_message = "Merging %d archives into %s" % (
            len(archives),
            output.short_path,
        ),
    )

    linkopts = ctx.actions.declare_file("%s.linkopts" % ctx.label.name)
    ctx.actions.write(
        linkopts,
        "".join(["\n".join(flags) + "\n" for flags in flag_groups]),
    )
    return [DefaultInfo(files = depset([output, linkopts]))]

static_archive = rule(
    implementation = _static_archive_impl,
    doc = "One static archive of the Swift libraries behind `deps`.",
    attrs = {
        "deps": attr.label_list(providers = [CcInfo]),
        "_cc_toolchain": attr.label(
            default = "@bazel_tools//tools/cpp:current_cc_toolchain",
        ),
    },
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    fragments = ["cpp"],
)
