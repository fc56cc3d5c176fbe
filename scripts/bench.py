#!/usr/bin/env python3
"""husk's benchmark driver (run it through scripts/bench.sh, which prepares the machine).

Times husk, crun and runc side by side on the same busybox bundle. Every scenario runs in
rounds whose runtime order rotates (A B C, B C A, C A B, ...), so drift and noise of the
shared machine fall on every runtime alike. Each runtime call is spawned with
posix_spawn and reaped with wait4: wall time, CPU time (user+system of the runtime and
the children it reaped) come from the kernel. Peak RSS is measured apart, with
/usr/bin/time around `create` (ru_maxrss of a child forked from a small process: a child
spawned from this Python process would inherit its high-water mark). The driver is a
child subreaper, so a detached container's init is reparented to it and `wait` is the
exact exit of the container's process.

Output: a table on stdout (median [min-max] ms, CPU ms, peak RSS, and the ratio of every
runtime's median to husk's), and OUT/bench.json with every sample; bench.sh draws the chart.
"""
import argparse
import ctypes
import json
import os
import shutil
import statistics
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def start(argv, log):
    """Starts argv with stdin and stdout on /dev/null, stderr to `log`; returns its pid."""
    fa = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
          (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
          (os.POSIX_SPAWN_DUP2, log.fileno(), 2)]
    return os.posix_spawn(argv[0], argv, os.environ, file_actions=fa)


def spawn(argv, log):
    """Runs argv to completion; returns (wall_ms, cpu_ms, None, status)."""
    t0 = time.perf_counter_ns()
    pid = start(argv, log)
    _, status, ru = os.wait4(pid, 0)
    wall = (time.perf_counter_ns() - t0) / 1e6
    return wall, (ru.ru_utime + ru.ru_stime) * 1000, None, os.waitstatus_to_exitcode(status)


class Runtime:
    def __init__(self, name, path, work):
        self.name, self.path = name, path
        self.root = os.path.join(work, "state", name)
        self.log = open(os.path.join(work, "logs", name + ".log"), "ab")

    def call(self, *args, check=True):
        r = spawn([self.path, "--root", self.root, *args], self.log)
        if check and r[3] != 0:
            self.log.flush()
            raise SystemExit(f"bench: {self.name} {' '.join(args)}: exit {r[3]} (see {self.log.name})")
        return r


def make_bundle(work, name, rootfs, base, args, cgroup, tweak=None):
    d = os.path.join(work, "bundles", name)
    os.makedirs(d, exist_ok=True)
    c = json.loads(json.dumps(base))
    c["root"] = {"path": rootfs, "readonly": True}
    c["process"]["args"] = args
    c["process"]["terminal"] = False
    c["linux"]["cgroupsPath"] = cgroup
    if tweak:
        tweak(c)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f)
    return d


def wait_pid(pid):
    t0 = time.perf_counter_ns()
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # not ours (e.g. a runtime that reaps it): poll
        while os.path.exists(f"/proc/{pid}"):
            time.sleep(0.0002)
    return (time.perf_counter_ns() - t0) / 1e6


def rotations(rts, n):
    """Round r's order: a row of a Williams design, in which every runtime runs right after
    every other one equally often. (Plain rotations A B C D, B C D A, ... keep the cyclic
    order, so the first runtime always followed the last one: measured here, that cost the
    runtime after runc ~13% on create, the same husk binary against itself 0.87.)"""
    m = len(rts)
    seq, lo, hi = [0], 1, m - 1
    while len(seq) < m:
        seq.append(lo if len(seq) % 2 else hi)
        lo, hi = (lo + 1, hi) if len(seq) % 2 == 0 else (lo, hi - 1)
    rows = [[rts[(x + k) % m] for x in seq] for k in range(m)]
    if m % 2:
        rows += [list(reversed(row)) for row in rows]
    for r in range(n):
        yield r, rows[r % len(rows)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--rootfs", required=True)
    ap.add_argument("--base-config", required=True)
    ap.add_argument("--seccomp", required=True, help="a linux.seccomp object (JSON file)")
    ap.add_argument("--out", required=True)
    ap.add_argument("-n", type=int, default=30, help="rounds per scenario")
    ap.add_argument("-s", type=int, default=3, help="rounds of 100 sequential runs")
    ap.add_argument("-p", type=int, default=3, help="rounds of the in-flight scenarios")
    ap.add_argument("-m", type=int, default=100, help="containers per sequential / in-flight sample")
    ap.add_argument("runtimes", nargs="+", help="NAME=PATH; the first is the reference (husk)")
    a = ap.parse_args()

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    os.makedirs(os.path.join(a.work, "logs"), exist_ok=True)
    rts = [Runtime(*x.split("=", 1), a.work) for x in a.runtimes]
    ref = rts[0].name
    base = json.load(open(a.base_config))
    seccomp = json.load(open(a.seccomp))
    seccomp = seccomp.get("linux", {}).get("seccomp", seccomp)

    def userns(c):
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
        c["mounts"] = [m for m in c["mounts"] if m.get("type") != "cgroup"]

    def with_seccomp(c):
        c["linux"]["seccomp"] = seccomp

    bundles = {}
    for rt in rts:
        cg = f"/husk-bench/{os.getpid()}-{rt.name}"
        bundles[rt.name] = {
            "true": make_bundle(a.work, rt.name + "-true", a.rootfs, base, ["/bin/true"], cg + "-true"),
            "sleep": make_bundle(a.work, rt.name + "-sleep", a.rootfs, base, ["/bin/sleep", "1000"], cg + "-sleep"),
            "seccomp": make_bundle(a.work, rt.name + "-seccomp", a.rootfs, base, ["/bin/true"], cg + "-sc", with_seccomp),
            "userns": make_bundle(a.work, rt.name + "-userns", a.rootfs, base, ["/bin/true"], cg + "-userns", userns),
            "slots": [make_bundle(a.work, f"{rt.name}-slot{i}", a.rootfs, base, ["/bin/true"], f"{cg}-slot{i}")
                      for i in range(8)],
        }
    samples = {}  # scenario -> runtime -> list of {wall, cpu, rss}

    def add(scen, rt, wall, cpu=None, rss=None):
        samples.setdefault(scen, {}).setdefault(rt.name, []).append({"wall": wall, "cpu": cpu, "rss": rss})

    seq = [0]

    def cid(rt):
        seq[0] += 1
        return f"hb{os.getpid()}-{rt.name}-{seq[0]}"

    def progress(msg):
        print(f"# {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)

    progress(f"run, seccomp, userns, split, ops: {a.n} rounds")
    for _, order in rotations(rts, a.n):
        for rt in order:
            for scen, b in (("run", "true"), ("run-seccomp", "seccomp"), ("run-userns", "userns")):
                w, c, m, _ = rt.call("run", "--bundle", bundles[rt.name][b], cid(rt))
                add(scen, rt, w, c, m)
        for rt in order:
            i = cid(rt)
            pidfile = os.path.join(a.work, "pid")
            w, c, m, _ = rt.call("create", "--bundle", bundles[rt.name]["true"], "--pid-file", pidfile, i)
            add("create", rt, w, c, m)
            pid = int(open(pidfile).read())
            w, c, m, _ = rt.call("start", i)
            add("start", rt, w, c, m)
            add("wait", rt, wait_pid(pid))
            w, c, m, _ = rt.call("delete", i)
            add("delete", rt, w, c, m)
        for rt in order:
            i = cid(rt)
            pidfile = os.path.join(a.work, "pid")
            rt.call("run", "-d", "--bundle", bundles[rt.name]["sleep"], "--pid-file", pidfile, i)
            pid = int(open(pidfile).read())
            for scen, args in (("state", ("state", i)), ("exec", ("exec", i, "/bin/true"))):
                w, c, m, _ = rt.call(*args)
                add(scen, rt, w, c, m)
            w, c, m, _ = rt.call("kill", i, "KILL")
            add("kill", rt, w, c, m)
            wait_pid(pid)
            w, c, m, _ = rt.call("delete", i)
            add("delete-after-kill", rt, w, c, m)

    if a.s:
        progress(f"{a.m} sequential runs: {a.s} rounds")
        for _, order in rotations(rts, a.s):
            for rt in order:
                t0, cpu = time.perf_counter_ns(), 0.0
                for _ in range(a.m):
                    _, c, _, _ = rt.call("run", "--bundle", bundles[rt.name]["true"], cid(rt))
                    cpu += c
                add(f"seq{a.m}", rt, (time.perf_counter_ns() - t0) / 1e6, cpu)

    for inflight in (2, 8):
        if not a.p:
            break
        progress(f"{a.m} runs, {inflight} in flight: {a.p} rounds")
        for _, order in rotations(rts, a.p):
            for rt in order:
                running, started, t0 = {}, 0, time.perf_counter_ns()
                while started < a.m or running:
                    while started < a.m and len(running) < inflight:
                        slot = next(s for s in range(inflight) if s not in running.values())
                        argv = [rt.path, "--root", rt.root, "run", "--bundle", bundles[rt.name]["slots"][slot], cid(rt)]
                        running[start(argv, rt.log)] = slot
                        started += 1
                    pid, status = os.wait()
                    if pid in running:
                        del running[pid]
                        if os.waitstatus_to_exitcode(status) != 0:
                            raise SystemExit(f"bench: {rt.name} run ({inflight} in flight) failed")
                wall = (time.perf_counter_ns() - t0) / 1e6
                add(f"inflight{inflight}", rt, wall)

    progress("peak RSS of create (/usr/bin/time): 5 rounds")
    for _, order in rotations(rts, 5):
        for rt in order:
            i, f = cid(rt), os.path.join(a.work, "rss")
            r = spawn(["/usr/bin/time", "-f", "%M", "-o", f, rt.path, "--root", rt.root, "create", "--bundle",
                       bundles[rt.name]["sleep"], i], rt.log)
            if r[3] != 0:
                raise SystemExit(f"bench: {rt.name} create (rss) failed")
            add("create-rss", rt, r[0], r[1], int(open(f).read().split()[-1]))
            rt.call("delete", "-f", i)

    # Summaries: medians and ratios to the reference runtime.
    out = {"machine": os.uname().release, "date": time.strftime("%Y-%m-%d %H:%M"),
           "runtimes": {rt.name: rt.path for rt in rts}, "rounds": {"n": a.n, "s": a.s, "p": a.p, "m": a.m},
           "scenarios": {}}
    order_s = ["create-rss", "run", "create", "start", "wait", "delete", "state", "exec", "kill", "delete-after-kill",
               "run-seccomp", "run-userns", f"seq{a.m}", "inflight2", "inflight8"]
    print(f"{'scenario':<18}" + "".join(f"{rt.name + ' median [min-max] ms':>34}{'cpu':>8}{'rss kB':>8}" for rt in rts) +
          "".join(f"{rt.name + '/' + ref:>12}" for rt in rts[1:]))
    for scen in order_s:
        if scen not in samples:
            continue
        row, srow = f"{scen:<18}", {}
        for rt in rts:
            v = samples[scen][rt.name]
            walls = [x["wall"] for x in v]
            cpus = [x["cpu"] for x in v if x["cpu"] is not None]
            rss = [x["rss"] for x in v if x["rss"] is not None]
            st = {"median": statistics.median(walls), "min": min(walls), "max": max(walls), "n": len(walls),
                  "cpu_median": statistics.median(cpus) if cpus else None, "rss_max_kb": max(rss) if rss else None,
                  "samples": v}
            if scen.startswith("inflight"):
                st["throughput_per_s"] = a.m / (st["median"] / 1000)
            srow[rt.name] = st
            row += f"{st['median']:>14.2f} [{st['min']:.2f}-{st['max']:.2f}]".rjust(34)
            row += f"{st['cpu_median']:>8.2f}" if st["cpu_median"] is not None else f"{'':>8}"
            row += f"{st['rss_max_kb']:>8}" if st["rss_max_kb"] is not None else f"{'':>8}"
        for rt in rts[1:]:
            srow[rt.name]["ratio_to_" + ref] = srow[rt.name]["median"] / srow[ref]["median"]
            row += f"{srow[rt.name]['ratio_to_' + ref]:>12.2f}"
        out["scenarios"][scen] = srow
        print(row)
    for scen in ("inflight2", "inflight8"):
        if scen in out["scenarios"]:
            s = out["scenarios"][scen]
            print(f"{scen} throughput (containers/s): " +
                  ", ".join(f"{n} {s[n]['throughput_per_s']:.1f}" for n in s))
    with open(os.path.join(a.out, "bench.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
