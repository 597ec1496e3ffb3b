#!/usr/bin/python3
"""wait_modes_plot.py: the summary, table and chart of `tools/bench/run wait_modes`.

usage: wait_modes_plot.py WAIT_MODES_JSONL OUT_DIR

Reads the guest's lines (tools/bench/wait_modes.sh: "point", "idle",
"perftest", "run") and writes OUT_DIR/wait_modes_table.json (per variant
and N: the median over the rounds of each figure, its min and max, and the
per-round values), OUT_DIR/wait_modes.png (p50 and, beside it, p99 latency
against threads, log scales, one line per mode, perftest's ib_send_lat with
and without -e drawn across) and prints the summary as ONE JSON line on
stdout.

Ratios of latencies are taken per round (the variants of a round ran
interleaved, under the same drift), then their median is the headline and
their min..max the spread beside it.
"""
import json
import os
import statistics
import sys

MODES = ("busy_poll", "event", "hybrid", "dispatcher")
COLORS = {"busy_poll": "#d62728", "event": "#1f77b4", "hybrid": "#2ca02c",
          "dispatcher": "#9467bd", "event_ack1": "#17becf"}
# Figures of a point: the line's key (nested ones as "cpu.x").
FIGURES = ("p50_us", "p99_us", "mean_us", "fairness", "rt_per_s", "msgs_per_s", "cpu_us_per_rt",
           "cpu.process_cores", "cpu.app_threads_cores",
           "cpu.other_threads_cores", "cpu.getrusage_user_cores",
           "cpu.getrusage_sys_cores", "cpu.proc_stat_cores",
           "cpu.machine_busy_cores", "pairs_served", "wait_timeouts")
STATS = ("waits", "completions", "sleeps", "events", "ack_calls",
         "spin_hits", "migrations")


def get(line, key):
    for part in key.split("."):
        line = line.get(part) if isinstance(line, dict) else None
    return line


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": round(statistics.median(values), 4),
            "min": round(min(values), 4), "max": round(max(values), 4),
            "n": len(values)}


def median_of(entry, key):
    return (entry.get(key) or {}).get("median") if entry else None


def ratio_per_round(points, a, b, n, key="p50_us"):
    """Per-round a/b of `key` at N=n; the median and spread."""
    ratios = []
    for rnd in sorted({p["round"] for p in points}):
        va = [get(p, key) for p in points
              if p["round"] == rnd and p["variant"] == a and p["threads"] == n]
        vb = [get(p, key) for p in points
              if p["round"] == rnd and p["variant"] == b and p["threads"] == n]
        if va and vb and va[0] is not None and vb[0]:
            ratios.append(va[0] / vb[0])
    return spread(ratios)


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().split("\n")[2], file=sys.stderr)
        return 2
    lines = []
    with open(sys.argv[1]) as f:
        for text in f:
            text = text.strip()
            if text.startswith("{"):
                try:
                    lines.append(json.loads(text))
                except json.JSONDecodeError:
                    pass
    out = sys.argv[2]
    points = [l for l in lines if l.get("kind") == "point" and "p50_us" in l]
    idles = [l for l in lines if l.get("kind") == "idle" and "cpu_pct" in l]
    perftests = [l for l in lines if l.get("kind") == "perftest"]
    runs = [l for l in lines if l.get("kind") == "run"]
    hosts = [l for l in lines if l.get("kind") == "host"]
    problems = [l for l in lines
                if l.get("errors") or l.get("hung") or l.get("kind") == "error"
                or (l.get("kind") == "perftest" and not l.get("ok"))]

    # The table: per variant and N.
    table = {}
    for p in points:
        table.setdefault(p["variant"], {}).setdefault(p["threads"], []).append(p)
    table_out = {}
    for variant, by_n in table.items():
        table_out[variant] = {}
        for n, ps in sorted(by_n.items()):
            ps.sort(key=lambda p: p["round"])
            entry = {k: spread([get(p, k) for p in ps]) for k in FIGURES}
            rts = sum(p.get("round_trips_whole_run") or 0 for p in ps)
            entry["stats_per_round_trip"] = {
                s: round(sum(get(p, "stats." + s) or 0 for p in ps) / rts, 3)
                if rts else None for s in STATS}
            entry["rounds"] = {str(p["round"]): {
                "p50_us": p.get("p50_us"), "p99_us": p.get("p99_us"),
                "rt_per_s": p.get("rt_per_s"),
                "process_cores": get(p, "cpu.process_cores")} for p in ps}
            entry["mode"] = ps[0].get("mode")
            entry["ack_batch"] = ps[0].get("ack_batch")
            table_out[variant][str(n)] = entry
    idle_out = {}
    for mode in sorted({i["mode"] for i in idles}):
        these = [i for i in idles if i["mode"] == mode]
        idle_out[mode] = {
            "waiters": these[0].get("waiters"),
            "cpu_pct": spread([i.get("cpu_pct") for i in these]),
            "getrusage_pct": spread([i.get("getrusage_pct") for i in these]),
            "proc_stat_pct": spread([i.get("proc_stat_pct") for i in these]),
            "app_threads_pct": spread([i.get("app_threads_pct") for i in these]),
            "machine_busy_cores": spread(
                [get(i, "cpu.machine_busy_cores") for i in these]),
            "sleeps": spread([get(i, "stats.sleeps") for i in these]),
        }
    perf_out = {}
    for events in (False, True):
        these = [p for p in perftests if p.get("ok") and p["events"] == events]
        perf_out["events" if events else "poll"] = {
            k: spread([p.get(k) for p in these])
            for k in ("t_typical_us", "t_avg_us", "p99_us", "t_min_us")}

    def p50(variant, n):
        return median_of(table_out.get(variant, {}).get(str(n)), "p50_us")

    def ratio(a, b, n, key="p50_us"):
        r = ratio_per_round(points, a, b, n, key)
        return (r["median"] if r else None), r

    seconds = runs[-1].get("seconds") if runs else None
    summary = {"bench": "wait_modes"}
    for key, (a, b, n) in {
            "dispatcher_vs_event_p50_64": ("dispatcher", "event", 64),
            "hybrid_vs_event_p50_64": ("hybrid", "event", 64),
            "dispatcher_vs_busy_poll_p50_1": ("dispatcher", "busy_poll", 1),
            "dispatcher_vs_event_p50_1": ("dispatcher", "event", 1),
            "dispatcher_vs_event_p50_16": ("dispatcher", "event", 16),
            "dispatcher_vs_event_p50_256": ("dispatcher", "event", 256)}.items():
        summary[key], summary[key + "_spread"] = ratio(a, b, n)
    # Where every sleeping mode keeps both vCPUs busy, the mean latency
    # follows the throughput (Little's law) and p50 alone misleads: the
    # mean, the tail and the rate at 64, per-round ratios as above.
    for figure in ("mean_us", "p99_us", "rt_per_s"):
        key = "dispatcher_vs_event_%s_64" % figure.replace("_us", "")
        summary[key], summary[key + "_spread"] = ratio(
            "dispatcher", "event", 64, figure)
    idle_dispatcher = (idle_out.get("dispatcher") or {}).get("cpu_pct")
    summary["idle_dispatcher_cpu_pct"] = (idle_dispatcher or {}).get("median")
    summary["idle_dispatcher_cpu_pct_spread"] = idle_dispatcher
    summary["idle_cpu_pct"] = {m: (v["cpu_pct"] or {}).get("median")
                               for m, v in idle_out.items()}
    # Batched acks: messages/s with the default batch over one ack per
    # event (> 1: batching helps); the p50 ratio beside it.
    summary["batched_ack_gain"], summary["batched_ack_gain_spread"] = ratio(
        "event", "event_ack1", 16, "msgs_per_s")
    summary["batched_ack_gain_metric"] = (
        "msgs_per_s of event mode at 16 threads, ack_batch=16 over "
        "ack_batch=1, per-round ratio, median over rounds (>1: batching helps)")
    summary["batched_ack_p50_ratio"], _ = ratio("event_ack1", "event", 16)
    goals = {}
    if summary["dispatcher_vs_event_p50_64"] is not None:
        goals["dispatcher_vs_event_p50_64_le_0.2"] = (
            summary["dispatcher_vs_event_p50_64"] <= 0.2)
    if summary["dispatcher_vs_busy_poll_p50_1"] is not None:
        goals["dispatcher_vs_busy_poll_p50_1_le_1.2"] = (
            summary["dispatcher_vs_busy_poll_p50_1"] <= 1.2)
    if summary["idle_dispatcher_cpu_pct"] is not None:
        goals["idle_dispatcher_cpu_pct_lt_5"] = (
            summary["idle_dispatcher_cpu_pct"] < 5)
    summary["goals_met"] = goals
    summary["perftest_send_lat_us"] = median_of(perf_out["poll"], "t_typical_us")
    summary["perftest_send_lat_events_us"] = median_of(
        perf_out["events"], "t_typical_us")
    ns = sorted({p["threads"] for p in points})
    variants = [v for v in MODES + ("event_ack1",) if v in table_out]
    for key, figure in (("p50_us", "p50_us"), ("p99_us", "p99_us"),
                        ("mean_us", "mean_us"), ("fairness", "fairness"),
                        ("rt_per_s", "rt_per_s"),
                        ("cpu_us_per_rt", "cpu_us_per_rt"),
                        ("process_cores", "cpu.process_cores"),
                        ("dispatcher_threads_cores",
                         "cpu.other_threads_cores")):
        summary[key] = {v: {str(n): median_of(table_out[v].get(str(n)), figure)
                            for n in ns if str(n) in table_out[v]}
                        for v in variants}
    summary["latency"] = "one-way = half the round trip (perftest's convention)"
    summary["rounds"] = runs[-1].get("rounds") if runs else None
    summary["guest_seconds"] = seconds
    if hosts:
        summary["host_loadavg"] = {"before": hosts[-1].get("loadavg_before"),
                                   "after": hosts[-1].get("loadavg_after"),
                                   "nproc": hosts[-1].get("nproc")}
    summary["problems"] = len(problems)
    if problems:
        summary["first_problem"] = problems[0].get("first_error") or \
            problems[0].get("error") or "hung"

    with open(os.path.join(out, "wait_modes_table.json"), "w") as f:
        json.dump({"points": table_out, "idle": idle_out, "perftest": perf_out,
                   "run": runs[-1] if runs else None}, f, indent=1)
        f.write("\n")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    # Left: p50, the headline; right: p99, where the modes differ most.
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for ax, figure, perf_key, name in ((axes[0], "p50_us", "t_typical_us",
                                        "p50"),
                                       (axes[1], "p99_us", "p99_us", "p99")):
        for v in variants:
            xs, ys, lo, hi = [], [], [], []
            for n in ns:
                e = (table_out[v].get(str(n)) or {}).get(figure)
                if e:
                    xs.append(n)
                    ys.append(e["median"])
                    lo.append(e["median"] - e["min"])
                    hi.append(e["max"] - e["median"])
            if xs:
                label = v if v != "event_ack1" else "event, ack_batch=1"
                ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3,
                            label=label, color=COLORS.get(v),
                            linestyle=":" if v == "event_ack1" else "-")
        for events, style in ((False, "--"), (True, "-.")):
            value = perf_out["events" if events else "poll"][perf_key]
            if value:
                ax.axhline(value["median"], color="gray", linestyle=style,
                           label="ib_send_lat%s, 1 pair: %.0f us" % (
                               " -e" if events else "", value["median"]))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ns)
        ax.set_xticklabels([str(n) for n in ns])
        ax.set_xlabel("ping-pong pairs (threads per side) on 2 vCPUs")
        ax.set_ylabel("%s latency, us (half the round trip)" % name)
        ax.set_title("%s: medians of %s rounds, bars min..max" % (
            name, summary["rounds"]), fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("CQ wait modes, two-host Soft-RoCE guest (QEMU TCG)",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "wait_modes.png"), dpi=120)
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
