#!/bin/bash
# scripts/layout/gen-order.sh [HUSK]   (root; HUSK defaults to build/husk)
#
# Regenerates scripts/layout/husk.order, the order in which ld.lld lays out husk's
# functions (CMakeLists.txt passes it as --symbol-ordering-file). It runs HUSK under
# trace-text (ptrace single-stepping: about a minute per 500k steps, twenty-odd minutes in all) on a
# busybox bundle: create, start, delete, state, kill, run, exec, list and run with a
# (cached) seccomp profile, and lists the functions each ran in first-touch order (the
# command's own process first, then the container init's setup, then every CPU variant of
# the glibc string functions among them). The code a create runs then sits in a few
# 64 KiB fault-around windows: peak RSS of `husk create` 1.3 MB instead of 2.8 MB.
# A stale order file only costs memory and page faults; rerun this after large changes
# and commit the result. Everything it creates is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
HUSK=$(realpath "${1:-build/husk}")
[ "$(id -u)" = 0 ] || { echo "gen-order.sh: needs root" >&2; exit 2; }
[ -x "$HUSK" ] || { echo "gen-order.sh: $HUSK: no such binary (scripts/build.sh)" >&2; exit 2; }
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/husk-layout.XXXXXX)
CG=husk-layout-$$
ST=$WORK/state
. scripts/lib/scratch.sh
cleanup() {
  delete_containers "$HUSK" "$ST"
  remove_cgroup_prefix "$CG"
  rm -rf "$WORK"
}
trap cleanup EXIT

gcc -O2 -o "$WORK/trace-text" scripts/layout/trace-text.c
# The executable segment of HUSK: [lo, hi).
read -r LO HI < <(readelf -lW "$HUSK" | awk '$1 == "LOAD" && $8 == "E" { print $3, $6 }')
HI=$(printf '%x' $((LO + HI)))
LO=${LO#0x}

busybox_rootfs "$WORK/rootfs"
bundle() {  # bundle NAME ARGS_JSON [SECCOMP_FILE]
  # (The shared rootfs by its absolute path: a symlinked rootfs is refused, as by runc.)
  mkdir -p "$WORK/$1"
  "$HUSK" spec --bundle "$WORK/$1"
  "$PY" - "$WORK/$1/config.json" "$2" "/$CG/$1" "${3:-}" "$WORK/rootfs" <<'PYEOF'
import json, sys
path, args, cg, sc, rootfs = sys.argv[1:6]
c = json.load(open(path))
c["root"]["path"] = rootfs
c["process"]["args"] = json.loads(args)
c["process"]["terminal"] = False
c["linux"]["cgroupsPath"] = cg
if sc:
    s = json.load(open(sc))
    c["linux"]["seccomp"] = s.get("linux", {}).get("seccomp", s)
json.dump(c, open(path, "w"))
PYEOF
}
bundle true '["/bin/true"]'
bundle sleep '["/bin/sleep", "100"]'
bundle seccomp '["/bin/true"]' tests/data/docker-default-seccomp.json

T() {  # T NAME HUSK-ARGS...: trace one husk command
  local name=$1; shift
  echo "== $name" >&2
  "$WORK/trace-text" "$LO" "$HI" "$WORK/$name.trace" -- "$HUSK" --root "$ST" "$@" >/dev/null
  TRACES+=("$WORK/$name.trace")
}
TRACES=()
# create as the engines call it (absolute bundle, pid file) and as people type it.
T create create --bundle "$WORK/true" --pid-file "$WORK/c1.pid" c1
T start start c1
sleep 0.5
T delete delete c1
cd "$WORK"
T create-relative create --bundle true c1
cd "$OLDPWD"
"$HUSK" --root "$ST" delete -f c1
"$HUSK" --root "$ST" create --bundle "$WORK/sleep" c2
"$HUSK" --root "$ST" start c2
T state state c2
T kill kill c2 KILL
sleep 0.5
"$HUSK" --root "$ST" delete c2
T run run --bundle "$WORK/true" c3
"$HUSK" --root "$ST" run -d --bundle "$WORK/sleep" c4
T exec exec c4 /bin/true
T list list
"$HUSK" --root "$ST" delete -f c4
# Compiling a seccomp profile happens once per profile (then the cache under --root
# serves it) and takes minutes single-stepped: trace the cached path only.
"$HUSK" --root "$ST" run --bundle "$WORK/seccomp" c5
T seccomp run --bundle "$WORK/seccomp" c6

"$PY" scripts/layout/order.py "$HUSK" "${TRACES[@]}" > "$WORK/husk.order"
mv "$WORK/husk.order" scripts/layout/husk.order
echo "gen-order.sh: wrote scripts/layout/husk.order ($(wc -l < scripts/layout/husk.order) functions)" >&2
