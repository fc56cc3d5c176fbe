"""The compat scenarios. Each: a bundle (config tweaks, setup) + a command sequence.
Steps are runtime command lines ({id}, {bundle}, {root}, {tmp}, {cg}, {rootfs} substituted),
"sh CMD" for host shell commands, "sleep S", "wait-stopped", or callables returning text."""
import json
import os
import re


class S:
    def __init__(self, name, steps, config=None, setup=None, settle=0.0, leftovers=True, write_config=True):
        self.name, self.steps, self.config, self.setup = name, steps, config, setup
        self.settle, self.leftovers, self.write_config = settle, leftovers, write_config


SCENARIOS = []


def add(*a, **k):
    SCENARIOS.append(S(*a, **k))


# ---- filters for what the container prints --------------------------------------------------
def mountinfo(out):
    """mountinfo without mount ids, device numbers and host paths of sources."""
    res = []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 7 or "-" not in f:
            res.append(line)
            continue
        sep = f.index("-")
        opts = ",".join(o for o in f[5].split(",") if o)
        sup = ",".join(o for o in f[sep + 3].split(",") if not o.startswith(("inode64", "nr_inodes")))
        res.append(f"{f[4]} {opts} {f[sep + 1]} {sup}")
    return "\n".join(res) + "\n"


def cr(out):
    return out.replace("\r", "<CR>")


def ps_filter(out):
    lines = out.splitlines()
    return "\n".join([lines[0].split()[0] if lines else ""] + [l.split()[-1] for l in lines[1:]]) + "\n"


def list_filter(out):
    res = []
    for line in out.splitlines():
        f = line.split()
        res.append(" ".join(f[:1] + f[2:3] + f[3:4]))  # ID STATUS BUNDLE (no pid/time)
    return "\n".join(res) + "\n"


def json_list_filter(out):
    try:
        v = json.loads(out)
    except Exception:
        return out
    if v is None:
        return "null\n"
    return json.dumps([{k: x[k] for k in ("id", "status", "bundle") if k in x} for x in v], sort_keys=True) + "\n"


def state_filter(out):
    try:
        v = json.loads(out)
    except Exception:
        return out
    v.pop("created", None)
    v.pop("owner", None)
    v.pop("ociVersion", None)  # runc reports its own spec version (1.0.2-dev); see README
    if v.get("pid"):
        v["pid"] = "<PID>"
    return json.dumps(v, sort_keys=True, indent=1) + "\n"


def keys_filter(out):
    try:
        v = json.loads(out)
    except Exception:
        return out
    return " ".join(sorted(v)) + "\n"


# ---- config helpers -------------------------------------------------------------------------
def cmd(c, shell):
    c["process"]["args"] = ["sh", "-c", shell]


def with_cmd(shell, more=None):
    def f(c, ctx):
        cmd(c, ctx.subst(shell))
        if more:
            more(c, ctx)
    return f


RUN = "run --bundle {bundle} {id}"
CREATE = "create --bundle {bundle} {id}"
STATE = ("state {id}", {"filter": state_filter})
DEL = "delete {id}"
DELF = "delete -f {id}"
SLEEPER = with_cmd("sleep 1000")
STATUS = "grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status"


def run_sees(name, shell, more=None, extra_steps=(), opts=None, **kw):
    add(name, [(RUN, opts or {})] + list(extra_steps), config=with_cmd(shell, more), **kw)


# ---- global options and unknown commands ----------------------------------------------------
add("cli-unknown-command", [("bogus", {})])
add("cli-no-command", [("", {"ignore_out": True})])
add("cli-help", [("--help", {"ignore_out": True})])
add("cli-unknown-global-flag", [("--bogus-flag list", {"ignore_out": True})])
add("cli-version-rc", [("--version", {"ignore_out": True})])
for c in ("create", "start", "delete", "state", "kill", "pause", "resume", "ps", "exec", "events", "update", "run"):
    add(f"cli-{c}-missing-id", [(c, {"ignore_out": True})])
for c, extra in (("state", ""), ("start", ""), ("kill", ""), ("delete", ""), ("pause", ""), ("resume", ""),
                 ("ps", ""), ("exec", " true"), ("events", " --stats"), ("update", " --memory 10M")):
    add(f"unknown-id-{c}", [(f"{c} nosuch{extra}", {"phrases": ["does not exist"], "ignore_out": c == "ps"})])
add("unknown-id-delete-force", [("delete -f nosuch", {})])
for c in ("create", "start", "kill", "delete", "list", "exec", "run", "state", "ps", "spec", "update", "pause"):
    add(f"cli-{c}-unknown-flag", [(f"{c} --no-such-flag x", {"ignore_out": True})])

# ---- list ------------------------------------------------------------------------------------
add("list-empty", ["list"])
add("list-empty-quiet", ["list -q"])
add("list-empty-json", [("list --format json", {"filter": json_list_filter})])
add("list-bad-format", [("list --format yaml", {"ignore_out": True})])
add("list-created", [CREATE, ("list", {"filter": list_filter}), ("list -q", {}),
                     ("list -f json", {"filter": json_list_filter}), DELF], config=SLEEPER)
add("list-missing-root", [("list", {"noroot": True, "ignore_out": True})])

# ---- lifecycle -------------------------------------------------------------------------------
add("life-create-start-delete", [CREATE, STATE, "start {id}", "wait-stopped", STATE, DEL, ("state {id}", {"phrases": ["does not exist"]})],
    config=with_cmd("echo hello"))
add("life-run-exit-code", [RUN], config=with_cmd("exit 7"))
add("life-run-output", [RUN], config=with_cmd("echo out; echo err >&2"))
add("life-run-signal-exit", [RUN], config=with_cmd("kill -9 $$"))
add("life-run-detach", ["run -d --bundle {bundle} {id}", "wait-stopped", STATE, DEL], config=with_cmd("true"))
add("life-run-stays", [RUN, STATE], config=with_cmd("true"))
add("life-create-twice", [CREATE, (CREATE, {"phrases": ["already exists"]}), DELF], config=SLEEPER)
add("life-start-twice", [CREATE, "start {id}", ("start {id}", {}), DELF], config=SLEEPER)
add("life-start-stopped", [CREATE, "start {id}", "wait-stopped", ("start {id}", {}), DEL], config=with_cmd("true"))
add("life-delete-running", [CREATE, "start {id}", ("delete {id}", {"phrases": ["not stopped"]}), DELF], config=SLEEPER)
add("life-delete-created", [CREATE, ("delete {id}", {}), ("list -q", {})], config=SLEEPER)
add("life-delete-force-created", [CREATE, DELF, ("list -q", {})], config=SLEEPER)
add("life-delete-force-running", [CREATE, "start {id}", DELF, ("list -q", {})], config=SLEEPER)
add("life-delete-stopped-twice", [RUN, DEL, ("delete {id}", {"phrases": ["does not exist"]})], config=with_cmd("true"))
add("life-pid-file", ["run -d --pid-file {tmp}/pidfile --bundle {bundle} {id}", "sh test -s {tmp}/pidfile && echo ok", DELF],
    config=SLEEPER)
add("life-pid-file-relative", [("run -d --pid-file pidf --bundle {bundle} {id}", {"cwd": "{tmp}"}), "sh test -s {tmp}/pidf && echo ok", DELF],
    config=SLEEPER)
add("life-bundle-cwd-default", [("run {id}", {"cwd": "{bundle}"})], config=with_cmd("echo cwd-bundle"))
add("life-stdin", [(RUN, {"stdin": "piped input\n"})], config=with_cmd("cat"))
add("life-id-invalid-chars", [("run --bundle {bundle} 'a/b'", {})], config=with_cmd("true"))
add("life-id-dotdot", [("run --bundle {bundle} ..", {})], config=with_cmd("true"))
add("life-preserve-fds", [("sh exec 3</etc/hostname; {rt} --root {root} run --preserve-fds 1 --bundle {bundle} {id}".replace("{rt}", "$RT"), {})],
    config=with_cmd("ls /proc/self/fd | sort -n | tr '\\n' ' '"))

# ---- kill ------------------------------------------------------------------------------------
add("kill-default-term", [CREATE, "start {id}", "kill {id}", "wait-stopped", STATE, DEL], config=SLEEPER)
for sig in ("KILL", "SIGKILL", "9", "sigkill", "USR1", "0", "SIGRTMIN+1", "BOGUS", "65", "-9"):
    add(f"kill-signal-{sig}", [CREATE, "start {id}", (f"kill {{id}} {sig}", {}), "sleep 0.2", ("state {id}", {"filter": lambda o: json.loads(o)["status"] + "\n" if o.strip() else o}), DELF],
        config=SLEEPER)
add("kill-created", [CREATE, "kill {id} KILL", "wait-stopped", STATE, DEL], config=SLEEPER)
add("kill-stopped", [RUN, ("kill {id} KILL", {}), DEL], config=with_cmd("true"))
add("kill-all-stopped-sig0", [RUN, ("kill --all {id} 0", {}), DEL], config=with_cmd("true"))  # class 5
add("kill-all", [CREATE, "start {id}", "kill --all {id} KILL", "wait-stopped", STATE, DEL], config=with_cmd("sleep 1000 & sleep 1000"))
add("kill-sig0-running", [CREATE, "start {id}", ("kill {id} 0", {}), STATE, DELF], config=SLEEPER)  # class 5

# ---- pause / resume --------------------------------------------------------------------------
add("pause-resume", [CREATE, "start {id}", "pause {id}", STATE, "resume {id}", STATE, DELF], config=SLEEPER)
add("pause-created", [CREATE, ("pause {id}", {}), STATE, DELF], config=SLEEPER)
add("pause-twice", [CREATE, "start {id}", "pause {id}", ("pause {id}", {}), DELF], config=SLEEPER)
add("resume-running", [CREATE, "start {id}", ("resume {id}", {}), DELF], config=SLEEPER)
add("pause-stopped", [RUN, ("pause {id}", {}), DEL], config=with_cmd("true"))
add("delete-paused", [CREATE, "start {id}", "pause {id}", ("delete {id}", {}), DELF, ("list -q", {})], config=SLEEPER)
add("kill-paused", [CREATE, "start {id}", "pause {id}", ("kill {id} KILL", {}), DELF, ("list -q", {})], config=SLEEPER)

# ---- ps / events / update --------------------------------------------------------------------
add("ps-table", [CREATE, "start {id}", ("ps {id}", {"filter": ps_filter}), DELF], config=SLEEPER)
add("ps-json", [CREATE, "start {id}", ("ps --format json {id}", {"filter": lambda o: str(len(json.loads(o))) + "\n"}), DELF], config=SLEEPER)
add("ps-args", [CREATE, "start {id}", ("ps {id} -o comm", {"filter": lambda o: "".join(sorted(o.splitlines(True)))}), DELF], config=SLEEPER)
add("ps-stopped", [RUN, ("ps {id}", {}), DEL], config=with_cmd("true"))
add("ps-bad-format", [CREATE, ("ps --format xml {id}", {}), DELF], config=SLEEPER)
add("events-stats-keys", [CREATE, "start {id}", ("events --stats {id}", {"filter": keys_filter}), DELF], config=SLEEPER)
add("events-stopped", [RUN, ("events --stats {id}", {}), DEL], config=with_cmd("true"))
for name, flags, f in (("memory", "--memory 64M", "memory/memory.limit_in_bytes"),
                       ("pids", "--pids-limit 77", "pids/pids.max"),
                       ("cpu-shares", "--cpu-share 512", "cpu/cpu.shares"),
                       ("cpu-quota", "--cpu-quota 20000 --cpu-period 100000", "cpu/cpu.cfs_quota_us"),
                       ("cpuset", "--cpuset-cpus 0", "cpuset/cpuset.cpus"),
                       ("bad-value", "--memory lots", None),
                       ("mem-minus-one", "--memory -1", "memory/memory.limit_in_bytes")):
    steps = [CREATE, "start {id}", (f"update {flags} {{id}}", {})]
    if f:
        steps.append(f"sh cat /sys/fs/cgroup/{f.split('/')[0]}{{cg}}/{f.split('/')[1]}")
    add(f"update-{name}", steps + [DELF], config=SLEEPER)
add("update-resources-json", [CREATE, "start {id}", ("sh echo '{\"pids\":{\"limit\":55}}' | $RT --root {root} update -r - {id}", {}),
                              "sh cat /sys/fs/cgroup/pids{cg}/pids.max", DELF], config=SLEEPER)
add("update-stopped", [RUN, ("update --pids-limit 9 {id}", {}), DEL], config=with_cmd("true"))

# ---- exec ------------------------------------------------------------------------------------
EXEC_PRE = [CREATE, "start {id}"]
for name, args in (("basic", "{id} echo hi"), ("exit-code", "{id} sh -c 'exit 3'"), ("env", "--env FOO=bar {id} sh -c 'echo $FOO'"),
                   ("cwd", "--cwd /tmp {id} pwd"), ("user", "--user 1000:1000 {id} id"), ("user-groups", "--user 1000 --additional-gids 2000 {id} id"),
                   ("missing-binary", "{id} /nonexistent"), ("no-args", "{id}"), ("cap", f"--cap CAP_SYS_ADMIN {{id}} {STATUS}".replace("'", "")),
                   ("cap-unknown", "--cap CAP_BOGUS {id} true"), ("no-new-privs", "--no-new-privs {id} grep NoNewPrivs /proc/self/status"),
                   ("detach", "-d {id} true"), ("pid-file", "-d --pid-file {tmp}/ep {id} true"), ("status", f"{{id}} {STATUS}"),
                   ("process-json-missing", "--process /nonexistent.json {id}"), ("cgroup-own", "--cgroup / {id} cat /proc/self/cgroup"),
                   ("cgroup-dotdot", "--cgroup .. {id} true"), ("cgroup-missing", "--cgroup nosuch {id} true"),
                   ("cgroup-bad-ctrl", "--cgroup bogus:/ {id} true"), ("stdin", "{id} cat")):
    # class 3: the phrases of runc's errors for --cgroup (scripts and engines match on them)
    ph = {"cgroup-dotdot": ["is not a sub cgroup path"], "cgroup-bad-ctrl": ["unknown controller bogus"],
          "cgroup-missing": ["no such file or directory"]}.get(name, [])
    add(f"exec-{name}", EXEC_PRE + [(f"exec {args}", {"stdin": "in\n" if name == "stdin" else None, "phrases": ph,
                                                      "filter": (lambda o: re.sub(r"\d+:", "N:", o)) if "cgroup" in name else None}), DELF],
        config=SLEEPER)
add("exec-process-json", EXEC_PRE + [("sh echo '{\"args\":[\"echo\",\"from-json\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}' > {tmp}/p.json", {}),
                                     "exec --process {tmp}/p.json {id}", DELF], config=SLEEPER)
add("exec-stopped", [RUN, ("exec {id} true", {}), DEL], config=with_cmd("true"))
add("exec-created", [CREATE, ("exec {id} echo in-created", {}), DELF], config=SLEEPER)  # class 4
add("exec-paused", [CREATE, "start {id}", "pause {id}", ("exec {id} true", {}), "resume {id}", DELF], config=SLEEPER)

# ---- spec / features -------------------------------------------------------------------------
def spec_json(o):
    """The spec without ociVersion: each runtime writes the spec version it implements
    (runc 1.1.5: 1.0.2-dev, husk: 1.3.0); README "Compatibility with runc"."""
    try:
        v = json.loads(o)
    except Exception:
        return o
    v.pop("ociVersion", None)
    return json.dumps(v, indent=1, sort_keys=True) + "\n"


add("spec-default", ["spec --bundle {tmp}/sb", ("sh cat {tmp}/sb/config.json", {"filter": spec_json})], setup=lambda ctx: os.makedirs(ctx.tmp + "/sb"))  # class 1
add("spec-rootless", ["spec --rootless --bundle {tmp}/sb", ("sh cat {tmp}/sb/config.json", {"filter": spec_json})],
    setup=lambda ctx: os.makedirs(ctx.tmp + "/sb"))
add("spec-exists", ["spec --bundle {tmp}/sb", ("spec --bundle {tmp}/sb", {})], setup=lambda ctx: os.makedirs(ctx.tmp + "/sb"))
add("spec-missing-bundle", [("spec --bundle {tmp}/nosuch", {})])
add("spec-then-userns-cgroupns", ["spec --bundle {tmp}/sb", "sh cd {tmp}/sb && cp -a {rootfs} rootfs && python3 -c \"import json;c=json.load(open('config.json'));"
                                  "c['process']['terminal']=False;c['process']['args']=['true'];c['linux']['namespaces'].append({'type':'cgroup'});"
                                  "c['linux']['cgroupsPath']='{cg}';json.dump(c,open('config.json','w'))\"",
                                  ("run --bundle {tmp}/sb {id}", {})], setup=lambda ctx: os.makedirs(ctx.tmp + "/sb"))  # class 1
add("features-keys", [("features", {"filter": keys_filter})])

# ---- bundle / config errors ------------------------------------------------------------------
def rm_config(ctx):
    os.unlink(ctx.bundle + "/config.json")


def write(path, text):
    def f(ctx):
        with open(ctx.subst(path), "w") as fh:
            fh.write(text)
    return f


add("bundle-missing", [("run --bundle {tmp}/nosuch {id}", {}), ("list -q", {})])
add("bundle-no-config", [("run --bundle {bundle} {id}", {}), ("list -q", {})], setup=lambda ctx: None, write_config=False)
add("bundle-bad-json", [RUN, ("list -q", {})], write_config=False, setup=write("{bundle}/config.json", "{not json"))
add("bundle-missing-rootfs", [RUN, ("list -q", {})], config=lambda c, ctx: c["root"].update(path="nosuch"))
add("config-no-process", [CREATE, ("list -q", {})], config=lambda c, ctx: c.pop("process"))
add("config-empty-args", [RUN], config=lambda c, ctx: c["process"].update(args=[]))
add("config-missing-binary", [RUN], config=lambda c, ctx: c["process"].update(args=["/nonexistent"]))
add("config-not-executable", [RUN], config=lambda c, ctx: c["process"].update(args=["/etc/passwd"]))
add("config-binary-in-path", [RUN], config=lambda c, ctx: c["process"].update(args=["nosuchcmd"]))
add("config-bad-namespace", [RUN], config=lambda c, ctx: c["linux"]["namespaces"].append({"type": "bogus"}))
add("config-dup-namespace", [RUN], config=lambda c, ctx: c["linux"]["namespaces"].append({"type": "pid"}))
add("config-bad-rlimit", [RUN], config=lambda c, ctx: c["process"]["rlimits"].append({"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}))
add("config-bad-mount-dest", [RUN], config=lambda c, ctx: c["mounts"].append({"destination": "relative/x", "type": "tmpfs", "source": "tmpfs"}))
add("config-bad-mount-type", [RUN], config=lambda c, ctx: c["mounts"].append({"destination": "/mnt", "type": "nosuchfs", "source": "x"}))
add("config-bind-missing-source", [RUN], config=lambda c, ctx: c["mounts"].append({"destination": "/mnt", "type": "bind", "source": "/nonexistent", "options": ["bind"]}))
add("config-bad-cgroups-path", [RUN], config=lambda c, ctx: c["linux"].update(cgroupsPath="relative/no"))
add("config-no-linux", [RUN], config=lambda c, ctx: c.pop("linux"))
add("config-user-nonexistent-uid", [RUN], config=with_cmd("id", lambda c, ctx: c["process"].update(user={"uid": 4242, "gid": 4242})))
add("config-user-username", [RUN], config=with_cmd("id", lambda c, ctx: c["process"]["user"].update(username="user")))

# ---- process section -------------------------------------------------------------------------
run_sees("proc-status-default", STATUS)
run_sees("proc-user-1000", f"id; {STATUS}", lambda c, ctx: c["process"].update(user={"uid": 1000, "gid": 1000}))
run_sees("proc-additional-gids", "id", lambda c, ctx: c["process"].update(user={"uid": 1000, "gid": 1000, "additionalGids": [2000, 5]}))
run_sees("proc-umask", "umask", lambda c, ctx: c["process"]["user"].update(umask=0o077))
run_sees("proc-env", "env | sort", lambda c, ctx: c["process"]["env"].append("FOO=bar baz"))
run_sees("proc-env-empty", "env | sort", lambda c, ctx: c["process"].update(env=[]))
run_sees("proc-cwd", "pwd", lambda c, ctx: c["process"].update(cwd="/tmp"))
run_sees("proc-cwd-missing", "pwd", lambda c, ctx: c["process"].update(cwd="/does/not/exist"))  # class 16
run_sees("proc-cwd-relative", "pwd", lambda c, ctx: c["process"].update(cwd="tmp"))
run_sees("proc-no-nnp", "grep NoNewPrivs /proc/self/status", lambda c, ctx: c["process"].update(noNewPrivileges=False))
run_sees("proc-rlimits", "ulimit -n; ulimit -Hn", lambda c, ctx: c["process"]["rlimits"].__setitem__(0, {"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 512}))
run_sees("proc-oom-score", "cat /proc/self/oom_score_adj", lambda c, ctx: c["process"].update(oomScoreAdj=123))
run_sees("proc-caps-ambient", STATUS, lambda c, ctx: c["process"]["capabilities"].update(inheritable=["CAP_KILL"], ambient=["CAP_KILL"]))
run_sees("proc-caps-unknown", STATUS, lambda c, ctx: c["process"]["capabilities"]["bounding"].append("CAP_BOGUS"))  # class 21
run_sees("proc-caps-empty", STATUS, lambda c, ctx: c["process"].pop("capabilities"))
run_sees("proc-hostname", "hostname")
run_sees("proc-domainname", "cat /proc/sys/kernel/domainname", lambda c, ctx: c.update(domainname="example.org"))
run_sees("proc-hostname-no-uts", "true", lambda c, ctx: c["linux"].update(namespaces=[n for n in c["linux"]["namespaces"] if n["type"] != "uts"]))
run_sees("proc-stdio-owner-user", "stat -L -c %u:%g /proc/self/fd/1 /proc/self/fd/2",
         lambda c, ctx: c["process"].update(user={"uid": 1000, "gid": 1000}))  # class 20
add("proc-stdio-pipe-write-user", [("sh $RT --root {root} run --bundle {bundle} {id} | cat", {})],
    config=with_cmd("echo x > /dev/stdout && echo wrote", lambda c, ctx: c["process"].update(user={"uid": 1000, "gid": 1000})))  # class 20
add("proc-tty-owner-user", [(RUN, {"pty": True})],
    config=with_cmd("stat -c %u:%g $(tty)", lambda c, ctx: (c["process"].update(terminal=True, user={"uid": 1000, "gid": 1000}))),
    )  # class 20
add("tty-onlcr", [(RUN, {"pty": True, "filter": cr})], config=with_cmd("printf 'a\\nb\\n'", lambda c, ctx: c["process"].update(terminal=True)))
add("tty-create-no-socket", [(CREATE, {}), ("list -q", {})], config=with_cmd("true", lambda c, ctx: c["process"].update(terminal=True)))
add("tty-detach-no-socket", [("run -d --bundle {bundle} {id}", {}), ("list -q", {})], config=with_cmd("true", lambda c, ctx: c["process"].update(terminal=True)))
add("tty-socket-without-terminal", [("create --console-socket {tmp}/nosock --bundle {bundle} {id}", {}), DELF], config=SLEEPER)
add("tty-is-tty", [(RUN, {"pty": True, "filter": cr})], config=with_cmd("tty; stty size >/dev/null && echo ok", lambda c, ctx: c["process"].update(terminal=True)))

# ---- root / mounts ---------------------------------------------------------------------------
run_sees("root-readonly", "touch /x 2>&1 | sed 's/.*: //'", lambda c, ctx: c["root"].update(readonly=True))
run_sees("mounts-mountinfo", "cat /proc/self/mountinfo", opts={"filter": mountinfo})
run_sees("mounts-bind-ro", "cat /mnt/f; touch /mnt/g 2>&1 | sed 's/.*: //'",
         lambda c, ctx: c["mounts"].append({"destination": "/mnt", "type": "bind", "source": ctx.tmp + "/src", "options": ["rbind", "ro"]}),
         setup=lambda ctx: (os.makedirs(ctx.tmp + "/src"), open(ctx.tmp + "/src/f", "w").write("content\n")))
run_sees("mounts-bind-file", "cat /etc/hostname-x",
         lambda c, ctx: c["mounts"].append({"destination": "/etc/hostname-x", "type": "bind", "source": ctx.tmp + "/hf", "options": ["bind"]}),
         setup=lambda ctx: open(ctx.tmp + "/hf", "w").write("file bind\n"))
run_sees("mounts-tmpfs-opts", "grep ' /mnt ' /proc/self/mountinfo", lambda c, ctx: c["mounts"].append(
    {"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "mode=700", "size=1m"]}), opts={"filter": mountinfo})
run_sees("mounts-dest-created", "ls -d /a/b/c", lambda c, ctx: c["mounts"].append({"destination": "/a/b/c", "type": "tmpfs", "source": "tmpfs"}))
run_sees("mounts-dest-symlink-escape", "ls /", lambda c, ctx: c["mounts"].append({"destination": "/esc/x", "type": "tmpfs", "source": "tmpfs"}),
         setup=lambda ctx: os.symlink("/../../../../tmp", ctx.rootfs + "/esc"))
run_sees("mounts-dev-ro-nested", "grep -E ' /dev(/[a-z]+)? ' /proc/self/mountinfo", lambda c, ctx: c["mounts"][1]["options"].append("ro"),
         opts={"filter": mountinfo})  # class 12
run_sees("mounts-proc-symlink", "true", setup=lambda ctx: (os.rmdir(ctx.rootfs + "/proc"), os.symlink("tmp", ctx.rootfs + "/proc")))  # class 11
run_sees("mounts-sys-symlink", "true", setup=lambda ctx: (os.rmdir(ctx.rootfs + "/sys"), os.symlink("tmp", ctx.rootfs + "/sys")))  # class 11
run_sees("mounts-propagation-private", "grep ' / / ' /proc/self/mountinfo | grep -o 'shared:[0-9]*' || echo private",
         lambda c, ctx: c["linux"].update(rootfsPropagation="private"))
run_sees("mounts-masked", "cat /proc/kcore 2>&1 | wc -c; ls /sys/firmware | wc -l; ls /proc/scsi 2>&1 | wc -l")
run_sees("mounts-readonly-paths", "echo 1 > /proc/sys/kernel/domainname 2>&1 | sed 's/.*: //'")
run_sees("mounts-masked-missing", "true", lambda c, ctx: c["linux"]["maskedPaths"].append("/no/such/path"))
run_sees("mounts-cgroup-v1", "ls /sys/fs/cgroup | sort", lambda c, ctx: c["mounts"].append(
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}))
add("mounts-no-pivot", [("run --no-pivot --bundle {bundle} {id}", {"filter": mountinfo})],
    config=with_cmd("cat /proc/self/mountinfo", lambda c, ctx: None))  # class 13
# CAP_SETFCAP (with SETUID/SETGID): since Linux 5.12 mapping uid 0 in a new user namespace needs it;
# without them busybox unshare fails writing its maps under every runtime and nothing is shown.
add("mounts-no-pivot-host-proc-hidden", [("run --no-pivot --bundle {bundle} {id}", {})],
    config=with_cmd("unshare -U -r -p -f --mount-proc true 2>/dev/null && echo nested-proc-ok || echo nested-proc-refused",
                    lambda c, ctx: c["process"]["capabilities"].update(
                        {k: v + ["CAP_SETFCAP", "CAP_SETUID", "CAP_SETGID"] for k, v in c["process"]["capabilities"].items()})))  # class 13

# ---- namespaces ------------------------------------------------------------------------------
for ns, probe in (("pid", "echo $$"), ("ipc", "readlink /proc/self/ns/ipc | sed 's/[0-9]//g'"),
                  ("network", "ls /sys/class/net | sort"), ("uts", "hostname"), ("cgroup", "cat /proc/self/cgroup | sed 's/^[0-9]*://' | sort")):
    run_sees(f"ns-{ns}", probe, lambda c, ctx, ns=ns: None if ns != "cgroup" else c["linux"]["namespaces"].append({"type": "cgroup"}))
run_sees("ns-no-pid", "echo $$ | grep -qx 1 && echo pid1 || echo notpid1", lambda c, ctx: c["linux"].update(
    namespaces=[n for n in c["linux"]["namespaces"] if n["type"] != "pid"]))
run_sees("ns-join-missing-path", "true", lambda c, ctx: c["linux"]["namespaces"].__setitem__(2, {"type": "network", "path": "/nonexistent/ns"}))


def userns(c, ctx):
    c["linux"]["namespaces"].append({"type": "user"})
    c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def chown_rootfs(ctx):
    os.chmod(ctx.tmp, 0o755)  # mkdtemp's 0700 would hide the rootfs from the mapped root
    os.system(f"chown -R 100000:100000 {ctx.rootfs}")


run_sees("ns-user", "cat /proc/self/uid_map /proc/self/gid_map; id", userns, setup=chown_rootfs)
run_sees("ns-user-no-mappings", "true", lambda c, ctx: c["linux"]["namespaces"].append({"type": "user"}))
run_sees("ns-user-bind-unreachable", "cat /mnt/f", lambda c, ctx: (userns(c, ctx), c["mounts"].append(
    {"destination": "/mnt", "type": "bind", "source": ctx.tmp + "/priv/src", "options": ["bind"]})),
    setup=lambda ctx: (chown_rootfs(ctx), os.makedirs(ctx.tmp + "/priv/src"), os.chmod(ctx.tmp + "/priv", 0o700),
                       open(ctx.tmp + "/priv/src/f", "w").write("reached\n")))  # class 14

# ---- sysctl / devices / resources ------------------------------------------------------------
run_sees("sysctl-ok", "cat /proc/sys/net/ipv4/ip_forward", lambda c, ctx: c["linux"].update(sysctl={"net.ipv4.ip_forward": "1"}))
run_sees("sysctl-not-namespaced", "true", lambda c, ctx: c["linux"].update(sysctl={"vm.swappiness": "10"}))
run_sees("sysctl-net-without-netns", "true", lambda c, ctx: (c["linux"].update(sysctl={"net.ipv4.ip_forward": "1"}),
                                                             c["linux"].update(namespaces=[n for n in c["linux"]["namespaces"] if n["type"] != "network"])))
run_sees("sysctl-hostname-conflict", "hostname", lambda c, ctx: c["linux"].update(sysctl={"kernel.hostname": "other"}))  # class 22
run_sees("sysctl-domainname-conflict", "true", lambda c, ctx: (c.update(domainname="d.org"), c["linux"].update(sysctl={"kernel.domainname": "e.org"})))
run_sees("devices-default", "ls /dev | sort | tr '\\n' ' '")
run_sees("devices-default-modes", "stat -c '%n %t:%T %a' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty")
run_sees("devices-added", "stat -c '%n %F %t:%T %a %u:%g' /dev/fuse2", lambda c, ctx: c["linux"].update(
    devices=[{"path": "/dev/fuse2", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640, "uid": 1000, "gid": 1000}]))
run_sees("devices-outside-dev", "stat -c '%n %F %t:%T' /tmp/mynull", lambda c, ctx: c["linux"].update(
    devices=[{"path": "/tmp/mynull", "type": "c", "major": 1, "minor": 3}]))  # class 15
run_sees("devices-bad-type", "true", lambda c, ctx: c["linux"].update(devices=[{"path": "/dev/x", "type": "z", "major": 1, "minor": 3}]))
run_sees("devices-cgroup-deny", "head -c1 /dev/fuse 2>&1 | sed 's/.*: //'", lambda c, ctx: c["linux"].update(
    devices=[{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]))
run_sees("devices-cgroup-allow", "cat /sys/fs/cgroup/devices/devices.list 2>/dev/null || echo no-cgroup-view; head -c0 /dev/fuse2 && echo opened",
         lambda c, ctx: (c["linux"].update(devices=[{"path": "/dev/fuse2", "type": "c", "major": 10, "minor": 229}]),
                         c["linux"]["resources"]["devices"].append({"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"})))
# The default allow list as the host sees it (runc 1.1.5's: no c 5:1, the host's console).
add("devices-cgroup-default-list", [CREATE, "sh sort /sys/fs/cgroup/devices{cg}/devices.list", DELF], config=SLEEPER)
for name, res, f in (("memory", {"memory": {"limit": 67108864}}, "memory/memory.limit_in_bytes"),
                     ("memory-swap", {"memory": {"limit": 67108864, "swap": 134217728}}, "memory/memory.memsw.limit_in_bytes"),
                     ("memory-reservation", {"memory": {"reservation": 33554432}}, "memory/memory.soft_limit_in_bytes"),
                     ("memory-swappiness", {"memory": {"swappiness": 10}}, "memory/memory.swappiness"),
                     ("cpu-shares", {"cpu": {"shares": 256}}, "cpu/cpu.shares"),
                     ("cpu-quota", {"cpu": {"quota": 50000, "period": 100000}}, "cpu/cpu.cfs_quota_us"),
                     ("cpuset", {"cpu": {"cpus": "0"}}, "cpuset/cpuset.cpus"),
                     ("pids", {"pids": {"limit": 42}}, "pids/pids.max"),
                     ("blkio-weight", {"blockIO": {"weight": 300}}, "blkio/blkio.bfq.weight"),  # class 8
                     ("hugetlb-bad", {"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]}, None),
                     ("memory-too-small", {"memory": {"limit": 4096}}, None),
                     ("network", {"network": {"classID": 1048577}}, "net_cls/net_cls.classid")):
    steps = [CREATE]
    if f:
        steps.append(f"sh cat /sys/fs/cgroup/{f.split('/')[0]}{{cg}}/{f.split('/')[1]}")
    add(f"res-{name}", steps + [DELF], config=lambda c, ctx, res=res: (SLEEPER(c, ctx), c["linux"]["resources"].update(res)))
# runc counts the pids of the devices hierarchy (v1), husk those of pids: the process is in
# both. It is killed before delete: runc (pid namespace) leaves a foreign process alone.
add("cgroup-nonempty-warning", ["sh mkdir -p /sys/fs/cgroup/pids{cg} /sys/fs/cgroup/devices{cg}; sleep 30 & p=$!; "
                                "echo $p > /sys/fs/cgroup/pids{cg}/cgroup.procs; echo $p > /sys/fs/cgroup/devices{cg}/cgroup.procs; echo $p > {tmp}/fp",
                                (CREATE, {"phrases": ["container's cgroup is not empty: 1 process(es) found"]}), "sh kill -9 $(cat {tmp}/fp); sleep 0.2", DELF],
    config=SLEEPER)  # class 6
add("cgroup-frozen", ["sh mkdir -p /sys/fs/cgroup/freezer{cg} && echo FROZEN > /sys/fs/cgroup/freezer{cg}/freezer.state",
                      (CREATE, {"timeout": 8, "phrases": ["container's cgroup unexpectedly frozen"]}), ("list -q", {}), DELF, "sh echo THAWED > /sys/fs/cgroup/freezer{cg}/freezer.state"], config=SLEEPER)  # class 7
add("cgroup-subcgroup-delete-force", [CREATE, "start {id}", "sleep 0.3", DELF, ("list -q", {})],
    config=with_cmd("mkdir -p /sys/fs/cgroup/pids/sub 2>/dev/null; sleep 1000", lambda c, ctx: c["mounts"].append(
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["rw"]})))
add("cgroup-subcgroup-kill-all", [CREATE, "start {id}",
                                  "sh mkdir /sys/fs/cgroup/pids{cg}/sub && for p in $(cat /sys/fs/cgroup/pids{cg}/cgroup.procs); do :; done; true",
                                  "sleep 0.2", "kill --all {id} KILL", "sleep 0.5", DELF, ("list -q", {})],
    config=SLEEPER)  # class 2
# class 2, without a pid namespace: every process moved into sub-cgroups (pids, devices:
# the hierarchies husk and runc read) must die on kill --all / delete -f.
MOVE_SUB = ("sh for c in pids devices; do mkdir /sys/fs/cgroup/$c{cg}/sub && for p in $(cat /sys/fs/cgroup/$c{cg}/cgroup.procs); do "
            "echo $p >> {tmp}/moved; echo $p > /sys/fs/cgroup/$c{cg}/sub/cgroup.procs; done; done; true")
ALIVE = ("sh for p in $(sort -u {tmp}/moved); do grep -q '^State:.*[RSD]' /proc/$p/status 2>/dev/null && echo alive; done; "
         "echo checked")  # a zombie (killed, not yet reaped by its new parent) is not alive
NOPID = with_cmd("sleep 1000 & sleep 1000", lambda c, ctx: c["linux"].update(
    namespaces=[n for n in c["linux"]["namespaces"] if n["type"] != "pid"]))
add("cgroup-subcgroup-nopidns-kill-all", [CREATE, "start {id}", "sleep 0.2", MOVE_SUB, "kill --all {id} KILL", "sleep 0.5", ALIVE, DELF,
                                          ("list -q", {})], config=NOPID)  # class 2
add("cgroup-subcgroup-nopidns-delete-force", [CREATE, "start {id}", "sleep 0.2", MOVE_SUB, (DELF, {"retry_warnings": True}), "sleep 0.3", ALIVE, ("list -q", {})],
    config=NOPID)  # class 2
add("update-memory-minus-one-memsw", [CREATE, "start {id}", ("update --memory -1 {id}", {}),
                                      "sh cat /sys/fs/cgroup/memory{cg}/memory.limit_in_bytes", DELF],
    config=lambda c, ctx: (SLEEPER(c, ctx), c["linux"]["resources"].update(memory={"limit": 67108864, "swap": 134217728})))  # class 9
# The parent {cg} allows half a CPU; the container has 50000/100000. A period of 50000
# written first would make 50000/50000 (a whole CPU) and is refused: runc writes it again
# after the quota.
add("update-cpu-period-parent-limit", ["sh mkdir -p /sys/fs/cgroup/cpu{cg} && echo 100000 > /sys/fs/cgroup/cpu{cg}/cpu.cfs_period_us && "
                                       "echo 50000 > /sys/fs/cgroup/cpu{cg}/cpu.cfs_quota_us", CREATE, "start {id}",
                                       ("update --cpu-period 50000 --cpu-quota 25000 {id}", {}),
                                       "sh cat /sys/fs/cgroup/cpu{cg}/c/cpu.cfs_period_us /sys/fs/cgroup/cpu{cg}/c/cpu.cfs_quota_us", DELF],
    config=lambda c, ctx: (SLEEPER(c, ctx), c["linux"].update(cgroupsPath=ctx.cg + "/c"),
                           c["linux"]["resources"].update(cpu={"quota": 50000, "period": 100000})))  # class 9


# ---- seccomp ---------------------------------------------------------------------------------
def seccomp(profile):
    def f(c, ctx):
        c["linux"]["seccomp"] = profile
    return f


ARCH = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
run_sees("seccomp-errno", "mkdir /tmp/x 2>&1 | sed 's/.*: //'; grep Seccomp: /proc/self/status", seccomp(
    {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ARCH, "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}))
run_sees("seccomp-default-errno", "true", seccomp({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ARCH, "syscalls": []}))
def x86_64_syscalls_below(n):
    """The x86_64 syscall names numbered below n, from the kernel headers (build dependency)."""
    names = []
    with open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h") as f:
        for line in f:
            m = re.match(r"#define __NR_(\w+) (\d+)", line)
            if m and int(m.group(2)) < n:
                names.append(m.group(1))
    return names


# class 17, second half: a profile allowing only syscalls numbered below unshare (272) with a
# denying default: unshare, newer than all of them, gets ENOSYS (runc's stub), not EPERM.
run_sees("seccomp-enosys-newer", "unshare -U true 2>&1; echo rc=$?", seccomp(
    {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ARCH,
     "syscalls": [{"names": x86_64_syscalls_below(272), "action": "SCMP_ACT_ALLOW"}]}))
run_sees("seccomp-bad-action", "true", seccomp({"defaultAction": "SCMP_ACT_BOGUS", "syscalls": []}))
run_sees("seccomp-unknown-syscall", "echo ran", seccomp({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["nosuchcall"], "action": "SCMP_ACT_ERRNO"}]}))
run_sees("seccomp-same-arg-or", "nice -n 5 true && echo n5; nice -n 7 true && echo n7; nice -n 9 true 2>&1 | sed 's/.*: //'", seccomp(
    {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ARCH, "syscalls": [
        {"names": ["setpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [
            {"index": 2, "value": 5, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 7, "op": "SCMP_CMP_EQ"}]}]}))  # class 17
run_sees("seccomp-notify-write", "echo hi", opts={"phrases": ["cannot be used for the write syscall"]}, more=seccomp({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ARCH, "listenerPath": "/nonexistent/sock",
                                                     "syscalls": [{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]}))  # class 19
run_sees("seccomp-notify-no-listener", "echo hi", seccomp({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ARCH,
                                                           "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}))  # class 19
run_sees("seccomp-unknown-arch", "true", seccomp({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_BOGUS"], "syscalls": []}))

# ---- hooks -----------------------------------------------------------------------------------
def hook(kind, script):
    def f(c, ctx):
        c.setdefault("hooks", {}).setdefault(kind, []).append({"path": "/bin/sh", "args": ["sh", "-c", ctx.subst(script)]})
    return f


HOOK_PROBE = "echo \"$(pwd) mark=$HUSK_COMPAT_MARK\" >> {tmp}/hooklog; cat > /dev/null"
for kind in ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"):
    k = kind
    if kind in ("createContainer", "startContainer"):
        probe = "echo \"$(pwd | sed 's|^{rootfs}|ROOTFS|') mark=$HUSK_COMPAT_MARK\" >> /hooklog.txt"
        add(f"hooks-{kind}-cwd-env", [(RUN, {"env": {"HUSK_COMPAT_MARK": "yes"}}), "sh cat {rootfs}/hooklog.txt 2>/dev/null || echo none", DEL],
            config=lambda c, ctx, k=k, probe=probe: (SLEEPER(c, ctx), cmd(c, "true"), c.setdefault("hooks", {}).setdefault(k, []).append(
                {"path": "/bin/sh" if k == "createContainer" else "/bin/sh", "args": ["sh", "-c", ctx.subst(probe)]})))  # class 10
    else:
        add(f"hooks-{kind}-cwd-env", [(RUN, {"env": {"HUSK_COMPAT_MARK": "yes"}}), "sh cat {tmp}/hooklog 2>/dev/null || echo none", DEL],
            config=lambda c, ctx, k=k: (cmd(c, "true"), hook(k, HOOK_PROBE)(c, ctx)))  # class 10
add("hooks-prestart-fails", [RUN, ("list -q", {})], config=lambda c, ctx: (cmd(c, "true"), hook("prestart", "exit 2")(c, ctx)))
add("hooks-poststart-fails", [RUN, ("list -q", {})], config=lambda c, ctx: (cmd(c, "true"), hook("poststart", "exit 2")(c, ctx)))
add("hooks-poststop-fails", [RUN, DEL, ("list -q", {})], config=lambda c, ctx: (cmd(c, "true"), hook("poststop", "exit 2")(c, ctx)))
add("hooks-state-on-stdin", [RUN, ("sh cat {tmp}/hookstate", {"filter": state_filter})],
    config=lambda c, ctx: (cmd(c, "true"), hook("prestart", "cat > {tmp}/hookstate")(c, ctx)))
add("hooks-timeout", [RUN, ("list -q", {})], config=lambda c, ctx: (cmd(c, "true"), c.setdefault("hooks", {}).setdefault("prestart", []).append(
    {"path": "/bin/sleep", "args": ["sleep", "5"], "timeout": 1})))
add("hooks-env-set", [RUN, "sh cat {tmp}/hookenv"], config=lambda c, ctx: (cmd(c, "true"), c.setdefault("hooks", {}).setdefault("prestart", []).append(
    {"path": "/bin/sh", "args": ["sh", "-c", f"env | grep -v -E '^(PWD|SHLVL|_)=' | sort > {ctx.tmp}/hookenv"], "env": ["A=1", "B=2"]})))
add("hooks-missing-path", [RUN], config=lambda c, ctx: (cmd(c, "true"), c.setdefault("hooks", {}).setdefault("prestart", []).append({"path": "/nonexistent"})))
add("hooks-startcontainer-nnp-seccomp", [RUN, "sh cat {rootfs}/hk 2>/dev/null || echo none"],
    config=lambda c, ctx: (cmd(c, "true"), seccomp({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ARCH,
                                                    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})(c, ctx),
                           c.setdefault("hooks", {}).setdefault("startContainer", []).append(
                               {"path": "/bin/sh", "args": ["sh", "-c", "mkdir /hkdir 2>/dev/null && echo mkdir-allowed > /hk || echo mkdir-denied > /hk"]})))  # class 18

# ---- annotations / misc ----------------------------------------------------------------------
add("annotations-in-state", [CREATE, STATE, DELF], config=lambda c, ctx: (SLEEPER(c, ctx), c.update(annotations={"org.example.k": "v"})))
add("state-running", [CREATE, "start {id}", STATE, DELF], config=SLEEPER)
add("state-created", [CREATE, STATE, DELF], config=SLEEPER)
add("ociversion-old", [RUN], config=lambda c, ctx: c.update(ociVersion="0.1.0"))
add("ociversion-missing", [RUN], config=lambda c, ctx: c.pop("ociVersion"))
add("root-missing", [RUN], config=lambda c, ctx: c.pop("root"))
add("tty-onlcr-stdout-pipe", [("sh $RT --root {root} run --bundle {bundle} {id} | od -c | head -2", {"pty": True, "filter": cr})],
    config=with_cmd("printf 'a\\nb\\n'", lambda c, ctx: c["process"].update(terminal=True)))
