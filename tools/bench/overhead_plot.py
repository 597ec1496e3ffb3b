#!/usr/bin/python3
"""overhead_plot.py: the chart of `tools/bench/run overhead`.

usage: overhead_plot.py OVERHEAD_JSONL OUT_PNG

Reads the summary (the last line) and draws, per operation (connect, warm,
fork), the CPU per 1,000 operations/s as percent of one core, medians over
the rounds: the control plane split into swiftd and its workers (the
function's own body apart), beside the application's (client and servers),
on a log scale with the issue's goal (3%) drawn across.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().split("\n")[2], file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        lines = [line for line in f if line.strip().startswith("{")]
    summary = json.loads(lines[-1])
    table = summary["table"]
    modes = [m for m in ("connect", "warm", "fork") if m in table]
    med = lambda m, k: (table[m].get(k) or {}).get("median") or 0
    parts = [
        ("swiftd (A + B)", "swiftd_pct_per_1000_per_s", "#1f77b4"),
        ("workers, without the function", "workers_excl_function_pct_per_1000_per_s", "#aec7e8"),
    ]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    x = range(len(modes))
    bottom = [0.0] * len(modes)
    for label, key, color in parts:
        values = [max(0.0, med(m, key)) for m in modes]
        ax.bar([i - 0.2 for i in x], values, 0.38, bottom=bottom, label=label, color=color)
        bottom = [b + v for b, v in zip(bottom, values)]
    # The function's body runs in the worker (in the headline figure);
    # from the medians of its time and of the rate.
    function = [med(m, "function_pct") / (med(m, "achieved_per_s") / 1000.0)
                if med(m, "achieved_per_s") else 0.0 for m in modes]
    ax.bar([i - 0.2 for i in x], function, 0.38, bottom=bottom,
           label="the function's body (in the worker)", color="#c5b0d5")
    app = [med(m, "app_pct_per_1000_per_s") for m in modes]
    ax.bar([i + 0.2 for i in x], app, 0.38, label="application (client + servers)",
           color="#ff7f0e")
    ax.axhline(summary.get("goal_pct_per_1000_per_s", 3.0), color="red", linestyle="--",
               label="goal: 3% of a core per 1,000/s")
    ax.set_yscale("log")
    ax.set_xticks(list(x))
    ax.set_xticklabels([f"{m}\n{med(m, 'achieved_per_s'):.0f}/s" for m in modes])
    ax.set_ylabel("% of one core per 1,000 operations/s")
    ax.set_title("Control-plane CPU (guest, QEMU TCG; medians of "
                 f"{summary.get('rounds')} rounds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
