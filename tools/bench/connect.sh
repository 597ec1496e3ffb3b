#!/bin/bash
# connect.sh: issue 4's and issue 12's connection benchmark, run INSIDE the
# two-host Soft-RoCE guest (tools/bench/run connect boots it and calls this).
#
# Clients on host B (rxeB) connect to servers on host A (rxeA); each variant
# is timed to a connected RC QP that has completed one verified RDMA WRITE
# (64 B):
#   raw_new_process  raw verbs, a NEW client process per connection
#                    (raw_verbs_connect), ASLR off; raw_new_process_aslr_on
#                    the same with guest ASLR on
#   raw_warm         raw verbs in a warm process (raw_verbs_connect --warm:
#                    device, PD, MR set up once; CQ+QP+TCP exchange per
#                    connection)
#   rdma_cm          rdma-core's cmtime (no RDMA WRITE): c=1 for latency,
#                    batches of c=T and c=100 for connections per second
#   swift            swiftd A + swiftd B brokering a full handshake per
#                    connection; connect_bench (Connect, WRITE, READ back,
#                    compare)
#   swift_pool       the same Connect() served from the pre-connected pool
#                    (Session::Prewarm; connect_bench --prewarm); only the
#                    connects that really came from the pool count as its
#                    samples, the hit fraction is reported
#
# Every server (raw, cmtime, both swiftds, connect_bench's) is up for the
# whole run, and the variants are INTERLEAVED in rounds so that drift over
# the boot hits them all alike (issue 12, "Trustworthy numbers"):
#   1. latency rounds at one client (CONNECT_ROUNDS, default 10): each round
#      runs a slice of every variant, in an order rotated round by round:
#      CONNECT_PER_ROUND (25) connections each (raw_new_process_aslr_on:
#      5, see the notes); swift_pool at one thread is paced (each take
#      waits until the pool is back at its target of 4, untimed), so the
#      measurement never drains the pool. Reported: the median of the
#      per-round medians with their spread (min, p25, p75, max), the
#      median of all samples, and each speedup per round;
#   2. throughput rounds (CONNECT_TP_ROUNDS, default 4) at T concurrent
#      clients for T in CONNECT_THREADS (default "2 4 16 64"): a batch of
#      T new raw processes, raw_warm with T threads, cmtime c=T, Swift
#      without the pool and Swift with it (Prewarm to 64, the session's
#      default max_preconnected, then all T threads at once: beyond the
#      pool the refill, one handshake at a time, cannot keep up, and the
#      hit fraction says how many came from it), plus one cmtime c=100;
# then the local call round trip in the guest (control_rtt against swiftd
# B, gRPC and fast path), a check that nothing is left on either swiftd,
# and a 1,000-connection storm through Swift (50 threads x 20 connects, 60 s
# deadline, default admission limits) with the same check after it.
# The whole run took 6.6 minutes in the guest on 2026-12-03 (2 host cores).
#
# usage: tools/bench/connect.sh BINDIR
#   BINDIR  the -c opt bazel-bin with daemon/swiftd, tools/swiftctl/swiftctl,
#           tools/bench/{connect_bench,raw_verbs_connect,control_rtt}
# env: CONNECT_THREADS (throughput points, default "2 4 16 64"; 1 is the
#   latency rounds), CONNECT_ROUNDS, CONNECT_PER_ROUND, CONNECT_TP_ROUNDS,
#   CONNECT_QUICK=1 (a smoke test: 2 rounds of 5, one throughput round,
#   a 100-connection storm).
# Headline numbers are taken with guest ASLR off (randomize_va_space=0):
# under QEMU TCG every new process with ASLR re-translates its code, an
# emulator artefact (ARCHITECTURE.md); raw_new_process_aslr_on is beside
# it. The setting is restored at exit.
#
# Output (stdout): JSON lines, each with a "kind" (raw_new_process,
# raw_new_process_batch, raw_warm, rdma_cm, swift, swift_pool,
# control_rtt_guest, leak_check, storm, storm_check), a "phase" (latency,
# throughput) and a "round" where they belong to one, then the guest
# summary as the LAST line ("kind":"summary"). Progress goes to stderr.
# Every step runs under `timeout`; all servers are stopped at the end. Exit
# code: 0 when every variant produced numbers and nothing failed, 1 when
# something failed (the summary is still printed), 2 for bad usage or
# setup.
set -uo pipefail

BIN=${1:-}
QUICK=${CONNECT_QUICK:-0}
if [ "$QUICK" = 1 ]; then
  ROUNDS=${CONNECT_ROUNDS:-2} PER_ROUND=${CONNECT_PER_ROUND:-5} TP_ROUNDS=${CONNECT_TP_ROUNDS:-1}
  ASLR_ON_PER_ROUND=1 STORM_THREADS=10 STORM_PER_THREAD=10
else
  ROUNDS=${CONNECT_ROUNDS:-10} PER_ROUND=${CONNECT_PER_ROUND:-25} TP_ROUNDS=${CONNECT_TP_ROUNDS:-4}
  ASLR_ON_PER_ROUND=5 STORM_THREADS=50 STORM_PER_THREAD=20
fi
THREADS=${CONNECT_THREADS:-"2 4 16 64"}
POOL_T1=4     # The pool's target at one thread (paced: always full at a take).
POOL_MAX=64   # The throughput runs' pool: SessionOptions::max_preconnected.
log() { echo "[connect $(date +%T) +${SECONDS}s] $*" >&2; }
die() { log "ERROR: $*"; exit 2; }

[ -n "$BIN" ] && [ -d "$BIN" ] || die "usage: tools/bench/connect.sh BINDIR (the -c opt bazel-bin)"
for b in daemon/swiftd tools/swiftctl/swiftctl tools/bench/connect_bench \
  tools/bench/raw_verbs_connect tools/bench/control_rtt; do
  [ -x "$BIN/$b" ] || die "no $BIN/$b (build it with -c opt)"
done
for n in "$ROUNDS" "$PER_ROUND" "$TP_ROUNDS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "CONNECT_ROUNDS, CONNECT_PER_ROUND and CONNECT_TP_ROUNDS must be positive integers"
done
for t in $THREADS; do
  [[ $t =~ ^[1-9][0-9]*$ ]] && [ "$t" -le 64 ] || die "CONNECT_THREADS: '$t' is not a thread count of 1..64"
done
command -v cmtime >/dev/null || die "cmtime not found (Debian rdmacm-utils)"
command -v python3 >/dev/null || die "python3 not found"
[ "${RXE_HOSTS:-1}" = 2 ] || die "needs the two-host guest: tools/rxe-vm/run --hosts 2"
ASLR_KNOB=/proc/sys/kernel/randomize_va_space
[ -w "$ASLR_KNOB" ] || die "$ASLR_KNOB is not writable: run this inside the guest, as root"

A_DEV=$RXE_A_DEV A_IP=$RXE_A_IP A_GID=${RXE_A_GID_INDEX:--1}
B_DEV=$RXE_B_DEV B_IP=$RXE_B_IP B_GID=${RXE_B_GID_INDEX:--1}
RAW_PORT=18515 CM_PORT=7472 PEER_PORT=7471
RAW=$BIN/tools/bench/raw_verbs_connect
BENCH=$BIN/tools/bench/connect_bench
SWIFTCTL=$BIN/tools/swiftctl/swiftctl
MR_BYTES=64  # What connect_bench writes: the same WRITE for every variant.

# Connections per thread for raw_warm and Swift at T > 1 threads, per round.
per_thread() {
  local t=$1
  if [ "$QUICK" = 1 ]; then echo $(( t >= 16 ? 1 : 5 )); return; fi
  case $t in 2) echo 50 ;; 4) echo 25 ;; 16) echo 8 ;; *) echo $(( (256 + t - 1) / t )) ;; esac
}

WORK=$(mktemp -d /tmp/connect-bench.XXXXXX) || die "mktemp failed"
ORIGINAL_ASLR=$(cat "$ASLR_KNOB")
PIDS=()
FAILED=0
# stop PID...: SIGTERM, then SIGKILL after 5 s; reaps them.
stop() {
  local pid
  for pid in "$@"; do kill "$pid" 2>/dev/null; done
  for pid in "$@"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
}
cleanup() {
  [ ${#PIDS[@]} -gt 0 ] && stop "${PIDS[@]}"
  echo "$ORIGINAL_ASLR" >"$ASLR_KNOB"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 2' INT TERM
set_aslr() { echo "$1" >"$ASLR_KNOB"; }
# CPU per connection in the throughput rounds: the guest's busy ticks (all
# vCPUs: clients, servers, kernel threads, softirq) and each long-lived
# server's own, around each client process (ticks of 1/CLK_TCK s).
# shellcheck source=tools/bench/cpu_ticks.sh
source "$(dirname "$0")/cpu_ticks.sh"
cpu_snapshot() {  # busy, swiftd A, swiftd B, Swift's server, cmtime's server
  echo "$(busy_ticks) $(proc_ticks "${SWIFTD_A:-0}")" \
    "$(proc_ticks "${SWIFTD_B:-0}") $(proc_ticks "${SERVER_PID:-0}")" \
    "$(proc_ticks "${CM_PID:-0}")"
}
cpu_json() {  # BEFORE AFTER: a JSON member
  local -a b a
  read -r -a b <<<"$1"
  read -r -a a <<<"$2"
  printf '"cpu_ticks":{"busy":%d,"swiftd_a":%d,"swiftd_b":%d,"server":%d,"cm_server":%d,"clk_tck":%d}' \
    $(( a[0] - b[0] )) $(( a[1] - b[1] )) $(( a[2] - b[2] )) $(( a[3] - b[3] )) \
    $(( a[4] - b[4] )) "$CLK_TCK"
}
# Emits a JSON line on stdout with "kind" (and more fields) put first.
# emit KIND 'EXTRA_JSON_MEMBERS' LINE
emit() {
  local line=$3
  [ "${line:0:1}" = "{" ] || line='{"error":"no output"}'
  if [ "$line" = "{}" ]; then line="{\"kind\":\"$1\"${2:+,$2}}"; else line="{\"kind\":\"$1\"${2:+,$2},${line:1}"; fi
  printf '%s\n' "$line"
  printf '%s\n' "$line" >>"$WORK/all.jsonl"
}
# wait_for FILE PATTERN PID SECONDS: until FILE has PATTERN (PID alive).
wait_for() {
  local i
  for i in $(seq $(( $4 * 10 ))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

log "host A: $A_DEV $A_IP (gid $A_GID); host B: $B_DEV $B_IP (gid $B_GID); quick=$QUICK"
log "latency: $ROUNDS rounds x $PER_ROUND per variant; throughput: $TP_ROUNDS rounds at T = $THREADS"
set_aslr 0

# ---- every server, up for the whole run ------------------------------------
"$RAW" --server --device="$A_DEV" --gid_index="$A_GID" --listen="$A_IP:$RAW_PORT" \
  >"$WORK/raw_server.jsonl" 2>"$WORK/raw_server.err" &
RAW_PID=$!
PIDS+=("$RAW_PID")
if ! wait_for "$WORK/raw_server.jsonl" '"ready":true' "$RAW_PID" 30; then
  cat "$WORK/raw_server.err" >&2
  die "the raw_verbs_connect server did not come up"
fi

# rdma_cm. Gotchas (anchors-measured.md 1): the server's FIRST client must
# use -c 3, or every later connection is REJECTED; cmtime exits 0 even then.
cm_server() {
  cmtime -b "$A_IP" -p "$CM_PORT" >"$WORK/cm_server.log" 2>&1 &
  CM_PID=$!
  PIDS+=("$CM_PID")
  sleep 0.5
}
# cm_client C REP 'EXTRA_JSON_MEMBERS': one cmtime client; its output and
# wall time as JSON; false when it was rejected or failed.
cm_client() {
  local c=$1 rep=$2 start end rc out rep_json=$2 before after
  [[ $rep =~ ^[0-9]+$ ]] || rep_json="\"$rep\""
  before=$(cpu_snapshot)
  start=$EPOCHREALTIME
  out=$(timeout 60 cmtime -s "$A_IP" -b "$B_IP" -p "$CM_PORT" -c "$c" 2>&1)
  rc=$?
  end=$EPOCHREALTIME
  after=$(cpu_snapshot)
  # cmtime's text as a JSON string, in bash: a python3 per run would cost
  # more than the run under TCG.
  out=${out//\\/\\\\}
  out=${out//\"/\\\"}
  out=${out//$'\t'/\\t}
  out=${out//$'\r'/}
  out=${out//$'\n'/\\n}
  emit rdma_cm "${3:+$3,}\"c\":$c,\"rep\":$rep_json,\"rc\":$rc,\"process_us\":$(( ${end/./} - ${start/./} )),$(cpu_json "$before" "$after")" \
    "{\"output\":\"$out\"}"
  ! grep -qiE 'reject|error|fail' <<<"$out" && [ $rc -eq 0 ]
}
# cm_start: a cmtime server and its -c 3 warm-up client; false when even a
# second server rejects it.
cm_start() {
  cm_server
  cm_client 3 warmup && return 0
  log "rdma_cm warm-up rejected or failed: restarting the cmtime server once"
  stop "$CM_PID"
  cm_server
  cm_client 3 warmup2
}
# cm_measure C REP 'EXTRA_JSON_MEMBERS': one measured cmtime client. A
# cmtime server that rejects every connection after a good warm-up was
# seen in one boot of two (REJECTED, error 28, for the rest of the run):
# then the server is restarted (at most CM_RESTARTS times in a run) and
# the client retried once; the rejected attempt stays in the output with
# "attempt":1, and the summary counts it apart, not as a sample.
CM_RESTARTS=3
cm_measure() {
  cm_client "$1" "$2" "${3:+$3,}\"attempt\":1" && return 0
  [ "$CM_RESTARTS" -gt 0 ] || return 1
  CM_RESTARTS=$(( CM_RESTARTS - 1 ))
  log "rdma_cm c=$1 rejected or failed: restarting the cmtime server"
  stop "$CM_PID"
  cm_start || return 1
  cm_client "$1" "$2" "${3:+$3,}\"attempt\":2"
}
log "rdma_cm: cmtime server on $A_IP port $CM_PORT, warm-up client -c 3"
cm_start || { FAILED=1; log "rdma_cm warm-up failed again"; }

log "Swift: swiftd A ($A_DEV, $A_IP:$PEER_PORT) and swiftd B ($B_DEV, $B_IP:$PEER_PORT)"
# Both hold the cluster's secret and allow only each other (as deployed).
(umask 077 && head -c 32 /dev/urandom >"$WORK/peer.key") || die "no peer key"
PEER_AUTH=(--peer_secret_file="$WORK/peer.key" --peer_allow="$A_IP,$B_IP")
# Two hosts in one guest kernel: each swiftd on a CPU of its own, as on two
# machines (--cpus=auto would put both on the first).
B_CPU=$(($(nproc) > 1 ? 1 : 0))
"$BIN/daemon/swiftd" --socket="$WORK/a.sock" --devices="$A_DEV" --cpus=0 \
  --peer_address="$A_IP:$PEER_PORT" "${PEER_AUTH[@]}" 2>"$WORK/swiftd_a.log" &
SWIFTD_A=$!
"$BIN/daemon/swiftd" --socket="$WORK/b.sock" --devices="$B_DEV" --cpus="$B_CPU" \
  --peer_address="$B_IP:$PEER_PORT" "${PEER_AUTH[@]}" 2>"$WORK/swiftd_b.log" &
SWIFTD_B=$!
PIDS+=("$SWIFTD_A" "$SWIFTD_B")
for _ in $(seq 300); do
  [ -S "$WORK/a.sock" ] && [ -S "$WORK/b.sock" ] && break
  sleep 0.1
done
[ -S "$WORK/a.sock" ] && [ -S "$WORK/b.sock" ] || {
  tail -5 "$WORK/swiftd_a.log" "$WORK/swiftd_b.log" >&2
  die "swiftd A or B did not come up"
}
"$BENCH" --role=server --socket="$WORK/a.sock" --service=bench --backlog=64 \
  >"$WORK/bench_server.out" 2>"$WORK/bench_server.err" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_for "$WORK/bench_server.out" '^ready' "$SERVER_PID" 60 || {
  cat "$WORK/bench_server.err" >&2
  die "connect_bench server did not come up"
}

# ---- the variants ---------------------------------------------------------
# raw_client ASLR T ROUND PHASE OUTFILE: one new client process; its JSON
# line, extended with the process wall time (fork to exit, as bash sees it).
raw_client() {
  local start end line rc
  start=$EPOCHREALTIME
  line=$(timeout 60 "$RAW" --device="$B_DEV" --gid_index="$B_GID" \
    --peer="$A_IP:$RAW_PORT" --mr_bytes="$MR_BYTES" 2>>"$WORK/raw_client.err")
  rc=$?
  end=$EPOCHREALTIME
  [ "${line:0:1}" = "{" ] || line="{\"ok\":false,\"error\":\"no output, exit $rc\"}"
  printf '{"aslr":"%s","threads":%s,"round":%s,"phase":"%s","process_us":%s,%s\n' \
    "$1" "$2" "$3" "$4" $(( ${end/./} - ${start/./} )) "${line:1}" >"$5"
}
# raw_sequential ASLR COUNT ROUND: COUNT new processes one after another.
raw_sequential() {
  local i
  for i in $(seq "$2"); do
    raw_client "$1" 1 "$3" latency "$WORK/rnp"
    emit raw_new_process "" "$(cat "$WORK/rnp")"
  done
}
# raw_batch T ROUND: T new processes at once; per batch the wall time.
raw_batch() {
  local t=$1 r=$2 i start end pids=()
  start=$EPOCHREALTIME
  for i in $(seq "$t"); do
    raw_client off "$t" "$r" throughput "$WORK/rnp.$i" &
    pids+=($!)
  done
  wait "${pids[@]}"
  end=$EPOCHREALTIME
  for i in $(seq "$t"); do emit raw_new_process "" "$(cat "$WORK/rnp.$i")"; done
  emit raw_new_process_batch "\"aslr\":\"off\",\"threads\":$t,\"round\":$r,\"phase\":\"throughput\",\"processes\":$t,\"wall_us\":$(( ${end/./} - ${start/./} ))" "{}"
}
# raw_warm T CONNECTIONS ROUND PHASE: one warm process, T threads.
raw_warm() {
  local line rc
  line=$(timeout 300 "$RAW" --warm --threads="$1" --connections="$2" \
    --device="$B_DEV" --gid_index="$B_GID" --peer="$A_IP:$RAW_PORT" \
    --mr_bytes="$MR_BYTES" 2>>"$WORK/raw_warm.err")
  rc=$?
  [ $rc -eq 0 ] || { FAILED=1; log "raw_warm T=$1 round $3: exit $rc"; }
  emit raw_warm "\"round\":$3,\"phase\":\"$4\",\"rc\":$rc" "$line"
}
# swift KIND T CONNECTIONS ROUND PHASE [connect_bench flags...]: one
# connect_bench client process (a new one per slice: its session and
# pool are warm before the timed part; see connect_bench.cc).
swift() {
  local kind=$1 t=$2 c=$3 r=$4 phase=$5 line rc before after
  shift 5
  before=$(cpu_snapshot)
  line=$(timeout 300 "$BENCH" --role=client --socket="$WORK/b.sock" \
    --host="$A_IP:$PEER_PORT" --service=bench --threads="$t" --connections="$c" \
    "$@" 2>>"$WORK/bench_client.err")
  rc=$?
  after=$(cpu_snapshot)
  [ $rc -eq 0 ] || { FAILED=1; log "$kind T=$t round $r: exit $rc"; }
  emit "$kind" "\"round\":$r,\"phase\":\"$phase\",\"rc\":$rc,$(cpu_json "$before" "$after")" "$line"
}

# One slice of a variant at one client, for round $2.
slice_t1() {
  local v=$1 r=$2 rep
  case $v in
    raw_new_process) raw_sequential off "$PER_ROUND" "$r" ;;
    raw_new_process_aslr_on)
      set_aslr 2
      raw_sequential on "$ASLR_ON_PER_ROUND" "$r"
      set_aslr 0 ;;
    raw_warm) raw_warm 1 "$PER_ROUND" "$r" latency ;;
    rdma_cm)
      for rep in $(seq "$PER_ROUND"); do
        cm_measure 1 "$rep" "\"round\":$r,\"phase\":\"latency\"" || FAILED=1
      done ;;
    swift) swift swift 1 "$PER_ROUND" "$r" latency --print_samples ;;
    swift_pool)
      swift swift_pool 1 "$PER_ROUND" "$r" latency --prewarm="$POOL_T1" \
        --paced --print_samples ;;
  esac
}
# One slice of a variant at T clients, for round $3.
slice_t() {
  local v=$1 t=$2 r=$3
  case $v in
    raw_new_process) raw_batch "$t" "$r" ;;
    raw_warm) raw_warm "$t" "$(per_thread "$t")" "$r" throughput ;;
    rdma_cm) cm_measure "$t" "$r" "\"round\":$r,\"phase\":\"throughput\"" || FAILED=1 ;;
    swift) swift swift "$t" "$(per_thread "$t")" "$r" throughput ;;
    swift_pool)
      swift swift_pool "$t" "$(per_thread "$t")" "$r" throughput \
        --prewarm="$POOL_MAX" ;;
  esac
}

# Untimed: the first new process of the boot loads everything from disk.
raw_client off 1 0 warmup "$WORK/warmup.json"

# ---- 1. latency rounds at one client ---------------------------------------
T1_VARIANTS=(raw_new_process raw_new_process_aslr_on raw_warm rdma_cm swift swift_pool)
for r in $(seq "$ROUNDS"); do
  order=()
  for k in $(seq 0 $(( ${#T1_VARIANTS[@]} - 1 ))); do
    order+=("${T1_VARIANTS[$(( (k + r) % ${#T1_VARIANTS[@]} ))]}")
  done
  log "latency round $r/$ROUNDS: ${order[*]}"
  for v in "${order[@]}"; do slice_t1 "$v" "$r"; done
done

# ---- 2. throughput rounds at T clients --------------------------------------
TP_VARIANTS=(raw_new_process raw_warm rdma_cm swift swift_pool)
for r in $(seq "$TP_ROUNDS"); do
  for t in $THREADS; do
    [ "$t" = 1 ] && continue
    order=()
    for k in $(seq 0 $(( ${#TP_VARIANTS[@]} - 1 ))); do
      order+=("${TP_VARIANTS[$(( (k + r + t) % ${#TP_VARIANTS[@]} ))]}")
    done
    log "throughput round $r/$TP_ROUNDS, T=$t: ${order[*]}"
    for v in "${order[@]}"; do slice_t "$v" "$t" "$r"; done
  done
  log "throughput round $r/$TP_ROUNDS: cmtime c=100"
  cm_measure 100 "$r" "\"round\":$r,\"phase\":\"throughput\"" || FAILED=1
done
stop "$RAW_PID" "$CM_PID"
if grep -q '"ok":false' "$WORK/raw_server.jsonl"; then
  FAILED=1
  log "raw server errors:"; grep '"ok":false' "$WORK/raw_server.jsonl" | head -5 >&2
fi
[ -s "$WORK/raw_client.err" ] && { log "raw client stderr (head):"; head -5 "$WORK/raw_client.err" >&2; }
[ -s "$WORK/raw_warm.err" ] && { log "raw warm stderr (head):"; head -5 "$WORK/raw_warm.err" >&2; }

# ---- 3. the local call, leaks, the storm --------------------------------------
log "control_rtt in the guest against swiftd B: 2000 calls per kind"
line=$(timeout 300 "$BIN/tools/bench/control_rtt" --socket="$WORK/b.sock" \
  --calls=2000 --warmup=200 2>>"$WORK/control_rtt.err")
rc=$?
[ $rc -eq 0 ] || { FAILED=1; log "control_rtt: exit $rc"; cat "$WORK/control_rtt.err" >&2; }
# control_rtt names its keys for the host; here they are the guest's.
emit control_rtt_guest "\"rc\":$rc" "$(sed 's/_host"/_guest"/g; s/"where": "host"/"where": "guest"/' <<<"$line")"

# check_left AFTER_S: what is left on both swiftds, as JSON: no connection
# on B, none in use on A.
check_left() {
  local connections services
  connections=$(timeout 30 "$SWIFTCTL" --socket="$WORK/b.sock" --json connections 2>&1)
  services=$(timeout 30 "$SWIFTCTL" --socket="$WORK/a.sock" --json services 2>&1)
  python3 - "$1" "$connections" "$services" <<'EOF'
import json, sys
after_s, connections, services = sys.argv[1:]
out = {"after_s": float(after_s)}
try:
    c = json.loads(connections)
    out["connections_left"] = len(c.get("connections", []))
    out["admission"] = c.get("admission")
    out["b_failed_by_reason"] = c.get("failed_by_reason")
    out["b_connected_total"] = int(c.get("connected_total", 0))
    out["b_closed_total"] = int(c.get("closed_total", 0))
except ValueError:
    out["connections_error"] = connections
try:
    s = json.loads(services)
    out["services_in_use"] = sum(int(x.get("connections", 0)) for x in s.get("services", []))
    out["a_services"] = s.get("services")
except ValueError:
    out["services_error"] = services
out["clean"] = out.get("connections_left") == 0 and out.get("services_in_use") == 0
print(json.dumps(out))
EOF
}
# leaks KIND: asked right away, then again for up to 17 s if anything was
# left (closes reach swiftd A through the peer link).
leaks() {
  local check wait_s
  check=$(check_left 0)
  emit "$1" "" "$check"
  grep -q '"clean": true' <<<"$check" && return 0
  for wait_s in 1 2 4 10; do
    sleep "$wait_s"
    check=$(check_left "$wait_s")
    emit "$1" "" "$check"
    grep -q '"clean": true' <<<"$check" && return 0
  done
  return 1
}
log "leak check after every client of the rounds exited"
leaks leak_check || log "WARNING: connections left after the rounds"

storm_total=$(( STORM_THREADS * STORM_PER_THREAD ))
log "storm: $STORM_THREADS threads x $STORM_PER_THREAD connects = $storm_total through Swift, deadline 60 s"
line=$(timeout 600 "$BENCH" --role=client --socket="$WORK/b.sock" \
  --host="$A_IP:$PEER_PORT" --service=bench --threads="$STORM_THREADS" \
  --connections="$STORM_PER_THREAD" --storm_deadline_s=60 --warmup=0 \
  2>>"$WORK/storm.err")
rc=$?
[ $rc -eq 0 ] || { FAILED=1; log "storm: exit $rc"; tail -5 "$WORK/storm.err" >&2; }
emit storm "\"rc\":$rc" "$line"
leaks storm_check || log "WARNING: connections left after the storm"

stop "$SERVER_PID" "$SWIFTD_A" "$SWIFTD_B"
PIDS=()
for f in bench_server.err bench_client.err; do
  [ -s "$WORK/$f" ] && { log "$f (tail):"; tail -3 "$WORK/$f" >&2; }
done
log "all variants done; the summary"

# ---- the guest summary --------------------------------------------------------
python3 - "$WORK/all.jsonl" "$FAILED" "$QUICK" "$ROUNDS" "$PER_ROUND" \
  "$ASLR_ON_PER_ROUND" "$TP_ROUNDS" "$POOL_T1" "$POOL_MAX" <<'EOF'
import json, re, statistics, sys

path, failed, quick = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
rounds, per_round, aslr_on_per_round, tp_rounds, pool_t1, pool_max = map(int, sys.argv[4:10])
lines = [json.loads(l) for l in open(path) if l.strip()]

def kind(k, phase=None):
    return [l for l in lines if l.get("kind") == k and (phase is None or l.get("phase") == phase)]

def r1(x):
    return round(x, 1) if x is not None else None

def pct(values, q):  # sorted[q * n], as connect_bench
    if not values:
        return None
    values = sorted(values)
    return r1(values[min(len(values) - 1, int(q * len(values)))])

def med(values):
    values = [v for v in values if v is not None]
    return r1(statistics.median(values)) if values else None

def spread(per_round):
    """The median of per-round medians {round: us} and their spread."""
    v = sorted(x for x in per_round.values() if x is not None)
    if not v:
        return {"p50_us": None, "rounds": 0}
    q = statistics.quantiles(v, n=4, method="inclusive") if len(v) > 1 else [v[0]] * 3
    return {"p50_us": r1(statistics.median(v)), "round_p50_min_us": r1(v[0]),
            "round_p50_p25_us": r1(q[0]), "round_p50_p75_us": r1(q[2]),
            "round_p50_max_us": r1(v[-1]), "rounds": len(v)}

def steps_median(dicts):
    """Per step, the median over rounds of each round's p50."""
    dicts = [d for d in dicts if d]
    return {s: med([d.get(s) for d in dicts]) for s in (dicts[0] if dicts else {})}

def by_round(rows):
    out = {}
    for l in rows:
        out.setdefault(l.get("round"), []).append(l)
    return out

problems = []
table = {}
t1 = {}

# ---- 1. latency rounds at one client ----------------------------------------
# Raw verbs, new process (ASLR off and on): each process a sample.
for aslr, name in (("off", "raw_new_process"), ("on", "raw_new_process_aslr_on")):
    procs = [l for l in kind("raw_new_process", "latency") if l.get("aslr") == aslr]
    ok = [l for l in procs if l.get("ok")]
    if len(ok) != len(procs):
        problems.append(f"{name} T=1: {len(procs) - len(ok)} of {len(procs)} failed")
    rounds_ok = by_round(ok)
    row = spread({r: statistics.median([l["total_us"] for l in ls]) for r, ls in rounds_ok.items()})
    row.update({
        "samples": len(ok), "failed": len(procs) - len(ok),
        "p50_all_samples_us": pct([l["total_us"] for l in ok], 0.5),
        "p99_us": pct([l["total_us"] for l in ok], 0.99),
        "process_p50_us": pct([l["process_us"] for l in ok], 0.5),
        "exchange_p50_us": pct([l["steps_us"].get("exchange", 0) for l in ok], 0.5),
        "get_device_list_p50_us": pct([l["steps_us"].get("get_device_list", 0) for l in ok], 0.5),
        # One process after another: connections / their wall time.
        "conn_per_s": med([len(ls) / (sum(l["process_us"] for l in ls) / 1e6) for ls in rounds_ok.values()]),
    })
    row["_round_p50"] = {r: statistics.median([l["total_us"] for l in ls]) for r, ls in rounds_ok.items()}
    row["_round_process_p50"] = {r: statistics.median([l["process_us"] for l in ls]) for r, ls in rounds_ok.items()}
    t1[name] = row

# Raw verbs, warm process: one run per round, its p50.
runs = kind("raw_warm", "latency")
for l in runs:
    if not l.get("ok") or l.get("failed") or l.get("rc"):
        problems.append(f"raw_warm T=1 round {l.get('round')}: {l.get('failed_by_reason') or l.get('error') or 'rc %s' % l.get('rc')}")
good = [l for l in runs if l.get("ok")]
row = spread({l["round"]: l["p50_us"] for l in good})
row.update({"samples": sum(l["ok"] for l in good), "failed": sum(l.get("failed", 0) for l in good),
            "p99_us": med([l.get("p99_us") for l in good]),
            "conn_per_s": med([l.get("conn_per_s") for l in good]),
            "steps_p50_us": steps_median([l.get("steps_p50_us") for l in good]),
            "teardown_p50_us": med([l.get("teardown_p50_us") for l in good])})
row["_round_p50"] = {l["round"]: l["p50_us"] for l in good}
t1["raw_warm"] = row

# rdma_cm: cmtime, one connection per run.
STEPS = ["create id", "bind addr", "resolve addr", "resolve route", "create qp", "connect"]
def parse_cmtime(text):
    steps = {}
    for m in re.finditer(r"^(create id|bind addr|resolve addr|resolve route|create qp|connect|disconnect|destroy)\s*:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text, re.M):
        steps[m.group(1)] = float(m.group(2))  # total ms of the phase, whole batch
    return steps
cm_retried = []
def cm_runs(rows):
    out = []
    retried = {(l.get("phase"), l.get("round"), l["c"], l["rep"]) for l in rows if l.get("attempt") == 2}
    for l in rows:
        if not isinstance(l.get("rep"), int):
            continue  # warm-up
        text = l.get("output", "")
        steps = parse_cmtime(text)
        if re.search(r"reject|error|fail", text, re.I) or l.get("rc") != 0 or not all(s in steps for s in STEPS):
            what = f"rdma_cm c={l['c']} {l.get('phase')} round {l.get('round')} rep {l['rep']}"
            if l.get("attempt") == 1 and (l.get("phase"), l.get("round"), l["c"], l["rep"]) in retried:
                cm_retried.append(what + ": rejected, cmtime server restarted, retried")
            else:
                problems.append(what + f": rejected or failed (rc {l.get('rc')})")
            continue
        out.append({"round": l.get("round"), "c": l["c"], "setup_ms": sum(steps[s] for s in STEPS),
                    "steps": steps, "process_us": l["process_us"], "cpu": l.get("cpu_ticks")})
    return out
cm1 = cm_runs([l for l in kind("rdma_cm", "latency") if l.get("c") == 1])
rounds_cm = by_round(cm1)
row = spread({r: statistics.median([x["setup_ms"] * 1000 for x in xs]) for r, xs in rounds_cm.items()})
row.update({
    "samples": len(cm1),
    "p50_all_samples_us": pct([x["setup_ms"] * 1000 for x in cm1], 0.5),
    "p99_us": pct([x["setup_ms"] * 1000 for x in cm1], 0.99),
    "conn_per_s": round(1000 / statistics.median([x["setup_ms"] for x in cm1]), 1) if cm1 else None,
    "steps_ms": {s: round(statistics.median([x["steps"][s] for x in cm1]), 3)
                 for s in STEPS + ["disconnect", "destroy"] if cm1 and all(s in x["steps"] for x in cm1)},
    "process_p50_us": pct([x["process_us"] for x in cm1], 0.5),
})
row["_round_p50"] = {r: statistics.median([x["setup_ms"] * 1000 for x in xs]) for r, xs in rounds_cm.items()}
t1["rdma_cm"] = row

# Swift, handshake and from the pool: one connect_bench run per round.
def swift_problems(name, l):
    if "threads" not in l or not l.get("ok") or l.get("failed") or l.get("stuck") or l.get("rc"):
        problems.append(f"{name} T={l.get('threads', '?')} round {l.get('round')}: "
                        f"{l.get('failed_by_reason') or l.get('error') or 'no output'} "
                        f"stuck {l.get('stuck')} rc {l.get('rc')}")

runs = kind("swift", "latency")
for l in runs:
    swift_problems("swift", l)
good = [l for l in runs if l.get("ok")]
# Without a pool every connect is a handshake; the split says so.
hs = lambda l: l.get("handshake") or {}
row = spread({l["round"]: hs(l).get("p50_us") for l in good if hs(l).get("count")})
samples = [s[0] for l in good for s in l.get("samples", []) if not s[2]]
row.update({
    "samples": len(samples), "failed": sum(l.get("failed", 0) for l in runs),
    "p50_all_samples_us": pct(samples, 0.5), "p99_us": pct(samples, 0.99),
    "conn_per_s": med([l.get("conn_per_s") for l in good]),
    "connect_p50_us": med([hs(l).get("connect_p50_us") for l in good]),
    "verify_p50_us": med([hs(l).get("verify_p50_us") for l in good]),
    "close_p50_us": med([l.get("close_p50_us") for l in good]),
    "connect_steps_p50_us": steps_median([l.get("connect_steps_p50_us") for l in good]),
    "unexpected_pool_hits": sum((l.get("pool") or {}).get("count", 0) for l in good),
})
row["_round_p50"] = {l["round"]: hs(l).get("p50_us") for l in good if hs(l).get("count")}
t1["swift"] = row

runs = kind("swift_pool", "latency")
for l in runs:
    swift_problems("swift_pool", l)
good = [l for l in runs if l.get("ok")]
pl = lambda l: l.get("pool") or {}
# Only connects that came from the pool are its samples.
row = spread({l["round"]: pl(l).get("p50_us") for l in good if pl(l).get("count")})
samples = [s[0] for l in good for s in l.get("samples", []) if s[2]]
handshakes = [s[0] for l in good for s in l.get("samples", []) if not s[2]]
ok_total = sum(l["ok"] for l in good)
row.update({
    "samples": len(samples), "handshakes_not_counted": len(handshakes),
    "hit_fraction": round(len(samples) / ok_total, 4) if ok_total else None,
    "failed": sum(l.get("failed", 0) for l in runs),
    "p50_all_samples_us": pct(samples, 0.5), "p99_us": pct(samples, 0.99),
    "connect_p50_us": med([pl(l).get("connect_p50_us") for l in good if pl(l).get("count")]),
    "verify_p50_us": med([pl(l).get("verify_p50_us") for l in good if pl(l).get("count")]),
    "close_p50_us": med([l.get("close_p50_us") for l in good]),
    "pool_steps_p50_us": steps_median([pl(l).get("steps_p50_us") for l in good if pl(l).get("count")]),
    "prewarm": pool_t1, "paced": True,
    "pace_timeouts": sum(l.get("pace_timeouts", 0) for l in good),
    "discarded": sum((l.get("preconnect") or {}).get("discarded", 0) for l in good),
    "refill_errors": sum((l.get("preconnect") or {}).get("refill_errors", 0) for l in good),
    "last_discard_reasons": sorted({(l.get("preconnect") or {}).get("last_discard_reason") for l in good} - {"", None}),
    "last_refill_errors": sorted({(l.get("preconnect") or {}).get("last_refill_error") for l in good} - {"", None}),
    "conn_per_s": None,  # paced: the refill waits are in the wall time
})
row["_round_p50"] = {l["round"]: pl(l).get("p50_us") for l in good if pl(l).get("count")}
t1["swift_pool"] = row

if not quick:  # Issue 12: at least 200 samples per variant at one client.
    for name, row in t1.items():
        want = rounds * aslr_on_per_round if name == "raw_new_process_aslr_on" else 200
        if row["samples"] < want:
            problems.append(f"{name} T=1: only {row['samples']} samples (want {want})")

# Speedups per round: both sides measured in the same round.
def per_round_ratio(base, swift, key="_round_p50"):
    a, b = t1[base].get(key, {}), t1[swift]["_round_p50"]
    values = sorted(a[r] / b[r] for r in a if r in b and b[r])
    if not values:
        return None
    return {"median": round(statistics.median(values), 2), "min": round(values[0], 2),
            "max": round(values[-1], 2), "rounds": len(values)}
SPEEDUPS = {
    "speedup_vs_raw_new_process": ("raw_new_process", "swift_pool", "_round_p50"),
    "speedup_vs_raw_new_process_no_pool": ("raw_new_process", "swift", "_round_p50"),
    "speedup_vs_raw_new_process_aslr_on": ("raw_new_process_aslr_on", "swift_pool", "_round_p50"),
    "speedup_vs_raw_new_process_incl_exec": ("raw_new_process", "swift_pool", "_round_process_p50"),
    "speedup_vs_raw_warm": ("raw_warm", "swift_pool", "_round_p50"),
    "speedup_vs_raw_warm_no_pool": ("raw_warm", "swift", "_round_p50"),
    "speedup_vs_rdma_cm": ("rdma_cm", "swift_pool", "_round_p50"),
    "speedup_vs_rdma_cm_no_pool": ("rdma_cm", "swift", "_round_p50"),
}
speedups_per_round = {k: per_round_ratio(*v) for k, v in SPEEDUPS.items()}
for row in t1.values():
    for k in [k for k in row if k.startswith("_")]:
        del row[k]
for name, row in t1.items():
    table.setdefault(name, {})["1"] = row

# ---- 2. throughput rounds at T clients ---------------------------------------
def rate_row(runs, extra=None):
    rates = sorted(x["conn_per_s"] for x in runs if x.get("conn_per_s"))
    row = {"p50_us": med([x.get("p50_us") for x in runs]),
           "conn_per_s": med(rates),
           "conn_per_s_min": rates[0] if rates else None,
           "conn_per_s_max": rates[-1] if rates else None,
           "runs": len(runs)}
    row.update(extra or {})
    return row

# Raw verbs, new process: batches of T processes at once.
batches = {}
for b in kind("raw_new_process_batch", "throughput"):
    procs = [l for l in kind("raw_new_process", "throughput") if l["threads"] == b["threads"] and l["round"] == b["round"]]
    ok = [l for l in procs if l.get("ok")]
    if len(ok) != len(procs):
        problems.append(f"raw_new_process T={b['threads']} round {b['round']}: {len(procs) - len(ok)} failed")
    batches.setdefault(b["threads"], []).append({
        "p50_us": statistics.median([l["total_us"] for l in ok]) if ok else None,
        "process_p50_us": statistics.median([l["process_us"] for l in ok]) if ok else None,
        "conn_per_s": round(len(ok) / (b["wall_us"] / 1e6), 1), "processes": len(procs), "failed": len(procs) - len(ok)})
for t, runs in batches.items():
    table["raw_new_process"][str(t)] = rate_row(runs, {
        "process_p50_us": med([x["process_p50_us"] for x in runs]),
        "processes": sum(x["processes"] for x in runs), "failed": sum(x["failed"] for x in runs)})

for l in kind("raw_warm", "throughput"):
    if not l.get("ok") or l.get("failed") or l.get("rc"):
        problems.append(f"raw_warm T={l.get('threads')} round {l.get('round')}: {l.get('failed_by_reason') or l.get('error') or 'rc %s' % l.get('rc')}")
for t in sorted({l["threads"] for l in kind("raw_warm", "throughput") if "threads" in l}):
    runs = [l for l in kind("raw_warm", "throughput") if l.get("threads") == t and l.get("ok")]
    table["raw_warm"][str(t)] = rate_row(runs, {"total": sum(l["total"] for l in runs), "failed": sum(l.get("failed", 0) for l in runs)})

cm_t = cm_runs(kind("rdma_cm", "throughput"))
for c in sorted({x["c"] for x in cm_t}):
    runs = [x for x in cm_t if x["c"] == c]
    # cmtime issues each phase for the whole batch and waits for all of it:
    # a connection of a batch of c is set up when the batch is.
    table["rdma_cm"][str(c)] = rate_row(
        [{"p50_us": x["setup_ms"] * 1000, "conn_per_s": round(c / x["setup_ms"] * 1000, 1)} for x in runs],
        {"setup_us_per_conn": med([x["setup_ms"] * 1000 / c for x in runs]),
         "steps_ms": {s: round(statistics.median([x["steps"][s] for x in runs]), 3)
                      for s in STEPS + ["disconnect", "destroy"] if all(s in x["steps"] for x in runs)},
         "process_p50_us": med([x["process_us"] for x in runs])})

for name in ("swift", "swift_pool"):
    rows = kind(name, "throughput")
    for l in rows:
        swift_problems(name, l)
    for t in sorted({l["threads"] for l in rows if "threads" in l}):
        runs = [l for l in rows if l.get("threads") == t and l.get("ok")]
        ok_total = sum(l["ok"] for l in runs)
        extra = {"total": sum(l["total"] for l in runs), "ok": ok_total,
                 "failed": sum(l.get("failed", 0) for l in runs),
                 "connect_p50_us": med([l.get("connect_p50_us") for l in runs]),
                 "close_p50_us": med([l.get("close_p50_us") for l in runs])}
        if name == "swift_pool":
            pooled = sum((l.get("pool") or {}).get("count", 0) for l in runs)
            extra.update({
                "prewarm": pool_max,
                "prewarm_ready_min": min((l.get("prewarm_ready", 0) for l in runs), default=None),
                "hit_fraction": round(pooled / ok_total, 4) if ok_total else None,
                "pool_p50_us": med([(l.get("pool") or {}).get("p50_us") for l in runs if (l.get("pool") or {}).get("count")]),
                "handshake_p50_us": med([(l.get("handshake") or {}).get("p50_us") for l in runs if (l.get("handshake") or {}).get("count")]),
                "discarded": sum((l.get("preconnect") or {}).get("discarded", 0) for l in runs)})
        else:
            extra["connect_steps_p50_us"] = steps_median([l.get("connect_steps_p50_us") for l in runs])
        table[name][str(t)] = rate_row(runs, extra)

# ---- the rest ------------------------------------------------------------------
def at(variant, t, key="p50_us"):
    return table.get(variant, {}).get(str(t), {}).get(key)

def ratio(a, b):
    return round(a / b, 2) if a and b else None

def best(variant):
    rows = {t: r for t, r in table.get(variant, {}).items() if r.get("conn_per_s")}
    t = max(rows, key=lambda t: rows[t]["conn_per_s"]) if rows else None
    return (rows[t]["conn_per_s"], int(t)) if t else (None, None)

rtt = (kind("control_rtt_guest") or [{}])[-1]
storm = (kind("storm") or [{}])[-1]
check = (kind("storm_check") or [{}])[-1]
leak = (kind("leak_check") or [{}])[-1]
if storm.get("stuck") or storm.get("ok") != storm.get("total") or not check.get("clean"):
    problems.append("storm: not every connection completed and closed cleanly")
if not leak.get("clean"):
    problems.append("connections left on a swiftd after the rounds' clients exited (leak_check)")
def cpu_ms_per_conn(t):
    """Guest CPU ms per connection at T clients: Swift by handshake and
    rdma_cm's batch of c=T, medians over rounds; "other" is the clients, the
    kernel's threads and softirq (rxe, the veth pair)."""
    def split(cpu, conns, parts):
        if not cpu or not conns or cpu.get("busy", -1) < 0:
            return None
        ms = {k: cpu[k] * 1000 / cpu["clk_tck"] / conns for k in ["busy"] + parts}
        row = {"guest_total": ms["busy"]}
        row.update({name: ms[k] for k, name in zip(parts, [PART_NAMES[p] for p in parts])})
        row["other"] = ms["busy"] - sum(ms[k] for k in parts)
        return row
    def medians(rows):
        rows = [r for r in rows if r]
        return {k: r1(statistics.median([r[k] for r in rows])) for k in rows[0]} if rows else None
    swift_rows = [split(l.get("cpu_ticks"), l.get("ok"), ["swiftd_a", "swiftd_b", "server"])
                  for l in kind("swift", "throughput") if l.get("threads") == t]
    cm_rows = [split(x["cpu"], x["c"], ["cm_server"]) for x in cm_t if x["c"] == t]
    out = {"swift_no_pool": medians(swift_rows), "rdma_cm": medians(cm_rows)}
    if out["swift_no_pool"] and out["rdma_cm"]:
        out["guest_total_swift_over_rdma_cm"] = ratio(out["swift_no_pool"]["guest_total"],
                                                      out["rdma_cm"]["guest_total"])
    return out
PART_NAMES = {"swiftd_a": "swiftd_a", "swiftd_b": "swiftd_b", "server": "server_app", "cm_server": "cm_server"}

pool_best, pool_best_t = best("swift_pool")
hs_best, hs_best_t = best("swift")
pool1, swift1 = at("swift_pool", 1), at("swift", 1)
summary = {
    "kind": "summary",
    "bench": "connect",
    # At one client, medians of the per-round medians: from the pool, and
    # (_no_pool) by a full handshake.
    "speedup_vs_raw_new_process": ratio(at("raw_new_process", 1), pool1),
    "speedup_vs_raw_new_process_no_pool": ratio(at("raw_new_process", 1), swift1),
    "speedup_vs_raw_new_process_aslr_on": ratio(at("raw_new_process_aslr_on", 1), pool1),
    "speedup_vs_raw_warm": ratio(at("raw_warm", 1), pool1),
    "speedup_vs_raw_warm_no_pool": ratio(at("raw_warm", 1), swift1),
    "speedup_vs_rdma_cm": ratio(at("rdma_cm", 1), pool1),
    "speedup_vs_rdma_cm_no_pool": ratio(at("rdma_cm", 1), swift1),
    "speedup_vs_raw_new_process_incl_exec": ratio(at("raw_new_process", 1, "process_p50_us"), pool1),
    "speedups_per_round": speedups_per_round,
    "swift_pool_p50_us_t1": pool1,
    "swift_pool_connect_p50_us_t1": at("swift_pool", 1, "connect_p50_us"),
    "swift_pool_steps_p50_us_t1": at("swift_pool", 1, "pool_steps_p50_us"),
    "swift_pool_verify_p50_us_t1": at("swift_pool", 1, "verify_p50_us"),
    "swift_pool_hit_fraction_t1": at("swift_pool", 1, "hit_fraction"),
    "swift_pool_samples_t1": at("swift_pool", 1, "samples"),
    "swift_p50_us_t1": swift1,
    "swift_connect_p50_us_t1": at("swift", 1, "connect_p50_us"),
    "swift_connect_steps_p50_us_t1": at("swift", 1, "connect_steps_p50_us"),
    "swift_verify_p50_us_t1": at("swift", 1, "verify_p50_us"),
    "swift_close_p50_us_t1": at("swift", 1, "close_p50_us"),
    "raw_new_process_p50_us_t1": at("raw_new_process", 1),
    "raw_new_process_process_p50_us_t1": at("raw_new_process", 1, "process_p50_us"),
    "raw_new_process_aslr_on_p50_us_t1": at("raw_new_process_aslr_on", 1),
    "raw_warm_p50_us_t1": at("raw_warm", 1),
    "rdma_cm_setup_us_c1": at("rdma_cm", 1),
    "t1_medians": {name: {k: v for k, v in row.items()
                          if k in ("p50_us", "round_p50_min_us", "round_p50_p25_us", "round_p50_p75_us",
                                   "round_p50_max_us", "rounds", "samples", "p50_all_samples_us")}
                   for name, row in t1.items()},
    # Connections per second: Swift with the pool (Prewarm to pool_max, then
    # all threads at once) and without it (_no_pool), rdma_cm's batch of c=T.
    "conn_per_s": pool_best,
    "conn_per_s_threads": pool_best_t,
    "conn_per_s_no_pool": hs_best,
    "conn_per_s_no_pool_threads": hs_best_t,
    "conn_per_s_16": at("swift_pool", 16, "conn_per_s"),
    "conn_per_s_64": at("swift_pool", 64, "conn_per_s"),
    "conn_per_s_no_pool_16": at("swift", 16, "conn_per_s"),
    "conn_per_s_no_pool_64": at("swift", 64, "conn_per_s"),
    "conn_per_s_rdma_cm_16": at("rdma_cm", 16, "conn_per_s"),
    "conn_per_s_rdma_cm_64": at("rdma_cm", 64, "conn_per_s"),
    "conn_per_s_vs_rdma_cm_16": ratio(at("swift_pool", 16, "conn_per_s"), at("rdma_cm", 16, "conn_per_s")),
    "conn_per_s_vs_rdma_cm_64": ratio(at("swift_pool", 64, "conn_per_s"), at("rdma_cm", 64, "conn_per_s")),
    "conn_per_s_no_pool_vs_rdma_cm_16": ratio(at("swift", 16, "conn_per_s"), at("rdma_cm", 16, "conn_per_s")),
    "conn_per_s_no_pool_vs_rdma_cm_64": ratio(at("swift", 64, "conn_per_s"), at("rdma_cm", 64, "conn_per_s")),
    "swift_pool_hit_fraction_16": at("swift_pool", 16, "hit_fraction"),
    "swift_pool_hit_fraction_64": at("swift_pool", 64, "hit_fraction"),
    "conn_per_s_rdma_cm": at("rdma_cm", 100, "conn_per_s"),
    "cpu_ms_per_conn_16": cpu_ms_per_conn(16),
    "cpu_ms_per_conn_64": cpu_ms_per_conn(64),
    "conn_per_s_raw_warm": max((r["conn_per_s"] or 0 for r in table.get("raw_warm", {}).values()), default=None),
    "conn_per_s_raw_new_process": max((r["conn_per_s"] or 0 for r in table.get("raw_new_process", {}).values()), default=None),
    "fastpath_ping_p50_us_guest": rtt.get("fastpath_ping_p50_us_guest"),
    "grpc_ping_p50_us_guest": rtt.get("grpc_ping_p50_us_guest"),
    "fastpath_ping_p99_us_guest": rtt.get("ping_fastpath_p99_us"),
    "grpc_ping_p99_us_guest": rtt.get("ping_grpc_p99_us"),
    "leak_check_clean": leak.get("clean"),
    "storm_total": storm.get("total"),
    "storm_ok": storm.get("ok"),
    "storm_failed": storm.get("failed"),
    "storm_failed_with_reason": storm.get("failed_by_reason", {}),
    "storm_stuck": storm.get("stuck"),
    "storm_wall_s": storm.get("wall_s"),
    "storm_conn_per_s": storm.get("conn_per_s"),
    "storm_p99_us": storm.get("p99_us"),
    "storm_connections_left": check.get("connections_left"),
    "storm_services_in_use": check.get("services_in_use"),
    "storm_admission": check.get("admission"),
    "rdma_cm_server_restarts": cm_retried,
    "rounds": {"latency": rounds, "per_round": per_round, "raw_new_process_aslr_on_per_round": aslr_on_per_round,
               "throughput": tp_rounds, "pool_t1": pool_t1, "pool_max": pool_max},
    "table": table,
    "aslr": "headline with guest ASLR off (randomize_va_space=0); raw_new_process_aslr_on beside it",
    "quick": quick,
    "problems": problems,
    "notes": (
        "guest (QEMU TCG, rxe, 2 vCPUs), rxeB -> rxeA across the veth pair, every server up for the "
        "whole boot. p50_us = time to a connected RC QP with one verified 64 B RDMA WRITE (swift, "
        "swift_pool: Connect + WRITE + READ back + compare, Close not included; raw: the peer checks "
        "the bytes; raw_new_process: main() to the peer's verdict, exec not included, process_p50_us "
        "includes it); rdma_cm = cmtime, no RDMA WRITE, p50_us = setup steps (create id..connect). "
        f"T=1: {rounds} rounds, each running every variant once in an order rotated round by round, "
        f"{per_round} connections per variant per round ({rounds * per_round} in all; "
        f"raw_new_process_aslr_on only {aslr_on_per_round} per round: a side figure, each process "
        "re-translates its code under TCG); p50_us = the median of the per-round medians, "
        "round_p50_min/p25/p75/max_us their spread, p50_all_samples_us the median of all samples; "
        "speedups_per_round = each round's ratio, both sides from the same round. swift = a full "
        "handshake per connect (swift_p50_us_t1, the _no_pool speedups); swift_pool = Connect() "
        f"served from the pre-connected pool (Session::Prewarm {pool_t1}; each take waits, untimed, "
        "until the refill has the pool back at its target, so the measurement never drains it; only "
        "connects with ConnectSteps.preconnected count, hit_fraction = those / all; "
        "swift_pool_p50_us_t1 and the speedups without suffix). T>1: "
        f"{tp_rounds} rounds interleaving all variants; conn_per_s = verified connections / wall "
        "time (teardown included; rdma_cm: c / the batch's setup time, teardown not included), "
        "the median over rounds; swift_pool at T>1 = Prewarm "
        f"{pool_max} then all T threads at once: the refill (one handshake at a time) cannot keep "
        "up, so only about the first pool_max connects come from the pool "
        "(swift_pool_hit_fraction_16/_64); the rest are handshakes, counted in its conn_per_s. "
        "cpu_ms_per_conn_T: the guest's busy CPU (all vCPUs, /proc/stat) per connection over each "
        "client process's life (a new connect_bench or cmtime process per slice: its start and set-up "
        "included), the long-lived servers' own (swiftd A and B, Swift's server application, "
        "cmtime's server) apart; other = the clients, kernel threads and softirq (rxe, the veth "
        "pair); Swift's includes each Close, rdma_cm's its disconnect and destroy; medians over rounds."),
}
print(json.dumps(summary))
sys.exit(1 if failed or problems else 0)
EOF
rc=$?
[ $rc -le 1 ] || die "the summary failed"
exit $rc
