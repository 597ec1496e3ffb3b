#!/bin/bash
# soak.sh: the soak of issue 10, run INSIDE the two-host Soft-RoCE guest by
# `tools/bench/run soak` (from the workspace root).
#
# Host A (rxeA): swiftd A, a service `soak` and the function's sink `sink`
# (connect_bench --role=server each). Host B (rxeB): swiftd B with the
# function `soak_write` registered (write_function.so: a verified 64 B RDMA
# WRITE + READ to `sink`). Both swiftds are the real daemon/swiftd binary,
# started as the systemd unit starts it (its LimitNOFILE, peers
# authenticated by the cluster's secret and allowed by address). Then
# soak_run.py: many soak_client processes on B doing connect/close and
# fork/warm invocations, some SIGKILLed at random, while swiftd A, swiftd B
# and the worker are sampled every second (fds, RSS, threads, verbs
# objects in the kernel).
#
# usage: tools/bench/soak.sh OPT_BAZEL_BIN [soak_run.py options]
#   e.g. --cycles 2000 --warmup_cycles 3000 --clients 12 --kill_rate 0.02
# Output: one JSON line per sample, then the summary as the LAST line.
# swiftd runs with its defaults (peer link connections idle up to 120 s on
# the server side, 60 s in the calling side's pool, at most 8 of them
# kept); the function's idle instances expire after 3 s. The warm-up runs
# the soak's own load (soak_run.py says why), so the baseline and the end
# both hold what peak concurrency leaves.
# Exit code: 0 when the soak ran (flat or not: see "flat" in the summary),
# 2 when it could not.
set -uo pipefail
BIN=${1:-}
[ -n "$BIN" ] && [ -d "$BIN" ] || { echo "usage: tools/bench/soak.sh OPT_BAZEL_BIN [options]" >&2; exit 2; }
shift
log() { echo "[soak $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 2; }
for b in daemon/swiftd daemon/worker/swift_worker tools/bench/soak_client \
  tools/bench/connect_bench tools/bench/write_function.so tools/swiftctl/swiftctl; do
  [ -x "$BIN/$b" ] || [ -f "$BIN/$b" ] || die "no $BIN/$b (build it with -c opt)"
done
[ "${RXE_HOSTS:-1}" = 2 ] || die "needs the two-host guest: tools/rxe-vm/run --hosts 2"
command -v rdma >/dev/null || die "rdma (iproute2) not found"
# shellcheck source=tools/bench/two_swiftds.sh
. "$(dirname "$0")/two_swiftds.sh"
init_two_swiftds soak
cleanup() {
  stop_two_swiftds soak
  if [ -s "$WORK/clients.stderr" ]; then
    log "clients' stderr (tail):"; tail -3 "$WORK/clients.stderr" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 2' INT TERM
start_two_swiftds soak 32
timeout 120 "$BIN/tools/bench/soak_client" --role=register \
  --socket="$WORK/b.sock" --function=soak_write \
  --library="$BIN/tools/bench/write_function.so" --host="$A_IP:$PORT" \
  --sink=sink >"$WORK/register.out" 2>&1 || {
  cat "$WORK/register.out" >&2; die "could not register the function"
}
log "function: $(cat "$WORK/register.out")"

PYTHONDONTWRITEBYTECODE=1 python3 "$(dirname "$0")/soak_run.py" --client="$BIN/tools/bench/soak_client" \
  --a_sock="$WORK/a.sock" --b_sock="$WORK/b.sock" \
  --swiftctl="$BIN/tools/swiftctl/swiftctl" --host="$A_IP:$PORT" --service=soak \
  --function=soak_write --swiftd_a="$SWIFTD_A" --swiftd_b="$SWIFTD_B" \
  --server_a="$SERVER" --sink_a="$SINK" --a_dev="$RXE_A_DEV" \
  --b_dev="$RXE_B_DEV" --work="$WORK" "$@"
rc=$?
for p in "$SWIFTD_A" "$SWIFTD_B"; do
  kill -0 "$p" 2>/dev/null || { log "swiftd pid $p died during the soak"; rc=2; }
done
exit $rc
