#!/usr/bin/python3
"""invoke_plot.py: the picture of `tools/bench/run invoke`.

Reads the benchmark's summary (the last line of OUT/invoke.jsonl, written by
tools/bench/invoke.sh in the guest) and draws OUT/invoke.png: end-to-end p50
and p99 latency of one invocation (a verified 4 KiB RDMA WRITE to the other
host) per way of running it, on a log scale, beside the raw-verbs baseline
measured in the same boot.

usage: invoke_plot.py OUT/invoke.jsonl OUT/invoke.png
Needs matplotlib (Debian python3-matplotlib; tools/setup installs it).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as lines:
        summary = json.loads(lines.read().strip().splitlines()[-1])
    bars = [
        # (label, p50 key, p99 key)
        ("raw verbs\n(new process,\nfork to exit)", "raw_new_process_process_us", None),
        ("raw verbs\n(new process's\ncontrol plane)", "raw_new_process_total_us", None),
        ("cold\n(new worker)", "cold_p50_us", "cold_p99_us"),
        ("fork\non demand", "fork_on_demand_p50_us", "fork_on_demand_p99_us"),
        ("fork\nburst", "fork_burst_p50_us", None),
        ("fork\n(spare, paced)", "fork_p50_us", "fork_p99_us"),
        ("warm\n(paced)", "warm_paced_p50_us", None),
        ("warm\n(back to back)", "warm_p50_us", "warm_p99_us"),
    ]
    labels = [label for label, _, _ in bars]
    p50 = [summary.get(key) or 0 for _, key, _ in bars]
    p99 = [summary.get(key) or 0 if key else 0 for _, _, key in bars]
    fig, ax = plt.subplots(figsize=(11, 5))
    xs = range(len(bars))
    ax.bar([x - 0.2 for x in xs], [v / 1000 for v in p50], width=0.4,
           label="p50", color="tab:red")
    ax.bar([x + 0.2 for x in xs], [v / 1000 for v in p99], width=0.4,
           label="p99", color="tab:gray")
    for x, value in zip(xs, p50):
        if value:
            ax.annotate(f"{value / 1000:.1f}", (x - 0.2, value / 1000),
                        ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("ms per invocation (log)")
    ax.set_title("Swift invocations: 4 KiB RDMA WRITE + READ-back to the "
                 "other host\n(Soft-RoCE guest under QEMU TCG, ASLR off; "
                 f"fork_speedup_vs_raw {summary.get('fork_speedup_vs_raw')}x)",
                 fontsize=10)
    ax.legend()
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
