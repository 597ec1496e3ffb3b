#!/usr/bin/python3
"""soak_plot.py: the CSV and the picture of `tools/bench/run soak`.

Reads the guest's output (OUT/soak.jsonl: one "sample" line a second, the
summary last, written by tools/bench/soak.sh), writes OUT/soak.csv (one row
per sample) and draws OUT/soak.png: over time, for swiftd A, swiftd B and
the function's worker, open fds, RSS and threads; the kernel's verbs objects
(qp, cq, mr, pd, both devices); cycles done, errors and live clients. The
baseline and the end (after the settle) are marked.

usage: soak_plot.py OUT/soak.jsonl OUT/soak.csv OUT/soak.png
Needs matplotlib (Debian python3-matplotlib; tools/setup installs it).
"""
import csv
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROLES = (("a", "swiftd A"), ("b", "swiftd B"), ("worker", "worker (B)"))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    samples, summary = [], {}
    with open(sys.argv[1]) as lines:
        for line in lines:
            line = line.strip()
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            if row.get("kind") == "sample":
                samples.append(row)
            elif row.get("kind") == "summary":
                summary = row
    if not samples:
        sys.exit("soak_plot.py: no samples in " + sys.argv[1])
    columns = [k for k in samples[0] if k != "kind"]
    with open(sys.argv[2], "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(samples)

    t = [s["t_s"] for s in samples]
    fig, axes = plt.subplots(5, 1, figsize=(11, 14), sharex=True)

    def series(key, scale=1.0):
        return [s[key] / scale if s.get(key) is not None else float("nan")
                for s in samples]

    for ax, key, label, scale in ((axes[0], "fds", "open fds", 1),
                                  (axes[1], "rss_kb", "RSS (MiB)", 1024),
                                  (axes[2], "threads", "threads", 1)):
        for role, name in ROLES:
            ax.plot(t, series(f"{role}_{key}", scale), label=name)
        ax.set_ylabel(label)
        ax.legend(loc="upper left", fontsize=8)
    # QPs and CQs number in the hundreds (pools), MRs and PDs a few: two axes.
    for kind in ("qp", "cq"):
        axes[3].plot(t, series(kind), label=kind)
    axes[3].set_ylabel("QPs, CQs\n(both devices)")
    axes[3].legend(loc="upper left", fontsize=8)
    small = axes[3].twinx()
    for kind, color in (("mr", "tab:green"), ("pd", "tab:red"), ("instances", "tab:purple")):
        small.plot(t, series(kind), label=kind, color=color, linestyle=":")
    small.set_ylabel("MRs, PDs, instances")
    small.legend(loc="upper right", fontsize=8)
    axes[4].plot(t, series("cycles", 1000), label="cycles (thousands)")
    axes[4].plot(t, series("clients_live"), label="live clients")
    axes[4].plot(t, series("errors_survivors"), label="errors (surviving clients)")
    axes[4].plot(t, series("clients_killed"), label="clients killed")
    axes[4].set_ylabel("progress")
    axes[4].set_xlabel("seconds since the soak's driver started")
    axes[4].legend(loc="upper left", fontsize=8)
    # Where the soak starts (baseline) and where the settle after it starts.
    marks = {}
    for s in samples:
        marks.setdefault(s["phase"], s["t_s"])
    for ax in axes:
        ax.grid(alpha=0.3)
        for phase, style in (("soak", "--"), ("end", ":")):
            if phase in marks:
                ax.axvline(marks[phase], color="gray", linestyle=style)
    flat = summary.get("flat")
    fig.suptitle(
        f"Swift soak: {summary.get('cycles')} cycles (connect {summary.get('connect_cycles')}, "
        f"invoke {summary.get('invoke_cycles')}), {summary.get('clients_started')} clients, "
        f"{summary.get('clients_killed')} SIGKILLed, {summary.get('errors')} errors of "
        f"survivors\nflat: {flat}   (dashed: baseline / soak start; dotted: all clients "
        "gone, settle)\nSoft-RoCE two-host guest under QEMU TCG", fontsize=10)
    fig.tight_layout()
    fig.savefig(sys.argv[3], dpi=100)


if __name__ == "__main__":
    main()
