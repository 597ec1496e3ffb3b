#!/bin/bash
# invoke.sh: the serverless invocation benchmark, run INSIDE the two-host
# Soft-RoCE guest by `tools/bench/run invoke` (from the workspace root).
#
# Host A (rxeA): swiftd A and a sink service (connect_bench --role=server).
# Host B (rxeB): swiftd B with function workers; invoke_bench registers
# write_function.so (one 4 KiB RDMA WRITE to the sink, read back and
# compared) and times fork, warm and cold invocations end to end. Beside
# it, in the same boot: the raw-verbs baseline (raw_verbs_connect.sh: new
# processes doing the whole control plane and a verified 4 KiB WRITE) and
# fork_latency (a forked child's data-plane latency against its parent's),
# and wake_cost (the platform's price for waking an idle process).
# Then cold against raw in interleaved rounds: each round one fresh
# raw-verbs client process (a raw_verbs_connect server on host A, the
# client on host B, fork to exit) and one COLD invocation, so that both
# meet the same machine: cold_invoke_speedup_vs_raw is the raw process's
# median over the COLD invocation's median. swiftd B serves COLD from its
# cold template (--cold_template_idle_timeout, on by default); the first
# COLD invocation starts the template (cold_first_us).
# INVOKE_QUICK=1: few invocations of each kind (a smoke run).
#
# usage: tools/bench/invoke.sh OPT_BAZEL_BIN
# Output: the parts' JSON lines, then the summary as the LAST line.
set -uo pipefail
BIN=$1
A_IP=$RXE_A_IP B_IP=$RXE_B_IP PORT=7471
WORK=$(mktemp -d /tmp/invoke.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
log() { echo "[invoke] $*" >&2; }
wait_socket() { for _ in $(seq 300); do [ -S "$1" ] && return 0; sleep 0.1; done; log "no socket $1"; exit 1; }

# Headline numbers with guest ASLR off: with it on, QEMU re-translates the
# code of every new process (an emulator artefact, see ARCHITECTURE.md).
echo 0 >/proc/sys/kernel/randomize_va_space

# Both swiftds hold the cluster's secret and allow only each other.
(umask 077 && head -c 32 /dev/urandom >"$WORK/peer.key") || exit 1
PEER_AUTH=(--peer_secret_file="$WORK/peer.key" --peer_allow="$A_IP,$B_IP")
# Two hosts in one guest kernel: each swiftd on a CPU of its own, as on two
# machines (--cpus=auto would put both on the first).
B_CPU=$(($(nproc) > 1 ? 1 : 0))
"$BIN/daemon/swiftd" --socket="$WORK/a.sock" --devices="$RXE_A_DEV" --cpus=0 \
  --peer_address="$A_IP:$PORT" "${PEER_AUTH[@]}" 2>"$WORK/swiftd-a.log" &
PIDS+=($!)
# The benchmark's functions are kept in its own scratch state directory.
"$BIN/daemon/swiftd" --socket="$WORK/b.sock" --devices="$RXE_B_DEV" \
  --cpus="$B_CPU" --peer_address="$B_IP:$PORT" "${PEER_AUTH[@]}" \
  --worker_binary="$BIN/daemon/worker/swift_worker" \
  --state_dir="$WORK/state" \
  2>"$WORK/swiftd-b.log" &
PIDS+=($!)
wait_socket "$WORK/a.sock"
wait_socket "$WORK/b.sock"
"$BIN/tools/bench/connect_bench" --role=server --socket="$WORK/a.sock" \
  --service=sink --backlog=16 >"$WORK/sink.out" 2>"$WORK/sink.log" &
PIDS+=($!)
for _ in $(seq 300); do grep -q ready "$WORK/sink.out" && break; sleep 0.1; done
# The raw baseline's server for the interleaved rounds (host A).
RAW_PORT=18617
"$BIN/tools/bench/raw_verbs_connect" --server --device="$RXE_A_DEV" \
  --gid_index="$RXE_A_GID_INDEX" --listen="$A_IP:$RAW_PORT" \
  >"$WORK/raw_server.jsonl" 2>"$WORK/raw_server.err" &
PIDS+=($!)
for _ in $(seq 300); do grep -q '"ready":true' "$WORK/raw_server.jsonl" && break; sleep 0.1; done
RAW_CLIENT="$BIN/tools/bench/raw_verbs_connect,--device=$RXE_B_DEV,--gid_index=$RXE_B_GID_INDEX,--peer=$A_IP:$RAW_PORT,--mr_bytes=4096"
if [ "${INVOKE_QUICK:-0}" = 1 ]; then
  COUNTS=(--fork=20 --warm=20 --cold=3 --rounds=3)
else
  COUNTS=(--fork=200 --warm=200 --cold=10 --rounds=20)
fi

log "invocations: fork, warm, cold (4 KiB WRITE + READ-back each), then cold and raw interleaved"
INVOKE=$(timeout 900 "$BIN/tools/bench/invoke_bench" --socket="$WORK/b.sock" \
  --library="$BIN/tools/bench/write_function.so" --connect="$A_IP:$PORT/sink" \
  "${COUNTS[@]}" --raw_client="$RAW_CLIENT" | tail -1)
echo "$INVOKE"
kill "${PIDS[@]}" 2>/dev/null
wait 2>/dev/null
PIDS=()

log "the platform's wake-up cost: two processes, back to back and paced 250 ms"
WAKE=$(timeout 300 "$BIN/tools/bench/wake_cost" --interval_ms=250 \
  --paced="$([ "${INVOKE_QUICK:-0}" = 1 ] && echo 5 || echo 40)" | tail -1)
echo "$WAKE"

log "raw-verbs baseline: fresh processes, 4 KiB MR"
RAW=$(RAW_VERBS_CONNECT_PORT=18616 timeout 900 tools/bench/raw_verbs_connect.sh \
  --runs "$([ "${INVOKE_QUICK:-0}" = 1 ] && echo 2 || echo 10)" --mr_bytes 4096 "$BIN/tools/bench/raw_verbs_connect" 2>"$WORK/raw.log" | tail -1)
echo "$RAW"

log "data-plane latency: forked child against its parent"
FORK_LAT=$(timeout 600 "$BIN/tools/bench/fork_latency" --device="$RXE_A_DEV" \
  --gid_index="$RXE_A_GID_INDEX" 2>"$WORK/fork_latency.log" | tail -1)
echo "$FORK_LAT"

python3 - "$INVOKE" "$RAW" "$FORK_LAT" "$WAKE" <<'PY'
import json, sys
invoke, raw, fork_lat, wake = (json.loads(a) for a in sys.argv[1:5])
raw_total = raw["total_us"]
rounds = invoke.get("rounds", {})
raw_process = raw.get("process_us") or raw.get("steps_us", {}).get("process_us")
def ratio(a, b):
    return round(a / b, 2) if a and b else None
summary = {
    "bench": "invoke",
    "payload_bytes": invoke["payload_bytes"],
    "raw_new_process_total_us": raw_total,
    "raw_new_process_process_us": raw_process,
    # fork: requests arriving fork_interval_ms apart, each finding a spare
    # (a child forked and prefaulted before it arrived); fork_on_demand:
    # the same function without spares (fork() on arrival); fork_burst:
    # back to back (spares are not refilled during a burst).
    "fork_interval_ms": invoke["fork_interval_ms"],
    "fork_p50_us": invoke["fork"]["p50_us"], "fork_p99_us": invoke["fork"]["p99_us"],
    "fork_per_s": invoke["fork"]["per_s"],
    "fork_served_by_spare": invoke["fork"]["spare"],
    # Of those, straight to a spare that held the caller's channel.
    "fork_parked": invoke["fork"]["parked"],
    "fork_breakdown_p50_us": {k: invoke["fork"][k] for k in ("server_p50_us", "worker_p50_us", "function_p50_us")},
    "fork_on_demand_p50_us": invoke["fork_on_demand"]["p50_us"],
    "fork_on_demand_p99_us": invoke["fork_on_demand"]["p99_us"],
    "fork_on_demand_per_s": invoke["fork_on_demand"]["per_s"],
    "fork_on_demand_breakdown_p50_us": {k: invoke["fork_on_demand"][k] for k in ("server_p50_us", "worker_p50_us", "function_p50_us")},
    "fork_burst_p50_us": invoke["fork_burst"]["p50_us"],
    "fork_burst_per_s": invoke["fork_burst"]["per_s"],
    "warm_breakdown_p50_us": {k: invoke["warm"][k] for k in ("server_p50_us", "worker_p50_us", "function_p50_us")},
    "warm_p50_us": invoke["warm"]["p50_us"], "warm_p99_us": invoke["warm"]["p99_us"],
    # Warm arriving fork_interval_ms apart, like fork: what an idle
    # machine adds to any invocation (the control for fork_p50_us).
    "warm_paced_p50_us": invoke["warm_paced"]["p50_us"],
    "warm_paced_breakdown_p50_us": {k: invoke["warm_paced"][k] for k in ("server_p50_us", "worker_p50_us", "function_p50_us")},
    "fork_vs_warm_paced": ratio(invoke["fork"]["p50_us"], invoke["warm_paced"]["p50_us"]),
    "warm_per_s": invoke["warm"]["per_s"],
    "cold_p50_us": invoke["cold"]["p50_us"], "cold_p99_us": invoke["cold"]["p99_us"],
    "cold_per_s": invoke["cold"]["per_s"],
    "worker_startup_us": invoke["worker_startup_us"],
    # The first COLD invocation: it starts the tenant's cold template.
    "cold_first_us": invoke["cold"].get("first_us"),
    # Interleaved rounds: one raw-verbs new process (fork to exit), then
    # one COLD invocation (as its caller sees it), N times.
    "cold_vs_raw_rounds": rounds,
    "cold_invoke_speedup_vs_raw": ratio(rounds.get("raw_process_p50_us"), rounds.get("cold_p50_us")),
    "cold_invoke_speedup_vs_raw_inprocess": ratio(rounds.get("raw_inprocess_p50_us"), rounds.get("cold_p50_us")),
    "fork_speedup_vs_raw": ratio(raw_total, invoke["fork"]["p50_us"]),
    "warm_speedup_vs_raw": ratio(raw_total, invoke["warm"]["p50_us"]),
    "cold_speedup_vs_raw": ratio(raw_total, invoke["cold"]["p50_us"]),
    "fork_speedup_vs_raw_process": ratio(raw_process, invoke["fork"]["p50_us"]),
    "fork_on_demand_speedup_vs_raw": ratio(raw_total, invoke["fork_on_demand"]["p50_us"]),
    "spare_speedup_vs_fork_on_demand": ratio(invoke["fork_on_demand"]["p50_us"], invoke["fork"]["p50_us"]),
    "parent_write_p50_us": fork_lat.get("parent_write_p50_us"),
    "child_write_p50_us": fork_lat.get("child_write_p50_us"),
    "child_vs_parent_latency_ratio": fork_lat.get("child_vs_parent_latency_ratio"),
    # The platform's floor under a paced request (tools/bench/wake_cost.cc):
    # one round trip between two plain processes, back to back and after
    # the same pause as `fork`; and what a paced FORK costs in such round
    # trips (it crosses the client, the worker, the instance and the
    # function's peer host, each idle since the last request).
    "wake_round_trip_back_to_back_p50_us": wake["back_to_back_p50_us"],
    # The first half of each burst after the pause: still slow.
    "wake_round_trip_after_pause_p50_us": wake["after_pause_p50_us"],
    "wake_round_trip_paced_p50_us": wake["paced_p50_us"],
    "wake_round_trip_paced_p10_p90_us": [wake["paced_p10_us"], wake["paced_p90_us"]],
    "fork_in_paced_round_trips": ratio(invoke["fork"]["p50_us"], wake["paced_p50_us"]),
    "failed": sum(invoke[m]["failed"] for m in ("fork", "fork_burst", "fork_on_demand", "warm", "warm_paced", "cold"))
              + rounds.get("raw_failed", 0) + rounds.get("cold_failed", 0),
    "aslr": "off",
}
print(json.dumps(summary))
PY
