#!/bin/bash
# overhead.sh: the control plane's own CPU cost (issue 15), run INSIDE the
# two-host Soft-RoCE guest by `tools/bench/run overhead` (from the
# workspace root).
#
# Host A (rxeA): swiftd A, a service `bench` and the function's sink `sink`
# (connect_bench --role=server each). Host B (rxeB): swiftd B with the
# function `overhead_write` registered (write_function.so: a verified 64 B
# RDMA WRITE + READ to `sink`; one spare, idle instances kept 10 min so that
# none ends during a window). Then --rounds rounds, each of four phases run
# by overhead_client (one process per phase, --warmup_s unmeasured, then
# --window_s measured):
#   idle     no load: the baseline of both swiftds and the worker;
#   connect  brokered Connect + 64 B WRITE + READ-back + Close, paced;
#   warm     WARM invocations, paced;   fork  FORK invocations, paced;
# the three load phases rotate their order from round to round. Each phase
# reads from /proc, over its window: swiftd A's and swiftd B's own CPU and
# their descendants' (workers and forked instances), the servers on A, the
# client itself, and the machine's busy time.
#
# usage: tools/bench/overhead.sh OPT_BAZEL_BIN [--rounds N] [--window_s S]
#          [--warmup_s S] [--connect_rate R] [--warm_rate R] [--fork_rate R]
#          [--threads N]
#   The default targets (connect 80/s, warm 300/s, fork 8/s, 8 threads) are
#   what the 2-vCPU TCG guest sustains with room to spare (measured on
#   2026-12-03: connects saturate near 150-250/s, warm passes 1,000/s,
#   fork on demand about 15/s); a target the guest cannot meet shows as a
#   lag (lag_p50_ms) and an achieved rate below it, which still normalises.
# Output: one JSON line per phase ("kind": "phase"), then the summary as
# the LAST line (keys: tools/bench/overhead_summary.py). Exit code: 0 when
# every phase ran without a failed operation, 1 when something failed (the
# summary is still printed), 2 when it could not run.
set -uo pipefail
BIN=${1:-}
[ -n "$BIN" ] && [ -d "$BIN" ] || { echo "usage: tools/bench/overhead.sh OPT_BAZEL_BIN [options]" >&2; exit 2; }
shift
ROUNDS=3 WINDOW_S=15 WARMUP_S=3 THREADS=8
CONNECT_RATE=80 WARM_RATE=300 FORK_RATE=8
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2 ;;
    --window_s) WINDOW_S=$2 ;;
    --warmup_s) WARMUP_S=$2 ;;
    --connect_rate) CONNECT_RATE=$2 ;;
    --warm_rate) WARM_RATE=$2 ;;
    --fork_rate) FORK_RATE=$2 ;;
    --threads) THREADS=$2 ;;
    *) echo "overhead.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift 2 || { echo "overhead.sh: $1 needs a value" >&2; exit 2; }
done
log() { echo "[overhead $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 2; }
for b in daemon/swiftd daemon/worker/swift_worker tools/bench/overhead_client \
  tools/bench/connect_bench tools/bench/soak_client tools/bench/write_function.so; do
  [ -e "$BIN/$b" ] || die "no $BIN/$b (build it with -c opt)"
done
[ "${RXE_HOSTS:-1}" = 2 ] || die "needs the two-host guest: tools/rxe-vm/run --hosts 2"
# shellcheck source=tools/bench/two_swiftds.sh
. "$(dirname "$0")/two_swiftds.sh"
init_two_swiftds overhead
cleanup() {
  stop_two_swiftds bench
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 2' INT TERM
start_two_swiftds bench 64
timeout 120 "$BIN/tools/bench/soak_client" --role=register \
  --socket="$WORK/b.sock" --function=overhead_write \
  --library="$BIN/tools/bench/write_function.so" --host="$A_IP:$PORT" \
  --sink=sink --idle_timeout_ms=600000 >"$WORK/register.out" 2>&1 || {
  cat "$WORK/register.out" >&2; die "could not register the function"
}
log "swiftd A pid $SWIFTD_A, swiftd B pid $SWIFTD_B, function: $(cat "$WORK/register.out")"
log "$ROUNDS rounds; windows of ${WINDOW_S} s after ${WARMUP_S} s; targets: connect $CONNECT_RATE/s, warm $WARM_RATE/s, fork $FORK_RATE/s; $THREADS threads"

WATCH="swiftd_a:$SWIFTD_A,swiftd_b:$SWIFTD_B,server_a:$SERVER,sink_a:$SINK"
FAILED=0
# phase ROUND MODE RATE: one overhead_client run; its line with kind and round.
phase() {
  local round=$1 mode=$2 rate=$3 line rc
  line=$(timeout $(( ${WINDOW_S%.*} + ${WARMUP_S%.*} + 120 )) \
    "$BIN/tools/bench/overhead_client" --mode="$mode" --socket="$WORK/b.sock" \
    --host="$A_IP:$PORT" --service=bench --function=overhead_write \
    --rate="$rate" --threads="$THREADS" --warmup_s="$WARMUP_S" \
    --window_s="$WINDOW_S" --watch="$WATCH" 2>>"$WORK/client.err")
  rc=$?
  if [ "${line:0:1}" != "{" ]; then
    line="{\"mode\": \"$mode\", \"error\": \"no output, exit $rc\"}"
    tail -3 "$WORK/client.err" >&2
  fi
  [ $rc -eq 0 ] || { FAILED=1; log "round $round $mode: exit $rc"; }
  printf '{"kind": "phase", "round": %d, "rc": %d, %s\n' "$round" "$rc" "${line:1}" \
    | tee -a "$WORK/phases.jsonl"
  log "round $round $mode: $(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); c=d.get("cpu_s",{}); w=d.get("window_s") or 1
print("%.1f/s ok %s failed %s; swiftd A %.1f%% B %.1f%% workers %.1f%% client %.1f%% busy %.1f%%" % (d.get("achieved_per_s",0), d.get("ok"), d.get("failed"),
 100*c.get("swiftd_a",{}).get("own_s",0)/w, 100*c.get("swiftd_b",{}).get("own_s",0)/w,
 100*(c.get("swiftd_a",{}).get("descendants_s",0)+c.get("swiftd_b",{}).get("descendants_s",0))/w,
 100*c.get("client",{}).get("own_s",0)/w, 100*c.get("system",{}).get("cpus",2)*c.get("system",{}).get("busy_s",0)/max(1e-9,c.get("system",{}).get("busy_s",0)+c.get("system",{}).get("idle_s",0))))' "$(tail -1 "$WORK/phases.jsonl")" 2>&1)"
}
LOADS=(connect warm fork)
declare -A RATE=([connect]=$CONNECT_RATE [warm]=$WARM_RATE [fork]=$FORK_RATE)
for round in $(seq "$ROUNDS"); do
  phase "$round" idle 1
  for i in 0 1 2; do
    mode=${LOADS[$(( (i + round - 1) % 3 ))]}
    phase "$round" "$mode" "${RATE[$mode]}"
  done
done
for p in "$SWIFTD_A" "$SWIFTD_B"; do
  kill -0 "$p" 2>/dev/null || { log "swiftd pid $p died during the run"; FAILED=1; }
done

python3 "$(dirname "$0")/overhead_summary.py" "$WORK/phases.jsonl" \
  --targets "connect=$CONNECT_RATE,warm=$WARM_RATE,fork=$FORK_RATE" \
  --failed "$FAILED"
