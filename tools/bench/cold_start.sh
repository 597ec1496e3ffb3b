#!/bin/bash
# cold_start.sh: the cold-start benchmark, run INSIDE the Soft-RoCE guest by
# `tools/bench/run cold_start` (from the workspace root).
#
# swiftd runs on $RXE_DEV and keeps its preload hints beside its socket.
# Fresh processes, interleaved in rounds (the variants' order rotates),
# each to "PD + 4 MiB MR + CQ + RC QP in INIT", timed in-process from main
# and as a whole process (spawn_ready: fork to the ready byte):
#   raw           cold_start_raw, a plain C program linking only libibverbs
#   preload       the same program, unmodified, under libswift_preload.so
#   libswift      cold_start_swift: Session::Create with every cut
#   libswift_nocut  the same with load_hinted_providers off (the cut's share)
# Then ib_write_lat (loopback on $RXE_DEV) from spawn to its first result,
# plain and under the preload, with the latency it reports.
# All of it with guest ASLR off (the headline: see ARCHITECTURE.md) and on.
#
# usage: tools/bench/cold_start.sh OPT_BAZEL_BIN [ROUNDS]
# Output: one JSON line per run; the summary is computed on the host.
set -uo pipefail
BIN=$1
ROUNDS=${2:-20}
DEV=$RXE_DEV
WORK=$(mktemp -d /tmp/cold_start.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
log() { echo "[cold_start] $*" >&2; }

"$BIN/daemon/swiftd" --socket="$WORK/swiftd.sock" --devices="$DEV" \
  2>"$WORK/swiftd.log" &
PIDS+=($!)
for _ in $(seq 300); do [ -f "$WORK/preload.hints" ] && break; sleep 0.1; done
[ -f "$WORK/preload.hints" ] || { log "swiftd wrote no preload.hints"; cat "$WORK/swiftd.log" >&2; exit 1; }
log "hints: $(tr '\n' ' ' <"$WORK/preload.hints")"

PRELOAD=(SWIFT_PRELOAD_HINTS="$WORK/preload.hints"
         LD_PRELOAD="$BIN/client/preload/libswift_preload.so")
# One variant, one fresh process: its JSON line, labelled.
run_variant() {  # variant aslr round
  local line
  case "$1" in
    raw) line=$("$BIN/tools/bench/spawn_ready" -- \
           "$BIN/tools/bench/cold_start_raw" "$DEV" '{READY_FD}') ;;
    preload) line=$("$BIN/tools/bench/spawn_ready" "${PRELOAD[@]}" -- \
           "$BIN/tools/bench/cold_start_raw" "$DEV" '{READY_FD}') ;;
    libswift) line=$("$BIN/tools/bench/spawn_ready" -- \
           "$BIN/tools/bench/cold_start_swift" "$WORK/swiftd.sock" "$DEV" \
           '{READY_FD}' 2>>"$WORK/swift.err") ;;
    libswift_nocut) line=$("$BIN/tools/bench/spawn_ready" -- \
           "$BIN/tools/bench/cold_start_swift" "$WORK/swiftd.sock" "$DEV" \
           '{READY_FD}' --no-hinted-providers 2>>"$WORK/swift.err") ;;
  esac
  echo "{\"kind\":\"run\",\"name\":\"$1\",\"aslr\":$2,\"round\":$3,${line#\{}"
}

# ib_write_lat from spawn to its first result line; prints the run's JSON.
perftest_run() {  # variant aslr round
  local env=() port=$((18700 + $3)) start first latency
  [ "$1" = preload ] && env=("${PRELOAD[@]}")
  env "${env[@]}" ib_write_lat -d "$DEV" -x "$RXE_GID_INDEX" -p "$port" \
    -n 1000 -F >"$WORK/lat-server.out" 2>&1 &
  local server=$!
  sleep 0.5
  start=$(date +%s%N)
  first=""
  while IFS= read -r out; do
    # The results line: "#bytes #iterations t_min[usec] t_max t_typical ..."
    if [[ "$out" =~ ^[[:space:]]*2[[:space:]]+1000[[:space:]] ]]; then
      first=$(date +%s%N)
      latency=$(awk '{print $5}' <<<"$out")
    fi
  done < <(env "${env[@]}" ib_write_lat -d "$DEV" -x "$RXE_GID_INDEX" \
             -p "$port" -n 1000 -F 127.0.0.1 2>&1)
  wait "$server" 2>/dev/null
  if [ -z "$first" ]; then
    echo "{\"kind\":\"perftest\",\"name\":\"$1\",\"aslr\":$2,\"round\":$3,\"ok\":false}"
    return
  fi
  echo "{\"kind\":\"perftest\",\"name\":\"$1\",\"aslr\":$2,\"round\":$3,\"ok\":true,\"startup_to_result_us\":$(( (first - start) / 1000 )),\"t_typical_us\":$latency}"
}

VARIANTS=(raw preload libswift libswift_nocut)
for aslr in 0 2; do
  echo "$aslr" >/proc/sys/kernel/randomize_va_space
  log "guest ASLR=$aslr: $ROUNDS rounds of ${VARIANTS[*]}"
  for v in "${VARIANTS[@]}"; do run_variant "$v" "$aslr" 0 >/dev/null; done  # warm the page cache
  for round in $(seq 1 "$ROUNDS"); do
    n=${#VARIANTS[@]}
    for i in $(seq 0 $((n - 1))); do
      run_variant "${VARIANTS[$(( (i + round) % n ))]}" "$aslr" "$round"
    done
  done
  perftest_rounds=$(( ROUNDS / 4 > 3 ? ROUNDS / 4 : 3 ))
  log "guest ASLR=$aslr: $perftest_rounds rounds of ib_write_lat, plain and preloaded"
  for round in $(seq 1 "$perftest_rounds"); do
    if (( round % 2 )); then order=(plain preload); else order=(preload plain); fi
    for v in "${order[@]}"; do perftest_run "$v" "$aslr" "$((round + aslr * 100))"; done
  done
done
echo 2 >/proc/sys/kernel/randomize_va_space
sort -u "$WORK/swift.err" | head -5 >&2
