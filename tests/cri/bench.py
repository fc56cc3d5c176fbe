#!/usr/bin/python3
"""bench.py: pod start latency through containerd's CRI, per runtime handler. One round is
RunPodSandbox + CreateContainer + StartContainer of one container (bridge network, as the
kubelet starts a pod), timed at the client; the pod is then removed (not timed). Handlers are
interleaved, the order alternating per round. Prints the median and min-max of each phase.
With --timing-log (lines "t0 t1 name args..." written by bench.sh's wrappers around the shim,
the CNI plugins and the runtimes) it also splits each phase into runtime / shim / CNI / rest."""
import argparse, statistics, sys, time

from checks import Checks

PHASES = ("run_pod", "create", "start")


def one_round(c, handler):
    c.a.handler = handler
    cfg = c.pod_config("bench")
    t = [time.time()]
    pod = c.run_pod(cfg); t.append(time.time())
    cid = c.container(pod, cfg, "app", ["sleep", "infinity"], start=False); t.append(time.time())
    c.cri.StartContainer(container_id=cid); t.append(time.time())
    c.cri.StopContainer(container_id=cid, timeout=0)
    c.cri.RemoveContainer(container_id=cid)
    c.cri.StopPodSandbox(pod_sandbox_id=pod)
    c.cri.RemovePodSandbox(pod_sandbox_id=pod)
    c.pods.remove(pod)
    return t


def fmt(xs):
    xs = [x * 1000 for x in xs]
    return "%7.1f (%.1f-%.1f)" % (statistics.median(xs), min(xs), max(xs))


def parse_log(path):
    rows = []
    for line in open(path):
        f = line.split()
        if len(f) >= 3:
            rows.append((float(f[0]), float(f[1]), f[2], f[3:]))
    return rows


def category(name, args):
    if name in ("husk", "runc"):
        sub = next((x for x in args if x in ("create", "start", "delete", "state", "kill")), "?")
        return "runtime " + sub
    if name == "shim":
        return "shim " + (args[-1] if args else "?")
    return "cni"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--cgroup-driver", default="cgroupfs")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--handlers", default="husk,runc")
    p.add_argument("--timing-log", default="")
    p.add_argument("--max-ratio", type=float, default=0,
                   help="fail (exit 1) if the first handler's median total over the second's "
                        "is above this")
    a = p.parse_args()
    ns = argparse.Namespace(socket=a.socket, handler="", root=a.root, image=a.image,
                            subnet="", node_netns="", cgroup_driver=a.cgroup_driver)
    c = Checks(ns)
    handlers = a.handlers.split(",")
    for h in handlers:  # warm-up: page cache, first shim, first CNI run
        one_round(c, h)
    res = {h: [] for h in handlers}
    for r in range(a.rounds):
        order = handlers if r % 2 == 0 else handlers[::-1]
        for h in order:
            res[h].append(one_round(c, h))
    print("pod start latency, ms: median (min-max) over %d interleaved rounds" % a.rounds)
    print("%-6s %-22s %-22s %-22s %-22s" % ("handler", "total", "RunPodSandbox",
                                           "CreateContainer", "StartContainer"))
    for h in handlers:
        ts = res[h]
        print("%-6s %-22s %-22s %-22s %-22s" % (
            h, fmt([t[3] - t[0] for t in ts]), fmt([t[1] - t[0] for t in ts]),
            fmt([t[2] - t[1] for t in ts]), fmt([t[3] - t[2] for t in ts])))
    if len(handlers) == 2:
        m = [statistics.median([t[3] - t[0] for t in res[h]]) for h in handlers]
        rs = sorted((x[3] - x[0]) / (y[3] - y[0]) for x, y in zip(res[handlers[0]], res[handlers[1]]))
        print("%s/%s total: ratio of medians %.2f; per-round ratios %.2f-%.2f" % (
            handlers[0], handlers[1], m[0] / m[1], rs[0], rs[-1]))
        if a.max_ratio:
            ok = m[0] / m[1] <= a.max_ratio
            print("%s cri-bench.ratio (%s/%s medians %.2f, at most %.2f)" % (
                "PASS" if ok else "FAIL", handlers[0], handlers[1], m[0] / m[1], a.max_ratio))
            if not ok:
                return 1
    if a.timing_log:
        rows = parse_log(a.timing_log)
        print("where the time goes, ms per phase: median over the rounds (wrapped binaries' "
              "own run time; rest = containerd + gRPC + shim work outside those calls)")
        for h in handlers:
            for i, ph in enumerate(PHASES):
                per = {}
                rest = []
                for t in res[h]:
                    lo, hi = t[i], t[i + 1]
                    acc = {}
                    for t0, t1, name, args in rows:
                        if lo <= t0 and t1 <= hi:
                            k = category(name, args)
                            acc[k] = acc.get(k, 0) + (t1 - t0)
                    for k in acc:
                        per.setdefault(k, []).append(acc[k])
                    rest.append((hi - lo) - sum(acc.values()))
                parts = ", ".join("%s %.1f" % (k, statistics.median(v) * 1000)
                                  for k, v in sorted(per.items()))
                print("%-5s %-8s total %6.1f: %s, rest %.1f" % (
                    h, ph, statistics.median([t[i + 1] - t[i] for t in res[h]]) * 1000,
                    parts or "-", statistics.median(rest) * 1000))


if __name__ == "__main__":
    sys.exit(main())
