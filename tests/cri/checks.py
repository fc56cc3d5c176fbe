#!/usr/bin/python3
"""checks.py: the CRI checks, what the kubelet asks of a runtime for a pod's life, through
containerd's CRI service with one runtime handler. One "PASS|FAIL cri.<handler>.<check>" line
each; exit status 0 iff none failed. run.sh starts containerd and calls this.
   checks.py --socket SOCK --handler NAME --root DIR --image REF --subnet CIDR --node-netns LINK
             [--cgroup-driver cgroupfs|systemd] [--cgroup-parent-prefix ...]
   checks.py --socket SOCK --remove-all       (stops and removes every pod; for cleanup)"""
import argparse, ipaddress, json, os, re, subprocess, sys, time, uuid

from cri_client import Cri, api

NODE, POD, CONTAINER = api.NODE, api.POD, api.CONTAINER
RUNTIME_DEFAULT = api.SecurityProfile.RuntimeDefault
UNCONFINED = api.SecurityProfile.Unconfined
MiB = 1024 * 1024


class Checks:
    def __init__(self, a):
        self.a = a
        self.cri = Cri(a.socket)
        self.passed = self.failed = 0
        self.pods = []

    # ---- reporting
    def check(self, name, ok, detail=""):
        line = "%s cri.%s.%s" % ("PASS" if ok else "FAIL", self.a.handler, name)
        print(line + (" (%s)" % detail if detail else ""), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def run(self, name, fn):
        """Runs one check; an exception (a failed call) is a FAIL with its message."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every error is the check's failure
            msg = getattr(e, "details", None)
            msg = msg() if callable(msg) else str(e)
            self.check(name, False, "error: %s" % msg.strip().splitlines()[0][:300])

    # ---- building requests
    def cgroup_parent(self, uid):
        if self.a.cgroup_driver == "systemd":
            return "huskcri-pod%s.slice" % uid
        return "/husk-cri/pod%s" % uid

    def host_cgroup_dir(self, ctrl, uid, cid):
        base = "/sys/fs/cgroup/" + ctrl if os.path.isdir("/sys/fs/cgroup/" + ctrl) else "/sys/fs/cgroup"
        if self.a.cgroup_driver == "systemd":
            return "%s/huskcri.slice/huskcri-pod%s.slice/cri-containerd-%s.scope" % (base, uid, cid)
        return "%s/husk-cri/pod%s/%s" % (base, uid, cid)

    def pod_config(self, name, host_network=False, sysctls=None):
        uid = uuid.uuid4().hex
        logdir = os.path.join(self.a.root, "pods", "husk-cri_%s_%s" % (name, uid))
        os.makedirs(logdir, exist_ok=True)  # the kubelet makes the pod's log directory
        sc = api.LinuxSandboxSecurityContext(
            namespace_options=api.NamespaceOption(network=NODE if host_network else POD,
                                                  pid=CONTAINER, ipc=POD),
            seccomp=api.SecurityProfile(profile_type=RUNTIME_DEFAULT))
        return api.PodSandboxConfig(
            metadata=api.PodSandboxMetadata(name=name, uid=uid, namespace="husk-cri", attempt=0),
            hostname="" if host_network else name, log_directory=logdir,
            labels={"husk-cri": "1"},
            linux=api.LinuxPodSandboxConfig(cgroup_parent=self.cgroup_parent(uid),
                                            security_context=sc, sysctls=sysctls or {}))

    def run_pod(self, cfg):
        pid = self.cri.RunPodSandbox(config=cfg, runtime_handler=self.a.handler).pod_sandbox_id
        self.pods.append(pid)
        return pid

    def container(self, pod_id, pod_cfg, name, cmd, mem=0, seccomp=RUNTIME_DEFAULT,
                  readonly=False, start=True, pid=CONTAINER, user=None, mounts=()):
        net = pod_cfg.linux.security_context.namespace_options.network
        cfg = api.ContainerConfig(
            metadata=api.ContainerMetadata(name=name, attempt=0),
            image=api.ImageSpec(image=self.a.image), command=cmd,
            log_path="%s/0.log" % name, mounts=list(mounts),
            linux=api.LinuxContainerConfig(
                resources=api.LinuxContainerResources(memory_limit_in_bytes=mem, cpu_shares=2),
                security_context=api.LinuxContainerSecurityContext(
                    namespace_options=api.NamespaceOption(network=net, pid=pid, ipc=POD),
                    readonly_rootfs=readonly,
                    run_as_user=None if user is None else api.Int64Value(value=user),
                    seccomp=api.SecurityProfile(profile_type=seccomp))))
        cid = self.cri.CreateContainer(pod_sandbox_id=pod_id, config=cfg,
                                       sandbox_config=pod_cfg).container_id
        if start:
            self.cri.StartContainer(container_id=cid)
        return cid

    def exec(self, cid, cmd, timeout=20):
        r = self.cri.ExecSync(container_id=cid, cmd=cmd, timeout=timeout)
        return r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace"), r.exit_code

    def status(self, cid):
        return self.cri.ContainerStatus(container_id=cid).status

    def wait_exited(self, cid, seconds):
        end = time.time() + seconds
        while time.time() < end:
            st = self.status(cid)
            if st.state == api.CONTAINER_EXITED:
                return st
            time.sleep(0.1)
        return self.status(cid)

    # ---- the checks
    def all(self):
        a = self.a
        v = self.cri.Version(version="v1")
        self.check("version", v.runtime_api_version == "v1" and v.runtime_name == "containerd",
                   "%s %s, CRI %s" % (v.runtime_name, v.runtime_version, v.runtime_api_version))
        img = self.cri.ImageStatus(image=api.ImageSpec(image=a.image)).image
        self.check("image", bool(img.id), "%s %s" % (a.image, img.id[:19]))

        # pod 1: bridge network, a pod sysctl, two app containers sharing the sandbox's netns
        cfg = self.pod_config("web", sysctls={"net.ipv4.ip_unprivileged_port_start": "80"})
        t0 = time.time()
        pod = self.run_pod(cfg)
        uid = cfg.metadata.uid
        st = self.cri.PodSandboxStatus(pod_sandbox_id=pod, verbose=True)
        self.check("pod-ready", st.status.state == api.SANDBOX_READY and
                   st.status.runtime_handler == a.handler,
                   "handler %r, %.2fs" % (st.status.runtime_handler, time.time() - t0))
        ip = st.status.network.ip
        self.check("pod-ip", bool(ip) and ipaddress.ip_address(ip) in ipaddress.ip_network(a.subnet),
                   "ip %s in %s" % (ip or "none", a.subnet))
        sandbox_pid = json.loads(st.info.get("info", "{}")).get("pid", 0)

        web = self.container(pod, cfg, "web", ["/bin/httpd", "-f", "-p", "8080", "-h", "/var/www"],
                             mem=64 * MiB)
        client = self.container(pod, cfg, "client", ["/bin/sh", "-c",
                                "echo hello-from-client; echo to-stderr >&2; exec sleep infinity"],
                                seccomp=UNCONFINED)
        names = {c.metadata.name: c.state for c in self.cri.ListContainers(
            filter=api.ContainerFilter(pod_sandbox_id=pod)).containers}
        self.check("list-containers", names == {"web": api.CONTAINER_RUNNING,
                                                "client": api.CONTAINER_RUNNING}, str(names))
        hroot = os.path.join(a.root, "%s-root" % a.handler, "k8s.io", web)
        self.check("handler-state", os.path.isdir(hroot), "%s state in %s" % (a.handler, hroot))

        def cgroup_parent():
            info = json.loads(self.cri.ContainerStatus(container_id=web, verbose=True)
                              .info.get("info", "{}"))
            wpid = info.get("pid", 0)
            d = self.host_cgroup_dir("memory", uid, web)
            procs = open(os.path.join(d, "cgroup.procs")).read().split() if os.path.isdir(d) else []
            ok, detail = str(wpid) in procs, "web pid %d in %s: %s" % (wpid, d, str(wpid) in procs)
            if a.cgroup_driver == "systemd":
                units = ["cri-containerd-%s.scope" % web, "huskcri-pod%s.slice" % uid]
                act = [subprocess.run(["systemctl", "is-active", u], capture_output=True,
                                      text=True).stdout.strip() for u in units]
                ok = ok and act == ["active", "active"]
                detail += "; %s" % dict(zip(units, act))
            self.check("cgroup-parent", ok and wpid > 0, detail)
        self.run("cgroup-parent", cgroup_parent)

        def netns():
            w = self.exec(web, ["readlink", "/proc/self/ns/net"])[0].strip()
            c = self.exec(client, ["readlink", "/proc/self/ns/net"])[0].strip()
            s = os.readlink("/proc/%d/ns/net" % sandbox_pid) if sandbox_pid else "?"
            self.check("shared-netns", w == c == s and w != a.node_netns and w.startswith("net:"),
                       "web %s, client %s, sandbox %s, node %s" % (w, c, s, a.node_netns))
        self.run("shared-netns", netns)

        def ipc_uts():
            cmd = ["sh", "-c", "readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname"]
            w = self.exec(web, cmd)[0].split()
            c = self.exec(client, cmd)[0].split()
            s = [os.readlink("/proc/%d/ns/%s" % (sandbox_pid, n)) for n in ("ipc", "uts")]
            self.check("shared-ipc-uts", w == c and w[:2] == s and w[2] == "web" and
                       s[0] != os.readlink("/proc/self/ns/ipc"),
                       "web %s, client %s, sandbox %s" % (w, c, s))
        self.run("shared-ipc-uts", ipc_uts)

        def pid_ns():
            shared = self.container(pod, cfg, "pidpod", ["sleep", "infinity"], pid=POD)
            ps_pod = self.exec(shared, ["ps", "-o", "pid,args"])[0]
            ps_own = self.exec(client, ["ps", "-o", "pid,args"])[0]
            sandbox_seen = re.search(r"^\s*1\s+/bin/sleep infinity", ps_pod, re.M) is not None
            own_pid1 = (re.search(r"^\s*1\s+sleep infinity", ps_own, re.M) is not None and
                        "/bin/sleep" not in ps_own)
            self.check("pid-namespace", sandbox_seen and own_pid1,
                       "pid POD sees the sandbox as pid 1: %s; pid CONTAINER is its own pid 1: %s"
                       % (sandbox_seen, own_pid1))
        self.run("pid-namespace", pid_ns)

        def run_as_user():
            u = self.container(pod, cfg, "user", ["sleep", "infinity"], user=1000)
            out = self.exec(u, ["id"])[0].strip()
            st = self.exec(u, ["grep", "-E", "^(Uid|CapEff)", "/proc/self/status"])[0].split()
            self.check("run-as-user", out.startswith("uid=1000 ") and st[1:5] == ["1000"] * 4 and
                       st[-1] == "0000000000000000", "%s; %s" % (out, " ".join(st)))
        self.run("run-as-user", run_as_user)

        def exit_status():
            e5 = self.container(pod, cfg, "exit5", ["sh", "-c", "exit 5"])
            e0 = self.container(pod, cfg, "exit0", ["true"])
            s5, s0 = self.wait_exited(e5, 10), self.wait_exited(e0, 10)
            self.check("exit-status", s5.exit_code == 5 and s5.reason == "Error" and
                       s0.exit_code == 0 and s0.reason == "Completed" and s5.finished_at > 0,
                       "exit 5: %r %d; exit 0: %r %d" % (s5.reason, s5.exit_code, s0.reason,
                                                         s0.exit_code))
        self.run("exit-status", exit_status)

        def hostpath():
            src = os.path.join(a.root, "hostpath-" + uid[:8])
            os.makedirs(os.path.join(src, "sub"))
            open(os.path.join(src, "file"), "w").write("from-host\n")
            # HOST_TO_CONTAINER needs a shared (or slave) source mount: make it one
            subprocess.run(["mount", "--bind", src, src], check=True)
            subprocess.run(["mount", "--make-shared", src], check=True)
            hp = self.container(pod, cfg, "hostpath", ["sleep", "infinity"], mounts=[
                api.Mount(container_path="/hp", host_path=src, readonly=True,
                          propagation=api.PROPAGATION_HOST_TO_CONTAINER)])
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "husk-cri-prop",
                            os.path.join(src, "sub")], check=True)
            open(os.path.join(src, "sub", "late"), "w").write("propagated\n")
            out, _, rc = self.exec(hp, ["sh", "-c", "cat /hp/file /hp/sub/late; "
                                        "grep ' /hp/sub ' /proc/self/mountinfo | grep -c master"])
            _, err, rc2 = self.exec(hp, ["touch", "/hp/x"])
            self.check("hostpath-propagation", out.split() == ["from-host", "propagated", "1"]
                       and rc2 != 0 and "Read-only" in err,
                       "inside: %r; write: rc %d %r" % (out, rc2, err.strip()))
        self.run("hostpath-propagation", hostpath)

        def localhost():
            out, err, rc = "", "", -1
            for _ in range(50):  # httpd may still be binding
                out, err, rc = self.exec(client, ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/"])
                if rc == 0:
                    break
                time.sleep(0.1)
            out2, _, rc2 = self.exec(client, ["wget", "-q", "-O", "-", "http://%s:8080/" % ip])
            self.check("localhost", rc == 0 and out == "husk-cri\n" and rc2 == 0 and out2 == out,
                       "client -> web: 127.0.0.1 rc %d %r, pod ip rc %d %r" % (rc, out, rc2, out2))
        self.run("localhost", localhost)

        def execsync():
            out, err, rc = self.exec(client, ["sh", "-c", "echo out; echo err >&2; exit 3"])
            self.check("exec-sync", out == "out\n" and err == "err\n" and rc == 3,
                       "stdout %r stderr %r exit %d" % (out, err, rc))
        self.run("exec-sync", execsync)

        def logs():
            path = os.path.join(cfg.log_directory, "client", "0.log")
            text = ""
            for _ in range(50):
                text = open(path).read() if os.path.exists(path) else ""
                if "to-stderr" in text and "hello-from-client" in text:
                    break
                time.sleep(0.1)
            pat = r"^\d{4}-\d\d-\d\dT\S+ (stdout|stderr) F (.*)$"
            lines = [re.match(pat, l).groups() for l in text.splitlines() if re.match(pat, l)]
            ok = ("stdout", "hello-from-client") in lines and ("stderr", "to-stderr") in lines
            sp = self.status(client).log_path
            self.check("logs", ok and sp == path, "%s: %r" % (path, text[:160]))
        self.run("logs", logs)

        def stats():
            self.exec(web, ["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"])
            s = self.cri.ContainerStats(container_id=web).stats
            mem, cpu = s.memory.working_set_bytes.value, s.cpu.usage_core_nano_seconds.value
            self.check("stats", s.attributes.id == web and mem > 0 and cpu > 0 and
                       s.memory.timestamp > 0 and s.cpu.timestamp > 0,
                       "working set %d bytes, cpu %d ns" % (mem, cpu))
        self.run("stats", stats)

        def read_limits(cid):
            """memory limit, CFS quota, shares as the container reads them (v1, else v2)"""
            out, _, _ = self.exec(cid, ["sh", "-c", "cd /sys/fs/cgroup; if [ -d memory ]; then "
                                        "cat memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us "
                                        "cpu/cpu.shares; else cat memory.max cpu.max cpu.weight; fi"])
            return out.split()

        def update():
            before = read_limits(web)
            self.cri.UpdateContainerResources(container_id=web, linux=api.LinuxContainerResources(
                memory_limit_in_bytes=96 * MiB, cpu_shares=512, cpu_quota=50000,
                cpu_period=100000))
            after = read_limits(web)
            # v2: cpu.max "50000 100000"; cpu.weight from shares as runc converts them
            want = ([str(96 * MiB), "50000", "512"] if len(after) == 3
                    else [str(96 * MiB), "50000", "100000", str(1 + (512 - 2) * 9999 // 262142)])
            self.check("update-resources", before[0] == str(64 * MiB) and after == want,
                       "memory limit, cpu quota, shares inside: %s -> %s" % (before, after))
        self.run("update-resources", update)

        def seccomp():
            w = re.search(r"Seccomp:\s*(\d)", self.exec(web, ["cat", "/proc/self/status"])[0])
            c = re.search(r"Seccomp:\s*(\d)", self.exec(client, ["cat", "/proc/self/status"])[0])
            w, c = w and w.group(1), c and c.group(1)
            self.check("seccomp-runtime-default", w == "2" and c == "0",
                       "RuntimeDefault: Seccomp %s, Unconfined: Seccomp %s" % (w, c))
        self.run("seccomp-runtime-default", seccomp)

        def sysctl():
            out = self.exec(client, ["cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"])[0].strip()
            self.check("sysctl", out == "80", "net.ipv4.ip_unprivileged_port_start = %s" % out)
        self.run("sysctl", sysctl)

        def readonly():
            ro = self.container(pod, cfg, "ro", ["sleep", "infinity"], readonly=True)
            _, err, rc = self.exec(ro, ["touch", "/x"])
            _, err2, rc2 = self.exec(client, ["touch", "/x"])
            self.check("readonly-rootfs", rc != 0 and "Read-only file system" in err and rc2 == 0,
                       "readonly: rc %d %r; writable: rc %d" % (rc, err.strip(), rc2))
        self.run("readonly-rootfs", readonly)

        def oom():
            hog = self.container(pod, cfg, "hog", ["awk", "BEGIN { s = \"xxxxxxxx\"; "
                                 "while (1) { s = s s; print length(s) > \"/dev/null\" } }"],
                                 mem=32 * MiB)
            s = self.wait_exited(hog, 30)
            self.check("oom-killed", s.state == api.CONTAINER_EXITED and s.reason == "OOMKilled"
                       and s.exit_code == 137,
                       "state %s reason %r exit %d" % (api.ContainerState.Name(s.state),
                                                       s.reason, s.exit_code))
        self.run("oom-killed", oom)

        def stop_timeout():
            stubborn = self.container(pod, cfg, "stubborn", ["sh", "-c",
                                      "trap '' TERM; while :; do sleep 1; done"])
            polite = self.container(pod, cfg, "polite", ["sh", "-c",
                                    "trap 'exit 7' TERM; while :; do sleep 1 & wait $!; done"])
            time.sleep(0.3)  # let the shells set their traps
            t = time.time(); self.cri.StopContainer(container_id=stubborn, timeout=2)
            t_stub = time.time() - t
            t = time.time(); self.cri.StopContainer(container_id=polite, timeout=30)
            t_pol = time.time() - t
            s1, s2 = self.status(stubborn), self.status(polite)
            self.check("stop-timeout", 1.9 <= t_stub < 15 and s1.exit_code == 137 and
                       t_pol < 10 and s2.exit_code == 7 and
                       s1.state == s2.state == api.CONTAINER_EXITED,
                       "TERM ignored: stopped after %.1fs (timeout 2) exit %d; TERM handled: "
                       "%.1fs (timeout 30) exit %d" % (t_stub, s1.exit_code, t_pol, s2.exit_code))
        self.run("stop-timeout", stop_timeout)

        self.run("remove-pod", lambda: self.remove_pod_check(pod, uid, cfg))

        # pod 2: host network (the node's netns: here containerd's own namespace)
        def hostnet():
            hcfg = self.pod_config("hostnet", host_network=True)
            hpod = self.run_pod(hcfg)
            hst = self.cri.PodSandboxStatus(pod_sandbox_id=hpod).status
            c = self.container(hpod, hcfg, "app", ["sleep", "infinity"])
            n = self.exec(c, ["readlink", "/proc/self/ns/net"])[0].strip()
            out, _, rc = self.exec(c, ["sh", "-c", "echo ok; exit 4"])
            sc = re.search(r"Seccomp:\s*(\d)", self.exec(c, ["cat", "/proc/self/status"])[0])
            self.check("hostnetwork", n == a.node_netns and out == "ok\n" and rc == 4 and
                       sc and sc.group(1) == "2",
                       "container %s, node %s, pod ip %r, exec rc %d" % (n, a.node_netns,
                                                                       hst.network.ip, rc))
            self.remove_pod_check(hpod, hcfg.metadata.uid, hcfg, name="hostnetwork-remove")
        self.run("hostnetwork", hostnet)
        return self.failed == 0

    def remove_pod_check(self, pod, uid, cfg, name="remove-pod"):
        ids = [c.id for c in self.cri.ListContainers(
            filter=api.ContainerFilter(pod_sandbox_id=pod)).containers]
        netns = json.loads(self.cri.PodSandboxStatus(pod_sandbox_id=pod, verbose=True)
                           .info.get("info", "{}")).get("runtimeSpec", {})
        netns = [n.get("path", "") for n in netns.get("linux", {}).get("namespaces", [])
                 if n.get("type") == "network" and n.get("path")]
        for c in ids:
            self.cri.StopContainer(container_id=c, timeout=0)
            self.cri.RemoveContainer(container_id=c)
        self.cri.StopPodSandbox(pod_sandbox_id=pod)
        self.cri.RemovePodSandbox(pod_sandbox_id=pod)
        self.pods.remove(pod)
        left = [c.id for c in self.cri.ListContainers(
            filter=api.ContainerFilter(pod_sandbox_id=pod)).containers]
        cgs = [d for c in ids for d in [self.host_cgroup_dir("memory", uid, c),
                                        self.host_cgroup_dir("pids", uid, c)] if os.path.exists(d)]
        nsleft = [n for n in netns if os.path.exists(n)]
        units = []
        if self.a.cgroup_driver == "systemd":
            for c in ids:
                u = "cri-containerd-%s.scope" % c
                r = subprocess.run(["systemctl", "is-active", u], capture_output=True, text=True)
                if r.stdout.strip() in ("active", "activating", "deactivating"):
                    units.append(u)
        self.check(name, not left and not cgs and not nsleft and not units,
                   "%d containers removed; left: containers %s cgroups %s netns %s units %s"
                   % (len(ids), left, cgs, nsleft, units))

    def remove_all(self):
        for p in self.cri.ListPodSandbox().items:
            for c in self.cri.ListContainers(filter=api.ContainerFilter(pod_sandbox_id=p.id)).containers:
                try:
                    self.cri.StopContainer(container_id=c.id, timeout=0)
                    self.cri.RemoveContainer(container_id=c.id)
                except Exception as e:  # noqa: BLE001
                    print("cri: remove container %s: %s" % (c.id[:12], e), file=sys.stderr)
            try:
                self.cri.StopPodSandbox(pod_sandbox_id=p.id)
                self.cri.RemovePodSandbox(pod_sandbox_id=p.id)
            except Exception as e:  # noqa: BLE001
                print("cri: remove pod %s: %s" % (p.id[:12], e), file=sys.stderr)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--handler", default="runc")
    p.add_argument("--root", default="/tmp/husk-cri")
    p.add_argument("--image", default="localhost/husk-cri/busybox:1")
    p.add_argument("--subnet", default="10.88.77.0/24")
    p.add_argument("--node-netns", default="")
    p.add_argument("--cgroup-driver", default="cgroupfs", choices=["cgroupfs", "systemd"])
    p.add_argument("--remove-all", action="store_true")
    a = p.parse_args()
    c = Checks(a)
    if a.remove_all:
        c.remove_all()
        return 0
    try:
        c.run("all", c.all)
    finally:
        for pod in list(c.pods):
            try:
                c.cri.StopPodSandbox(pod_sandbox_id=pod)
                c.cri.RemovePodSandbox(pod_sandbox_id=pod)
            except Exception:  # noqa: BLE001 - run.sh removes what is left
                pass
    print("cri.%s: %d passed, %d failed" % (a.handler, c.passed, c.failed), flush=True)
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
