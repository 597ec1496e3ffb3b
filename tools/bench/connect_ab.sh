#!/bin/bash
# connect_ab.sh: two builds of Swift side by side in ONE boot of the
# two-host Soft-RoCE guest (tools/bench/run connect_ab boots it and calls
# this): is a change to the brokered connect path faster, and cheaper?
#
# Two pairs of swiftds run at once (A on rxeA, B on rxeB; peer ports 7471
# and 7481), each with a connect_bench server on A. Every round runs both
# builds, in an order that alternates round by round, at one client x 40
# connections (latency; Close() timed apart) and at 64 threads x 8
# (throughput): connect, WRITE, READ back, compare, Close. CPU: utime +
# stime of each build's swiftds and server from /proc, and the guest's busy
# ticks from /proc/stat, around each client process (its start included).
#
# usage: tools/bench/connect_ab.sh BASE_DIR NEW_DIR
#   each DIR holds daemon/swiftd and tools/bench/connect_bench of one build
# env: AB_ROUNDS (default 4); AB_BASE_LABEL, AB_NEW_LABEL: the builds' names
#   in the summary (default: the directories).
# Output: one JSON line per client run ("kind":"run"), then the summary as
# the LAST line: per-round ratios (base / new, or new / base for rates)
# with their median, min and max. Exit code 0 when every connect
# succeeded, 1 otherwise (the summary is still printed), 2 for bad usage.
set -uo pipefail

BASE=${1:-} NEW=${2:-}
ROUNDS=${AB_ROUNDS:-4}
log() { echo "[connect_ab $(date +%H:%M:%S)] $*" >&2; }
die() { log "$*"; exit 2; }
for d in "$BASE" "$NEW"; do
  [ -x "$d/daemon/swiftd" ] && [ -x "$d/tools/bench/connect_bench" ] ||
    die "usage: connect_ab.sh BASE_DIR NEW_DIR (each with daemon/swiftd and tools/bench/connect_bench)"
done
[ -n "${RXE_A_DEV:-}" ] && [ -n "${RXE_B_DEV:-}" ] ||
  die "run in the two-host guest (tools/rxe-vm/run --hosts 2)"

WORK=$(mktemp -d /tmp/connect-ab.XXXXXX) || die "mktemp failed"
ASLR_KNOB=/proc/sys/kernel/randomize_va_space
ORIGINAL_ASLR=$(cat "$ASLR_KNOB")
echo 0 >"$ASLR_KNOB"  # As the connect benchmark: see connect.sh.
PIDS=()
cleanup() {
  kill "${PIDS[@]}" 2>/dev/null
  wait 2>/dev/null
  echo "$ORIGINAL_ASLR" >"$ASLR_KNOB"
}
trap cleanup EXIT

(umask 077 && head -c 32 /dev/urandom >"$WORK/peer.key") || die "no peer key"
AUTH=(--peer_secret_file="$WORK/peer.key" --peer_allow="$RXE_A_IP,$RXE_B_IP")
declare -A DIR=([base]=$BASE [new]=$NEW) PORT=([base]=7471 [new]=7481)
declare -A SWIFTD_A SWIFTD_B SERVER
for v in base new; do
  "${DIR[$v]}/daemon/swiftd" --socket="$WORK/${v}_a.sock" --devices="$RXE_A_DEV" \
    --cpus=0 --peer_address="$RXE_A_IP:${PORT[$v]}" --metrics_address= \
    "${AUTH[@]}" 2>"$WORK/${v}_a.log" &
  SWIFTD_A[$v]=$!
  "${DIR[$v]}/daemon/swiftd" --socket="$WORK/${v}_b.sock" --devices="$RXE_B_DEV" \
    --cpus=1 --peer_address="$RXE_B_IP:${PORT[$v]}" --metrics_address= \
    "${AUTH[@]}" 2>"$WORK/${v}_b.log" &
  SWIFTD_B[$v]=$!
  PIDS+=("${SWIFTD_A[$v]}" "${SWIFTD_B[$v]}")
done
for _ in $(seq 300); do
  up=1
  for s in base_a base_b new_a new_b; do [ -S "$WORK/$s.fast.sock" ] || up=0; done
  [ $up = 1 ] && break
  sleep 0.1
done
[ $up = 1 ] || { tail -n 3 "$WORK"/*.log >&2; die "the swiftds did not come up"; }
for v in base new; do
  "${DIR[$v]}/tools/bench/connect_bench" --role=server --socket="$WORK/${v}_a.sock" \
    --service=bench --backlog=64 >"$WORK/${v}_server.out" 2>"$WORK/${v}_server.err" &
  SERVER[$v]=$!
  PIDS+=("${SERVER[$v]}")
done
for _ in $(seq 300); do
  grep -q '^ready' "$WORK/base_server.out" && grep -q '^ready' "$WORK/new_server.out" && break
  sleep 0.1
done
grep -q '^ready' "$WORK/base_server.out" && grep -q '^ready' "$WORK/new_server.out" ||
  die "a connect_bench server did not come up"

# shellcheck source=tools/bench/cpu_ticks.sh
source "$(dirname "$0")/cpu_ticks.sh"
client() {  # BUILD THREADS CONNECTIONS
  timeout 300 "${DIR[$1]}/tools/bench/connect_bench" --role=client \
    --socket="$WORK/${1}_b.sock" --host="$RXE_A_IP:${PORT[$1]}" --service=bench \
    --threads="$2" --connections="$3" 2>>"$WORK/client.err" | tail -n 1
}
run() {  # BUILD THREADS CONNECTIONS ROUND
  local v=$1 a b s u line
  a=$(proc_ticks "${SWIFTD_A[$v]}") b=$(proc_ticks "${SWIFTD_B[$v]}") s=$(proc_ticks "${SERVER[$v]}") u=$(busy_ticks)
  line=$(client "$v" "$2" "$3")
  [ "${line:0:1}" = "{" ] || line='{"error":"no output"}'
  printf '{"kind":"run","build":"%s","threads":%d,"round":%d,"cpu_ticks":{"busy":%d,"swiftd_a":%d,"swiftd_b":%d,"server":%d,"clk_tck":%d},"result":%s}\n' \
    "$v" "$2" "$4" $(( $(busy_ticks) - u )) $(( $(proc_ticks "${SWIFTD_A[$v]}") - a )) \
    $(( $(proc_ticks "${SWIFTD_B[$v]}") - b )) $(( $(proc_ticks "${SERVER[$v]}") - s )) \
    "$CLK_TCK" "$line" | tee -a "$WORK/runs.jsonl"
}
for v in base new; do client "$v" 4 5 >/dev/null; done  # Warm both.
for r in $(seq "$ROUNDS"); do
  if [ $(( r % 2 )) = 1 ]; then order="base new"; else order="new base"; fi
  log "round $r/$ROUNDS: $order"
  for v in $order; do run "$v" 1 40 "$r"; done
  for v in $order; do run "$v" 64 8 "$r"; done
done

python3 - "$WORK/runs.jsonl" "${AB_BASE_LABEL:-$BASE}" "${AB_NEW_LABEL:-$NEW}" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
failed = sum(r["result"].get("failed", 0) + (0 if "ok" in r["result"] else 1) for r in rows)
def per_round(threads, fn):
    pairs = {}
    for r in rows:
        if r["threads"] == threads and "ok" in r["result"]:
            pairs.setdefault(r["round"], {})[r["build"]] = fn(r)
    ratios = [p["base"] / p["new"] for p in pairs.values()
              if p.get("base") and p.get("new")]
    return ({"median": round(statistics.median(ratios), 2), "min": round(min(ratios), 2),
             "max": round(max(ratios), 2), "rounds": len(ratios)} if ratios else None)
def med(build, threads, fn):
    values = [fn(r) for r in rows if r["build"] == build and r["threads"] == threads and "ok" in r["result"]]
    return round(statistics.median(values), 2) if values else None
def cpu(part):
    return lambda r: r["cpu_ticks"][part] * 1000 / r["cpu_ticks"]["clk_tck"] / max(1, r["result"]["ok"])
summary = {"kind": "summary", "bench": "connect_ab", "base": sys.argv[2], "new": sys.argv[3],
           "rounds": max(r["round"] for r in rows), "failed": failed}
for threads in (1, 64):
    at = {}
    for name, fn in [("conn_per_s", lambda r: r["result"]["conn_per_s"]),
                     ("connect_p50_us", lambda r: r["result"]["connect_p50_us"]),
                     ("close_p50_us", lambda r: r["result"]["close_p50_us"]),
                     ("cpu_ms_per_conn", cpu("busy")), ("swiftd_a_ms_per_conn", cpu("swiftd_a")),
                     ("swiftd_b_ms_per_conn", cpu("swiftd_b")), ("server_ms_per_conn", cpu("server"))]:
        at[name] = {"base": med("base", threads, fn), "new": med("new", threads, fn),
                    # Rates: new / base; times and CPU: base / new. Above 1: new is better.
                    "gain_per_round": per_round(threads, (lambda r, fn=fn: 1 / fn(r)) if name == "conn_per_s" else fn)}
    summary[f"t{threads}"] = at
summary["conn_per_s_gain_64"] = summary["t64"]["conn_per_s"]["gain_per_round"]
summary["cpu_gain_64"] = summary["t64"]["cpu_ms_per_conn"]["gain_per_round"]
summary["close_gain_t1"] = summary["t1"]["close_p50_us"]["gain_per_round"]
summary["notes"] = ("guest (QEMU TCG, rxe, 2 vCPUs), both builds' swiftds and servers up for the whole boot, "
                    "rounds alternating their order; gain_per_round: each round's base/new (times, CPU) or "
                    "new/base (conn_per_s), so above 1 means the new build is better; CPU per connection "
                    "includes each client process's start and every Close")
print(json.dumps(summary))
sys.exit(1 if failed else 0)
PY
