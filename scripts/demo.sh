#!/bin/bash
# From a fresh Debian 12 machine: install, build, and run one real container made from
# Debian's busybox-static. It prints its hostname, that it is PID 1, and its mount table,
# then is deleted. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (containers need it)" >&2; exit 1; }
scripts/deps.sh
scripts/build.sh
HUSK=$PWD/build/husk
file "$HUSK" | grep -q "statically linked" && echo "demo: $HUSK is statically linked ($(stat -c %s "$HUSK") bytes)"

W=$(mktemp -d /tmp/husk-demo.XXXXXX)
ID=husk-demo-$$
cleanup() {
  "$HUSK" --root "$W/state" delete --force "$ID" >/dev/null 2>&1 || true
  for d in /sys/fs/cgroup/*/husk-demo; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/bundle/rootfs/bin"
cp /bin/busybox "$W/bundle/rootfs/bin/busybox"
for a in sh hostname mount cat echo; do ln -s busybox "$W/bundle/rootfs/bin/$a"; done
cd "$W/bundle"
"$HUSK" spec
# Not a terminal, our own command, and an absolute cgroup path (never under our own cgroup).
sed -i -e 's/"terminal": true/"terminal": false/' \
       -e 's|"sh"$|"sh", "-c", "echo hostname: $(hostname); echo PID $$; mount"|' config.json
sed -i -e 's|"linux": {|"linux": {\n\t\t"cgroupsPath": "/husk-demo/'"$ID"'",|' config.json
echo "demo: husk run $ID"
"$HUSK" --root "$W/state" run "$ID"
echo "demo: container exited with $?; state left behind: $(ls "$W/state" 2>/dev/null | wc -l) containers"
