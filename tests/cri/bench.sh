#!/bin/bash
# tests/cri/bench.sh HUSK_BINARY [-n ROUNDS] [-r RATIO]: pod start latency through containerd's CRI service
# (RunPodSandbox + CreateContainer + StartContainer of one container, bridge network) with husk
# and with runc as the runtime handler, interleaved rounds (default 20): medians and min-max.
# Then the same again with timing wrappers around the runc v2 shim, the CNI plugins and the
# runtimes (bash, $EPOCHREALTIME, no fork of their own) to show where the time goes; the
# wrappers add their own start-up, so the headline figures come from the first, unwrapped run.
# containerd is started and removed as in run.sh (lib.sh). With -r, exit 1 if husk's median
# total over runc's is above RATIO in the unwrapped run (the speed line: -r 1, not slower).
set -u
HUSK=$(readlink -f "${1:?usage: tests/cri/bench.sh HUSK_BINARY [-n ROUNDS] [-r RATIO]}"); shift
ROUNDS=20 RATIO=()
while [ $# -ge 2 ]; do
  case $1 in
    -n) ROUNDS=$2 ;;
    -r) RATIO=(--max-ratio "$2") ;;
    *) break ;;
  esac
  shift 2
done
[ $# = 0 ] || { echo "usage: tests/cri/bench.sh HUSK_BINARY [-n ROUNDS] [-r RATIO]" >&2; exit 2; }
[ -x "$HUSK" ] || { echo "cri-bench: $HUSK is not executable" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "cri-bench: must run as root" >&2; exit 2; }
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. "$(dirname "$0")/lib.sh" || exit 2
WRAP=$(mktemp -d /tmp/husk-cri-wrap.XXXXXX)
trap 'cri_stop; rm -rf "$WRAP"' EXIT
trap 'exit 130' INT TERM

bench() {  # bench HUSK_PATH [--timing-log FILE]
  cri_start "$1" || { echo "cri-bench: containerd did not start" >&2; tail -5 "$CRI_ROOT/containerd.log" >&2; return 1; }
  shift
  (cd "$CRI_DIR" && /usr/bin/python3 bench.py --socket "$CRI_SOCK" --root "$CRI_ROOT" \
     --image "$CRI_IMAGE" --cgroup-driver "$CRI_DRIVER" --rounds "$ROUNDS" "$@")
  local rc=$?
  cri_stop
  return $rc
}

# wrapper FILE LABEL REAL: FILE runs REAL and appends "start end LABEL args" to the log.
wrapper() {
  cat >"$1" <<EOT
#!/bin/bash
t0=\$EPOCHREALTIME
"$3" "\$@"
rc=\$?
echo "\$t0 \$EPOCHREALTIME $2 \${CNI_COMMAND:-} \$*" >>"$WRAP/timing.log"
exit \$rc
EOT
  chmod +x "$1"
}

echo "== unwrapped: $ROUNDS rounds"
bench "$HUSK" "${RATIO[@]}"
rc=$?
[ $rc = 0 ] || [ ${#RATIO[@]} != 0 ] || exit 1  # a failed ratio still gets the breakdown below
echo
echo "== with timing wrappers: $ROUNDS rounds"
mkdir -p "$WRAP/bin" "$WRAP/cni"
wrapper "$WRAP/bin/husk" husk "$HUSK"
wrapper "$WRAP/bin/runc" runc "$(command -v runc)"
wrapper "$WRAP/bin/containerd-shim-runc-v2" shim "$(command -v containerd-shim-runc-v2)"
for p in /usr/lib/cni/*; do wrapper "$WRAP/cni/$(basename "$p")" cni "$p"; done
: >"$WRAP/timing.log"
HUSK_CRI_RUNC=$WRAP/bin/runc HUSK_CRI_CNI_BIN=$WRAP/cni HUSK_CRI_PATH_PREFIX=$WRAP/bin \
  bench "$WRAP/bin/husk" --timing-log "$WRAP/timing.log"
[ $rc = 0 ]
