# tests/cri/lib.sh: sourced by run.sh and bench.sh. Starts containerd (Debian's 1.6, CRI plugin
# on) offline with private roots, and removes everything it made again.
#
# containerd runs inside a network namespace of its own (ip netns $CRI_NETNS): the CNI bridge,
# the pods' veths and the host-network pods all live there, so no interface, address or route
# appears in the machine's network namespace and no traffic leaves it. Its mount namespace is
# the machine's (cgroups, overlay mounts), so everything is cleaned up by path.
#
# Env (all optional):
#   HUSK_CRI_ROOT           private root (default /tmp/husk-cri)
#   HUSK_CRI_CGROUP_DRIVER  cgroupfs (default) or systemd (SystemdCgroup = true; needs systemd)
#   HUSK_CRI_LOG_LEVEL      containerd's log level (default info)
#   HUSK_CRI_RESTRICT_OOM   true|false: containerd's restrict_oom_score_adj (default: true
#                           iff this process lacks CAP_SYS_RESOURCE)
#   HUSK_CRI_RUNC           the runc handler's BinaryName (default: runc in PATH)
#   HUSK_CRI_CNI_BIN        CNI plugin directory (default /usr/lib/cni)
#   HUSK_CRI_PATH_PREFIX    directory put first in containerd's PATH (where it finds the shim)
# (bench.sh points the last three and the husk binary at timing wrappers.)
CRI_ROOT=${HUSK_CRI_ROOT:-/tmp/husk-cri}
CRI_DRIVER=${HUSK_CRI_CGROUP_DRIVER:-cgroupfs}
CRI_NETNS=husk-cri
CRI_BRIDGE=huskcri0
CRI_SUBNET=10.88.77.0/24
CRI_NET=husk-cri
CRI_IMAGE=localhost/husk-cri/busybox:1
CRI_SOCK=$CRI_ROOT/containerd.sock
CRI_CG_NAME=husk-cri              # cgroupfs: pods go under /husk-cri/pod<uid>
# systemd: pods are kubepods-besteffort-pod<uid>.slice (as the kubelet names a BestEffort pod;
# so not on a Kubernetes node), in kubepods-besteffort.slice in kubepods.slice
CRI_QOS_SLICE=kubepods-besteffort
CRI_PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1  # nothing written next to the sources
CRI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case $CRI_DRIVER in
  cgroupfs) CRI_SYSTEMD_CGROUP=false ;;
  systemd) CRI_SYSTEMD_CGROUP=true ;;
  *) echo "cri: HUSK_CRI_CGROUP_DRIVER must be cgroupfs or systemd" >&2; return 2 ;;
esac

cri_log() { echo "cri: $*" >&2; }

# Without CAP_SYS_RESOURCE (some sandboxed hosts) no process may lower its oom_score_adj, and
# the sandbox container asks for -998: containerd then clamps scores to its own.
cri_restrict_oom() {
  [ -n "${HUSK_CRI_RESTRICT_OOM:-}" ] && { echo "$HUSK_CRI_RESTRICT_OOM"; return; }
  local eff; eff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
  if (( (16#$eff >> 24) & 1 )); then echo false; else echo true; fi
}

# cri_write_config HUSK: config.toml (version 2) and the CNI network.
cri_write_config() {
  local husk=$1
  mkdir -p "$CRI_ROOT"/{root,state,opt,cni,cni-ipam,runc-root,husk-root,pods}
  cat >"$CRI_ROOT/config.toml" <<EOT
version = 2
root = "$CRI_ROOT/root"
state = "$CRI_ROOT/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$CRI_SOCK"
[ttrpc]
  address = "$CRI_SOCK.ttrpc"
[debug]
  address = "$CRI_ROOT/debug.sock"
  level = "${HUSK_CRI_LOG_LEVEL:-info}"
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$CRI_ROOT/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$CRI_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = $(cri_restrict_oom)
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${HUSK_CRI_CNI_BIN:-/usr/lib/cni}"
    conf_dir = "$CRI_ROOT/cni"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "${HUSK_CRI_RUNC:-$(command -v runc)}"
        Root = "$CRI_ROOT/runc-root"
        SystemdCgroup = $CRI_SYSTEMD_CGROUP
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.husk]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.husk.options]
        BinaryName = "$husk"
        Root = "$CRI_ROOT/husk-root"
        SystemdCgroup = $CRI_SYSTEMD_CGROUP
EOT
  # bridge + host-local on a private subnet; no masquerade (ipMasq false), the gateway
  # address sits on the bridge inside containerd's own network namespace.
  cat >"$CRI_ROOT/cni/10-$CRI_NET.conflist" <<EOT
{
  "cniVersion": "0.4.0",
  "name": "$CRI_NET",
  "plugins": [
    { "type": "bridge", "bridge": "$CRI_BRIDGE", "isGateway": true, "ipMasq": false,
      "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$CRI_ROOT/cni-ipam",
                "ranges": [[{ "subnet": "$CRI_SUBNET" }]],
                "routes": [{ "dst": "0.0.0.0/0" }] } }
  ]
}
EOT
}

# cri_pod_uids: the uids of the pods made in this run (checks.py and bench.py make each pod's
# log directory $CRI_ROOT/pods/husk-cri_<name>_<uid>), remembered in CRI_POD_UIDS.
cri_pod_uids() {
  local d
  for d in "$CRI_ROOT"/pods/husk-cri_*; do
    [ -d "$d" ] && CRI_POD_UIDS+=" ${d##*_}"
  done
  CRI_POD_UIDS=$(tr ' ' '\n' <<<"$CRI_POD_UIDS" | sort -u | tr '\n' ' ')
}

# cri_cgroup_dirs: this run's cgroup directories below a hierarchy's root: cgroupfs, the
# parent of every pod; systemd, each pod's slice, and kubepods.slice if this run made it.
cri_cgroup_dirs() {
  local u
  if [ "$CRI_DRIVER" = cgroupfs ]; then echo "$CRI_CG_NAME"; return; fi
  for u in $CRI_POD_UIDS; do echo "kubepods.slice/$CRI_QOS_SLICE.slice/$CRI_QOS_SLICE-pod$u.slice"; done
  [ "${CRI_KUBEPODS_EXISTED:-1}" = 0 ] && echo kubepods.slice
}

# cri_start HUSK: config, netns, containerd, image. Returns non-zero on failure.
cri_start() {
  local husk=$1 i
  [ -e "$CRI_ROOT" ] && { cri_log "$CRI_ROOT exists (another run, or a leftover): not touching it"; return 1; }
  CRI_SHIMSOCKS_BEFORE=" $(ls /run/containerd/s 2>/dev/null | tr '\n' ' ') "
  CRI_RUN_CONTAINERD_EXISTED=0; [ -d /run/containerd ] && CRI_RUN_CONTAINERD_EXISTED=1
  CRI_SHIMDIR_EXISTED=0; [ -d /run/containerd/s ] && CRI_SHIMDIR_EXISTED=1
  CRI_VARLIBCNI_EXISTED=0; [ -d /var/lib/cni ] && CRI_VARLIBCNI_EXISTED=1
  CRI_POD_UIDS=
  if [ "$CRI_DRIVER" = systemd ]; then
    [ -d /run/systemd/system ] || { cri_log "HUSK_CRI_CGROUP_DRIVER=systemd: systemd is not PID 1 here"; return 1; }
    CRI_KUBEPODS_EXISTED=0
    # (any slice name loads, file or not: whether it is active says whether it exists)
    [ "$(systemctl show -P ActiveState kubepods.slice)" = inactive ] || CRI_KUBEPODS_EXISTED=1
  fi
  CRI_STARTED=1
  cri_write_config "$husk"
  ip netns add "$CRI_NETNS" || return 1
  ip -n "$CRI_NETNS" link set lo up || return 1
  PATH=${HUSK_CRI_PATH_PREFIX:+$HUSK_CRI_PATH_PREFIX:}$PATH \
    nsenter --net="/run/netns/$CRI_NETNS" setsid containerd --config "$CRI_ROOT/config.toml" \
    >"$CRI_ROOT/containerd.log" 2>&1 </dev/null &
  echo $! >"$CRI_ROOT/containerd.pid"
  for i in $(seq 100); do
    ctr --address "$CRI_SOCK" version >/dev/null 2>&1 && break
    kill -0 "$(cat "$CRI_ROOT/containerd.pid")" 2>/dev/null || { cri_log "containerd died:"; tail -5 "$CRI_ROOT/containerd.log" >&2; return 1; }
    sleep 0.2
  done
  ctr --address "$CRI_SOCK" version >/dev/null 2>&1 || { cri_log "containerd did not answer"; return 1; }
  "$CRI_PY" "$CRI_DIR/image.py" "$CRI_ROOT/image.tar" "$CRI_IMAGE" || return 1
  ctr --address "$CRI_SOCK" -n k8s.io images import "$CRI_ROOT/image.tar" >"$CRI_ROOT/import.log" 2>&1 ||
    { cri_log "image import failed:"; cat "$CRI_ROOT/import.log" >&2; return 1; }
}

# cri_pids_under DIR: PIDs in every cgroup below DIR (any hierarchy).
cri_pids_under() {
  local d
  for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
    [ -d "$d" ] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -u
}

# cri_stop: removes every pod, stops containerd, kills what is left of its shims and
# containers (by PID), unmounts, removes the cgroups, the netns and the root. Idempotent.
cri_stop() {
  [ "${CRI_STARTED:-0}" = 1 ] || return 0
  local pid p m d c
  pid=$(cat "$CRI_ROOT/containerd.pid" 2>/dev/null)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    timeout 60 "$CRI_PY" "$CRI_DIR/checks.py" --socket "$CRI_SOCK" --remove-all >&2 || cri_log "removing the pods failed"
    kill "$pid" 2>/dev/null
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  # shims started for our containerd carry its address on their command line
  for p in /proc/[0-9]*; do
    c=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")
    [[ $c == *"-address $CRI_SOCK "* ]] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  cri_pod_uids
  local cg dirs; dirs=$(cri_cgroup_dirs)
  for cg in $dirs; do
    for p in $(cri_pids_under "$cg"); do kill -9 "$p" 2>/dev/null; done
  done
  sleep 0.2
  findmnt -rn -o TARGET | grep "^$CRI_ROOT/" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  if [ "$CRI_DRIVER" = systemd ]; then  # the units (their scopes stop with them), then cgroups
    for cg in $dirs; do systemctl stop "${cg##*/}" 2>/dev/null; done
  fi
  for cg in $dirs; do
    for d in /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg"; do
      [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
  ip netns del "$CRI_NETNS" 2>/dev/null
  rm -rf "$CRI_ROOT"
  rm -f /var/lib/cni/results/"$CRI_NET"-* 2>/dev/null
  # libcni caches results in /var/lib/cni/results (not configurable in containerd 1.6)
  [ "${CRI_VARLIBCNI_EXISTED:-1}" = 0 ] && rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null
  # shim sockets: ours are new and have no listener any more
  local listening; listening=$(ss -xlH 2>/dev/null | awk '{print $5}')
  for d in /run/containerd/s/*; do
    [ -e "$d" ] || continue
    case "$CRI_SHIMSOCKS_BEFORE" in *" $(basename "$d") "*) continue ;; esac
    grep -qxF "$d" <<<"$listening" || grep -qxF "unix://$d" <<<"$listening" || rm -f "$d"
  done
  [ "$CRI_SHIMDIR_EXISTED" = 0 ] && rmdir /run/containerd/s 2>/dev/null
  [ "$CRI_RUN_CONTAINERD_EXISTED" = 0 ] && rmdir /run/containerd 2>/dev/null
  CRI_STARTED=0
}

# cri_leftovers: prints what is left (nothing when clean); status 1 if anything is.
cri_leftovers() {
  local bad=0 p c cg u
  [ -e "$CRI_ROOT" ] && { echo "left: $CRI_ROOT"; bad=1; }
  ip netns list 2>/dev/null | grep -qw "$CRI_NETNS" && { echo "left: netns $CRI_NETNS"; bad=1; }
  ip link show "$CRI_BRIDGE" >/dev/null 2>&1 && { echo "left: bridge $CRI_BRIDGE"; bad=1; }
  for cg in $(cri_cgroup_dirs); do
    ls -d /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg" 2>/dev/null | grep -q . && { echo "left: cgroups $cg"; bad=1; }
    if [ "$CRI_DRIVER" = systemd ]; then
      u=$(systemctl list-units --all --plain --no-legend "${cg##*/}" | awk '$3 != "inactive" {print $1}')
      [ -n "$u" ] && { echo "left: unit $u"; bad=1; }
    fi
  done
  findmnt -rn -o TARGET | grep -q "^$CRI_ROOT" && { echo "left: mounts under $CRI_ROOT"; bad=1; }
  for p in /proc/[0-9]*; do
    c=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")
    [[ $c == *"$CRI_ROOT/"* ]] && { echo "left: process ${p#/proc/}: $c"; bad=1; }
  done
  ls /var/lib/cni/results/"$CRI_NET"-* >/dev/null 2>&1 && { echo "left: /var/lib/cni/results/$CRI_NET-*"; bad=1; }
  return $bad
}
