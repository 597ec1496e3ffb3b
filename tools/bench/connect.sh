#!/bin/bash
# connect.sh: issue 4's connection benchmark, run INSIDE the two-host
# Soft-RoCE guest (tools/bench/run connect boots it and calls this).
#
# For 1, 2, 4, 16 and 64 concurrent clients on host B (rxeB) connecting to a
# server on host A (rxeA): time to a connected RC QP that has completed one
# verified RDMA WRITE (64 B), and connections per second, for
#   raw_new_process  raw verbs, a NEW client process per connection
#                    (raw_verbs_connect; T processes at once), ASLR off and on
#   raw_warm         raw verbs in a warm process (raw_verbs_connect --warm:
#                    device, PD, MR set up once; CQ+QP+TCP exchange per
#                    connection; T threads)
#   rdma_cm          rdma-core's cmtime (no RDMA WRITE): c=1 for latency,
#                    batches of c=T and c=100 for connections per second
#   swift            swiftd A + swiftd B brokering; connect_bench (Connect,
#                    WRITE, READ back, compare; T threads in one process)
# plus the local call round trip in the guest (control_rtt against swiftd B,
# gRPC and fast path) and a 1,000-connection storm through Swift (50 threads
# x 20 connects, 60 s deadline, default admission limits) with a check that
# no connection is left behind on either swiftd.
#
# usage: tools/bench/connect.sh BINDIR
#   BINDIR  the -c opt bazel-bin with daemon/swiftd, tools/swiftctl/swiftctl,
#           tools/bench/{connect_bench,raw_verbs_connect,control_rtt}
# env: CONNECT_THREADS (default "1 2 4 16 64"), CONNECT_QUICK=1 (a smoke
#   test: fewer runs and connections, a 100-connection storm).
# Headline numbers are taken with guest ASLR off (randomize_va_space=0):
# under QEMU TCG every new process with ASLR re-translates its code, an
# emulator artefact (ARCHITECTURE.md); raw_new_process is measured with ASLR on
# too. The setting is restored at exit.
#
# Output (stdout): JSON lines, each with a "kind" (raw_new_process,
# raw_new_process_batch, raw_warm, rdma_cm, swift, control_rtt_guest, storm,
# storm_check), then the guest summary as the LAST line ("kind":"summary").
# Progress goes to stderr. Every step runs under `timeout`; all servers are
# stopped at the end. Exit code: 0 when every variant produced numbers and
# nothing failed, 1 when something failed (the summary is still printed),
# 2 for bad usage or setup.
set -uo pipefail

BIN=${1:-}
THREADS=${CONNECT_THREADS:-"1 2 4 16 64"}
QUICK=${CONNECT_QUICK:-0}
log() { echo "[connect $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 2; }

[ -n "$BIN" ] && [ -d "$BIN" ] || die "usage: tools/bench/connect.sh BINDIR (the -c opt bazel-bin)"
for b in daemon/swiftd tools/swiftctl/swiftctl tools/bench/connect_bench \
  tools/bench/raw_verbs_connect tools/bench/control_rtt; do
  [ -x "$BIN/$b" ] || die "no $BIN/$b (build it with -c opt)"
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

# Connections per thread for raw_warm and swift at T threads.
per_thread() {
  local t=$1
  if [ "$QUICK" = 1 ]; then echo $(( t >= 16 ? 1 : 5 )); return; fi
  case $t in 1) echo 100 ;; 2) echo 50 ;; 4) echo 25 ;; 16) echo 8 ;; *) echo $(( (256 + t - 1) / t )) ;; esac
}
# Rounds of T concurrent new processes: about 20 processes, at least one round.
rounds() {
  local t=$1 n=20
  [ "$QUICK" = 1 ] && n=4
  echo $(( (n + t - 1) / t ))
}
CM_REPS_1=7 CM_REPS_BATCH=3 CM_REPS_100=5
STORM_THREADS=50 STORM_PER_THREAD=20
if [ "$QUICK" = 1 ]; then
  CM_REPS_1=2 CM_REPS_BATCH=1 CM_REPS_100=1 STORM_THREADS=10 STORM_PER_THREAD=10
fi

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
set_aslr() { echo "$1" >"$ASLR_KNOB"; log "guest ASLR: randomize_va_space=$(cat "$ASLR_KNOB")"; }
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

log "host A: $A_DEV $A_IP (gid $A_GID); host B: $B_DEV $B_IP (gid $B_GID); threads: $THREADS; quick=$QUICK"
set_aslr 0

# ---- (a) and (b): raw verbs against one long-lived raw server on A ---------
"$RAW" --server --device="$A_DEV" --gid_index="$A_GID" --listen="$A_IP:$RAW_PORT" \
  >"$WORK/raw_server.jsonl" 2>"$WORK/raw_server.err" &
RAW_PID=$!
PIDS+=("$RAW_PID")
if ! wait_for "$WORK/raw_server.jsonl" '"ready":true' "$RAW_PID" 30; then
  cat "$WORK/raw_server.err" >&2
  die "the raw_verbs_connect server did not come up"
fi

# raw_client ASLR T ROUND OUTFILE: one new client process; its JSON line,
# extended with the process wall time (fork to exit, as bash sees it).
raw_client() {
  local start end line rc
  start=$EPOCHREALTIME
  line=$(timeout 60 "$RAW" --device="$B_DEV" --gid_index="$B_GID" \
    --peer="$A_IP:$RAW_PORT" --mr_bytes="$MR_BYTES" 2>>"$WORK/raw_client.err")
  rc=$?
  end=$EPOCHREALTIME
  [ "${line:0:1}" = "{" ] || line="{\"ok\":false,\"error\":\"no output, exit $rc\"}"
  printf '{"aslr":"%s","threads":%s,"round":%s,"process_us":%s,%s\n' \
    "$1" "$2" "$3" $(( ${end/./} - ${start/./} )) "${line:1}" >"$4"
}

# (a) T new processes at once, in rounds; per round the wall time.
raw_new_process() {
  local aslr=$1 t r i start end n pids
  log "(a) raw verbs, new process per connection, ASLR $aslr: warm-up"
  raw_client "$aslr" 1 0 "$WORK/warmup.json"
  for t in $THREADS; do
    n=$(rounds "$t")
    log "(a) ASLR $aslr: $n round(s) of $t concurrent client processes"
    for r in $(seq "$n"); do
      start=$EPOCHREALTIME
      pids=()
      for i in $(seq "$t"); do
        raw_client "$aslr" "$t" "$r" "$WORK/rnp.$aslr.$t.$r.$i" &
        pids+=($!)
      done
      wait "${pids[@]}"
      end=$EPOCHREALTIME
      for i in $(seq "$t"); do
        emit raw_new_process "" "$(cat "$WORK/rnp.$aslr.$t.$r.$i")"
      done
      emit raw_new_process_batch "\"aslr\":\"$aslr\",\"threads\":$t,\"round\":$r,\"processes\":$t,\"wall_us\":$(( ${end/./} - ${start/./} ))" "{}"
    done
  done
}
raw_new_process off
set_aslr 2
raw_new_process on
set_aslr 0

# (b) one warm process, T threads.
for t in $THREADS; do
  c=$(per_thread "$t")
  log "(b) raw verbs, warm process: $t thread(s) x $c connections"
  line=$(timeout 300 "$RAW" --warm --threads="$t" --connections="$c" \
    --device="$B_DEV" --gid_index="$B_GID" --peer="$A_IP:$RAW_PORT" \
    --mr_bytes="$MR_BYTES" 2>>"$WORK/raw_warm.err")
  rc=$?
  [ $rc -eq 0 ] || { FAILED=1; log "(b) T=$t: exit $rc"; }
  emit raw_warm "\"rc\":$rc" "$line"
done
stop "$RAW_PID"
if grep -q '"ok":false' "$WORK/raw_server.jsonl"; then
  FAILED=1
  log "raw server errors:"; grep '"ok":false' "$WORK/raw_server.jsonl" | head -5 >&2
fi
[ -s "$WORK/raw_client.err" ] && { log "raw client stderr (head):"; head -5 "$WORK/raw_client.err" >&2; }
[ -s "$WORK/raw_warm.err" ] && { log "raw warm stderr (head):"; head -5 "$WORK/raw_warm.err" >&2; }

# ---- (c) rdma_cm: cmtime --------------------------------------------------
# Gotchas (anchors-measured.md 1): the server's FIRST client must use -c 3,
# or every later connection is REJECTED; cmtime exits 0 even then.
cm_server() {
  cmtime -b "$A_IP" -p "$CM_PORT" >"$WORK/cm_server.log" 2>&1 &
  CM_PID=$!
  PIDS+=("$CM_PID")
  sleep 0.5
}
# cm_client C REP: one cmtime client; its output and wall time as JSON.
cm_client() {
  local c=$1 rep=$2 start end rc out rep_json=$2
  [[ $rep =~ ^[0-9]+$ ]] || rep_json="\"$rep\""
  start=$EPOCHREALTIME
  out=$(timeout 60 cmtime -s "$A_IP" -b "$B_IP" -p "$CM_PORT" -c "$c" 2>&1)
  rc=$?
  end=$EPOCHREALTIME
  printf '%s\n' "$out" >"$WORK/cm.$c.$rep.txt"
  emit rdma_cm "\"c\":$c,\"rep\":$rep_json,\"rc\":$rc,\"process_us\":$(( ${end/./} - ${start/./} ))" \
    "$(python3 -c 'import json,sys; print(json.dumps({"output": sys.stdin.read()}))' <<<"$out")"
  ! grep -qiE 'reject|error|fail' <<<"$out" && [ $rc -eq 0 ]
}
log "(c) rdma_cm: cmtime server on $A_IP port $CM_PORT, warm-up client -c 3"
cm_server
if ! cm_client 3 warmup; then
  log "(c) warm-up rejected or failed: restarting the cmtime server once"
  stop "$CM_PID"
  cm_server
  cm_client 3 warmup2 || { FAILED=1; log "(c) warm-up failed again"; }
fi
for rep in $(seq "$CM_REPS_1"); do cm_client 1 "$rep" || FAILED=1; done
for t in $THREADS 100; do
  [ "$t" = 1 ] && continue
  reps=$CM_REPS_BATCH
  [ "$t" = 100 ] && reps=$CM_REPS_100
  log "(c) cmtime batches of c=$t, $reps run(s)"
  for rep in $(seq "$reps"); do cm_client "$t" "$rep" || FAILED=1; done
done
stop "$CM_PID"

# ---- (d) Swift: swiftd A and B, connect_bench ------------------------------
log "(d) Swift: swiftd A ($A_DEV, $A_IP:$PEER_PORT) and swiftd B ($B_DEV, $B_IP:$PEER_PORT)"
# Both hold the cluster's secret and allow only each other (as deployed).
(umask 077 && head -c 32 /dev/urandom >"$WORK/peer.key") || die "no peer key"
PEER_AUTH=(--peer_secret_file="$WORK/peer.key" --peer_allow="$A_IP,$B_IP")
"$BIN/daemon/swiftd" --socket="$WORK/a.sock" --devices="$A_DEV" \
  --peer_address="$A_IP:$PEER_PORT" "${PEER_AUTH[@]}" 2>"$WORK/swiftd_a.log" &
SWIFTD_A=$!
"$BIN/daemon/swiftd" --socket="$WORK/b.sock" --devices="$B_DEV" \
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
for t in $THREADS; do
  c=$(per_thread "$t")
  log "(d) Swift: $t thread(s) x $c connections"
  line=$(timeout 300 "$BENCH" --role=client --socket="$WORK/b.sock" \
    --host="$A_IP:$PEER_PORT" --service=bench --threads="$t" --connections="$c" \
    2>>"$WORK/bench_client.err")
  rc=$?
  [ $rc -eq 0 ] || { FAILED=1; log "(d) T=$t: exit $rc"; }
  emit swift "\"rc\":$rc" "$line"
done

log "control_rtt in the guest against swiftd B: 2000 calls per kind"
line=$(timeout 300 "$BIN/tools/bench/control_rtt" --socket="$WORK/b.sock" \
  --calls=2000 --warmup=200 2>>"$WORK/control_rtt.err")
rc=$?
[ $rc -eq 0 ] || { FAILED=1; log "control_rtt: exit $rc"; cat "$WORK/control_rtt.err" >&2; }
# control_rtt names its keys for the host; here they are the guest's.
emit control_rtt_guest "\"rc\":$rc" "$(sed 's/_host"/_guest"/g; s/"where": "host"/"where": "guest"/' <<<"$line")"

storm_total=$(( STORM_THREADS * STORM_PER_THREAD ))
log "storm: $STORM_THREADS threads x $STORM_PER_THREAD connects = $storm_total through Swift, deadline 60 s"
line=$(timeout 600 "$BENCH" --role=client --socket="$WORK/b.sock" \
  --host="$A_IP:$PEER_PORT" --service=bench --threads="$STORM_THREADS" \
  --connections="$STORM_PER_THREAD" --storm_deadline_s=60 --warmup=0 \
  2>>"$WORK/storm.err")
rc=$?
[ $rc -eq 0 ] || { FAILED=1; log "storm: exit $rc"; tail -5 "$WORK/storm.err" >&2; }
emit storm "\"rc\":$rc" "$line"
# Nothing may be left: no connection on B, none in use on A. Asked right
# away, then again for up to 10 s if anything was left.
storm_check() {
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
check=$(storm_check 0)
emit storm_check "" "$check"
if ! grep -q '"clean": true' <<<"$check"; then
  for wait_s in 1 2 4 10; do
    sleep "$wait_s"
    check=$(storm_check "$wait_s")
    emit storm_check "" "$check"
  done
fi

stop "$SERVER_PID" "$SWIFTD_A" "$SWIFTD_B"
PIDS=()
for f in bench_server.err bench_client.err; do
  [ -s "$WORK/$f" ] && { log "$f (tail):"; tail -3 "$WORK/$f" >&2; }
done

# ---- the guest summary --------------------------------------------------------
python3 - "$WORK/all.jsonl" "$FAILED" "$QUICK" <<'EOF'
import json, re, statistics, sys

path, failed, quick = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
lines = [json.loads(l) for l in open(path) if l.strip()]
kind = lambda k: [l for l in lines if l.get("kind") == k]

def pct(values, q):  # sorted[q * n], as connect_bench
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)

def med(values):
    return round(statistics.median(values), 1) if values else None

table = {}
problems = []

# (a) raw verbs, new process.
for aslr in ("off", "on"):
    name = "raw_new_process" + ("" if aslr == "off" else "_aslr_on")
    rows = {}
    for t in sorted({l["threads"] for l in kind("raw_new_process") if l["aslr"] == aslr}):
        procs = [l for l in kind("raw_new_process") if l["aslr"] == aslr and l["threads"] == t]
        ok = [l for l in procs if l.get("ok")]
        batches = [b for b in kind("raw_new_process_batch") if b["aslr"] == aslr and b["threads"] == t]
        wall_s = sum(b["wall_us"] for b in batches) / 1e6
        rows[str(t)] = {
            "p50_us": pct([l["total_us"] for l in ok], 0.5),
            "p99_us": pct([l["total_us"] for l in ok], 0.99),
            "process_p50_us": pct([l["process_us"] for l in ok], 0.5),
            "conn_per_s": round(len(ok) / wall_s, 1) if wall_s else None,
            "processes": len(procs), "failed": len(procs) - len(ok),
            "exchange_p50_us": pct([l["steps_us"].get("exchange", 0) for l in ok], 0.5),
            "get_device_list_p50_us": pct([l["steps_us"].get("get_device_list", 0) for l in ok], 0.5),
        }
        if len(procs) != len(ok):
            problems.append(f"{name} T={t}: {len(procs) - len(ok)} failed")
    table[name] = rows

# (b) raw verbs, warm process; (d) Swift.
for name, k in (("raw_warm", "raw_warm"), ("swift", "swift")):
    rows = {}
    for l in kind(k):
        if "threads" not in l or not l.get("ok"):
            problems.append(f"{name}: {l.get('error') or l.get('failed_by_reason') or 'no output'}")
            if "threads" not in l:
                continue
        row = {key: l.get(key) for key in ("p50_us", "p90_us", "p99_us", "min_us", "conn_per_s", "total", "ok", "failed", "wall_s")}
        if name == "swift":
            row.update({key: l.get(key) for key in ("connect_p50_us", "connect_steps_p50_us", "verify_p50_us", "close_p50_us", "stuck")})
            if l.get("failed") or l.get("stuck"):
                problems.append(f"swift T={l['threads']}: {l.get('failed_by_reason')} stuck {l.get('stuck')}")
        else:
            row["steps_p50_us"] = l.get("steps_p50_us")
            row["teardown_p50_us"] = l.get("teardown_p50_us")
            if l.get("failed"):
                problems.append(f"raw_warm T={l['threads']}: {l.get('failed_by_reason')}")
        rows[str(l["threads"])] = row
    table[name] = rows

# (c) cmtime.
STEPS = ["create id", "bind addr", "resolve addr", "resolve route", "create qp", "connect"]
def parse_cmtime(text):
    steps = {}
    for m in re.finditer(r"^(create id|bind addr|resolve addr|resolve route|create qp|connect|disconnect|destroy)\s*:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text, re.M):
        steps[m.group(1)] = float(m.group(2))  # total ms of the phase, whole batch
    return steps
cm = {}
for l in kind("rdma_cm"):
    if not isinstance(l.get("rep"), int):
        continue  # warm-up
    text = l.get("output", "")
    steps = parse_cmtime(text)
    bad = bool(re.search(r"reject|error|fail", text, re.I)) or l.get("rc") != 0 or not all(s in steps for s in STEPS)
    if bad:
        problems.append(f"rdma_cm c={l['c']} rep={l['rep']}: rejected or failed (rc {l.get('rc')})")
        continue
    cm.setdefault(l["c"], []).append({"setup_ms": sum(steps[s] for s in STEPS), "steps": steps, "process_us": l["process_us"]})
rows = {}
for c in sorted(cm):
    runs = cm[c]
    setup_ms = med([r["setup_ms"] for r in runs])
    rows[str(c)] = {
        # cmtime issues each phase for the whole batch and waits for all of
        # it: a connection of a batch of c is set up when the batch is.
        "p50_us": round(setup_ms * 1000, 1),
        "setup_us_per_conn": round(setup_ms * 1000 / c, 1),
        "conn_per_s": round(c / setup_ms * 1000, 1),
        "steps_ms": {s: round(statistics.median([r["steps"][s] for r in runs]), 3) for s in STEPS + ["disconnect", "destroy"] if all(s in r["steps"] for r in runs)},
        "process_p50_us": med([r["process_us"] for r in runs]),
        "runs": len(runs),
    }
table["rdma_cm"] = rows

def at(variant, t, key="p50_us"):
    return table.get(variant, {}).get(str(t), {}).get(key)

def ratio(a, b):
    return round(a / b, 2) if a and b else None

swift1 = at("swift", 1)
rtt = (kind("control_rtt_guest") or [{}])[-1]
storm = (kind("storm") or [{}])[-1]
check = (kind("storm_check") or [{}])[-1]
if storm.get("stuck") or storm.get("ok") != storm.get("total") or not check.get("clean"):
    problems.append("storm: not every connection completed and closed cleanly")
swift_best_t = max(table["swift"], key=lambda t: table["swift"][t]["conn_per_s"] or 0) if table["swift"] else None
summary = {
    "kind": "summary",
    "bench": "connect",
    "speedup_vs_raw_new_process": ratio(at("raw_new_process", 1), swift1),
    "speedup_vs_raw_new_process_aslr_on": ratio(at("raw_new_process_aslr_on", 1), swift1),
    "speedup_vs_raw_warm": ratio(at("raw_warm", 1), swift1),
    "speedup_vs_rdma_cm": ratio(at("rdma_cm", 1), swift1),
    "speedup_vs_raw_new_process_incl_exec": ratio(at("raw_new_process", 1, "process_p50_us"), swift1),
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
    "conn_per_s": table["swift"][swift_best_t]["conn_per_s"] if swift_best_t else None,
    "conn_per_s_threads": int(swift_best_t) if swift_best_t else None,
    "conn_per_s_rdma_cm": at("rdma_cm", 100, "conn_per_s"),
    "conn_per_s_raw_warm": max((r["conn_per_s"] or 0 for r in table["raw_warm"].values()), default=None),
    "conn_per_s_raw_new_process": max((r["conn_per_s"] or 0 for r in table["raw_new_process"].values()), default=None),
    "fastpath_ping_p50_us_guest": rtt.get("fastpath_ping_p50_us_guest"),
    "grpc_ping_p50_us_guest": rtt.get("grpc_ping_p50_us_guest"),
    "fastpath_ping_p99_us_guest": rtt.get("ping_fastpath_p99_us"),
    "grpc_ping_p99_us_guest": rtt.get("ping_grpc_p99_us"),
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
    "table": table,
    "aslr": "headline with guest ASLR off (randomize_va_space=0); raw_new_process_aslr_on beside it",
    "quick": quick,
    "problems": problems,
    "notes": "guest (QEMU TCG, rxe, 2 vCPUs), rxeB -> rxeA across the veth pair; p50_us = time to "
             "a connected RC QP with one verified 64 B RDMA WRITE (swift: WRITE + READ back + compare, "
             "Close not included; raw: the peer checks the bytes; raw_new_process: main() to the "
             "peer's verdict, exec not included, process_p50_us includes it); rdma_cm = cmtime, no "
             "RDMA WRITE, p50_us = setup steps (create id..connect) of the batch of c=T; conn_per_s "
             "= verified connections / wall time (teardown included)",
}
print(json.dumps(summary))
sys.exit(1 if failed or problems else 0)
EOF
rc=$?
[ $rc -le 1 ] || die "the summary failed"
exit $rc
