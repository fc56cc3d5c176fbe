#!/bin/bash
# conformance/run.sh VALIDATION_DIR [HUSK]
#
# Runs the opencontainers/runtime-tools validation suite against husk with our runner
# (conformance/runner.sh: one row per test program, TAP scored) and compares each program's
# status with conformance/expected.txt. Fails on any difference, in either direction, so
# that a regression or an unexplained improvement is visible.
#
# VALIDATION_DIR holds the suite built OUTSIDE this repository by
# conformance/build-suite.sh from a runtime-tools checkout at commit 260e151 (README,
# "Conformance", says how to get it): the *.t programs, runtimetest, rootfs-amd64.tar.gz.
# The suite's code and binaries never enter this repository. docs/conformance.md has the
# scores of husk, runc and crun.
#
# expected.txt: one test per line, "NAME STATUS" where STATUS is pass, or fail/skip/empty/
# noplan/crash/excluded followed by "# reason"; "fail|pass" accepts either (a program that
# races against the host, with the measurement in the reason). Blank lines and lines
# starting with # are ignored. The linux_cgroups_relative_* tests run only when the caller sits in the root
# cgroup of every hierarchy (the runner excludes them otherwise).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
[ $# -ge 1 ] || { sed -n '2,19p' "$0"; exit 2; }
VAL=$1
HUSK=${2:-$ROOT/build/husk}
# The runner runs each test in its own scratch directory: make the paths absolute.
HUSK=$(realpath -e "$HUSK") || { echo "conformance: no husk binary at ${2:-$ROOT/build/husk}" >&2; exit 2; }
VAL=$(realpath -e "$VAL") || { echo "conformance: no validation directory at $1" >&2; exit 2; }
RUNNER=$HERE/runner.sh
[ "$(id -u)" = 0 ] || { echo "conformance: needs root" >&2; exit 2; }

LOGS=${CONFORMANCE_LOGS:-$ROOT/build/validation-logs}
mkdir -p "$LOGS"
OUT=$LOGS/summary.txt
# A private mount namespace: linux_ns_itype mounts into the caller's namespace.
# linux_cgroups_hugetlb makes husk enable hugetlb in the subtree_control of a hybrid host's
# cgroup2 root (the only place this host has the controller): put it back afterwards.
UNIFIED=/sys/fs/cgroup/unified
SUBTREE_BEFORE=$(cat "$UNIFIED/cgroup.subtree_control" 2>/dev/null || true)
restore_subtree() {
  [ -f "$UNIFIED/cgroup.subtree_control" ] || return 0
  for c in $(cat "$UNIFIED/cgroup.subtree_control"); do
    case " $SUBTREE_BEFORE " in *" $c "*) ;; *) echo "-$c" > "$UNIFIED/cgroup.subtree_control" 2>/dev/null || true ;; esac
  done
}
# The suite calls husk without --root: what it leaves in /run/husk goes too.
. "$ROOT/scripts/lib/default-root.sh"
default_root_snapshot
trap 'restore_subtree; default_root_restore' EXIT
unshare -m --propagation private "$RUNNER" -o "$LOGS" "$VAL" "$HUSK" | tee "$OUT"

status=0
declare -A want
while read -r name st _; do
  [ -z "$name" ] && continue
  case $name in \#*) continue ;; esac
  want[$name]=$st
done < "$HERE/expected.txt"

while read -r name st _; do
  case $name in TEST|----|validation:|\#*|"") continue ;; esac
  got=$st
  exp=${want[$name]:-}
  if [ -z "$exp" ]; then
    echo "conformance: $name: $got, not listed in expected.txt"; status=1
  elif [[ "|$exp|" != *"|$got|"* ]]; then
    echo "conformance: $name: expected $exp, got $got"; status=1
  fi
  unset "want[$name]"
done < <(grep -E '^[a-z_]+ +[a-z]+ ' "$OUT")
for name in "${!want[@]}"; do echo "conformance: $name: listed but not run"; status=1; done
[ $status = 0 ] && echo "conformance: every test as expected"
exit $status
