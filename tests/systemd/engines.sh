#!/bin/bash
# docker, containerd and podman in their systemd cgroup modes with husk as the runtime, in
# the `tests/vm/run.sh --systemd` guest (or any pure-v2 systemd host), as root:
#   tests/systemd/engines.sh HUSK
# The engines are tests/e2e/engines.sh's private, offline set, started with
# HUSK_E2E_CGROUP_DRIVER=systemd: dockerd native.cgroupdriver=systemd, containerd's runc
# shim with SystemdCgroup (ctr: --runc-systemd-cgroup), podman --cgroup-manager=systemd.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HUSK=$(realpath "${1:?usage: engines.sh HUSK}")
ENGINES=$HERE/../e2e/engines.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
[ -d /run/systemd/system ] || { echo "SKIP: systemd is not PID 1 here"; exit 77; }
export HUSK_E2E_ROOT=/tmp/husk-e2e
log=$(mktemp /tmp/husk-sd-engines.XXXXXX)
trap '"$ENGINES" stop >>"$log" 2>&1 || tail -5 "$log"; rm -f "$log"' EXIT
HUSK_E2E_CGROUP_DRIVER=systemd HUSK_E2E_RUNTIME=$HUSK "$ENGINES" start >"$log" 2>&1 ||
  { tail -20 "$log"; echo "FAIL: the engines did not start"; exit 1; }
. "$HUSK_E2E_ROOT/env.sh"
check "docker's cgroup driver" systemd "$(docker info --format '{{.CgroupDriver}}')"
scope_of() { systemctl list-units --all --plain --no-legend "*$1*.scope" | awk '{print $1}'; }
one_line() { tr -d '\r' | tr '\n' ' ' | sed 's/ $//'; }

# --- docker --------------------------------------------------------------------------------
D="docker run --rm --runtime husk --network none"
check "docker run -m 64m --cpus 0.5 --pids-limit 50" "67108864 50000 100000 50" \
  "$($D -m 64m --cpus 0.5 --pids-limit 50 "$HUSK_E2E_IMAGE" cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max \
    /sys/fs/cgroup/pids.max 2>&1 | one_line)"
C=$(docker run -d --runtime husk --network none -m 64m "$HUSK_E2E_IMAGE" sleep 1000)
unit=docker-$C.scope
check "docker: the scope" active "$(systemctl show -P ActiveState "$unit")"
check "docker: Slice" system.slice "$(systemctl show -P Slice "$unit")"
check "docker: MemoryMax" 67108864 "$(systemctl show -P MemoryMax "$unit")"
check "docker exec" 67108864 "$(docker exec "$C" cat /sys/fs/cgroup/memory.max 2>&1)"
docker pause "$C" >/dev/null
check "docker pause" paused "$(docker inspect -f '{{.State.Status}}' "$C")"
docker unpause "$C" >/dev/null
check "docker unpause" running "$(docker inspect -f '{{.State.Status}}' "$C")"
docker update --memory 96m --memory-swap 192m "$C" >/dev/null 2>&1 || bad "docker update: $(docker update --memory 96m --memory-swap 192m "$C" 2>&1)"
check "docker update: MemoryMax" 100663296 "$(systemctl show -P MemoryMax "$unit")"
check "docker update: memory.max" 100663296 "$(docker exec "$C" cat /sys/fs/cgroup/memory.max 2>&1)"
check "docker stats: PIDs" 1 "$(docker stats --no-stream --format '{{.PIDs}}' "$C" 2>&1)"
# USR1 reaches the container's PID 1 (sleep, no handler: a pid namespace's init ignores it)
check "docker kill -s USR1" "0 running" "$(docker kill -s USR1 "$C" >/dev/null 2>&1; echo $?) $(docker inspect -f '{{.State.Status}}' "$C")"
docker stop -t 1 "$C" >/dev/null
check "docker stop" exited "$(docker inspect -f '{{.State.Status}}' "$C")"
docker rm "$C" >/dev/null
check "docker rm: the scope" not-found "$(systemctl show -P LoadState "$unit")"
K=$(docker run -d --runtime husk --network none "$HUSK_E2E_IMAGE" sleep 1000)
docker kill "$K" >/dev/null 2>&1
check "docker kill (KILL)" "exited 137" "$(docker wait "$K" >/dev/null 2>&1; docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$K")"
check "docker kill: the scope" not-found "$(docker rm "$K" >/dev/null 2>&1; systemctl show -P LoadState "docker-$K.scope")"

# --- containerd (runc v2 shim, BinaryName husk, systemd cgroups) -----------------------------
R="ctr run --runc-binary $HUSK_E2E_ROOT/bin/husk --runc-root $HUSK_E2E_ROOT/containerd/runc-root --runc-systemd-cgroup"
$R -d --memory-limit 33554432 --cgroup system.slice:ctr:sd-c1 "$HUSK_E2E_CIMAGE" sd-c1 sleep 1000 >/dev/null 2>"$log.err" ||
  bad "ctr run: $(cat "$log.err")"
check "containerd: the scope" active "$(systemctl show -P ActiveState ctr-sd-c1.scope)"
check "containerd: MemoryMax" 33554432 "$(systemctl show -P MemoryMax ctr-sd-c1.scope)"
check "containerd: exec's cgroup" "0::/system.slice/ctr-sd-c1.scope" \
  "$(ctr t exec --exec-id e1 sd-c1 cat /proc/self/cgroup 2>&1)"
ctr t kill -s SIGKILL sd-c1 >/dev/null 2>&1
for i in $(seq 50); do ctr t ls 2>/dev/null | grep -q 'sd-c1.*STOPPED' && break; sleep 0.2; done
ctr t rm sd-c1 >/dev/null 2>&1 || bad "ctr t rm"
ctr c rm sd-c1 >/dev/null 2>&1 || bad "ctr c rm"
check "containerd: after delete" not-found "$(systemctl show -P LoadState ctr-sd-c1.scope)"
rm -f "$log.err"

# --- podman --cgroup-manager=systemd ---------------------------------------------------------
P="podman --runtime husk --cgroup-manager=systemd"
check "podman run -m 32m" 33554432 \
  "$($P run --rm -m 32m --cgroupns private "$HUSK_E2E_CIMAGE" cat /sys/fs/cgroup/memory.max 2>&1 | one_line)"
PC=$($P run -d --cgroupns private -m 32m "$HUSK_E2E_CIMAGE" sleep 1000 2>&1)
check "podman: the scope" active "$(systemctl show -P ActiveState "libpod-$PC.scope")"
check "podman exec" 33554432 "$($P exec "$PC" cat /sys/fs/cgroup/memory.max 2>&1)"
$P stop -t 1 "$PC" >/dev/null 2>&1 || bad "podman stop"
$P rm "$PC" >/dev/null 2>&1 || bad "podman rm"
check "podman: after rm" not-found "$(systemctl show -P LoadState "libpod-$PC.scope")"

echo "$fails failure(s)"
[ $fails -eq 0 ]
