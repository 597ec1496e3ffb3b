#!/bin/bash
# tools/sanitizers/embed_suppressions.sh HOOK FILE: prints a C++ definition
# of the sanitizer hook HOOK (e.g. __lsan_default_suppressions) returning
# FILE's text, so that suppressions travel inside each binary (tests run
# from Bazel's sandbox and runfiles, where a path would not).
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: embed_suppressions.sh HOOK FILE" >&2
  exit 2
fi
hook=$1
file=$2
if grep -q ')swift_supp"' "$file"; then
  echo "embed_suppressions.sh: $file contains the string's delimiter" >&2
  exit 1
fi
printf 'extern "C" const char* %s() {\n  return R"swift_supp(' "$hook"
cat "$file"
printf ')swift_supp";\n}\n'
