#!/bin/bash
# tests/e2e/run.sh HUSK_BINARY: husk under the real engines, offline on this machine.
#
# tests/e2e/engines.sh starts containerd, dockerd (on that containerd, the runc v2 shim with
# husk as its binary) and podman with private roots under $HUSK_E2E_ROOT (default
# /tmp/husk-e2e): no registry, a busybox image made from Debian's busybox-static, no
# firewall changes. Each engine knows husk as the runtime "husk" ($HUSK_E2E_ROOT/bin/husk
# points at HUSK_BINARY). The checks are what users do; one "PASS|FAIL engine.check" line
# each, then "e2e: N passed, M failed". Everything is stopped and removed on exit, also on
# failure or interrupt. Exit status 0 iff nothing failed.
#
# Env: HUSK_E2E_ONLY   regex: run only the checks whose name matches
#      HUSK_E2E_ROOT   where the engines live (default /tmp/husk-e2e)
set -u
HUSK=$(readlink -f "${1:?usage: tests/e2e/run.sh HUSK_BINARY}")
[ -x "$HUSK" ] || { echo "e2e: $1 is not executable" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "e2e: must run as root" >&2; exit 2; }
REPO=$(cd "$(dirname "$0")/../.." && pwd)
ENGINES=$REPO/tests/e2e/engines.sh
for b in dockerd containerd containerd-shim-runc-v2 ctr podman conmon jq ip script; do
  command -v $b >/dev/null || { echo "e2e: $b is missing (scripts/deps.sh --e2e installs the engines)" >&2; exit 2; }
done
export HUSK_E2E_ROOT=${HUSK_E2E_ROOT:-/tmp/husk-e2e}
E2E_ROOT=$HUSK_E2E_ROOT
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ONLY=${HUSK_E2E_ONLY:-.}
IMG=busybox-img:latest
CIMG=docker.io/library/busybox-img:latest
WORK=$(mktemp -d /tmp/husk-e2e-work.XXXXXX)
# podman calls husk without --root (state and the seccomp cache in /run/husk).
. "$REPO/scripts/lib/default-root.sh"
default_root_snapshot
PASS=0 FAIL=0

stop_engines() {
  "$ENGINES" stop >"$WORK/stop.log" 2>&1 || cat "$WORK/stop.log" >&2
  default_root_restore
  rm -rf "$WORK"
}
trap stop_engines EXIT
trap 'exit 130' INT TERM

if ! HUSK_E2E_RUNTIME=$HUSK "$ENGINES" start >"$WORK/start.log" 2>&1; then
  echo "e2e: the engines did not start:" >&2
  tail -20 "$WORK/start.log" >&2
  exit 1
fi
. "$E2E_ROOT/env.sh"

# run NAME WANT CMD: CMD's trimmed output must be WANT ("" = only its exit status counts)
run() {
  local name=$1 want=$2 out rc
  shift 2
  [[ $name =~ $ONLY ]] || return 0
  out=$(timeout 120 bash -c "$*" 2>&1)
  rc=$?
  # `script` and the shim's tty copies bring CRs and NULs (shown as ^@ by script).
  out=$(printf '%s' "$out" | tr -d '\r\000' | sed -e 's/\^@//g' -e 's/[[:space:]]*$//')
  if [ $rc = 0 ] && { [ -z "$want" ] || [ "$out" = "$want" ]; }; then
    PASS=$((PASS + 1))
    echo "PASS $name"
  else
    FAIL=$((FAIL + 1))
    echo "FAIL $name (status $rc; wanted '${want:-status 0}')"
    printf '%s\n' "$out" | tail -6 | sed 's/^/    | /'
  fi
}
export IMG CIMG WORK E2E_ROOT

# ---------------------------------------------------------------------------- docker
D="docker run --rm --runtime=husk"
run docker.runtime-registered "$E2E_ROOT/bin/husk" "docker info --format '{{with index .Runtimes \"husk\"}}{{.Path}}{{end}}'"
run docker.run-rm hello "$D --network none $IMG echo hello"
run docker.exit-code 3 "$D --network none $IMG sh -c 'exit 3'; echo \$?"
run docker.stdin piped "echo piped | $D -i --network none $IMG cat"
run docker.tty /dev/pts/0 "$D -t --network none $IMG tty"
run docker.user 1000:1000 "$D --user 1000:1000 --network none $IMG sh -c 'echo \$(id -u):\$(id -g)'"
run docker.read-only refused "$D --read-only --network none $IMG sh -c 'touch /f 2>/dev/null && echo written || echo refused'"
run docker.cap-drop-all 0000000000000000 "$D --cap-drop ALL --network none $IMG sh -c 'grep CapEff /proc/self/status | cut -f2'"
run docker.memory 67108864 "$D --memory 64m --network none $IMG cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
run docker.cpus 150000 "$D --cpus 1.5 --network none $IMG cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us"
run docker.pids-limit 33 "$D --pids-limit 33 --network none $IMG cat /sys/fs/cgroup/pids/pids.max"
run docker.bind-mount "from-host from-container" "mkdir -p \$WORK/v && echo from-host > \$WORK/v/in && $D -v \$WORK/v:/v --network none $IMG sh -c 'echo from-container > /v/out; cat /v/in' | tr '\n' ' '; cat \$WORK/v/out"
run docker.network-none lo "$D --network none $IMG ls /sys/class/net"
run docker.bridge "" "docker run -d --name e2e-a --runtime=husk $IMG sleep 120 >/dev/null && ip=\$(docker inspect -f '{{.NetworkSettings.IPAddress}}' e2e-a) && $D $IMG ping -c 1 -W 5 \$ip; rc=\$?; docker rm -f e2e-a >/dev/null; exit \$rc"
C=e2e-life
export C
run docker.run-detached running "docker run -d --name \$C --runtime=husk --network none $IMG sleep 600 >/dev/null && docker inspect -f '{{.State.Status}}' \$C"
run docker.exec in-container "docker exec \$C echo in-container"
run docker.exec-user-env "1000 yes" "docker exec -u 1000 -e OK=yes \$C sh -c 'echo \$(id -u) \$OK'"
run docker.exec-tty /dev/pts/0 "docker exec -t \$C tty"
run docker.exec-exit-code 9 "docker exec \$C sh -c 'exit 9'; echo \$?"
run docker.top "" "docker top \$C | grep -q 'sleep 600'"
run docker.stats "" "docker stats --no-stream --format '{{.PIDs}}' \$C | grep -qx 1"
run docker.pause paused "docker pause \$C >/dev/null && docker inspect -f '{{.State.Status}}' \$C"
run docker.unpause "running ok" "docker unpause \$C >/dev/null && echo \$(docker inspect -f '{{.State.Status}}' \$C) \$(docker exec \$C echo ok)"
run docker.update 100663296 "docker update --memory 96m --memory-swap 192m \$C >/dev/null && cat /sys/fs/cgroup/memory/docker/\$(docker inspect -f '{{.Id}}' \$C)/memory.limit_in_bytes"
run docker.logs "out err" "docker run -d --name \$C-logs --runtime=husk --network none $IMG sh -c 'echo out; sleep 0.2; echo err >&2' >/dev/null && docker wait \$C-logs >/dev/null && echo \$(docker logs \$C-logs 2>&1); docker rm \$C-logs >/dev/null"
run docker.stop "exited 137" "docker stop -t 1 \$C >/dev/null && docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' \$C"
run docker.start running "docker start \$C >/dev/null && docker inspect -f '{{.State.Status}}' \$C"
run docker.kill "exited 137" "docker kill \$C >/dev/null && docker wait \$C >/dev/null; docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' \$C"
run docker.rm-force-running gone "docker start \$C >/dev/null && docker rm -f \$C >/dev/null && { docker inspect \$C >/dev/null 2>&1 || echo gone; }"

# ---------------------------------------------------------------------------- containerd
R="ctr run --runc-binary $E2E_ROOT/bin/husk --runc-root $E2E_ROOT/containerd/runc-root"
export R
run containerd.run-rm hello "$R --rm $CIMG e2e-c1 echo hello"
run containerd.exit-code 4 "$R --rm $CIMG e2e-c2 sh -c 'exit 4'; echo \$?"
run containerd.tty /dev/pts/0 "script -qec \"$R --rm -t $CIMG e2e-c3 tty\" /dev/null"
run containerd.read-only refused "$R --rm --read-only $CIMG e2e-c4 sh -c 'touch /f 2>/dev/null && echo written || echo refused'"
run containerd.memory 33554432 "$R -d --memory-limit 33554432 $CIMG e2e-c5 sleep 60 >/dev/null && cat /sys/fs/cgroup/memory/default/e2e-c5/memory.limit_in_bytes; { ctr t kill -s SIGKILL e2e-c5; sleep 0.3; ctr t rm -f e2e-c5; ctr c rm e2e-c5; } >/dev/null 2>&1"
run containerd.run-detached RUNNING "$R -d $CIMG e2e-cl sleep 600 >/dev/null && sleep 0.3 && ctr t ls | awk '\$1==\"e2e-cl\"{print \$3}'"
run containerd.exec in-container "ctr t exec --exec-id x1 e2e-cl echo in-container"
# ctr forwards script's stdin (/dev/null): the terminal may echo that input (^@) before the
# process's first line, so the pts is looked for anywhere in the output.
run containerd.exec-tty /dev/pts/0 "script -qec \"ctr t exec -t --exec-id x2 e2e-cl sh -c 'tty; sleep 0.3'\" /dev/null 2>&1 | grep -o '/dev/pts/[0-9]*' | head -1"
run containerd.pause PAUSED "ctr t pause e2e-cl && ctr t ls | awk '\$1==\"e2e-cl\"{print \$3}'"
run containerd.resume RUNNING "ctr t resume e2e-cl && ctr t ls | awk '\$1==\"e2e-cl\"{print \$3}'"
run containerd.ps "" "ctr t ps e2e-cl | grep -q \$(ctr t ls | awk '\$1==\"e2e-cl\"{print \$2}')"
run containerd.kill-all STOPPED "ctr t exec -d --exec-id x3 e2e-cl sleep 600 && ctr t kill --all -s SIGKILL e2e-cl && for i in \$(seq 50); do s=\$(ctr t ls | awk '\$1==\"e2e-cl\"{print \$3}'); [ \"\$s\" = STOPPED ] && break; sleep 0.1; done; echo \$s"
run containerd.delete gone "ctr t rm e2e-cl >/dev/null 2>&1 && ctr c rm e2e-cl && { ctr c info e2e-cl >/dev/null 2>&1 || echo gone; }"

# ---------------------------------------------------------------------------- podman
P="podman --runtime husk"
export P
run podman.run-rm hello "$P run --rm --network none $CIMG echo hello"
run podman.exit-code 5 "$P run --rm --network none $CIMG sh -c 'exit 5'; echo \$?"
run podman.tty /dev/pts/0 "$P run --rm -t --network none $CIMG tty"
run podman.user 1000:1000 "$P run --rm --user 1000:1000 --network none $CIMG sh -c 'echo \$(id -u):\$(id -g)'"
run podman.cap-drop-all 0000000000000000 "$P run --rm --cap-drop ALL --network none $CIMG sh -c 'grep CapEff /proc/self/status | cut -f2'"
run podman.memory 33554432 "$P run --rm --memory 32m --network none $CIMG cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
run podman.pids-limit 21 "$P run --rm --pids-limit 21 --network none $CIMG cat /sys/fs/cgroup/pids/pids.max"
run podman.bind-mount from-host "mkdir -p \$WORK/p && echo from-host > \$WORK/p/in && $P run --rm -v \$WORK/p:/p --network none $CIMG cat /p/in"
run podman.run-detached running "$P run -d --name e2e-p --network none $CIMG sleep 600 >/dev/null && $P inspect -f '{{.State.Status}}' e2e-p"
run podman.exec in-container "$P exec e2e-p echo in-container"
run podman.exec-tty /dev/pts/0 "$P exec -t e2e-p tty"
run podman.top "" "$P top e2e-p | grep -q 'sleep 600'"
run podman.pause paused "$P pause e2e-p >/dev/null && $P inspect -f '{{.State.Status}}' e2e-p"
run podman.unpause running "$P unpause e2e-p >/dev/null && $P inspect -f '{{.State.Status}}' e2e-p"
run podman.stop "exited 137" "$P stop -t 1 e2e-p >/dev/null 2>&1; $P inspect -f '{{.State.Status}} {{.State.ExitCode}}' e2e-p"
run podman.rm gone "$P rm e2e-p >/dev/null && { $P container exists e2e-p || echo gone; }"

echo "e2e: $PASS passed, $FAIL failed"
[ $FAIL = 0 ]
