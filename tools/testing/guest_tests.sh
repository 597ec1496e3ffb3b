#!/bin/bash
# guest_tests.sh: runs inside the Soft-RoCE guest (tools/rxe-vm/run), from
# the workspace root. Runs each RDMA test binary named on the command line
# (workspace-relative paths under bazel-bin) and then the harness
# self-checks, printing one "RESULT PASS|FAIL name" line per item so the
# host side can count them.
#
# usage: tools/testing/guest_tests.sh [--no-selfcheck] BAZEL_BIN TEST_PATH...
#   --no-selfcheck: only the tests (guest A of a two-guest run, whose
#   harness has a self-check of its own: tools/rxe-vm/selfcheck-guests)
set -uo pipefail
SELFCHECK=1
if [ "${1:-}" = --no-selfcheck ]; then
  SELFCHECK=0
  shift
fi
BAZEL_BIN=$1
shift
# Inside the guest a missing device is a failure, never a skip.
export SWIFT_RDMA_REQUIRED=1
export TEST_WORKSPACE=swift
# Each test may take this long under emulation before it counts as hung.
TEST_TIMEOUT=${SWIFT_GUEST_TEST_TIMEOUT:-300}

for test in "$@"; do
  binary="$BAZEL_BIN/$test"
  name="//${test%/*}:${test##*/}"
  tmp=$(mktemp -d /tmp/test.XXXXXX)
  start=$(date +%s.%N)
  (
    cd "$binary.runfiles/swift" &&
    TEST_SRCDIR="$binary.runfiles" TEST_TMPDIR="$tmp" \
      timeout --kill-after=10 "$TEST_TIMEOUT" "$binary"
  ) >"$tmp.log" 2>&1
  rc=$?
  seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  if [ $rc -eq 0 ]; then
    grep -E '^\[  (PASSED|SKIPPED) \]' "$tmp.log" | sed 's/^/    /'
    if grep -q '^\[  SKIPPED \]' "$tmp.log"; then
      # A skip in the guest means a device or feature was missing: that
      # proves nothing, so it fails.
      echo "RESULT FAIL $name (skipped tests in the guest, ${seconds}s)"
      cat "$tmp.log"
    else
      echo "RESULT PASS $name (${seconds}s)"
    fi
  else
    [ $rc -eq 124 ] && echo "    timed out after ${TEST_TIMEOUT}s"
    cat "$tmp.log"
    echo "RESULT FAIL $name (exit $rc, ${seconds}s)"
  fi
  rm -rf "$tmp" "$tmp.log"
done

[ "$SELFCHECK" = 1 ] || exit 0
# The harness self-checks with perftest and ibv_rc_pingpong.
tools/rxe-vm/selfcheck 2>&1 | while IFS= read -r line; do
  case "$line" in
    PASS\ *) echo "RESULT PASS selfcheck:${line#PASS }" ;;
    FAIL\ *) echo "RESULT FAIL selfcheck:${line#FAIL }" ;;
    *) echo "    $line" ;;
  esac
done
