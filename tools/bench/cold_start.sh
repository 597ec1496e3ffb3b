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
#   libswift      cold_start_swift: Session::Create with every cut, linked
#                 as the README tells applications (//client:session_static)
#   libswift_dynamic  the same linked against every library shared (the
#                 linking cut's share of the whole process)
#   libswift_nolease  libswift with lease_buffer off (the lease cut's share)
#   libswift_nocut  libswift with load_hinted_providers off (that cut's share)
#   libswift_serial  libswift with overlapped_start off (that cut's share)
# Then ib_write_lat (loopback on $RXE_DEV) from spawn to its first result,
# plain and under the preload, with the latency it reports.
# All of it with guest ASLR off (the headline: see ARCHITECTURE.md) and on.
# Last, with huge pages reserved in the guest (swiftd restarted so that its
# lease pools take them), guest ASLR off: raw and libswift again
# (names raw_hugepages, libswift_hugepages): a host that reserves huge
# pages for swiftd gives its clients leases that register in ~no time.
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

SWIFTD=
start_swiftd() {
  rm -f "$WORK/preload.hints"
  "$BIN/daemon/swiftd" --socket="$WORK/swiftd.sock" --devices="$DEV" \
    2>>"$WORK/swiftd.log" &
  SWIFTD=$!
  PIDS+=($SWIFTD)
  for _ in $(seq 300); do [ -f "$WORK/preload.hints" ] && break; sleep 0.1; done
  [ -f "$WORK/preload.hints" ] || { log "swiftd wrote no preload.hints"; cat "$WORK/swiftd.log" >&2; exit 1; }
}
start_swiftd
log "hints: $(tr '\n' ' ' <"$WORK/preload.hints")"

PRELOAD=(SWIFT_PRELOAD_HINTS="$WORK/preload.hints"
         LD_PRELOAD="$BIN/client/preload/libswift_preload.so")
# cold_start_swift (or its dynamic twin) $1 in a fresh process, options $2...
swift_run() {
  local binary=$1
  shift
  "$BIN/tools/bench/spawn_ready" -- "$BIN/tools/bench/$binary" \
    "$WORK/swiftd.sock" "$DEV" '{READY_FD}' "$@" 2>>"$WORK/swift.err"
}
# One variant, one fresh process: its JSON line, labelled.
run_variant() {  # variant aslr round
  local line
  case "$1" in
    raw) line=$("$BIN/tools/bench/spawn_ready" -- \
           "$BIN/tools/bench/cold_start_raw" "$DEV" '{READY_FD}') ;;
    preload) line=$("$BIN/tools/bench/spawn_ready" "${PRELOAD[@]}" -- \
           "$BIN/tools/bench/cold_start_raw" "$DEV" '{READY_FD}') ;;
    raw_hugepages) line=$("$BIN/tools/bench/spawn_ready" -- \
           "$BIN/tools/bench/cold_start_raw" "$DEV" '{READY_FD}') ;;
    libswift|libswift_hugepages) line=$(swift_run cold_start_swift) ;;
    libswift_dynamic) line=$(swift_run cold_start_swift_dynamic) ;;
    libswift_nolease) line=$(swift_run cold_start_swift --no-lease) ;;
    libswift_nocut) line=$(swift_run cold_start_swift --no-hinted-providers) ;;
    libswift_serial) line=$(swift_run cold_start_swift --serial-start) ;;
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

# $1 = ASLR setting, then the variants: a warm-up run each (the page
# cache), then $ROUNDS interleaved rounds, the order rotating.
rounds() {
  local aslr=$1
  shift
  local variants=("$@") n=$#
  log "guest ASLR=$aslr: $ROUNDS rounds of ${variants[*]}"
  for v in "${variants[@]}"; do run_variant "$v" "$aslr" 0 >/dev/null; done
  for round in $(seq 1 "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
      run_variant "${variants[$(( (i + round) % n ))]}" "$aslr" "$round"
    done
  done
}

VARIANTS=(raw preload libswift libswift_dynamic libswift_nolease libswift_nocut
          libswift_serial)
for aslr in 0 2; do
  echo "$aslr" >/proc/sys/kernel/randomize_va_space
  rounds "$aslr" "${VARIANTS[@]}"
  perftest_rounds=$(( ROUNDS / 4 > 3 ? ROUNDS / 4 : 3 ))
  log "guest ASLR=$aslr: $perftest_rounds rounds of ib_write_lat, plain and preloaded"
  for round in $(seq 1 "$perftest_rounds"); do
    if (( round % 2 )); then order=(plain preload); else order=(preload plain); fi
    for v in "${order[@]}"; do perftest_run "$v" "$aslr" "$((round + aslr * 100))"; done
  done
done

# Huge pages for swiftd's leases: reserved now, swiftd restarted (its pools
# refill on huge pages), guest ASLR off.
echo 64 >/proc/sys/vm/nr_hugepages
log "huge pages reserved: $(cat /proc/sys/vm/nr_hugepages) of $(($(grep Hugepagesize /proc/meminfo | awk '{print $2}') / 1024)) MiB"
kill "$SWIFTD" 2>/dev/null
wait "$SWIFTD" 2>/dev/null
start_swiftd
echo 0 >/proc/sys/kernel/randomize_va_space
rounds 0 raw_hugepages libswift_hugepages
echo 0 >/proc/sys/vm/nr_hugepages
echo 2 >/proc/sys/kernel/randomize_va_space
sort -u "$WORK/swift.err" | head -8 >&2
