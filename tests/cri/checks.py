#!/usr/bin/python3
"""checks.py: the CRI checks, what the kubelet asks of a runtime for a pod's life, through
containerd's CRI service with one runtime handler. One "PASS|FAIL cri.<handler>.<check>" line
each; exit status 0 iff none failed. run.sh starts containerd and calls this.
   checks.py --socket SOCK --handler NAME --root DIR --image REF --subnet CIDR --node-netns LINK
             [--cgroup-driver cgroupfs|systemd] [--only CHECK[,CHECK]...] [--repeat N]
   checks.py --socket SOCK --remove-all       (stops and removes every pod; for cleanup)"""
import argparse, ipaddress, json, os, re, subprocess, sys, time, types, uuid

import pod_checks
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
        self.round = 0  # --repeat: the round's containers are attempts 100*round + attempt

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
    # systemd: a pod is the slice kubepods-besteffort-pod<uid>.slice (as the kubelet names a
    # BestEffort pod), each container the scope cri-containerd-<id>.scope in it
    def cgroup_parent(self, uid):
        if self.a.cgroup_driver == "systemd":
            return "kubepods-besteffort-pod%s.slice" % uid
        return "/husk-cri/pod%s" % uid

    def pod_cgroup(self, uid):
        """the pod's cgroup below a hierarchy's root"""
        if self.a.cgroup_driver == "systemd":
            return "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice" % uid
        return "/husk-cri/pod%s" % uid

    def container_cgroup(self, uid, cid):
        if self.a.cgroup_driver == "systemd":
            return "%s/cri-containerd-%s.scope" % (self.pod_cgroup(uid), cid)
        return "%s/%s" % (self.pod_cgroup(uid), cid)

    def host_cgroup_dir(self, ctrl, uid, cid):
        base = "/sys/fs/cgroup/" + ctrl if os.path.isdir("/sys/fs/cgroup/" + ctrl) else "/sys/fs/cgroup"
        return base + self.container_cgroup(uid, cid)

    @staticmethod
    def unit(name, *props):
        """systemctl show's properties of a unit, a dict (LoadState not-found: no such unit)"""
        out = subprocess.run(["systemctl", "show", name] + ["-p" + p for p in props],
                             capture_output=True, text=True).stdout
        return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)

    @staticmethod
    def listed_units(pattern):
        """what `systemctl list-units --all` lists for a pattern: {unit: active state}"""
        out = subprocess.run(["systemctl", "list-units", "--all", "--plain", "--no-legend",
                              pattern], capture_output=True, text=True).stdout
        return {f[0]: f[2] for f in (l.split() for l in out.splitlines()) if len(f) >= 3}

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
                  readonly=False, start=True, pid=CONTAINER, user=None, mounts=(), attempt=0,
                  caps=None, no_new_privs=False):
        net = pod_cfg.linux.security_context.namespace_options.network
        attempt += 100 * self.round
        cfg = api.ContainerConfig(
            metadata=api.ContainerMetadata(name=name, attempt=attempt),
            image=api.ImageSpec(image=self.a.image), command=cmd,
            log_path="%s/%d.log" % (name, attempt), mounts=list(mounts),
            linux=api.LinuxContainerConfig(
                resources=api.LinuxContainerResources(memory_limit_in_bytes=mem, cpu_shares=2),
                security_context=api.LinuxContainerSecurityContext(
                    namespace_options=api.NamespaceOption(network=net, pid=pid, ipc=POD),
                    readonly_rootfs=readonly,
                    run_as_user=None if user is None else api.Int64Value(value=user),
                    capabilities=caps, no_new_privs=no_new_privs,
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

    # ---- the checks: a pod with two app containers (the pod_checks on it), a hostNetwork pod
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

        p = types.SimpleNamespace(pod=pod, cfg=cfg, uid=uid, ip=ip, sandbox_pid=sandbox_pid,
                                  web=web, client=client)
        for name, fn in pod_checks.CHECKS:
            if name == "systemd-units" and a.cgroup_driver != "systemd":
                continue
            if not self.selected(name):
                continue
            for self.round in range(a.repeat):
                self.run(name, lambda fn=fn: fn(self, p))
            self.round = 0
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
        if self.selected("hostnetwork"):
            self.run("hostnetwork", hostnet)
        if a.only:
            print("SKIP cri.%s: every check but --only %s" % (a.handler, ",".join(a.only)), flush=True)
        return self.failed == 0

    def selected(self, name):
        """--only: a pod check or hostnetwork runs only when named (the pod's own checks,
        its removal and the cleanup always run)"""
        return not self.a.only or name in self.a.only

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
        units = ""
        if self.a.cgroup_driver == "systemd":
            units = self.removed_units(uid, [pod] + ids)
        self.check(name, not left and not cgs and not nsleft and not units.startswith("left"),
                   "%d containers removed; left: containers %s cgroups %s netns %s%s"
                   % (len(ids), left, cgs, nsleft, "; " + units if units else ""))

    def removed_units(self, uid, ids):
        """systemd driver, after RemovePodSandbox: no scope of the pod's containers is a unit
        any more, the pod's slice holds no cgroup or process; then the client stops the
        slice, as the kubelet does with a removed pod's slice (the runtime leaves it active),
        and it is gone too. Returns a description, starting with "left" if anything is."""
        slice_ = self.cgroup_parent(uid)
        scopes = ["cri-containerd-%s.scope" % c for c in ids]
        for _ in range(30):  # a stopped unit is collected in systemd's next loop iteration
            listed = self.listed_units("cri-containerd-*.scope")
            left = ["%s %s" % (u[:27], listed.get(u) or self.unit(u, "LoadState")["LoadState"])
                    for u in scopes if u in listed or
                    self.unit(u, "LoadState").get("LoadState") != "not-found"]
            if not left:
                break
            time.sleep(0.1)
        d = "/sys/fs/cgroup" + self.pod_cgroup(uid)
        if not os.path.isdir(d):
            d = "/sys/fs/cgroup/memory" + self.pod_cgroup(uid)
        inside = []
        if os.path.isdir(d):
            inside = [e for e in os.listdir(d) if os.path.isdir(os.path.join(d, e))]
            inside += open(os.path.join(d, "cgroup.procs")).read().split()
        state = self.unit(slice_, "ActiveState")["ActiveState"]
        subprocess.run(["systemctl", "stop", slice_], capture_output=True)
        # systemd loads any slice name (a slice needs no unit file): gone is not listed, its
        # cgroup removed, and inactive (asked last: `systemctl show` loads the unit again)
        for _ in range(30):
            gone = slice_ not in self.listed_units(slice_) and not os.path.isdir(d)
            if gone:
                break
            time.sleep(0.1)
        after = self.unit(slice_, "ActiveState")["ActiveState"]
        gone = gone and after == "inactive"
        ok = not left and not inside and gone
        return "%s%d scopes gone (not-found); pod slice after RemovePodSandbox %s, holding %s, " \
               "after the kubelet's stop: %s%s" % ("" if ok else "left: ", len(scopes) - len(left),
                                                    state, inside or "nothing", after,
                                                    "" if gone else " (still listed or its cgroup)") + \
               ("; scopes left: %s" % left if left else "")

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
    p.add_argument("--only", default="", help="comma-separated pod checks (and hostnetwork)")
    p.add_argument("--repeat", type=int, default=1, help="runs each selected pod check N times")
    p.add_argument("--remove-all", action="store_true")
    a = p.parse_args()
    a.only = [n for n in a.only.split(",") if n]
    known = [n for n, _ in pod_checks.CHECKS] + ["hostnetwork"]
    for n in a.only:
        if n not in known:
            p.error("--only: no check %r (known: %s)" % (n, ", ".join(known)))
    if a.repeat < 1:
        p.error("--repeat %d: at least 1" % a.repeat)
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
