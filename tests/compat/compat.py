#!/usr/bin/python3
"""Differential harness: run each scenario once with husk and once with runc, compare what a
user, an engine or a script can observe. See tests/compat/README.md."""
import copy
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

CG_PREFIX = "/husk-compat"
CG_ROOT = "/sys/fs/cgroup"
STEP_TIMEOUT = 20
# Bundles live on a tmpfs when there is one: copying a rootfs per scenario on a busy disk
# costs more than the scenario itself.
TMPBASE = os.environ.get("HUSK_COMPAT_TMP") or ("/dev/shm" if os.path.isdir("/dev/shm") else None)


def base_config(cg):
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": ["true"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(caps) for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "compat",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "cgroupsPath": cg,
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                            "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


def build_base_rootfs(dst):
    os.makedirs(dst + "/bin")
    shutil.copy2("/bin/busybox", dst + "/bin/busybox")
    out = subprocess.run([dst + "/bin/busybox", "--list"], capture_output=True, text=True).stdout
    for applet in out.split():
        if applet != "busybox":
            os.symlink("busybox", f"{dst}/bin/{applet}")
    for d in ("proc", "sys", "dev", "etc", "tmp", "root", "home/user", "var", "run"):
        os.makedirs(f"{dst}/{d}", exist_ok=True)
    os.chmod(dst + "/tmp", 0o1777)
    os.chown(dst + "/home/user", 1000, 1000)
    with open(dst + "/etc/passwd", "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n")
    with open(dst + "/etc/group", "w") as f:
        f.write("root:x:0:\ntty:x:5:\nuser:x:1000:\nextra:x:2000:user\n")


def copy_tree(src, dst):
    """cp -a without a process: directories, symlinks, files hard-linked (never written)."""
    os.makedirs(dst)
    shutil.copystat(src, dst)
    for e in os.scandir(src):
        d = os.path.join(dst, e.name)
        if e.is_symlink():
            os.symlink(os.readlink(e.path), d)
        elif e.is_dir():
            copy_tree(e.path, d)
        else:
            shutil.copy2(e.path, d)
        st = os.lstat(e.path)
        os.lchown(d, st.st_uid, st.st_gid)


class Ctx:
    """Everything one run of one scenario with one runtime needs."""

    def __init__(self, rt, tmp, base_rootfs, tag, name):
        self.rt = rt
        self.tmp = tmp
        self.root = os.path.join(tmp, "state")
        self.bundle = os.path.join(tmp, "bundle")
        self.rootfs = os.path.join(self.bundle, "rootfs")
        self.tag = tag
        self.id = "cc" + tag.replace("-", "x")
        self.cg = f"{CG_PREFIX}/{tag}"
        self.ids = {self.id}
        self.pids = []
        os.makedirs(self.root)
        os.makedirs(self.bundle)
        copy_tree(base_rootfs, self.rootfs)
        self.config = base_config(self.cg)

    def write_config(self):
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(self.config, f, indent=1)

    def subst(self, s):
        return (s.replace("{id}", self.id).replace("{bundle}", self.bundle)
                .replace("{root}", self.root).replace("{tmp}", self.tmp)
                .replace("{cg}", self.cg).replace("{rootfs}", self.rootfs))


def run_cmd(ctx, argv, stdin=None, timeout=STEP_TIMEOUT, cwd=None, env=None, use_pty=False):
    """Runs argv with stdout/stderr to files (detached containers keep them open)."""
    n = len(os.listdir(ctx.tmp))
    outp, errp = os.path.join(ctx.tmp, f"o{n}"), os.path.join(ctx.tmp, f"e{n}")
    with open(outp, "wb") as o, open(errp, "wb") as e:
        master = None
        if use_pty:
            import pty
            master, slave = pty.openpty()
            p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=e, cwd=cwd, env=env,
                                 start_new_session=True, preexec_fn=lambda: __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0))
            os.close(slave)
        else:
            p = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                 stdout=o, stderr=e, cwd=cwd, env=env, start_new_session=True)
            if stdin is not None:
                try:
                    p.stdin.write(stdin.encode())
                    p.stdin.close()
                except BrokenPipeError:
                    pass
        buf = b""
        deadline = time.time() + timeout
        rc = None
        while True:
            if master is not None:
                import select
                r, _, _ = select.select([master], [], [], 0.05)
                if r:
                    try:
                        buf += os.read(master, 65536)
                    except OSError:
                        pass
            rc = p.poll()
            if rc is not None:
                break
            if time.time() > deadline:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()
                rc = "TIMEOUT"
                break
            if master is None:
                time.sleep(0.005)
        if master is not None:
            while True:
                import select
                r, _, _ = select.select([master], [], [], 0.1)
                if not r:
                    break
                try:
                    d = os.read(master, 65536)
                except OSError:
                    break
                if not d:
                    break
                buf += d
            os.close(master)
            o.write(buf)
    return rc, outp, errp


LOGRUS = re.compile(r'^time="[^"]*" level=(\w+) msg="((?:[^"\\]|\\.)*)"(.*)$')


def norm_text(ctx, s):
    for a, b in ((ctx.rootfs, "<ROOTFS>"), (ctx.bundle, "<BUNDLE>"), (ctx.root, "<ROOT>"),
                 (ctx.tmp, "<TMP>"), (ctx.rt, "<RT>"), (ctx.cg, "<CG>")):
        s = s.replace(a, b)
    for i in sorted(ctx.ids, key=len, reverse=True):
        s = s.replace(i, "<ID>")
    s = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "<TIME>", s)
    s = re.sub(r"\b(husk|runc)\b", "<RT>", s)
    for p in sorted({x for x in ctx.pids if isinstance(x, int) and x > 300}, key=lambda x: -len(str(x))):
        s = re.sub(rf"\b{p}\b", "<PID>", s)
    return s


def parse_err(ctx, raw):
    """stderr -> list of (level, message) for logrus lines, ('raw', line) otherwise."""
    res = []
    for line in raw.splitlines():
        m = LOGRUS.match(line)
        if m:
            msg = m.group(2).encode().decode("unicode_escape", errors="replace").strip()
            res.append((m.group(1), norm_text(ctx, msg)))
        elif line.strip():
            res.append(("raw", norm_text(ctx, line)))
    return res


def cg_leftovers(tag):
    left = []
    for ctrl in sorted(os.listdir(CG_ROOT)):
        p = f"{CG_ROOT}/{ctrl}{CG_PREFIX}/{tag}"
        if os.path.isdir(p) and not os.path.islink(f"{CG_ROOT}/{ctrl}"):
            left.append(ctrl)
    return left


def rm_cgroups(tag):
    for ctrl in os.listdir(CG_ROOT):
        if os.path.islink(f"{CG_ROOT}/{ctrl}"):
            continue
        p = f"{CG_ROOT}/{ctrl}{CG_PREFIX}/{tag}"
        if not os.path.isdir(p):
            continue
        for dirpath, dirs, _ in sorted(os.walk(p, topdown=False), key=lambda x: -len(x[0])):
            for attempt in range(50):
                try:
                    procs = open(dirpath + "/cgroup.procs").read().split()
                    for pid in procs:
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except OSError:
                            pass
                    if ctrl == "freezer":
                        try:
                            open(dirpath + "/freezer.state", "w").write("THAWED")
                        except OSError:
                            pass
                    os.rmdir(dirpath)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def listing(top, skip_rootfs_base):
    out = []
    for dirpath, dirs, files in os.walk(top):
        dirs.sort()
        for f in sorted(dirs + files):
            p = os.path.join(dirpath, f)
            rel = os.path.relpath(p, top)
            if skip_rootfs_base is not None and rel in skip_rootfs_base:
                continue
            out.append(rel)
    return out


class Result:
    def __init__(self):
        self.lines = []   # list of strings, compared exactly
        self.errs = []    # list of (step index, [(level,msg)]) compared by level + phrases


def run_scenario(sc, rt, base_rootfs, tag, keep=False):
    tmp = tempfile.mkdtemp(prefix=f"husk-compat-{tag}-", dir=TMPBASE)
    ctx = Ctx(rt, tmp, base_rootfs, tag, sc.name)
    res = Result()
    try:
        if sc.config:
            sc.config(ctx.config, ctx)
        if sc.setup:
            sc.setup(ctx)
        if sc.write_config:
            ctx.write_config()
        base_listing = set(listing(ctx.bundle, None))
        outputs = []
        for i, st in enumerate(sc.steps):
            if callable(st):
                r = st(ctx)
                if r is not None:
                    res.lines.append(f"[{i}] {norm_text(ctx, str(r))}")
                continue
            opts = {}
            if isinstance(st, tuple):
                st, opts = st
            if st.startswith("sleep "):
                time.sleep(float(st.split()[1]))
                continue
            if st.startswith("wait-stopped"):
                wait_status(ctx, "stopped")
                continue
            if st.startswith("sh "):
                argv = ["/bin/sh", "-c", ctx.subst(st[3:])]
            else:
                args = shlex.split(st)
                gl = ["--root", ctx.root] if not opts.get("noroot") else []
                argv = [rt] + gl + [ctx.subst(a) for a in args]
            env = dict(os.environ, RT=rt)
            env.update(opts.get("env") or {})
            rc, outp, errp = run_cmd(ctx, argv, stdin=opts.get("stdin"), timeout=opts.get("timeout", STEP_TIMEOUT),
                                     cwd=ctx.subst(opts["cwd"]) if "cwd" in opts else None, env=env,
                                     use_pty=opts.get("pty", False))
            outputs.append((i, st, rc, outp, errp, opts))
            if st.split()[:1] == ["state"] and rc == 0:
                try:
                    ctx.pids.append(json.load(open(outp))["pid"])
                except Exception:
                    pass
        time.sleep(sc.settle)
        for i, st, rc, outp, errp, opts in outputs:
            out = open(outp, "rb").read().decode(errors="replace")
            err = open(errp, "rb").read().decode(errors="replace")
            if opts.get("filter"):
                out = opts["filter"](out)
            if opts.get("json"):
                out = norm_json(out)
            res.lines.append(f"[{i}] {norm_text(ctx, st)} -> rc={rc}")
            if not opts.get("ignore_out"):
                for line in norm_text(ctx, out).splitlines():
                    res.lines.append(f"[{i}]   out: {line}")
            res.errs.append((i, parse_err(ctx, err), opts))
        if sc.leftovers:
            left = sorted(set(listing(ctx.bundle, None)) - base_listing)
            res.lines.append("bundle files added: " + " ".join(left))
            # .seccomp: husk's cache of compiled seccomp programs, shared by its containers
            # (README "Compatibility with runc": a file of the runtime's own root).
            ents = sorted(e for e in os.listdir(ctx.root) if e != ".seccomp") if os.path.isdir(ctx.root) else None
            res.lines.append(norm_text(ctx, "state root entries: " + " ".join(ents)) if ents is not None else "state root: gone")
            res.lines.append("cgroups left: " + " ".join(cg_leftovers(tag)))
    finally:
        cleanup(ctx, tag, keep)
    return res


def wait_status(ctx, want, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        p = subprocess.run([ctx.rt, "--root", ctx.root, "state", ctx.id], capture_output=True, text=True)
        try:
            if json.loads(p.stdout)["status"] == want:
                return
        except Exception:
            pass
        time.sleep(0.05)


def norm_json(out):
    try:
        v = json.loads(out)
    except Exception:
        return out
    def walk(x):
        if isinstance(x, dict):
            return {k: ("<NUM>" if k in ("pid",) and isinstance(w, int) and w > 0 else walk(w)) for k, w in sorted(x.items())}
        if isinstance(x, list):
            return [walk(w) for w in x]
        return x
    return json.dumps(walk(v), indent=1, sort_keys=True)


def cleanup(ctx, tag, keep):
    if os.path.isdir(ctx.root):
        for cid in os.listdir(ctx.root):
            subprocess.run([ctx.rt, "--root", ctx.root, "delete", "-f", cid], capture_output=True, timeout=30)
    rm_cgroups(tag)
    if ctx.rootfs in open("/proc/self/mountinfo").read():
        subprocess.run(["umount", "-R", "-l", ctx.rootfs], capture_output=True)
    if not keep:
        shutil.rmtree(ctx.tmp, ignore_errors=True)


def compare(sc, a, b):
    """a = husk, b = runc. Returns (status, details)."""
    diff = []
    import difflib
    if a.lines != b.lines:
        diff += list(difflib.unified_diff(b.lines, a.lines, "runc", "husk", lineterm="", n=2))
    wording = []
    for (i, ea, opts), (_, eb, _) in zip(a.errs, b.errs):
        if opts.get("retry_warnings"):
            # runc's "Failed to remove cgroup (will retry)": how many depends on how fast the
            # killed processes are reaped, not on the runtime's behaviour.
            ea = [e for e in ea if not (e[0] == "warning" and "will retry" in e[1])]
            eb = [e for e in eb if not (e[0] == "warning" and "will retry" in e[1])]
        lvl = {"error": "error", "fatal": "error", "raw": "error", "warning": "warning"}
        la = sorted({lvl[lv] for lv, _ in ea if lv in lvl})
        lb = sorted({lvl[lv] for lv, _ in eb if lv in lvl})
        if la != lb or bool(ea) != bool(eb):
            diff.append(f"[{i}] stderr: runc={eb!r}\n      husk={ea!r}")
            continue
        for ph in opts.get("phrases", []):
            ta = " ".join(m for _, m in ea)
            tb = " ".join(m for _, m in eb)
            if (ph in ta) != (ph in tb) or ph not in tb:
                diff.append(f"[{i}] phrase {ph!r}: runc={eb!r} husk={ea!r}")
        if ea != eb and opts.get("exact_err"):
            diff.append(f"[{i}] stderr differs: runc={eb!r} husk={ea!r}")
        elif ea != eb:
            wording.append(f"[{i}] runc={eb!r} husk={ea!r}")
    if diff:
        return "DIFF", diff
    if wording:
        return "WORDING", wording
    return "PASS", []


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("husk")
    ap.add_argument("--runc", default=shutil.which("runc") or "runc")
    ap.add_argument("-k", "--filter", default="")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--pending", action="store_true", help="run the pending scenarios as ordinary ones")
    a = ap.parse_args()
    from scenarios import SCENARIOS
    from allowlist import ALLOW, PENDING
    if os.geteuid() != 0:
        print("compat: SKIPPED (needs root)")
        return 0
    husk = os.path.abspath(a.husk)
    base = tempfile.mkdtemp(prefix="husk-compat-base-", dir=TMPBASE)
    build_base_rootfs(base + "/rootfs")
    counts = {"PASS": 0, "DIFF": 0, "ALLOWED": 0, "PENDING": 0}
    failed = []
    t0 = time.time()
    try:
        names = set()
        for n, sc in enumerate(SCENARIOS):
            assert sc.name not in names, sc.name
            names.add(sc.name)
            if a.filter and not re.search(a.filter, sc.name):
                continue
            tag = f"{os.getpid()}-{n}"
            rb = run_scenario(sc, a.runc, base + "/rootfs", tag + "r", a.keep)
            rh = run_scenario(sc, husk, base + "/rootfs", tag + "h", a.keep)
            st, det = compare(sc, rh, rb)
            if st == "WORDING":
                st = "ALLOWED"
                why = "message wording (key phrases and levels equal)"
            elif st == "DIFF" and sc.name in ALLOW:
                st, why = "ALLOWED", ALLOW[sc.name]
            else:
                why = ""
            pend = PENDING.get(sc.name)
            if pend and not a.pending:
                if st == "DIFF":
                    print(f"PENDING (issue 22 class {pend[0]}) {sc.name}")
                    counts["PENDING"] += 1
                    if a.verbose:
                        print("\n".join("    " + l for l in det))
                    continue
                why = f"pending class {pend[0]} now passes: enable it"
            counts[st] += 1
            line = f"{st} {sc.name}"
            if st == "ALLOWED":
                line += f"  ({why})"
                if a.verbose:
                    line += "\n" + "\n".join("    " + l for l in det)
            elif st == "PASS" and why:
                line += f"  ({why})"
            print(line, flush=True)
            if st == "DIFF":
                failed.append(sc.name)
                print("\n".join("    " + l for l in det), flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        for ctrl in os.listdir(CG_ROOT):
            try:
                os.rmdir(f"{CG_ROOT}/{ctrl}{CG_PREFIX}")
            except OSError:
                pass
    dt = time.time() - t0
    print(f"compat: {counts['PASS']} passed, {counts['DIFF']} failed, {counts['ALLOWED']} allowed, "
          f"{counts['PENDING']} pending ({dt:.0f} s)")
    return 1 if counts["DIFF"] else 0


if __name__ == "__main__":
    sys.exit(main())
