"""soak_sampler.py: what the soak (tools/bench/soak_run.py) reads about a
process and the kernel, inside the guest: fds, RSS and threads from /proc,
verbs objects from `rdma -j resource show` (per device and per process), TCP
connections (swiftd's peer links) and, for the start/end comparison, what a
process holds (fds by kind, threads by name) and the connections each
swiftd's table lists (`swiftctl --json connections`)."""
import json
import os
import subprocess

VERBS = ("qp", "cq", "mr", "pd")


def proc_stats(pid):
    """fds, rss_kb, threads of a live pid; None when it is gone."""
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        rss = threads = 0
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
        return {"fds": fds, "rss_kb": rss, "threads": threads}
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None


def children(pid):
    """Direct children of pid (every thread's list)."""
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def rdma_json(*args):
    try:
        out = subprocess.run(["rdma", "-j", "resource", "show", *args],
                             capture_output=True, text=True, timeout=20)
        return json.loads(out.stdout or "[]")
    except (subprocess.TimeoutExpired, ValueError, OSError):
        return None


def verbs_per_device():
    """{device: {qp, cq, mr, pd}} from `rdma -j resource show`."""
    entries = rdma_json()
    if entries is None:
        return None
    out = {}
    for entry in entries:
        name = entry.get("ifname")
        if name:
            out[name] = {k: int(entry.get(k, 0)) for k in VERBS}
    return out


def tgid(pid):
    """The process of a thread id (rdma reports the creating thread)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("Tgid:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, ValueError, TypeError):
        pass
    return None


def verbs_per_process(pids):
    """{role: {qp, cq, mr, pd}} for the named pids; others by "comm pid"."""
    out = {role: {k: 0 for k in VERBS} for role in pids}
    by_pid = {pid: role for role, pid in pids.items() if pid}
    for kind in VERBS:
        entries = rdma_json(kind)
        if entries is None:
            continue
        for entry in entries:
            pid = entry.get("pid")
            owner = tgid(pid) if pid is not None else None
            role = by_pid.get(owner) or by_pid.get(pid) or (
                f"{entry.get('comm', '?')} {owner or pid or 'kernel'}")
            out.setdefault(role, {k: 0 for k in VERBS})[kind] += 1
    return out


def tcp_states():
    """{socket inode: TCP state name}."""
    names = {"01": "ESTABLISHED", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
             "0A": "LISTEN", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "09": "LAST_ACK"}
    out = {}
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    out[fields[9]] = names.get(fields[3], fields[3])
        except (FileNotFoundError, StopIteration):
            pass
    return out


def tcp_sockets(pid, states):
    """TCP connections (not listeners) among pid's fds: swiftd's peer links."""
    count = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and states.get(target[8:-1], "LISTEN") != "LISTEN":
                count += 1
    except (FileNotFoundError, ProcessLookupError):
        return None
    return count


def describe(pid):
    """What a process holds: fds by kind (TCP sockets by state), threads by
    name. For the start/end comparison."""
    if not pid:
        return None
    fds, threads = {}, {}
    states = tcp_states()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inode = target[8:-1]
                kind = f"tcp {states[inode]}" if inode in states else "socket (unix)"
            elif target.startswith("anon_inode:"):
                kind = target
            elif target.startswith("/dev/"):
                kind = target
            else:
                kind = target.split(":")[0] if ":" in target else "file"
            fds[kind] = fds.get(kind, 0) + 1
        for task in os.listdir(f"/proc/{pid}/task"):
            name = comm(f"{pid}/task/{task}")
            threads[name] = threads.get(name, 0) + 1
    except (FileNotFoundError, ProcessLookupError):
        return None
    return {"fds": dict(sorted(fds.items())), "threads": dict(sorted(threads.items()))}


def swiftd_connections(swiftctl, socket):
    """How many connections swiftd at `socket` lists (brokered for its local
    clients and accepted for its services), or None when swiftctl fails."""
    try:
        out = subprocess.run([swiftctl, f"--socket={socket}", "--json", "connections"],
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            return None
        return len(json.loads(out.stdout or "{}").get("connections", []))
    except (subprocess.TimeoutExpired, ValueError, OSError):
        return None
