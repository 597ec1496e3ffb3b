#!/usr/bin/python3
"""connect_plot.py: the host side of `tools/bench/run connect`.

Reads what the guest printed (tools/bench/connect.sh: JSON lines, the guest
summary last) and the host's control_rtt line, and
  * splits the guest's lines by kind into OUT/<kind>.jsonl (raw results),
  * merges the host figures (fastpath_ping_p50_us_host, grpc_ping_p50_us_host)
    and the guest's wall time into the summary (every other key of the
    guest's summary as it is, the per-variant table last),
  * plots OUT/connect.png: p50 latency and connections per second against
    concurrent clients, log scales, one line per variant (Swift from the
    pre-connected pool and by a full handshake apart), at one client with
    the spread of the per-round medians,
  * prints the merged summary as ONE JSON line on stdout.

usage: connect_plot.py --guest OUT/connect.jsonl --host OUT/control_rtt_host.json
                       [--guest_stderr OUT/guest.stderr] --out OUT
Needs matplotlib (Debian python3-matplotlib; tools/setup installs it).
"""
import argparse
import json
import os
import re
import sys

VARIANTS = [
    # (table key, label, style)
    ("swift_pool", "Swift from the pre-connected pool (T>1: Prewarm 64, rest handshakes)",
     {"color": "tab:orange", "marker": "*", "markersize": 10, "linewidth": 2.5}),
    ("swift", "Swift, full handshake (swiftd brokered, warm process)",
     {"color": "tab:red", "marker": "o", "linewidth": 2.5}),
    ("raw_warm", "raw verbs, warm process (CQ+QP+TCP per conn.)",
     {"color": "tab:blue", "marker": "s"}),
    ("raw_new_process", "raw verbs, new process (ASLR off)",
     {"color": "tab:green", "marker": "^"}),
    ("raw_new_process_aslr_on", "raw verbs, new process (ASLR on: TCG artefact)",
     {"color": "tab:green", "marker": "v", "linestyle": "--", "alpha": 0.6}),
    ("rdma_cm", "rdma_cm cmtime (no WRITE; batch of c=T)",
     {"color": "tab:purple", "marker": "D", "linestyle": ":"}),
]


def read_json_lines(path):
    lines = []
    with open(path) as f:
        for text in f:
            text = text.strip()
            if not text.startswith("{"):
                continue
            try:
                lines.append(json.loads(text))
            except ValueError:
                pass
    return lines


def guest_wall(path):
    """The harness's timing line: boot-to-command, command and total seconds."""
    if not path or not os.path.exists(path):
        return {}
    found = {}
    with open(path, errors="replace") as f:
        for line in f:
            m = re.search(r"rxe-vm: .*boot-to-command ([\d.]+)s.*command ([\d.]+)s, "
                          r"total ([\d.]+)s, exit code (\d+)", line)
            if m:
                found = {"guest_boot_s": float(m.group(1)),
                         "guest_command_s": float(m.group(2)),
                         "guest_wall_s": float(m.group(3)),
                         "guest_exit_code": int(m.group(4))}
    return found


def plot(table, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (lat, rate) = plt.subplots(1, 2, figsize=(14, 5.8))
    threads_seen = set()
    for key, label, style in VARIANTS:
        rows = table.get(key) or {}
        points = sorted((int(t), row) for t, row in rows.items())
        lat_points = [(t, row["p50_us"] / 1000) for t, row in points if row.get("p50_us")]
        rate_points = [(t, row["conn_per_s"]) for t, row in points if row.get("conn_per_s")]
        threads_seen.update(t for t, _ in points)
        if lat_points:
            lat.plot(*zip(*lat_points), label=label, **style)
        # At one client: the spread (p25..p75) of the per-round medians.
        one = rows.get("1") or {}
        if one.get("p50_us") and one.get("round_p50_p25_us") is not None:
            lat.errorbar([1], [one["p50_us"] / 1000],
                         yerr=[[(one["p50_us"] - one["round_p50_p25_us"]) / 1000],
                               [(one["round_p50_p75_us"] - one["p50_us"]) / 1000]],
                         color=style["color"], capsize=4, linewidth=1)
        if rate_points:
            rate.plot(*zip(*rate_points), label=label, **style)
    ticks = sorted(threads_seen)
    for ax in (lat, rate):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(t) for t in ticks])
        ax.minorticks_off()
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xlabel("concurrent clients T (threads, processes, or cmtime batch c)")
    lat.set_ylabel("p50 time to a connected QP + verified 64 B WRITE (ms)")
    lat.set_title("Connection latency (p50; T=1: median of per-round medians, bars p25..p75)")
    rate.set_ylabel("connections per second")
    rate.set_title("Connection rate")
    handles, labels = lat.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8.5,
               frameon=False)
    fig.suptitle("Swift vs raw verbs vs rdma_cm, interleaved in rounds in one boot: rxeB -> rxeA "
                 "in the Soft-RoCE guest (QEMU TCG, 2 vCPUs, guest ASLR off unless marked)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--guest", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--guest_stderr")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    lines = read_json_lines(args.guest)
    summaries = [l for l in lines if l.get("kind") == "summary"]
    if not summaries:
        print("connect_plot: the guest printed no summary", file=sys.stderr)
        return 1
    summary = summaries[-1]

    by_kind = {}
    for line in lines:
        by_kind.setdefault(line.get("kind", "unknown"), []).append(line)
    for kind, rows in by_kind.items():
        if kind == "summary":
            continue
        with open(os.path.join(args.out, f"{kind}.jsonl"), "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")

    host = read_json_lines(args.host)
    host = host[-1] if host else {}
    merged = {"bench": "connect"}
    for key, value in summary.items():
        if key in ("kind", "bench", "table", "notes", "problems"):
            continue
        merged[key] = value
        if key == "grpc_ping_p99_us_guest":
            merged["fastpath_ping_p50_us_host"] = host.get("fastpath_ping_p50_us_host")
            merged["grpc_ping_p50_us_host"] = host.get("grpc_ping_p50_us_host")
            merged["fastpath_ping_p99_us_host"] = host.get("ping_fastpath_p99_us")
            merged["grpc_ping_p99_us_host"] = host.get("ping_grpc_p99_us")
    for key, value in (
            ("fastpath_ping_p50_us_host", host.get("fastpath_ping_p50_us_host")),
            ("grpc_ping_p50_us_host", host.get("grpc_ping_p50_us_host")),
            ("fastpath_ping_p99_us_host", host.get("ping_fastpath_p99_us")),
            ("grpc_ping_p99_us_host", host.get("ping_grpc_p99_us"))):
        merged.setdefault(key, value)
    merged.update(guest_wall(args.guest_stderr))
    png = os.path.join(args.out, "connect.png")
    plot(summary["table"], png)
    merged["plot"] = os.path.relpath(png)
    merged["problems"] = summary.get("problems", [])
    merged["notes"] = summary.get("notes")
    merged["table"] = summary["table"]
    print(json.dumps(merged, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
