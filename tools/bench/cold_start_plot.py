#!/usr/bin/env python3
"""cold_start_plot: the cold_start benchmark's summary and plot.

Reads the guest's JSON lines (tools/bench/cold_start.sh), prints the
summary as ONE JSON line and draws cold_start.png: per variant, the median
in-process time split into its steps, and the whole-process medians, guest
ASLR off (the headline) and on.

usage: cold_start_plot.py RUNS.jsonl OUT.png
"""
import json
import statistics
import sys

HEADLINE_ASLR = 0
# cold_start.sh's variants; the *_hugepages pair runs with guest ASLR off
# only, after huge pages were reserved for swiftd's leases.
VARIANTS = ("raw", "preload", "libswift", "libswift_dynamic",
            "libswift_nolease", "libswift_nocut", "libswift_serial",
            "raw_hugepages", "libswift_hugepages")


def median_spread(values):
    """Median and the interquartile range [p25, p75] of a list."""
    values = sorted(values)
    if not values:
        return None
    if len(values) < 4:
        return {"median": statistics.median(values), "p25": values[0],
                "p75": values[-1], "n": len(values)}
    q = statistics.quantiles(values, n=4)
    return {"median": statistics.median(values), "p25": q[0], "p75": q[2],
            "n": len(values)}


def ratio(numerator, denominator):
    if not numerator or not denominator or not denominator["median"]:
        return None
    return round(numerator["median"] / denominator["median"], 2)


def main():
    runs, perftest = [], []
    with open(sys.argv[1]) as lines:
        for line in lines:
            line = line.strip()
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            if record.get("kind") == "run" and record.get("round", 0) > 0:
                runs.append(record)
            elif record.get("kind") == "perftest":
                perftest.append(record)

    table = {}
    failures = 0
    for aslr in (0, 2):
        for name in VARIANTS:
            chosen = [r for r in runs if r["name"] == name and r["aslr"] == aslr]
            ok = [r for r in chosen if r.get("ok") and r.get("exit_code") == 0]
            failures += len(chosen) - len(ok)
            if not ok:
                continue
            steps = {}
            for step in ok[0].get("steps_us", {}):
                steps[step] = median_spread([r["steps_us"][step] for r in ok])
            entry = {
                "main_us": median_spread([r["main_us"] for r in ok]),
                "whole_us": median_spread([r["whole_us"] for r in ok]),
                "providers_mapped": statistics.median(r["providers"] for r in ok),
                "steps_us": steps,
            }
            # libswift's swiftd half, on a thread beside steps_us (not
            # stacked with them: they overlap).
            if "beside_us" in ok[0]:
                entry["beside_us"] = {
                    step: median_spread([r["beside_us"][step] for r in ok])
                    for step in ok[0]["beside_us"]}
            if "leased" in ok[0]:
                # libswift: how many runs got their buffer from a lease (on
                # huge pages) and their port address from swiftd's hello,
                # and the shared libraries the process mapped.
                entry["leased_runs"] = sum(r["leased"] for r in ok)
                entry["hugepage_runs"] = sum(r["hugepage"] for r in ok)
                entry["port_from_swiftd_runs"] = sum(
                    r["port_from_swiftd"] for r in ok)
                entry["shared_libraries"] = statistics.median(
                    r["shared_libraries"] for r in ok)
            table[f"{name}_aslr{aslr}"] = entry
        for name in ("plain", "preload"):
            ok = [p for p in perftest
                  if p["name"] == name and p["aslr"] == aslr and p["ok"]]
            failures += len([p for p in perftest if p["name"] == name and
                             p["aslr"] == aslr and not p["ok"]])
            if ok:
                table[f"perftest_{name}_aslr{aslr}"] = {
                    "startup_to_result_us": median_spread(
                        [p["startup_to_result_us"] for p in ok]),
                    "t_typical_us": median_spread(
                        [p["t_typical_us"] for p in ok]),
                }

    def get(key, field, aslr=HEADLINE_ASLR):
        return table.get(f"{key}_aslr{aslr}", {}).get(field)

    summary = {
        "bench": "cold_start",
        "headline_guest_aslr": "off",
        "speedup_libswift": ratio(get("raw", "main_us"), get("libswift", "main_us")),
        "speedup_libswift_whole_process": ratio(get("raw", "whole_us"),
                                                get("libswift", "whole_us")),
        "speedup_preload": ratio(get("raw", "whole_us"), get("preload", "whole_us")),
        "speedup_preload_in_process": ratio(get("raw", "main_us"),
                                            get("preload", "main_us")),
        "perftest_startup_speedup_preload": ratio(
            get("perftest_plain", "startup_to_result_us"),
            get("perftest_preload", "startup_to_result_us")),
        "perftest_latency_ratio_preload": ratio(
            get("perftest_preload", "t_typical_us"),
            get("perftest_plain", "t_typical_us")),
        "provider_cut_share_libswift": ratio(get("libswift_nocut", "main_us"),
                                             get("libswift", "main_us")),
        # Each cut alone: the variant without it against libswift (>1: the
        # cut helps), in-process for the lease, whole process for linking.
        "lease_cut_share_libswift": ratio(get("libswift_nolease", "main_us"),
                                          get("libswift", "main_us")),
        "overlap_cut_share_libswift": ratio(get("libswift_serial", "main_us"),
                                            get("libswift", "main_us")),
        "static_link_cut_share_whole_process": ratio(
            get("libswift_dynamic", "whole_us"), get("libswift", "whole_us")),
        "speedup_libswift_dynamic_link": ratio(get("raw", "main_us"),
                                               get("libswift_dynamic", "main_us")),
        "speedup_libswift_whole_process_dynamic_link": ratio(
            get("raw", "whole_us"), get("libswift_dynamic", "whole_us")),
        # Huge pages reserved for swiftd's leases (guest ASLR off).
        "speedup_libswift_hugepage_leases": ratio(
            get("raw_hugepages", "main_us"), get("libswift_hugepages", "main_us")),
        "speedup_libswift_whole_process_hugepage_leases": ratio(
            get("raw_hugepages", "whole_us"),
            get("libswift_hugepages", "whole_us")),
        "aslr_on": {
            "speedup_libswift": ratio(get("raw", "main_us", 2),
                                      get("libswift", "main_us", 2)),
            "speedup_libswift_whole_process": ratio(
                get("raw", "whole_us", 2), get("libswift", "whole_us", 2)),
            "speedup_preload": ratio(get("raw", "whole_us", 2),
                                     get("preload", "whole_us", 2)),
        },
        # Not measured by this benchmark yet: cold invocations from a
        # template process are not built (see the invoke benchmark).
        "cold_invoke_speedup_vs_raw": None,
        "failures": failures,
        "variants": table,
    }
    draw(table, sys.argv[2])
    print(json.dumps(summary, sort_keys=True))


def draw(table, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot", file=sys.stderr)
        return
    names = list(VARIANTS)
    fig, axes = plt.subplots(1, 2, figsize=(15, 5))
    for axis, aslr in zip(axes, (0, 2)):
        present = [n for n in names if f"{n}_aslr{aslr}" in table]
        for x, name in enumerate(present):
            entry = table[f"{name}_aslr{aslr}"]
            bottom = 0.0
            for step, stats in entry["steps_us"].items():
                height = stats["median"] / 1000
                axis.bar(x - 0.2, height, 0.4, bottom=bottom, label=None)
                if height > 1:
                    axis.text(x - 0.2, bottom + height / 2, step, ha="center",
                              va="center", fontsize=6)
                bottom += height
            whole = entry["whole_us"]
            axis.bar(x + 0.2, whole["median"] / 1000, 0.4, color="grey",
                     yerr=[[(whole["median"] - whole["p25"]) / 1000],
                           [(whole["p75"] - whole["median"]) / 1000]])
        axis.set_xticks(range(len(present)))
        axis.set_xticklabels(present, fontsize=7, rotation=20)
        axis.set_ylabel("ms (median; left: in-process steps, right: whole process)")
        axis.set_title(f"cold start to a QP in INIT, guest ASLR {'off' if aslr == 0 else 'on'}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
