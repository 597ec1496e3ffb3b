#!/bin/bash
# wait_modes.sh: the FastWake wait-mode benchmark (issue 13), run INSIDE the
# two-host Soft-RoCE guest by `tools/bench/run wait_modes` (from the
# workspace root).
#
# Per round: the reference first, perftest's ib_send_lat with the server on
# host A (RXE_A_DEV) and the client on host B (RXE_B_DEV), polling and with
# -e (CQ events), their order alternating; then one run of wait_modes
# --round=R (tools/bench/wait_modes.cc): every N of --threads and every
# mode, variants rotating, plus event mode with ack_batch=1 at N=16 and the
# idle runs (64 waiters per mode, no traffic). Each perftest run whose clock
# calibration fails under emulation ("Correlation coefficient", or inf/nan
# as a result) is retried once, as tools/rxe-vm/selfcheck does.
#
# usage: tools/bench/wait_modes.sh OPT_BAZEL_BIN [--rounds N] [--window_s S]
#          [--warmup_s S] [--threads LIST] [--modes LIST]
#          [--perftest_iters N]
#   --rounds N          rounds (default 5)
#   --window_s S        each point's measured window (default 2)
#   --warmup_s S        traffic before it (default 0.5)
#   --threads LIST      pairs per point (default 1,2,4,16,64,256)
#   --modes LIST        (default busy_poll,event,hybrid,dispatcher)
#   --perftest_iters N  ib_send_lat -n (default 5000)
# Output (stdout): wait_modes' JSON lines ("kind": "point" / "idle"), one
# line per perftest run ("kind": "perftest"), then the run's line
# ("kind": "run": rounds, seconds). tools/bench/wait_modes_plot.py (on the
# host) turns them into the summary, the table and the plot. Exit code: 0
# when everything ran, 1 when something failed (the lines say what), 2 when
# it could not run.
set -uo pipefail
BIN=${1:-}
if [ -z "$BIN" ] || [ ! -d "$BIN" ]; then
  echo "usage: tools/bench/wait_modes.sh OPT_BAZEL_BIN [options]" >&2
  exit 2
fi
shift
ROUNDS=5 WINDOW_S=2 WARMUP_S=0.5 THREADS=1,2,4,16,64,256
MODES=busy_poll,event,hybrid,dispatcher PERFTEST_ITERS=5000
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=${2:-} ;;
    --window_s) WINDOW_S=${2:-} ;;
    --warmup_s) WARMUP_S=${2:-} ;;
    --threads) THREADS=${2:-} ;;
    --modes) MODES=${2:-} ;;
    --perftest_iters) PERFTEST_ITERS=${2:-} ;;
    *) echo "wait_modes.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  [ $# -ge 2 ] || { echo "wait_modes.sh: $1 needs a value" >&2; exit 2; }
  shift 2
done
log() { echo "[wait_modes $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 2; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a number >= 1"
[[ $PERFTEST_ITERS =~ ^[1-9][0-9]*$ ]] || die "--perftest_iters needs a number >= 1"
[ -x "$BIN/tools/bench/wait_modes" ] ||
  die "no $BIN/tools/bench/wait_modes (build //tools/bench:wait_modes with -c opt)"
[ "${RXE_HOSTS:-1}" = 2 ] || die "needs the two-host guest: tools/rxe-vm/run --hosts 2"
command -v ib_send_lat >/dev/null || die "perftest's ib_send_lat is not installed"
A_DEV=${RXE_A_DEV:-rxeA} A_GID=${RXE_A_GID_INDEX:--1} A_IP=${RXE_A_IP:-10.77.0.1}
B_DEV=${RXE_B_DEV:-rxeB} B_GID=${RXE_B_GID_INDEX:--1}
# 256 pairs: 512 completion channels and QPs' fds, with room for libswift's.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
WORK=$(mktemp -d /tmp/wait_modes.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$WORK"' EXIT
FAILED=0
PORT=19600
T_BEGIN=$EPOCHREALTIME

# wait_listen PORT PID: until the server (PID) listens on TCP PORT, 20 s max.
wait_listen() {
  local port=$1 pid=$2
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || return 1
    [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  return 1
}

# perftest ROUND EVENTS(0|1): one ib_send_lat pair, A serves, B connects;
# prints its line. Columns of the result row: bytes, iterations, t_min,
# t_max, t_typical, t_avg, t_stdev, 99%, 99.9% (usec: half the round trip).
perftest() {
  local round=$1 events=$2 attempt spid crc src row retry flags=() ok=false
  local why="" fields=()
  [ "$events" = 1 ] && flags=(-e)
  for attempt in 1 2; do
    PORT=$((PORT + 1))
    timeout -k 5 60 ib_send_lat -F -d "$A_DEV" -x "$A_GID" -p "$PORT" \
      -n "$PERFTEST_ITERS" "${flags[@]}" >"$WORK/srv.log" 2>&1 &
    spid=$!
    if ! wait_listen "$PORT" "$spid"; then
      kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
      why="the server did not listen on port $PORT"
      break
    fi
    timeout -k 5 60 ib_send_lat -F -d "$B_DEV" -x "$B_GID" -p "$PORT" \
      -n "$PERFTEST_ITERS" "${flags[@]}" "$A_IP" >"$WORK/cli.log" 2>&1
    crc=$?
    [ $crc -eq 0 ] || { sleep 1; kill "$spid" 2>/dev/null; }
    wait "$spid"
    src=$?
    row=$(awk '/t_typical/ { getline; print; exit }' "$WORK/cli.log")
    read -r -a fields <<<"$row"
    if [ $crc -eq 0 ] && [ $src -eq 0 ] &&
      [[ ${fields[4]:-} =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
      ok=true
      break
    fi
    why="server rc=$src, client rc=$crc, result '${row:-none}'"
    retry=0
    grep -q 'Correlation coefficient' "$WORK/srv.log" "$WORK/cli.log" && retry=1
    [[ " ${fields[*]:-} " =~ \ (inf|-?nan)\  ]] && retry=1
    if [ $retry = 0 ] || [ $attempt = 2 ]; then
      break
    fi
    log "ib_send_lat${flags[*]:+ ${flags[*]}}: clock calibration failed under emulation; retrying once"
  done
  if [ $ok = true ]; then
    printf '{"kind":"perftest","round":%d,"test":"ib_send_lat","events":%s,"iters":%d,"attempts":%d,"ok":true,"t_min_us":%s,"t_typical_us":%s,"t_avg_us":%s,"p99_us":%s,"p999_us":%s}\n' \
      "$round" "$([ "$events" = 1 ] && echo true || echo false)" \
      "$PERFTEST_ITERS" "$attempt" "${fields[2]}" "${fields[4]}" \
      "${fields[5]}" "${fields[7]:-null}" "${fields[8]:-null}"
    log "round $round ib_send_lat${flags[*]:+ ${flags[*]}}: t_typical ${fields[4]} us, 99% ${fields[7]:-?} us"
  else
    FAILED=1
    printf '{"kind":"perftest","round":%d,"test":"ib_send_lat","events":%s,"ok":false,"error":"%s"}\n' \
      "$round" "$([ "$events" = 1 ] && echo true || echo false)" "${why//\"/\'}"
    log "round $round ib_send_lat${flags[*]:+ ${flags[*]}} FAILED: $why"
    tail -n 5 "$WORK/cli.log" "$WORK/srv.log" >&2
  fi
}

log "$(nproc) vCPUs; A=$A_DEV (gid $A_GID) $A_IP, B=$B_DEV (gid $B_GID); $ROUNDS rounds, threads $THREADS, modes $MODES, windows ${WINDOW_S}s after ${WARMUP_S}s"
for round in $(seq 0 $((ROUNDS - 1))); do
  if [ $((round % 2)) = 0 ]; then order=(0 1); else order=(1 0); fi
  for events in "${order[@]}"; do
    perftest "$round" "$events"
  done
  # Bounded twice: every point by its own timeouts, the round by this.
  timeout -k 10 900 "$BIN/tools/bench/wait_modes" --device_a="$A_DEV" \
    --gid_index_a="$A_GID" --device_b="$B_DEV" --gid_index_b="$B_GID" \
    --round="$round" --threads="$THREADS" --modes="$MODES" \
    --window_s="$WINDOW_S" --warmup_s="$WARMUP_S"
  rc=$?
  if [ $rc -ne 0 ]; then
    FAILED=1
    log "round $round: wait_modes exited $rc"
    printf '{"kind":"error","round":%d,"error":"wait_modes exited %d"}\n' "$round" "$rc"
  fi
done
printf '{"kind":"run","rounds":%d,"threads":"%s","modes":"%s","window_s":%s,"warmup_s":%s,"vcpus":%d,"kernel":"%s","seconds":%.1f,"failed":%s}\n' \
  "$ROUNDS" "$THREADS" "$MODES" "$WINDOW_S" "$WARMUP_S" "$(nproc)" \
  "$(uname -r)" "$(awk -v a="$T_BEGIN" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" \
  "$([ $FAILED = 0 ] && echo false || echo true)"
exit $FAILED
