#!/bin/bash
# tests/cri/run.sh HUSK_BINARY [--handler husk|runc]... [--only CHECK[,CHECK]...] [--repeat N]:
# the Kubernetes node path. containerd's CRI service (Debian's containerd 1.6) runs pods
# through the runc v2 shim with husk (or runc) as the runtime binary; our own CRI client
# (checks.py, gRPC over containerd's socket) does what the kubelet does for a pod's life and
# checks what the containers see.
#
# containerd is started offline with private roots under $HUSK_CRI_ROOT (default /tmp/husk-cri),
# in a network namespace of its own (CNI bridge on 10.88.77.0/24 there, nothing leaves the
# machine), with a busybox image built from Debian's busybox-static as sandbox and app image.
# Every handler given runs the same checks (default: husk). One "PASS|FAIL cri.<handler>.<check>"
# line each, then "cri: N passed, M failed"; exit 0 iff none failed. Everything is stopped and
# removed on exit, also on failure or interrupt (checked: a last "cleanup" line).
#
# Env: HUSK_CRI_CGROUP_DRIVER=cgroupfs|systemd. systemd: SystemdCgroup = true, for a machine with
# systemd as PID 1 and no kubelet (step e2e-cri-systemd: the tests/vm/run.sh --systemd guest);
# pods are kubepods-besteffort-pod<uid>.slice, and the check systemd-units and the removal
# checks ask systemd for the pod's slice and its containers' cri-containerd-<id>.scope units.
#
# --only: only these pod checks (names as in pod_checks.CHECKS, or hostnetwork) besides the
# pod's own and the cleanup, for a quick look at one; --repeat N: each of them N times.
set -u
usage() { echo "usage: tests/cri/run.sh HUSK_BINARY [--handler husk|runc]... [--only CHECK[,CHECK]...] [--repeat N]" >&2; exit 2; }
[ $# -ge 1 ] || usage
HUSK=$(readlink -f "$1"); shift
[ -x "$HUSK" ] || { echo "cri: $HUSK is not executable" >&2; exit 2; }
HANDLERS=() SELECT=()
while [ $# -gt 0 ]; do
  case $1 in
    --handler) [ $# -ge 2 ] || usage; HANDLERS+=("$2"); shift 2 ;;
    --handler=*) HANDLERS+=("${1#--handler=}"); shift ;;
    --only|--repeat) [ $# -ge 2 ] || usage; SELECT+=("$1=$2"); shift 2 ;;
    --only=*|--repeat=*) SELECT+=("$1"); shift ;;
    *) usage ;;
  esac
done
[ ${#HANDLERS[@]} -gt 0 ] || HANDLERS=(husk)
for h in "${HANDLERS[@]}"; do
  case $h in husk|runc) ;; *) echo "cri: unknown handler $h (husk or runc)" >&2; exit 2 ;; esac
done
[ "$(id -u)" = 0 ] || { echo "cri: must run as root" >&2; exit 2; }
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
for b in containerd containerd-shim-runc-v2 ctr runc protoc ip nsenter ss /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback /bin/busybox; do
  command -v "$b" >/dev/null || { echo "cri: $b is missing (scripts/deps.sh installs it)" >&2; exit 2; }
done
/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null ||
  { echo "cri: python3-grpcio and python3-protobuf are missing" >&2; exit 2; }
. "$(dirname "$0")/lib.sh" || exit 2

PASS=0 FAIL=0
OUT=$(mktemp /tmp/husk-cri-out.XXXXXX)
INTERRUPTED=0
finish() {
  [ "$INTERRUPTED" = 1 ] && { echo "FAIL cri.interrupted"; FAIL=$((FAIL + 1)); }
  cri_stop
  local left; left=$(cri_leftovers)
  if [ -z "$left" ]; then echo "PASS cri.cleanup"; PASS=$((PASS + 1))
  else echo "FAIL cri.cleanup ($(echo $left))"; FAIL=$((FAIL + 1)); fi
  rm -f "$OUT"
  echo "cri: $PASS passed, $FAIL failed"
  [ "$FAIL" = 0 ]
}
trap 'INTERRUPTED=1; exit 130' INT TERM
trap 'finish; exit $?' EXIT

if ! cri_start "$HUSK"; then
  echo "FAIL cri.start (containerd or the image; log follows)"; FAIL=$((FAIL + 1))
  tail -20 "$CRI_ROOT/containerd.log" 2>/dev/null
  exit 1
fi
NODE_NETNS=$(readlink "/proc/$(cat "$CRI_ROOT/containerd.pid")/ns/net")
for h in "${HANDLERS[@]}"; do
  (cd "$CRI_DIR" && timeout 600 /usr/bin/python3 checks.py --socket "$CRI_SOCK" --handler "$h" \
      --root "$CRI_ROOT" --image "$CRI_IMAGE" --subnet "$CRI_SUBNET" --node-netns "$NODE_NETNS" \
      --cgroup-driver "$CRI_DRIVER" "${SELECT[@]}") | tee "$OUT"
  PASS=$((PASS + $(grep -c '^PASS ' "$OUT"))); FAIL=$((FAIL + $(grep -c '^FAIL ' "$OUT")))
  grep -q "^cri\.$h: " "$OUT" || { echo "FAIL cri.$h.finished (checks.py did not finish)"; FAIL=$((FAIL + 1)); }
done
if [ "$FAIL" != 0 ]; then
  echo "--- containerd log (errors)"; grep -E 'level=(error|warning)' "$CRI_ROOT/containerd.log" | tail -20
fi
