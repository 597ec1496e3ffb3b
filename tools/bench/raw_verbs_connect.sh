#!/bin/bash
# raw_verbs_connect.sh: the raw-verbs baseline, run INSIDE the Soft-RoCE guest
# (tools/rxe-vm/run; tools/bench/run raw_verbs_connect calls this).
#
# Starts one long-lived raw_verbs_connect server, then runs fresh client
# processes against it: a warm-up and RUNS timed runs with guest ASLR on
# (kernel.randomize_va_space=2), then the same with ASLR off (=0). Under QEMU
# TCG every new process with ASLR re-translates its code, an emulator
# artefact real hardware lacks, so the headline numbers are ASLR off and
# the ASLR-on numbers are reported beside them (ARCHITECTURE.md).
#
# usage: tools/bench/raw_verbs_connect.sh [--runs N] [--mr_bytes BYTES] [BINARY]
#   BINARY     the raw_verbs_connect binary (build it with -c opt); default
#              $RAW_VERBS_CONNECT_BIN, else bazel-bin/tools/bench/raw_verbs_connect
#   --runs N   timed client processes per ASLR setting (default 20, min 1)
#   --mr_bytes the client's MR, all of it written (default 4096)
# Topology, from the harness's environment:
#   RXE_HOSTS=2: server on host A (RXE_A_DEV, RXE_A_GID_INDEX, listening on
#                RXE_A_IP), clients on host B (RXE_B_DEV, RXE_B_GID_INDEX):
#                the RDMA WRITE and the TCP exchange cross the veth wire.
#   otherwise:   server and clients on RXE_DEV (RXE_GID_INDEX), TCP on
#                RXE_IP (or 127.0.0.1).
#   RAW_VERBS_CONNECT_PORT  TCP port (default 18515)
# Output (stdout): each timed client's JSON line, extended with "aslr" and
# "process_us" (fork to exit, as this shell sees it), then the summary as
# the LAST line:
#   {"bench":"raw_verbs_connect","total_us":<median, ASLR off>,
#    "steps_us":{<median per step, ASLR off>},"aslr_on":{...},"runs":N,
#    "hosts":2,...}
# Progress and the server's log go to stderr. Exit code: 0 when every timed
# client succeeded, 1 otherwise (the summary is still printed if any
# succeeded), 2 for bad usage or setup.
set -uo pipefail

RUNS=20
MR_BYTES=4096
BIN=${RAW_VERBS_CONNECT_BIN:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --runs=*) RUNS=${1#*=}; shift ;;
    --mr_bytes) MR_BYTES=$2; shift 2 ;;
    --mr_bytes=*) MR_BYTES=${1#*=}; shift ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "raw_verbs_connect.sh: unknown option $1" >&2; exit 2 ;;
    *) BIN=$1; shift ;;
  esac
done
BIN=${BIN:-bazel-bin/tools/bench/raw_verbs_connect}
log() { echo "[raw_verbs_connect] $*" >&2; }
die() { log "ERROR: $*"; exit 2; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs needs a number >= 1"
[[ $MR_BYTES =~ ^[1-9][0-9]*$ ]] || die "--mr_bytes needs a number >= 1"
[ -x "$BIN" ] || die "no binary at $BIN (build //tools/bench:raw_verbs_connect with -c opt)"
command -v python3 >/dev/null || die "python3 not found"
ASLR_KNOB=/proc/sys/kernel/randomize_va_space
[ -w "$ASLR_KNOB" ] || die "$ASLR_KNOB is not writable: run this inside the guest, as root"

PORT=${RAW_VERBS_CONNECT_PORT:-18515}
if [ "${RXE_HOSTS:-1}" = 2 ]; then
  HOSTS=2
  SERVER_DEV=${RXE_A_DEV:-rxeA} SERVER_GID=${RXE_A_GID_INDEX:--1}
  CLIENT_DEV=${RXE_B_DEV:-rxeB} CLIENT_GID=${RXE_B_GID_INDEX:--1}
  SERVER_IP=${RXE_A_IP:-10.77.0.1}
else
  HOSTS=1
  SERVER_DEV=${RXE_DEV:-rxe0} SERVER_GID=${RXE_GID_INDEX:--1}
  CLIENT_DEV=$SERVER_DEV CLIENT_GID=$SERVER_GID
  SERVER_IP=${RXE_IP:-127.0.0.1}
fi
PEER=$SERVER_IP:$PORT

WORK=$(mktemp -d /tmp/raw_verbs_connect.XXXXXX) || die "mktemp failed"
ORIGINAL_ASLR=$(cat "$ASLR_KNOB")
SERVER_PID=
cleanup() {
  echo "$ORIGINAL_ASLR" >"$ASLR_KNOB"
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log "hosts=$HOSTS: server $SERVER_DEV (gid index $SERVER_GID) on $PEER, clients $CLIENT_DEV (gid index $CLIENT_GID), MR $MR_BYTES B, $RUNS runs per ASLR setting"
"$BIN" --server --device="$SERVER_DEV" --gid_index="$SERVER_GID" \
  --listen="$PEER" >"$WORK/server.jsonl" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 300); do
  grep -q '"ready":true' "$WORK/server.jsonl" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '"ready":true' "$WORK/server.jsonl" 2>/dev/null; then
  cat "$WORK/server.err" >&2
  die "the server did not come up"
fi

# run_client ASLR TAG: one fresh client process; appends its JSON line,
# extended with the ASLR setting and its process wall time, to $WORK/TAG.
run_client() {
  local aslr=$1 tag=$2 start end line rc process_us
  start=$EPOCHREALTIME
  line=$("$BIN" --device="$CLIENT_DEV" --gid_index="$CLIENT_GID" \
    --peer="$PEER" --mr_bytes="$MR_BYTES" 2>>"$WORK/client.err")
  rc=$?
  end=$EPOCHREALTIME
  process_us=$(( (${end/./} - ${start/./}) ))
  if [ "${line:0:1}" != "{" ]; then
    line="{\"bench\":\"raw_verbs_connect\",\"role\":\"client\",\"ok\":false,\"error\":\"no output, exit $rc\"}"
  fi
  printf '{"aslr":"%s","process_us":%s,%s\n' "$aslr" "$process_us" "${line:1}" \
    >>"$WORK/$tag"
}

for aslr in on off; do
  if [ "$aslr" = on ]; then echo 2 >"$ASLR_KNOB"; else echo 0 >"$ASLR_KNOB"; fi
  log "ASLR $aslr (randomize_va_space=$(cat "$ASLR_KNOB")): warm-up + $RUNS clients"
  run_client "$aslr" "warmup_$aslr"
  for _ in $(seq "$RUNS"); do
    run_client "$aslr" "runs_$aslr"
  done
  cat "$WORK/runs_$aslr"
done
kill "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
if [ -s "$WORK/client.err" ]; then
  log "client stderr:"
  sed 's/^/  /' "$WORK/client.err" >&2
fi
if grep -q '"ok":false' "$WORK/server.jsonl"; then
  log "server errors:"
  grep '"ok":false' "$WORK/server.jsonl" | sed 's/^/  /' >&2
fi

python3 - "$WORK" "$RUNS" "$HOSTS" "$MR_BYTES" "$SERVER_DEV" "$CLIENT_DEV" <<'EOF'
import json, statistics, sys

work, runs, hosts, mr_bytes, server_dev, client_dev = sys.argv[1:]

def load(name):
    try:
        with open(f"{work}/{name}") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []

def median(values):
    return round(statistics.median(values), 1) if values else None

def summarize(lines):
    ok = [l for l in lines if l.get("ok")]
    steps = {}
    for line in ok:  # Keep the steps in the order the client ran them.
        for step in line["steps_us"]:
            steps.setdefault(step, [])
    for line in ok:
        for step, us in line["steps_us"].items():
            steps[step].append(us)
    totals = [l["total_us"] for l in ok]
    return {
        "total_us": median(totals),
        "steps_us": {step: median(v) for step, v in steps.items()},
        "teardown_us": median([l["teardown_us"] for l in ok]),
        "process_us": median([l["process_us"] for l in ok]),
        "total_us_min": round(min(totals), 1) if totals else None,
        "total_us_max": round(max(totals), 1) if totals else None,
        "ok_runs": len(ok),
        "failures": len(lines) - len(ok),
    }

off = summarize(load("runs_off"))
on = summarize(load("runs_on"))
for setting, part in (("off", off), ("on", on)):
    warmup = load(f"warmup_{setting}")
    part["warmup_total_us"] = (warmup[0].get("total_us")
                               if warmup and warmup[0].get("ok") else None)
server = [l for l in load("server.jsonl") if "conn" in l and l.get("ok")]
server_steps = {}
for line in server:
    for step, us in line["steps_us"].items():
        server_steps.setdefault(step, []).append(us)

summary = {
    "bench": "raw_verbs_connect",
    "total_us": off.pop("total_us"),
    "steps_us": off.pop("steps_us"),
    "teardown_us": off.pop("teardown_us"),
    "process_us": off.pop("process_us"),
    "aslr_off": off,
    "aslr_on": on,
    "runs": int(runs),
    "failures": off["failures"] + on["failures"],
    "hosts": int(hosts),
    "server_device": server_dev,
    "client_device": client_dev,
    "mr_bytes": int(mr_bytes),
    "server_steps_us": {s: median(v) for s, v in server_steps.items()},
    "server_prepare_us": median([l["prepare_us"] for l in server]),
    "note": "medians over fresh client processes; headline = guest ASLR off "
            "(TCG re-translates code per process with ASLR); steps and "
            "total_us are inside the process, process_us is fork to exit",
}
print(json.dumps(summary, separators=(",", ":")))
sys.exit(0 if summary["failures"] == 0 else 1)
EOF
rc=$?
[ $rc -le 1 ] || die "summary failed"
exit $rc
