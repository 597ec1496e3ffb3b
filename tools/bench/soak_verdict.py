#!/usr/bin/python3
"""soak_verdict.py: the soak's verdict (is swiftd flat after 100,000
cycles?) from its summary alone, so that a run's figures can be judged again
without running it again:

    python3 tools/bench/soak_verdict.py bench-results/soak/soak.jsonl [--cores N]

(--cores: the guest's CPUs, for a summary that does not record them.)

soak_run.py calls judge() on the summary it builds. What must hold, start
(the baseline after the warm-up) against end (after the last clients and a
settle):
- swiftd A, swiftd B and the worker hold as many fds, apart from peer link
  TCP connections (pooled: at most LINK_POOL_BOUND idle per swiftd);
- threads, by name: Swift's own exactly (swiftd A serves each peer link
  connection with a thread: compared without them); gRPC's executor
  ("default-executo") grows lazily to its cap of 2 per core and never
  shrinks, so it may end anywhere up to that cap; gRPC's other threads
  exactly;
- the verbs objects of each swiftd and of the worker, per process, and the
  connections each swiftd lists; no zombie; the same worker;
- RSS grew by at most max(rss_bound_pct of start, rss_bound_kb), and under
  load the median RSS of the soak's last tenth of samples is within the
  same bound of its first tenth.
The service applications' QPs are reported, not judged: their pools refill
between watermarks.
"""
import json
import sys

# Peer link TCP connections a swiftd may hold when idle: the calling side's
# pool keeps 8 (IdlePool's max_idle) plus the one in use by a late connect.
LINK_POOL_BOUND = 9
# gRPC's executor threads: at most 2 per core (grpc_core::Executor).
GRPC_EXECUTOR = "default-executo"
GRPC_EXECUTOR_PER_CORE = 2


def _threads_by_name(summary, role, when):
    held = (summary.get(f"held_{when}") or {}).get(role) or {}
    return dict(held.get("threads") or {})


def judge(summary, rss_bound_pct=10, rss_bound_kb=4096):
    """The list of what is not flat (empty: flat)."""
    not_flat = []
    cores = summary.get("cores") or 1
    for role in ("a", "b"):
        start = (summary.get(f"{role}_fds_start") or 0) - (summary.get(f"{role}_link_tcp_start") or 0)
        end = (summary.get(f"{role}_fds_end") or 0) - (summary.get(f"{role}_link_tcp_end") or 0)
        if start != end:
            not_flat.append(f"{role}_fds without peer links: {start} -> {end}")
        links = summary.get(f"{role}_link_tcp_end") or 0
        if links > max(LINK_POOL_BOUND, summary.get(f"{role}_link_tcp_start") or 0):
            not_flat.append(f"{role}_link_tcp: {links} > {LINK_POOL_BOUND}")
    for role in ("a", "b", "worker"):
        before = _threads_by_name(summary, role, "start")
        after = _threads_by_name(summary, role, "end")
        if role == "a":  # One thread per peer link connection it serves.
            before["swiftd"] = before.get("swiftd", 0) - (summary.get("a_link_tcp_start") or 0)
            after["swiftd"] = after.get("swiftd", 0) - (summary.get("a_link_tcp_end") or 0)
        for name in sorted(set(before) | set(after)):
            b, e = before.get(name, 0), after.get(name, 0)
            if name == GRPC_EXECUTOR:
                if e > GRPC_EXECUTOR_PER_CORE * cores:
                    not_flat.append(f"{role} threads '{name}': {e} > gRPC's cap "
                                    f"{GRPC_EXECUTOR_PER_CORE * cores}")
            elif b != e:
                not_flat.append(f"{role} threads '{name}': {b} -> {e}")
    for m in ("worker_fds", "zombies", "a_connections", "b_connections", "worker_pid"):
        if summary.get(f"{m}_start") != summary.get(f"{m}_end"):
            not_flat.append(f"{m}: {summary.get(f'{m}_start')} -> {summary.get(f'{m}_end')}")
    per_start = summary.get("verbs_per_process_start") or {}
    per_end = summary.get("verbs_per_process_end") or {}
    for role in ("swiftd_a", "swiftd_b", "worker"):
        if per_start.get(role) != per_end.get(role):
            not_flat.append(f"verbs objects of {role}: {per_start.get(role)} -> {per_end.get(role)}")
    for role in ("a", "b", "worker"):
        start_kb, end_kb = summary.get(f"{role}_rss_kb_start"), summary.get(f"{role}_rss_kb_end")
        if start_kb is None or end_kb is None:
            not_flat.append(f"{role}_rss_kb: not measured")
            continue
        bound = max(start_kb * rss_bound_pct / 100, rss_bound_kb)
        if end_kb - start_kb > bound:
            not_flat.append(f"{role}_rss_kb: {start_kb} -> {end_kb} (> +{bound:.0f} kB)")
        first_kb = summary.get(f"{role}_rss_kb_soak_first_tenth_median")
        last_kb = summary.get(f"{role}_rss_kb_soak_last_tenth_median")
        if first_kb is not None and last_kb is not None:
            bound = max(first_kb * rss_bound_pct / 100, rss_bound_kb)
            if last_kb - first_kb > bound:
                not_flat.append(f"{role}_rss_kb under load: median {first_kb} in the first "
                                f"tenth -> {last_kb} in the last (> +{bound:.0f} kB)")
    return not_flat


def main(argv):
    cores = None
    if len(argv) == 4 and argv[2] == "--cores" and argv[3].isdigit():
        cores = int(argv[3])
    elif len(argv) != 2:
        print("usage: soak_verdict.py SOAK_JSONL [--cores N]", file=sys.stderr)
        return 2
    summary = None
    with open(argv[1]) as f:
        for line in f:
            if '"kind": "summary"' in line:
                summary = json.loads(line)
    if summary is None:
        print(f"{argv[1]}: no summary line", file=sys.stderr)
        return 2
    if cores is not None:
        summary.setdefault("cores", cores)
    config = summary.get("config") or {}
    not_flat = judge(summary, config.get("rss_bound_pct", 10), config.get("rss_bound_kb", 4096))
    print(json.dumps({"flat": not not_flat, "not_flat": not_flat,
                      "cycles": summary.get("cycles")}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
