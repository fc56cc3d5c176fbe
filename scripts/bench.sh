#!/bin/bash
# scripts/bench.sh [-n ROUNDS] [-s SEQ_ROUNDS] [-p INFLIGHT_ROUNDS] [-m COUNT] [-o OUTDIR] [-q] [-d]
#                  [-b BASE_HUSK]
#
# husk's benchmark: husk beside crun and runc (Debian's, installed if missing), on one
# busybox bundle (`husk spec` defaults: pid/ipc/uts/mount/net/cgroup namespaces, the
# default mounts, masked and read-only paths, /bin/true; an absolute cgroupsPath under
# /husk-bench), rounds interleaved (a Williams design: each runtime follows each other equally often). Scenarios: `run`; the
# create/start/wait/delete split; `state`, `exec` of true, `kill` and `delete` on a running
# container; `run` with Docker's default seccomp profile (304 syscalls); `run` in a user
# namespace; COUNT (100) sequential runs; COUNT runs with 2 and with 8 in flight.
#
# Prints medians [min-max], CPU time, peak RSS (ru_maxrss) and each runtime's ratio to
# husk; writes OUTDIR/bench.json (every sample) and OUTDIR/bench.png (the chart in
# docs/performance.md). Defaults: -n 30 -s 3 -p 3 -m 100 -o build/bench. -q: a quick run
# (-n 5 -s 1 -p 1 -m 20). -b BASE_HUSK: a second husk binary (e.g. a build of an earlier
# commit) runs in the same rotation as `husk-base`, for before/after comparisons.
#
# Needs root. The benchmark runs in a private mount namespace (the host's mounts are not
# touched) where, for every runtime alike:
# - the state roots (--root) are on a tmpfs, as the runtimes' default /run is on a
#   systemd host; -d keeps them on the disk under /tmp instead (on this development VM
#   /run and /tmp are ext4 mounted with `discard`: removing a state directory then costs
#   every runtime a few hundred microseconds more);
# - on a hybrid cgroup host whose cgroup2 mount holds controllers, which crun 1.8.1
#   refuses, /sys/fs/cgroup/unified is an empty tmpfs.
# Everything it creates is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=30 S=3 P=3 M=100 OUT=$ROOT/build/bench STATE_FS=tmpfs BASE=
while getopts "n:s:p:m:o:qdb:" o; do
  case $o in
    n) N=$OPTARG ;; s) S=$OPTARG ;; p) P=$OPTARG ;; m) M=$OPTARG ;; o) OUT=$OPTARG ;;
    q) N=5 S=1 P=1 M=20 ;; d) STATE_FS=disk ;; b) BASE=$(realpath "$OPTARG") ;;
    *) sed -n '2,28p' "$0"; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }

if [ -z "${HUSK_BENCH_INNER:-}" ]; then
  scripts/deps.sh --bench
  [ -x build/husk ] || scripts/build.sh
  U=/sys/fs/cgroup/unified HIDE_UNIFIED=
  if [ -f $U/cgroup.controllers ] && [ -n "$(cat $U/cgroup.controllers)" ] && [ -d /sys/fs/cgroup/memory ]; then
    HIDE_UNIFIED=$U
  fi
  [ -z "$BASE" ] || [ -x "$BASE" ] || { echo "bench: -b $BASE: not an executable" >&2; exit 2; }
  exec env HUSK_BENCH_INNER=1 HIDE_UNIFIED="$HIDE_UNIFIED" unshare -m --propagation private -- "$ROOT/scripts/bench.sh" "$@"
fi
if [ -n "${HIDE_UNIFIED:-}" ]; then mount -t tmpfs -o size=1m,mode=755 husk-bench "$HIDE_UNIFIED"; fi

PY=/usr/bin/python3   # Debian's, with python3-matplotlib (not a pyenv shim first in PATH)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/husk-bench.XXXXXX)
. scripts/lib/scratch.sh
cleanup() {
  delete_containers build/husk "$WORK/state/husk"
  delete_containers /usr/bin/crun "$WORK/state/crun"
  delete_containers /usr/sbin/runc "$WORK/state/runc"
  if [ -n "$BASE" ]; then delete_containers "$BASE" "$WORK/state/husk-base"; fi
  remove_cgroup_prefix husk-bench
  if mountpoint -q "$WORK/state"; then umount "$WORK/state"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$WORK/state"
if [ "$STATE_FS" = tmpfs ]; then mount -t tmpfs -o size=64m,mode=700 husk-bench-state "$WORK/state"; fi

# The bundle: Debian's busybox-static as the whole rootfs.
busybox_rootfs "$WORK/rootfs"
build/husk spec --bundle "$WORK"
# crun 1.8.1 rejects ociVersion 1.2.0; runc 1.1.5's `spec` writes 1.0.2-dev.
"$PY" - "$WORK/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["ociVersion"] = "1.0.2-dev"
json.dump(c, open(sys.argv[1], "w"))
EOF

# The husk binaries run from copies made with write(2), as an installed binary is: the file
# the linker writes (through mmap) sits in the page cache in a shape that made every husk
# command slower (measured: the same bytes, create 4.09 ms from build/husk vs 3.65 ms from a
# copy, medians of 80 interleaved runs).
mkdir "$WORK/bin"
cp build/husk "$WORK/bin/husk"
if [ -n "$BASE" ]; then cp "$BASE" "$WORK/bin/husk-base"; fi
echo "# husk $(build/husk --version | head -1 | awk '{print $3}') ($(git rev-parse --short HEAD 2>/dev/null || echo ?)), $(crun --version | head -1), $(runc --version | head -1)"
echo "# kernel $(uname -r), $(nproc) CPUs; -n $N -s $S -p $P -m $M; state roots on $(stat -f -c %T "$WORK/state")"
"$PY" scripts/bench.py --work "$WORK" --rootfs "$WORK/rootfs" --base-config "$WORK/config.json" \
  --seccomp tests/data/docker-default-seccomp.json --out "$OUT" -n "$N" -s "$S" -p "$P" -m "$M" \
  husk="$WORK/bin/husk" ${BASE:+husk-base="$WORK/bin/husk-base"} crun=/usr/bin/crun runc=/usr/sbin/runc | tee "$OUT/bench.txt"
"$PY" - "$OUT/bench.json" "$OUT/bench.png" <<'EOF'
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
d = json.load(open(sys.argv[1]))
scen = [s for s in d["scenarios"] if s not in ("wait", "create-rss")]
rts = list(d["runtimes"])
fig, ax = plt.subplots(figsize=(12, 5))
w = 0.8 / len(rts)
colors = {"husk": "#2a9d8f", "husk-base": "#8ab17d", "crun": "#e9c46a", "runc": "#e76f51"}
for k, rt in enumerate(rts):
    ys, lo, hi = [], [], []
    for s in scen:
        ref = d["scenarios"][s]["crun"]["median"]
        v = d["scenarios"][s][rt]
        ys.append(v["median"] / ref)
        lo.append((v["median"] - v["min"]) / ref)
        hi.append((v["max"] - v["median"]) / ref)
    xs = [i + (k - (len(rts) - 1) / 2) * w for i in range(len(scen))]
    ax.bar(xs, ys, w, label=rt, color=colors.get(rt), yerr=[lo, hi], capsize=2, error_kw={"elinewidth": 0.6})
    for x, y in zip(xs, ys):
        ax.text(x, y + 0.03, f"{y:.2f}", ha="center", va="bottom", fontsize=6, rotation=90)
ax.axhline(1.0, color="grey", linewidth=0.6)
ax.set_xticks(range(len(scen)))
ax.set_xticklabels(scen, rotation=30, ha="right")
ax.set_ylabel("median time ÷ crun's (bars: min–max)")
ax.set_yscale("log")
ax.set_title(f"husk vs crun vs runc, interleaved rounds ({d['date']}, kernel {d['machine']})")
ax.legend()
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
EOF
echo "# wrote $OUT/bench.json $OUT/bench.txt $OUT/bench.png"
