# two_swiftds.sh: sourced by the two-host guest benchmarks (soak.sh,
# overhead.sh) to start what they share: swiftd A on $RXE_A_DEV and swiftd B
# (with function workers) on $RXE_B_DEV, authenticated with a fresh cluster
# secret, as the systemd unit runs them (LimitNOFILE=65536), with new
# processes' ASLR off (under QEMU TCG every new process with ASLR
# re-translates its code: ARCHITECTURE.md); then two connect_bench servers
# on A, the benchmark's service and the "sink" its function writes to.
#
# The caller defines log, die and BIN, calls init_two_swiftds NAME (which
# sets A_IP, B_IP, PORT, WORK, ASLR_KNOB and the array PIDS of what to
# stop), start_two_swiftds (which sets SWIFTD_A, SWIFTD_B, SERVER, SINK),
# and stop_two_swiftds from its cleanup.

init_two_swiftds() {
  A_IP=$RXE_A_IP B_IP=$RXE_B_IP PORT=7471
  WORK=$(mktemp -d "/tmp/$1.XXXXXX") || die "mktemp failed"
  ASLR_KNOB=/proc/sys/kernel/randomize_va_space
  ORIGINAL_ASLR=$(cat "$ASLR_KNOB")
  PIDS=()
}

# stop_two_swiftds SERVICE: stops what was started, restores ASLR, and
# shows the last error lines the swiftds and the two services logged.
stop_two_swiftds() {
  local p f
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  echo "$ORIGINAL_ASLR" >"$ASLR_KNOB"
  for f in swiftd-a.log swiftd-b.log "$1.err" sink.err; do
    if grep -qE '^[EF][0-9]{4}' "$WORK/$f" 2>/dev/null; then
      log "$f: $(grep -cE '^[EF][0-9]{4}' "$WORK/$f") error lines, the last:"
      grep -E '^[EF][0-9]{4}' "$WORK/$f" | tail -3 >&2
    fi
  done
}

wait_socket() { for _ in $(seq 300); do [ -S "$1" ] && return 0; sleep 0.1; done; die "no socket $1"; }
wait_ready() { for _ in $(seq 600); do grep -q ready "$1" && return 0; sleep 0.1; done; die "$1: not ready"; }

# start_two_swiftds SERVICE BACKLOG
start_two_swiftds() {
  local service=$1 backlog=$2
  echo 0 >"$ASLR_KNOB"
  ulimit -n 65536 || die "cannot raise the fd limit"
  (umask 077 && head -c 32 /dev/urandom >"$WORK/peer.key") || die "no peer key"
  local common=(--peer_secret_file="$WORK/peer.key" --peer_allow="$A_IP,$B_IP" --config=)
  # Two hosts in one guest kernel: each swiftd on a CPU of its own, as on two
  # machines (--cpus=auto would put both on the first).
  local b_cpu=$(($(nproc) > 1 ? 1 : 0))
  "$BIN/daemon/swiftd" --socket="$WORK/a.sock" --devices="$RXE_A_DEV" --cpus=0 \
    --peer_address="$A_IP:$PORT" --state_dir="$WORK/state-a" "${common[@]}" \
    2>"$WORK/swiftd-a.log" &
  SWIFTD_A=$!
  "$BIN/daemon/swiftd" --socket="$WORK/b.sock" --devices="$RXE_B_DEV" --cpus="$b_cpu" \
    --peer_address="$B_IP:$PORT" --state_dir="$WORK/state-b" "${common[@]}" \
    --worker_binary="$BIN/daemon/worker/swift_worker" \
    2>"$WORK/swiftd-b.log" &
  SWIFTD_B=$!
  PIDS+=("$SWIFTD_A" "$SWIFTD_B")
  wait_socket "$WORK/a.sock"
  wait_socket "$WORK/b.sock"
  log "swiftd A pid $SWIFTD_A ($RXE_A_DEV), swiftd B pid $SWIFTD_B ($RXE_B_DEV)"
  "$BIN/tools/bench/connect_bench" --role=server --socket="$WORK/a.sock" \
    --service="$service" --backlog="$backlog" >"$WORK/$service.out" \
    2>"$WORK/$service.err" &
  SERVER=$!
  "$BIN/tools/bench/connect_bench" --role=server --socket="$WORK/a.sock" \
    --service=sink --backlog=16 >"$WORK/sink.out" 2>"$WORK/sink.err" &
  SINK=$!
  PIDS+=("$SERVER" "$SINK")
  wait_ready "$WORK/$service.out"
  wait_ready "$WORK/sink.out"
}
