#!/bin/bash
# tests/soak/run.sh [RUNTIME]: HUSK_SOAK_CYCLES (default 2000) cycles of `create`, `start`,
# `delete --force` of a busybox /bin/true container (RUNTIME, default build/husk), each in a
# cgroup of its own under the test prefix; every other cycle carries Docker's default
# seccomp profile (tests/data/docker-default-seccomp.json), so the compiled-profile cache
# <root>/.seccomp is used 1,000 times. Measured before and after the cycles:
#   fds      open fds of this shell (the caller)            must be equal
#   rss      VmRSS of this shell, KiB                       may grow by HUSK_SOAK_RSS_TOL_KB
#   root     bytes (du -sb) and inodes of the --root dir,   must be equal
#            .seccomp included
#   cgroups  directories under the prefix, every hierarchy  must be 0
#   mounts   mountinfo entries naming the scratch dir       must be 0 (the total is printed:
#                                                           other tests may mount meanwhile)
#   procs    processes of the containers (cgroup, root,     must be 0
#            environment; tests/lib/harness.sh) or naming an id
# "Before" is after two warm-up cycles (one of each config): the cache's one entry and the
# shell's first allocations are not growth. RSS tolerance: 64 KiB by default. Nothing a
# runtime does can make its caller's RSS grow (the caller only forks and waits); what moves
# it is bash's own heap (the loop's strings and command substitutions; glibc may keep a
# freed page or a few). Measured: +0 KiB over 2,000 cycles (3348 -> 3348) and over 50; 64
# KiB (16 pages) allows a few pages of allocator noise, while a leak in the caller of more
# than 32 bytes per cycle (2,000 x 33 B > 64 KiB) shows.
# Every cycle's command must exit 0 (the first 5 errors are printed). Prints one summary
# line with the figures and the time. Needs root.
# HUSK_SOAK_LEAK=cgroup|fd|container|state (checks the check): halfway, leaves a cgroup
# directory, an fd of this shell, a running container, or a file in the state root; the
# run must then fail.
set -uo pipefail
cd "$(dirname "$0")/../.."
CYCLES=${HUSK_SOAK_CYCLES:-2000}
RSS_TOL_KB=${HUSK_SOAK_RSS_TOL_KB:-64}
[ "$(id -u)" = 0 ] || { echo "SKIP soak (needs root)"; exit 77; }
. tests/lib/harness.sh
harness_setup soak "${1:-build/husk}" || exit 1
P=sk$$
harness_config '.process.args=["/bin/true"] | .linux.cgroupsPath="@CG@"' || exit 1
PLAIN=$(<"$B/config.json")
harness_config '.process.args=["/bin/true"] | .linux.cgroupsPath="@CG@" | .linux.seccomp=$s[0]' \
  --slurpfile s tests/data/docker-default-seccomp.json || exit 1
SECCOMP=$(<"$B/config.json")

errors=0
bad() {  # LABEL
  errors=$((errors + 1))
  [ $errors -le 5 ] && echo "FAIL [$1]: $(head -c 300 "$T/err")"
}
rt() { "$H" --root "$R" "$@" </dev/null >/dev/null 2>"$T/err"; }
cycle() {  # N: one create/start/delete --force, id $P-N, cgroup /$CG-N
  local id=$P-$1 cfg=$PLAIN
  [ $(($1 % 2)) = 1 ] && cfg=$SECCOMP
  printf '%s' "${cfg//@CG@//$CG-$1}" >"$B/config.json"
  rt create --bundle "$B" "$id" || { bad "create $id"; rt delete --force "$id"; return; }
  rt start "$id" || bad "start $id"
  rt delete --force "$id" || bad "delete --force $id"
}

# measure PREFIX: sets PREFIX_fds, _rss, _bytes, _inodes, _cache, _cgroups, _mounts,
# _allmounts, _procs.
measure() {
  local fds=(/proc/$$/fd/*) k v rss=0
  while read -r k v _; do [ "$k" = VmRSS: ] && rss=$v; done </proc/$$/status
  printf -v "$1_fds" %s ${#fds[@]}
  printf -v "$1_rss" %s "$rss"
  printf -v "$1_bytes" %s "$(du -sb "$R" | cut -f1)"
  printf -v "$1_inodes" %s "$(find "$R" | wc -l)"
  printf -v "$1_cache" %s "$(find "$R/.seccomp" -type f 2>/dev/null | wc -l)"
  printf -v "$1_cgroups" %s "$(harness_cgroups | wc -l)"
  printf -v "$1_mounts" %s "$(grep -cF -- "$T" /proc/self/mountinfo)"
  printf -v "$1_allmounts" %s "$(wc -l </proc/self/mountinfo)"
  printf -v "$1_procs" %s "$({ harness_pids; pgrep -f -- "$P-"; } | sort -u | wc -l)"
}

leak() {
  case ${HUSK_SOAK_LEAK:-} in
    cgroup) mkdir -p "/sys/fs/cgroup/pids/$CG-leak" 2>/dev/null || mkdir -p "/sys/fs/cgroup/$CG-leak" ;;
    fd) exec {LEAKED_FD}</dev/null ;;
    container)
      printf '%s' "${PLAIN//@CG@//$CG-leak}" | jq '.process.args=["/bin/sleep","1000"]' >"$B/config.json"
      rt run -d --bundle "$B" "$P-leak" ;;
    state) : >"$R/leaked" ;;
    '') ;;
    *) echo "HUSK_SOAK_LEAK=$HUSK_SOAK_LEAK: not cgroup, fd, container or state"; exit 2 ;;
  esac
}

cycle 0; cycle 1 # warm-up: the seccomp cache gets its entry
measure before
start=$(date +%s%N)
for ((i = 2; i < CYCLES + 2; i++)); do
  cycle $i
  [ $i = $((CYCLES / 2)) ] && leak
done
ms=$((($(date +%s%N) - start) / 1000000))
measure after

fail=0
check() {  # NAME OK-CONDITION...
  local name=$1
  shift
  "$@" || { echo "FAIL [$name]: before/after differ beyond the allowance"; fail=1; }
}
check fds [ "$after_fds" = "$before_fds" ]
check rss [ $((after_rss - before_rss)) -le "$RSS_TOL_KB" ]
check root-bytes [ "$after_bytes" = "$before_bytes" ]
check root-inodes [ "$after_inodes" = "$before_inodes" ]
check cgroups [ "$before_cgroups" = 0 ] && check cgroups [ "$after_cgroups" = 0 ]
check mounts [ "$before_mounts" = 0 ] && check mounts [ "$after_mounts" = 0 ]
check procs [ "$before_procs" = 0 ] && check procs [ "$after_procs" = 0 ]
[ $errors = 0 ] || { echo "FAIL [commands]: $errors failed"; fail=1; }

echo "soak $(basename "$H"): $CYCLES cycles in $((ms / 1000)).$(printf %03d $((ms % 1000))) s" \
  "($((ms * 1000 / CYCLES)) us/cycle), errors $errors;" \
  "fds $before_fds->$after_fds, rss ${before_rss}->${after_rss} KiB (tol $RSS_TOL_KB)," \
  "root ${before_bytes}->${after_bytes} B ${before_inodes}->${after_inodes} inodes" \
  "(seccomp cache ${before_cache}->${after_cache})," \
  "cgroups $before_cgroups->$after_cgroups, mounts $before_mounts->$after_mounts" \
  "(all $before_allmounts->$after_allmounts), procs $before_procs->$after_procs"
[ $fail = 0 ]
