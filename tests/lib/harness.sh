# tests/lib/harness.sh: sourced by the root harnesses that drive a runtime binary on
# throw-away containers (tests/faults, tests/concurrency, tests/soak). Run from the
# repository's root.
#   harness_setup NAME RUNTIME
#       H=RUNTIME (absolute), T=/tmp/husk-NAME-XXXXXX, R=$T/state (the --root),
#       B=$T/bundle: a busybox rootfs (sh, true, sleep) and RUNTIME's `spec` kept as
#       $B/config.json.orig; CG=husk-test/NAME-$$, the cgroup prefix (the harness's
#       cgroupsPath are /$CG, /$CG-* or below them). Installs harness_cleanup as the EXIT
#       trap. Returns non-zero on failure.
#   harness_config JQFILTER [JQ ARGS...]
#       $B/config.json = config.json.orig with a process that is not a terminal, a
#       writable root, then JQFILTER (e.g. '.process.args=["/bin/true"]').
#   harness_cgroups
#       the cgroup directories under the prefix, every hierarchy, one a line (deepest first).
#   harness_pids
#       the processes the harness's containers left, one PID a line: in a cgroup under the
#       prefix, rooted in $B/rootfs, or with an environment naming a directory of $R (runc's
#       `runc init` has _LIBCONTAINER_STATEDIR=$R/ID). The caller's shell is never one.
#   harness_cleanup
#       `delete --force` of every container in $R, harness_pids SIGKILLed, the prefix's
#       cgroup directories removed, $T removed. Safe to call more than once.
. scripts/lib/scratch.sh

harness_setup() {  # NAME RUNTIME
  H=$(realpath "$2") || return 1
  [ -x "$H" ] || { echo "harness: $2 is not an executable" >&2; return 1; }
  T=$(mktemp -d "/tmp/husk-$1-XXXXXX") || return 1
  R=$T/state B=$T/bundle CG=husk-test/$1-$$
  trap harness_cleanup EXIT
  mkdir -p "$B" "$R" && busybox_rootfs "$B/rootfs" || return 1
  (cd "$B" && "$H" spec) || return 1
  mv "$B/config.json" "$B/config.json.orig"
}

harness_config() {  # JQFILTER [JQ ARGS...]
  local f=$1
  shift
  jq "$@" ".process.terminal=false | .root.readonly=false | $f" "$B/config.json.orig" >"$B/config.json"
}

harness_cgroups() {
  local c
  for c in /sys/fs/cgroup/*/"$CG" /sys/fs/cgroup/*/"$CG"-* /sys/fs/cgroup/"$CG" /sys/fs/cgroup/"$CG"-*; do
    [ -d "$c" ] && find "$c" -depth -type d
  done
  return 0
}

harness_pids() {
  local p c
  {
    for c in $(harness_cgroups); do cat "$c/cgroup.procs" 2>/dev/null; done
    for p in /proc/[0-9]*; do
      case "$(readlink "$p/root" 2>/dev/null)" in "$B/rootfs" | "$B/rootfs/"*) echo "${p#/proc/}" ;; esac
    done
    grep -lasF -- "=$R/" /proc/[0-9]*/environ | cut -d/ -f3
  } | grep -vx -- "$$" | sort -un
}

harness_cleanup() {
  [ -n "${T:-}" ] || return 0
  [ -d "$R" ] && delete_containers "$H" "$R"
  local p left
  left=$(harness_pids)
  if [ -n "$left" ]; then
    for p in $left; do kill -KILL "$p" 2>/dev/null; done
    sleep 0.2
  fi
  harness_cgroups | while read -r c; do rmdir "$c" 2>/dev/null; done
  # The shared prefix too, once empty (husk, like runc, leaves the parents it made; another
  # run's cgroups inside keep it: rmdir fails).
  rmdir /sys/fs/cgroup/*/"${CG%%/*}" /sys/fs/cgroup/"${CG%%/*}" 2>/dev/null
  rm -rf "$T"
}
