#!/bin/bash
# tools/man/man_test.sh: the man-page check (issue 15) as a Bazel test.
# Makes PROGRAM's page with tools/man/make_man, as tools/start and
# tools/package do, then checks that every flag PROGRAM defines (under
# "Flags from SOURCE_PREFIX" in --helpfull) is in its --help and in the
# page (tools/man/check_flags, whose FAIL lines name the missing flags).
#
#   man_test.sh PROGRAM SOURCE_PREFIX
set -euo pipefail
program="$1"
prefix="$2"
out="${TEST_TMPDIR:-$(mktemp -d)}/man"
# The page's date and version do not matter here; a fixed date keeps
# make_man from asking git, which the sandbox does not have.
SOURCE_DATE_EPOCH=0 tools/man/make_man --version=test "$out" "$program"
exec tools/man/check_flags "$program" "$out/$(basename "$program").8" "$prefix"
