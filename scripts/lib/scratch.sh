# Sourced by the scripts that run throw-away containers outside the tests
# (scripts/bench.sh, scripts/layout/gen-order.sh): a busybox rootfs, and their cleanup.

# busybox_rootfs DIR: Debian's busybox-static as a whole rootfs (true, sleep, sh).
busybox_rootfs() {
  mkdir -p "$1/bin" "$1/proc" "$1/dev" "$1/sys" "$1/tmp"
  cp /bin/busybox "$1/bin/busybox"
  local a
  for a in true sleep sh; do ln -s busybox "$1/bin/$a"; done
}

# delete_containers RUNTIME ROOT: `delete -f` every container in state root ROOT.
delete_containers() {
  local d
  for d in "$2"/*/; do
    [ -d "$d" ] && "$1" --root "$2" delete -f "$(basename "$d")" >/dev/null 2>&1
  done
  return 0
}

# remove_cgroup_prefix NAME: removes /NAME and everything below it in every hierarchy.
remove_cgroup_prefix() {
  local c
  for c in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
    [ -d "$c" ] || continue
    find "$c" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
    rmdir "$c" 2>/dev/null || true
  done
}
