#!/bin/bash
# tests/e2e/engines.sh start|stop|env
#
# A private, offline set of container engines for the end-to-end tests (tests/e2e/run.sh):
# containerd, dockerd on top of that containerd, and podman (no daemon), each with its own
# roots, sockets and configuration under $HUSK_E2E_ROOT (default /tmp/husk-e2e), and with
# husk registered as the runtime "husk" ($HUSK_E2E_ROOT/bin/husk, a symlink to point at a
# build; HUSK_E2E_RUNTIME=PATH sets it at start). Nothing comes from a registry: the image
# busybox-img:latest (docker.io/library/busybox-img:latest for containerd and podman) is a
# docker-archive written here from Debian's busybox-static and loaded into each engine.
# The host's firewall is not touched (dockerd: --iptables=false --ip-forward=false
# --ip-masq=false); dockerd's default network is a bridge of our own, husk-e2e0
# (10.213.0.1/24), created at start and deleted at stop.
#
#   start  writes the configs, builds the image, starts containerd and dockerd, loads the
#          image into docker, containerd and podman, writes $HUSK_E2E_ROOT/env.sh (the
#          variables that point docker, ctr and podman at these engines). Fails loudly,
#          naming the log, if an engine does not come up.
#   stop   removes every container the engines know, stops dockerd and containerd (by the
#          pids recorded at start), unmounts and removes $HUSK_E2E_ROOT, the bridge, the
#          engines' empty cgroups and what conmon and containerd leave outside the root.
#   env    prints the contents of env.sh.
#
# Needs root and the engines from Debian (scripts/deps.sh --e2e).
set -uo pipefail
E=${HUSK_E2E_ROOT:-/tmp/husk-e2e}
BR=husk-e2e0
BR_ADDR=10.213.0.1/24
IMG=busybox-img:latest
CIMG=docker.io/library/busybox-img:latest
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
DSOCK=$E/docker/docker.sock
CSOCK=$E/containerd/containerd.sock
CG_PARENTS=(docker default libpod_parent)   # cgroups the engines make in each v1 hierarchy

say() { echo "engines: $*"; }
fail() { echo "engines: $*" >&2; exit 1; }
. "$(dirname "$0")/../lib/busybox-image.sh"

env_file() {
  cat <<EOF
export HUSK_E2E_ROOT=$E
export E2E_ROOT=$E
export DOCKER_HOST=unix://$DSOCK
export CONTAINERD_ADDRESS=$CSOCK
export CONTAINERD_NAMESPACE=default
export CONTAINERS_CONF=$E/podman/containers.conf
export CONTAINERS_STORAGE_CONF=$E/podman/storage.conf
export HUSK_E2E_IMAGE=$IMG
export HUSK_E2E_CIMAGE=$CIMG
EOF
}

# ------------------------------------------------------------------------------ image
# A docker-archive (what `docker save` writes: manifest.json, the config, one layer tar)
# that docker load, ctr images import and podman load all read (tests/lib/busybox-image.sh).
make_image() {
  local d=$E/image r=$E/image/rootfs
  rm -rf "$d"; mkdir -p "$r"
  busybox_rootfs "$r" || fail "cannot build the image's rootfs"
  chown 1000:1000 "$r/home/user"
  # The fully qualified tag: podman would file a short one under localhost/; docker shows
  # it as busybox-img:latest, containerd keeps it as it is.
  busybox_archive "$r" "$CIMG" "$d/busybox.tar" || fail "cannot write the image archive"
  rm -rf "$r"
}

# ---------------------------------------------------------------------------- configs
write_configs() {
  mkdir -p "$E"/containerd/{root,state,opt,cni,runc-root} "$E"/docker/{data,exec} "$E"/podman/{graph,run,tmp,net}
  local rt=$E/bin/husk
  # HUSK_E2E_CGROUP_DRIVER=systemd: every engine in its systemd mode (a systemd host: the
  # tests/vm/run.sh --systemd guest), so each calls the runtime with --systemd-cgroup.
  local cgd=${HUSK_E2E_CGROUP_DRIVER:-cgroupfs} sdcg=false
  [ "$cgd" = systemd ] && sdcg=true
  cat > "$E/containerd/config.toml" <<EOF
# containerd for husk's e2e tests: private root, state and sockets.
version = 2
root = "$E/containerd/root"
state = "$E/containerd/state"
[grpc]
  address = "$CSOCK"
[ttrpc]
  address = "$CSOCK.ttrpc"
[debug]
  address = "$E/containerd/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$E/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    conf_dir = "$E/containerd/cni"
  # For CRI clients: the runtime handler "husk" is the runc v2 shim running husk.
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.husk]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.husk.options]
      BinaryName = "$rt"
      Root = "$E/containerd/runc-root"
      SystemdCgroup = $sdcg
EOF
  jq -n --arg rt "$rt" --arg br "$BR" --arg cgd "native.cgroupdriver=$cgd" '{
      runtimes: {husk: {path: $rt}},
      "exec-opts": [$cgd],
      "storage-driver": "overlay2",
      bridge: $br, iptables: false, "ip-forward": false, "ip-masq": false,
      "log-driver": "json-file"}' > "$E/docker/daemon.json"
  cat > "$E/podman/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$E/podman/graph"
runroot = "$E/podman/run"
EOF
  # podman as root asks the runtime for RLIMIT_NOFILE 1048576 and RLIMIT_NPROC; a host whose
  # bounding set lacks CAP_SYS_RESOURCE cannot raise a hard limit: ask for what we have.
  # podman passes --log-format=json --log FILE only to runtimes listed in
  # runtime_supports_json.
  local nofile; nofile=$(ulimit -Hn)
  cat > "$E/podman/containers.conf" <<EOF
[containers]
netns = "none"
cgroupns = "host"
log_driver = "k8s-file"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]

[engine]
cgroup_manager = "$cgd"
events_logger = "file"
events_logfile_path = "$E/podman/events.log"
tmp_dir = "$E/podman/tmp"
static_dir = "$E/podman/graph/libpod"
volume_path = "$E/podman/graph/volumes"
runtime_supports_json = ["crun", "runc", "husk"]

[engine.runtimes]
husk = ["$rt"]

[network]
network_config_dir = "$E/podman/net"
EOF
}

# ---------------------------------------------------------------------------- daemons
# pid_of NAME COMM: the recorded pid of an engine if it still runs COMM.
pid_of() {
  local f=$E/$1/$1.pid p
  [ -s "$f" ] || return 1
  p=$(cat "$f")
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && echo "$p"
}

wait_for() {  # wait_for SECONDS CMD...: until CMD succeeds
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done
}

start_containerd() {
  setsid containerd --config "$E/containerd/config.toml" </dev/null >"$E/containerd/containerd.log" 2>&1 &
  echo $! > "$E/containerd/containerd.pid"
  wait_for 30 ctr --address "$CSOCK" version ||
    { tail -5 "$E/containerd/containerd.log" >&2; fail "containerd did not start (log: $E/containerd/containerd.log)"; }
  pid_of containerd containerd >/dev/null || fail "containerd answers but its pid is unknown"
}

start_dockerd() {
  setsid dockerd --config-file "$E/docker/daemon.json" -H "unix://$DSOCK" \
    --data-root "$E/docker/data" --exec-root "$E/docker/exec" --pidfile "$E/docker/dockerd.pid" \
    --containerd "$CSOCK" </dev/null >"$E/docker/dockerd.log" 2>&1 &
  echo $! > "$E/docker/docker.pid"
  wait_for 60 docker -H "unix://$DSOCK" version ||
    { tail -5 "$E/docker/dockerd.log" >&2; fail "dockerd did not start (log: $E/docker/dockerd.log)"; }
  [ -s "$E/docker/dockerd.pid" ] && cp "$E/docker/dockerd.pid" "$E/docker/docker.pid"
  pid_of docker dockerd >/dev/null || fail "dockerd answers but its pid is unknown"
}

make_bridge() {
  if ip link show "$BR" >/dev/null 2>&1; then
    say "bridge $BR exists already: using it"
  else
    ip link add "$BR" type bridge && ip addr add "$BR_ADDR" dev "$BR" && ip link set "$BR" up ||
      fail "cannot create the bridge $BR"
    echo "$BR" > "$E/bridge.created"
  fi
}

load_image() {
  docker -H "unix://$DSOCK" load -q -i "$E/image/busybox.tar" >/dev/null || fail "docker load failed"
  ctr --address "$CSOCK" -n default images import "$E/image/busybox.tar" >/dev/null || fail "ctr images import failed"
  podman load -q -i "$E/image/busybox.tar" >/dev/null || fail "podman load failed"
  podman image exists "$CIMG" || fail "podman knows no $CIMG after the load"
  ctr --address "$CSOCK" -n default images ls -q | grep -qx "$CIMG" || fail "containerd knows no $CIMG after the import"
}

start() {
  [ "$(id -u)" = 0 ] || fail "must run as root"
  local b
  for b in containerd containerd-shim-runc-v2 ctr dockerd docker podman conmon jq ip setsid; do
    command -v $b >/dev/null || fail "$b is missing (scripts/deps.sh --e2e installs the engines)"
  done
  if pid_of containerd containerd >/dev/null || pid_of docker dockerd >/dev/null; then
    fail "engines already running under $E (tests/e2e/engines.sh stop first)"
  fi
  mkdir -p "$E/bin"
  if [ -n "${HUSK_E2E_RUNTIME:-}" ]; then
    ln -sfn "$(readlink -f "$HUSK_E2E_RUNTIME")" "$E/bin/husk"
  elif [ ! -e "$E/bin/husk" ]; then
    fail "no runtime: set HUSK_E2E_RUNTIME or link $E/bin/husk to a husk binary"
  fi
  # What is outside our root before we start: stop removes only what appeared since.
  ls -A /run/containerd/fifo 2>/dev/null > "$E/fifo.before"
  ls -A /run/containerd/s 2>/dev/null > "$E/shim-sockets.before"
  [ -d /run/containerd ] && touch "$E/run-containerd.existed"
  # podman (containers/image) keeps a blob-info cache in /var/lib/containers/cache.
  [ -d /var/lib/containers/cache ] && touch "$E/containers-cache.existed"
  [ -d /var/lib/containers ] && touch "$E/containers-dir.existed"
  ls -A /sys/fs/cgroup > "$E/cgroup-top.before"
  env_file > "$E/env.sh"
  write_configs
  make_image
  make_bridge
  start_containerd
  start_dockerd
  # shellcheck disable=SC1091
  . "$E/env.sh"
  load_image
  say "containerd pid $(cat "$E/containerd/containerd.pid"), dockerd pid $(cat "$E/docker/docker.pid"), podman configured; husk -> $(readlink "$E/bin/husk")"
  say "environment: . $E/env.sh"
}

# ------------------------------------------------------------------------------- stop
stop_pid() {  # stop_pid NAME COMM: TERM, then KILL after 30 s
  local p
  p=$(pid_of "$1" "$2") || return 0
  kill -TERM "$p"
  wait_for 30 test ! -d "/proc/$p" || { say "$2 ($p) ignored SIGTERM: SIGKILL"; kill -KILL "$p"; sleep 0.5; }
}

remove_containers() {
  local ids t
  if pid_of docker dockerd >/dev/null; then
    ids=$(docker -H "unix://$DSOCK" ps -aq 2>/dev/null)
    [ -n "$ids" ] && docker -H "unix://$DSOCK" rm -f $ids >/dev/null 2>&1
  fi
  if [ -f "$E/podman/containers.conf" ]; then
    CONTAINERS_CONF=$E/podman/containers.conf CONTAINERS_STORAGE_CONF=$E/podman/storage.conf \
      podman rm -af -t 1 >/dev/null 2>&1
  fi
  if pid_of containerd containerd >/dev/null; then
    local C="ctr --address $CSOCK -n default"
    for t in $($C tasks ls -q 2>/dev/null); do $C tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done
    for t in $($C tasks ls -q 2>/dev/null); do
      wait_for 5 sh -c "! $C tasks ls -q | grep -qx '$t' || $C tasks rm -f '$t'"
    done
    for t in $($C containers ls -q 2>/dev/null); do $C containers rm "$t" >/dev/null 2>&1; done
  fi
}

# The runc v2 shims of our containerd (they name its socket in their argv) exit on their own
# once their tasks are gone, removing their sockets in /run/containerd/s: wait for that
# (10 s), then kill what is left.
our_shims() {
  local c p
  for c in /proc/[0-9]*/cmdline; do
    p=${c#/proc/}; p=${p%/cmdline}
    case $(cat "/proc/$p/comm" 2>/dev/null) in containerd-shim*) ;; *) continue ;; esac
    tr '\0' ' ' < "$c" 2>/dev/null | grep -q -- "-address $CSOCK " && echo "$p"
  done
}
stop_shims() {
  local p
  wait_for 10 test -z "$(our_shims)" && return 0
  for p in $(our_shims); do say "shim $p still runs: SIGKILL"; kill -KILL "$p"; done
  sleep 0.5
}

# conmon (podman's cgroupfs manager) makes <controller>/libpod_parent/conmon for controllers
# of /proc/cgroups that this host does not mount: plain directories on the /sys/fs/cgroup
# tmpfs holding a regular file "tasks". Remove those that appeared since start, once no pid
# in them is alive; never anything that is a mount point.
remove_conmon_debris() {
  local top d p live
  [ -f "$E/cgroup-top.before" ] || return 0
  for top in $(ls -A /sys/fs/cgroup | grep -vxF -f "$E/cgroup-top.before"); do
    d=/sys/fs/cgroup/$top
    [ -d "$d" ] && ! mountpoint -q "$d" || continue
    [ "$(stat -f -c %T "$d")" = tmpfs ] || continue
    live=0
    for p in $(cat "$d"/libpod_parent/conmon/tasks 2>/dev/null); do [ -d "/proc/$p" ] && live=1; done
    [ $live = 0 ] || { say "left $d: a process in it is alive"; continue; }
    [ -z "$(find "$d" -type f ! -path "$d/libpod_parent/conmon/tasks")" ] || { say "left $d: unknown content"; continue; }
    rm -f "$d/libpod_parent/conmon/tasks"
    rmdir "$d/libpod_parent/conmon" "$d/libpod_parent" "$d"
  done
}

remove_cgroups() {
  local h c
  for h in /sys/fs/cgroup/*/; do
    mountpoint -q "$h" || continue
    for c in "${CG_PARENTS[@]}"; do
      [ -d "$h$c" ] || continue
      find "$h$c" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
      rmdir "$h$c" 2>/dev/null
    done
  done
}

remove_containerd_run() {
  local d
  for d in /run/containerd/fifo/*; do
    [ -d "$d" ] || continue
    grep -qxF "$(basename "$d")" "$E/fifo.before" 2>/dev/null || rm -rf "$d"
  done
  # A shim does not always remove its socket: remove the new ones nobody listens on.
  for d in /run/containerd/s/*; do
    [ -S "$d" ] || continue
    grep -qxF "$(basename "$d")" "$E/shim-sockets.before" 2>/dev/null && continue
    ss -xl | grep -qF " $d " || rm -f "$d"
  done
  find /run/containerd/fifo /run/containerd/s -mindepth 1 -depth -type d -empty -delete 2>/dev/null
  if [ ! -e "$E/run-containerd.existed" ]; then
    rmdir /run/containerd/fifo /run/containerd/s /run/containerd/runc/default /run/containerd/runc /run/containerd 2>/dev/null
  fi
}

stop() {
  [ "$(id -u)" = 0 ] || fail "must run as root"
  [ -d "$E" ] || { say "nothing under $E"; return 0; }
  remove_containers
  stop_pid docker dockerd
  stop_pid containerd containerd
  stop_shims
  remove_conmon_debris
  remove_cgroups
  remove_containerd_run
  if [ ! -e "$E/containers-cache.existed" ]; then
    rm -rf /var/lib/containers/cache
    [ -e "$E/containers-dir.existed" ] || rmdir /var/lib/containers 2>/dev/null
  fi
  if [ -f "$E/bridge.created" ] && ip link show "$BR" >/dev/null 2>&1; then
    ip link del "$BR" || say "could not delete the bridge $BR"
  fi
  # dockerd's and the snapshotters' mounts under our root, deepest first.
  findmnt -rn -o TARGET | grep "^$E/" | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  rm -rf --one-file-system "$E" || fail "could not remove $E"
  say "stopped, $E removed"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  env) [ -f "$E/env.sh" ] && cat "$E/env.sh" || env_file ;;
  *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
