#!/usr/bin/python3
"""soak_run.py: the soak's driver and sampler, run INSIDE the two-host guest
by tools/bench/soak.sh once swiftd A, swiftd B, the services and the function
are up.

Starts soak_client processes (--clients at a time, each running --batch
cycles of connect/close, fork and warm invocations, then exiting) until
--cycles cycles have finished, SIGKILLs about --kill_rate of them at a
random point of their run, and samples once a second, for swiftd A, swiftd B
and the function's worker: open fds (/proc/PID/fd), VmRSS and Threads
(/proc/PID/status), plus the kernel's verbs objects per device (`rdma -j
resource show`: qp, cq, mr, pd) and cycles and errors so far (what is
read, and how: soak_sampler.py).

Phases: warm-up (--warmup_cycles cycles of the soak's own mix, clients
killed alike, then one short round with no kills), settle, baseline (the
sample before the first soak client starts), soak, the same short round,
settle again (until the counts are back at the baseline, at most
--settle_s), end. The warm-up runs the full load first because state that
grows with peak concurrency and then stays (a client's pool of fast-path
connections, gRPC's executor threads, malloc's per-thread arenas) is not
a leak; what the soak must show is that 100,000 cycles on top of it add
nothing.

Verdict ("flat"): soak_verdict.py, which can also judge a saved run again.

Output (stdout): one JSON line per sample ("kind": "sample"), then the
summary as the LAST line ("kind": "summary"). Progress goes to stderr.
Exit code 0 when the soak ran (flat or not: the verdict is in the summary),
2 when it could not.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time

from soak_sampler import (VERBS, children, comm, describe, proc_stats, swiftd_connections,
                          tcp_sockets, tcp_states, verbs_per_device, verbs_per_process,
                          zombie)
from soak_verdict import judge



def log(message):
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr,
          flush=True)


def is_cycle(line):
    """A client's line for a finished cycle (succeeded or failed)."""
    return line[:2] in ("C ", "F ", "W ") or (line[:2] == "E " and line[2:3] in ("C", "F", "W"))


class Client:
    def __init__(self, number, batch, slot, kill_after, out_path):
        self.number, self.batch, self.slot = number, batch, slot
        # Cycles after which to SIGKILL it (None: never), plus a random
        # delay so the kill lands inside a cycle, not between two.
        self.kill_after = kill_after
        self.kill_at = None
        self.out_path = out_path
        self.offset = 0
        self.lines = []
        self.popen = None
        self.killed = False


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.pids = {"a": args.swiftd_a, "b": args.swiftd_b}
        self.start = time.monotonic()
        self.samples = []
        self.counts = {"C": 0, "F": 0, "W": 0}
        self.errors = {"survivors": {}, "killed": {}}
        self.error_count = {"survivors": 0, "killed": 0}
        self.started = self.killed = self.exited_nonzero = 0
        self.counting = False
        self.finished = 0  # Cycles finished by clients that exited, all phases.
        self.soak_begin = 0
        self.soak_cycles = 0  # Cycles of the soak phase, once it is over.
        self.free_slots = list(range(1, 1 + max(64, args.clients)))
        self.number = 0
        self.live = []
        self.setup_failures = 0
        self.latency_us = {"C": [], "F": [], "W": []}

    # ---- clients ------------------------------------------------------
    def spawn(self, batch, kill_rate):
        self.number += 1
        slot = self.free_slots.pop(0)
        kill_after = None
        if self.rng.random() < kill_rate:
            kill_after = self.rng.randint(0, max(0, batch - 1))
        c = Client(self.number, batch, slot, kill_after,
                   os.path.join(self.args.work, f"client.{self.number}.out"))
        a = self.args
        with open(c.out_path, "wb") as out, open(a.client_log, "ab") as err:
            c.popen = subprocess.Popen(
                [a.client, "--role=client", f"--socket={a.b_sock}",
                 f"--host={a.host}", f"--service={a.service}",
                 f"--function={a.function}", f"--cycles={batch}",
                 f"--slot={slot}", f"--seed={self.rng.getrandbits(62) + 1}",
                 f"--connect_weight={a.connect_weight}",
                 f"--fork_weight={a.fork_weight}",
                 f"--warm_weight={a.warm_weight}"],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        if kill_after == 0:
            c.kill_at = time.monotonic() + self.rng.uniform(0, 0.3)
        self.live.append(c)
        self.started += self.counting

    def read_lines(self, c):
        try:
            with open(c.out_path, "rb") as f:
                f.seek(c.offset)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        c.offset += end + 1
        for line in data[:end].decode(errors="replace").split("\n"):
            c.lines.append(line)

    def record(self, c):
        """Counts a finished client's cycles and errors."""
        who = "killed" if c.killed else "survivors"
        self.finished += sum(map(is_cycle, c.lines))
        for line in c.lines:
            if line[:2] in ("C ", "F ", "W "):
                self.counts[line[0]] += self.counting
                if self.counting:
                    self.latency_us[line[0]].append(int(line[2:]))
            elif line.startswith("E "):
                parts = line.split(" ", 3)
                kind = {"C": "connect", "F": "fork", "W": "warm", "S": "setup"}.get(
                    parts[1] if len(parts) > 1 else "", "?")
                if kind != "setup" and parts[1] in self.counts:
                    self.counts[parts[1]] += self.counting
                self.setup_failures += kind == "setup" and who == "survivors"
                key = f"{kind}: {' '.join(parts[2:])}"
                self.errors[who][key] = self.errors[who].get(key, 0) + 1
                self.error_count[who] += 1
        rc = c.popen.returncode
        if not c.killed and rc not in (0, 1):
            key = f"client exit {rc}"
            self.errors[who][key] = self.errors[who].get(key, 0) + 1
            self.error_count[who] += 1
        self.exited_nonzero += rc != 0 and not c.killed
        self.free_slots.append(c.slot)
        try:
            os.unlink(c.out_path)
        except FileNotFoundError:
            pass

    def done_cycles(self):
        """Cycles finished in all phases, by live clients too."""
        return self.finished + sum(sum(map(is_cycle, c.lines)) for c in self.live)

    def poll(self):
        """Reads output, kills, reaps. Returns cycles still owed by live clients."""
        now = time.monotonic()
        owed = 0
        still = []
        for c in self.live:
            self.read_lines(c)
            if c.kill_after is not None and not c.killed:
                if c.kill_at is None and len(c.lines) >= c.kill_after:
                    c.kill_at = now + self.rng.uniform(0, 0.05)
                if c.kill_at is not None and now >= c.kill_at and c.popen.poll() is None:
                    c.popen.send_signal(signal.SIGKILL)
                    c.killed = True
            if c.popen.poll() is not None:
                c.popen.wait()
                self.read_lines(c)
                c.killed = c.killed and c.popen.returncode == -signal.SIGKILL
                self.killed += c.killed and self.counting
                self.record(c)
                continue
            owed += c.batch - len(c.lines)
            still.append(c)
        self.live = still
        return owed

    # ---- sampling -------------------------------------------------------
    def worker_pid(self):
        for child in children(self.pids["b"]):
            if comm(child).startswith("swift_worker"):
                return child
        return None

    def sample(self, phase, tables=False):
        s = {"kind": "sample", "phase": phase,
             "t_s": round(time.monotonic() - self.start, 2),
             "cycles": (self.done_cycles() - self.soak_begin if self.counting
                        else self.soak_cycles),
             "connect_cycles": self.counts["C"], "fork_cycles": self.counts["F"],
             "warm_cycles": self.counts["W"],
             "errors_survivors": self.error_count["survivors"],
             "errors_killed": self.error_count["killed"],
             "clients_live": len(self.live), "clients_started": self.started,
             "clients_killed": self.killed}
        worker = self.worker_pid()
        for role, pid in (("a", self.pids["a"]), ("b", self.pids["b"]),
                          ("worker", worker)):
            stats = proc_stats(pid) if pid else None
            for key in ("fds", "rss_kb", "threads"):
                s[f"{role}_{key}"] = stats[key] if stats else None
        states = tcp_states()
        for role in ("a", "b"):
            s[f"{role}_link_tcp"] = tcp_sockets(self.pids[role], states)
        s["worker_pid"] = worker
        s["instances"] = len(children(worker)) if worker else 0
        s["zombies"] = sum(zombie(p) for pid in (self.pids["a"], self.pids["b"], worker)
                           if pid for p in children(pid))
        devices = verbs_per_device() or {}
        for dev, label in ((self.args.a_dev, "a"), (self.args.b_dev, "b")):
            for k in VERBS:
                s[f"{label}dev_{k}"] = devices.get(dev, {}).get(k)
        for k in VERBS:
            s[k] = sum(devices.get(d, {}).get(k, 0) for d in devices)
        if tables:
            s["a_connections"] = swiftd_connections(self.args.swiftctl, self.args.a_sock)
            s["b_connections"] = swiftd_connections(self.args.swiftctl, self.args.b_sock)
        self.samples.append(s)
        print(json.dumps(s), flush=True)
        return s

    # ---- phases ---------------------------------------------------------
    def run_clients(self, total, clients, batch, kill_rate, phase, max_s=0):
        """Until `total` cycles finished (or, with max_s, until no new client
        is started after max_s seconds and the live ones have finished);
        samples every interval."""
        self.time_limited = False
        phase_start = time.monotonic()
        next_sample = time.monotonic()
        next_log = time.monotonic() + 30
        begin = self.done_cycles()
        while True:
            owed = self.poll()
            done = self.done_cycles() - begin
            left = total - done - owed
            if max_s and time.monotonic() - phase_start > max_s and left > 0:
                if not self.time_limited:
                    log(f"{phase}: --max_soak_s {max_s:g} reached at {done} cycles: "
                        "no new clients, waiting for the live ones")
                self.time_limited = True
                left = 0
            if self.setup_failures > 20:
                log("more than 20 clients failed to set up: giving up")
                return False
            while left > 0 and len(self.live) < clients:
                n = min(batch, left)
                self.spawn(n, kill_rate)
                left -= n
            if not self.live and left <= 0:
                break
            now = time.monotonic()
            if now >= next_sample:
                self.sample(phase)
                next_sample = now + self.args.interval_s
            if now >= next_log:
                log(f"{phase}: {done}/{total} cycles, {len(self.live)} clients live, "
                    f"{self.killed} killed, {self.error_count['survivors']} errors of survivors")
                next_log = now + 30
            time.sleep(0.02)
        return True

    def settle(self, phase, reference, min_s, max_s):
        """Samples until the counts match `reference` (or are stable, with no
        reference) for 3 samples in a row, after at least min_s; at most max_s.
        These samples also count the connections each swiftd lists."""
        keys = ["a_fds", "a_threads", "b_fds", "b_threads", "worker_fds",
                "worker_threads", "instances", "a_connections", "b_connections",
                *VERBS]
        begin = time.monotonic()
        streak, previous, last = 0, None, None
        while True:
            last = self.sample(phase, tables=True)
            target = reference if reference is not None else previous
            same = target is not None and all(last.get(k) == target.get(k) for k in keys)
            streak = streak + 1 if same else 0
            previous = last
            elapsed = time.monotonic() - begin
            if (streak >= 3 and elapsed >= min_s) or elapsed >= max_s:
                return last, round(elapsed, 1)
            time.sleep(self.args.interval_s)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--client", required=True)
    p.add_argument("--a_sock", required=True)
    p.add_argument("--b_sock", required=True)
    p.add_argument("--swiftctl", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--service", default="soak")
    p.add_argument("--function", default="soak_write")
    p.add_argument("--swiftd_a", type=int, required=True)
    p.add_argument("--swiftd_b", type=int, required=True)
    p.add_argument("--server_a", type=int, default=0)
    p.add_argument("--sink_a", type=int, default=0)
    p.add_argument("--a_dev", required=True)
    p.add_argument("--b_dev", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--cycles", type=int, default=100000)
    p.add_argument("--warmup_cycles", "--warmup-cycles", type=int, default=3000)
    p.add_argument("--clients", type=int, default=12)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--kill_rate", "--kill-rate", type=float, default=0.02)
    p.add_argument("--connect_weight", type=int, default=2)
    p.add_argument("--fork_weight", type=int, default=1)
    p.add_argument("--warm_weight", type=int, default=1)
    p.add_argument("--interval_s", "--interval-s", type=float, default=1.0)
    p.add_argument("--settle_s", "--settle-s", type=float, default=90)
    p.add_argument("--rss_bound_pct", type=float, default=10)
    p.add_argument("--rss_bound_kb", type=int, default=4096)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max_soak_s", "--max-soak-s", type=float, default=0,
                   help="stop starting clients after this long (0: run all --cycles)")
    p.add_argument("--stop_at", "--stop-at", type=float, default=0,
                   help="stop starting clients at this Unix time (0: never)")
    args = p.parse_args()
    args.client_log = os.path.join(args.work, "clients.stderr")
    if (args.cycles < 1 or args.clients < 1 or args.batch < 1 or args.warmup_cycles < 0
            or not 0 <= args.kill_rate <= 1):
        log("--cycles, --clients, --batch >= 1, --warmup_cycles >= 0 and 0 <= --kill_rate <= 1")
        return 2
    soak = Soak(args)

    # Warm-up, not counted: the soak's load (so what grows with peak
    # concurrency has grown), then the short round the soak ends with too
    # (so the idle pools, peer links first, are left alike).
    log(f"warm-up: {args.warmup_cycles} cycles of the soak's mix, then "
        f"{args.clients} clients x 6 cycles")
    if args.warmup_cycles and not soak.run_clients(
            args.warmup_cycles, args.clients, args.batch, args.kill_rate, "warmup"):
        return 2
    if not soak.run_clients(args.clients * 6, args.clients, 6, 0, "warmup"):
        return 2
    warmup_errors = dict(soak.errors["survivors"])
    soak.errors = {"survivors": {}, "killed": {}}
    soak.error_count = {"survivors": 0, "killed": 0}
    log("settling after warm-up (idle instances and peer links expire)")
    baseline, baseline_settle_s = soak.settle("baseline", None, 12, 90)
    held_start = {r: describe(p) for r, p in (("a", args.swiftd_a), ("b", args.swiftd_b),
                                              ("worker", soak.worker_pid()))}
    per_process_start = verbs_per_process(
        {"swiftd_a": args.swiftd_a, "swiftd_b": args.swiftd_b,
         "worker": soak.worker_pid(), "server_a": args.server_a,
         "sink_a": args.sink_a})

    log(f"soak: {args.cycles} cycles, {args.clients} clients at a time, "
        f"batches of {args.batch}, kill rate {args.kill_rate}")
    if args.stop_at:
        until = args.stop_at - time.time()
        if until <= 0:
            log("--stop_at is in the past")
            return 2
        args.max_soak_s = min(args.max_soak_s, until) if args.max_soak_s else until
    soak.counting = True
    soak.soak_begin = soak.done_cycles()
    soak_start = time.monotonic()
    if not soak.run_clients(args.cycles, args.clients, args.batch, args.kill_rate, "soak",
                            args.max_soak_s):
        return 2
    soak_s = time.monotonic() - soak_start
    soak.soak_cycles = soak.done_cycles() - soak.soak_begin
    time_limited = soak.time_limited  # The cool-down round resets it.
    # The same round as the warm-up, so that the idle pools (peer links)
    # are left as the warm-up left them before the baseline; not counted.
    soak.counting = False
    log(f"all clients gone after {soak_s:.0f} s; the warm-up's round again")
    if not soak.run_clients(args.clients * 6, args.clients, 6, 0, "cooldown"):
        return 2
    log(f"settling (at most {args.settle_s:.0f} s)")
    end, settle_s = soak.settle("end", baseline, 5, args.settle_s)
    held_end = {r: describe(p) for r, p in (("a", args.swiftd_a), ("b", args.swiftd_b),
                                            ("worker", soak.worker_pid()))}
    per_process_end = verbs_per_process(
        {"swiftd_a": args.swiftd_a, "swiftd_b": args.swiftd_b,
         "worker": soak.worker_pid(), "server_a": args.server_a,
         "sink_a": args.sink_a})

    soak_samples = [s for s in soak.samples if s["phase"] in ("soak", "end")]
    summary = {"kind": "summary", "bench": "soak",
               "cycles": soak.soak_cycles,
               "connect_cycles": soak.counts["C"],
               "invoke_cycles": soak.counts["F"] + soak.counts["W"],
               "fork_cycles": soak.counts["F"], "warm_cycles": soak.counts["W"],
               "clients_started": soak.started, "clients_killed": soak.killed,
               "errors": soak.error_count["survivors"],
               "errors_by_message": soak.errors["survivors"],
               "errors_of_killed_clients": soak.error_count["killed"],
               "errors_of_killed_clients_by_message": soak.errors["killed"],
               "warmup_errors": warmup_errors,
               "cycles_requested": args.cycles,
               "stopped_by_time_limit": time_limited,
               "soak_s": round(soak_s, 1),
               "cycles_per_s": round(soak.soak_cycles / soak_s, 1) if soak_s else None,
               "baseline_settle_s": baseline_settle_s, "end_settle_s": settle_s}
    metrics = [f"{role}_{k}" for role in ("a", "b", "worker") for k in ("fds", "rss_kb", "threads")]
    metrics += ["a_link_tcp", "b_link_tcp", "instances", "zombies", "a_connections",
                "b_connections", *VERBS] + [f"{d}dev_{k}" for d in "ab" for k in VERBS]
    for m in metrics:
        values = [s[m] for s in soak_samples if s.get(m) is not None]
        summary[f"{m}_start"] = baseline.get(m)
        summary[f"{m}_end"] = end.get(m)
        summary[f"{m}_peak"] = max(values) if values else None
    for tag, name in (("C", "connect"), ("F", "fork"), ("W", "warm")):
        values = sorted(soak.latency_us[tag])
        for q in (50, 99):
            summary[f"{name}_p{q}_us"] = (values[min(len(values) - 1, len(values) * q // 100)]
                                          if values else None)
    summary["worker_pid_start"] = baseline.get("worker_pid")
    summary["worker_pid_end"] = end.get("worker_pid")
    summary["verbs_per_process_start"] = per_process_start
    summary["verbs_per_process_end"] = per_process_end
    summary["held_start"] = held_start
    summary["held_end"] = held_end
    # Under load: the soak's first tenth of samples against its last.
    loaded = [s for s in soak.samples if s["phase"] == "soak"]
    tenth = max(1, len(loaded) // 10)
    for role in ("a", "b", "worker"):
        for key in ("rss_kb", "fds", "threads"):
            m = f"{role}_{key}"
            first = [s[m] for s in loaded[:tenth] if s.get(m) is not None]
            last = [s[m] for s in loaded[-tenth:] if s.get(m) is not None]
            if first and last:
                summary[f"{m}_soak_first_tenth_median"] = sorted(first)[len(first) // 2]
                summary[f"{m}_soak_last_tenth_median"] = sorted(last)[len(last) // 2]
    summary["cores"] = os.cpu_count()
    not_flat = judge(summary, args.rss_bound_pct, args.rss_bound_kb)
    summary["flat"] = not not_flat
    summary["not_flat"] = not_flat
    summary["rss_bound"] = f"end - start <= max({args.rss_bound_pct:g}% of start, {args.rss_bound_kb} kB)"
    summary["config"] = {"clients": args.clients, "batch": args.batch,
                         "kill_rate": args.kill_rate,
                         "rss_bound_pct": args.rss_bound_pct,
                         "rss_bound_kb": args.rss_bound_kb,
                         "warmup_cycles": args.warmup_cycles,
                         "weights": {"connect": args.connect_weight, "fork": args.fork_weight,
                                     "warm": args.warm_weight},
                         "interval_s": args.interval_s, "settle_s": args.settle_s,
                         "max_soak_s": args.max_soak_s,
                         "seed": args.seed}
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
