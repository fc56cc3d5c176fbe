#!/bin/bash
# conformance/runner.sh [-t SECS] [-o LOG_DIR] SUITE_DIR RUNTIME [TEST...]
#
# Runs the opencontainers/runtime-tools validation programs of SUITE_DIR (built by
# conformance/build-suite.sh: NAME.t, runtimetest, rootfs-<goarch>.tar.gz) against RUNTIME
# and prints one row per program, then the assertion totals. conformance/run.sh calls it and
# compares the rows with conformance/expected.txt.
#
# Each program runs as root in a scratch directory of its own: its cwd holds a copy of
# runtimetest and the rootfs tarball (the programs look for both in their cwd and copy
# runtimetest into every bundle they make), TMPDIR points into the scratch directory (the
# bundles go there), RUNTIME names the runtime, stdin is /dev/null, and it gets SECS seconds
# (default 60) before SIGTERM, ten more before SIGKILL. Its TAP output is scored:
#   "ok N" passed, "not ok N" failed, either with "# SKIP" or "# TODO" skipped;
# indented lines (YAML diagnostics) count nothing. Row status, first that applies:
#   timeout     killed by the timeout
#   noplan      no "1..N" line
#   incomplete  fewer results than the plan
#   crash       non-zero exit without any "not ok"
#   fail        at least one "not ok"
#   skip        only skipped results
#   empty       plan 1..0 and no result (the hook programs report only in YAML)
#   pass        otherwise
# The first four add one failed assertion to the totals, so a broken program never looks
# clean. linux_cgroups_relative_* are "excluded" unless the caller sits in the root cgroup
# of every hierarchy: they make cgroups under the caller's own.
# After each program: containers of RUNTIME whose bundle lies in the scratch directory are
# killed and deleted, mounts left under it are unmounted (a test without a mount namespace
# makes the runtime mount into ours).
# Last line: "validation: N passed, M failed, K skipped".
set -u
SECS=${VALIDATION_TIMEOUT:-60}
LOGS=
while getopts t:o: o; do
  case $o in
    t) SECS=$OPTARG ;;
    o) LOGS=$OPTARG ;;
    *) sed -n '2,3p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { sed -n '2,3p' "$0" | sed 's/^# //' >&2; exit 2; }
SUITE=$(realpath -e "$1") || { echo "runner: no suite directory $1" >&2; exit 2; }
RT=$(realpath -e "$2") && [ -x "$RT" ] || { echo "runner: runtime $2 is not executable" >&2; exit 2; }
shift 2
[ "$(id -u)" = 0 ] || { echo "runner: must run as root" >&2; exit 2; }
case $(uname -m) in x86_64) GOARCH=amd64 ;; aarch64) GOARCH=arm64 ;; *) GOARCH=$(uname -m) ;; esac
TARBALL=$SUITE/rootfs-$GOARCH.tar.gz
for f in "$TARBALL" "$SUITE/runtimetest"; do
  [ -f "$f" ] || { echo "runner: $f is missing (conformance/build-suite.sh makes it)" >&2; exit 2; }
done
if [ $# -gt 0 ]; then
  TESTS=("${@%.t}")
else
  mapfile -t TESTS < <(find "$SUITE" -maxdepth 1 -name '*.t' -type f -printf '%f\n' | sed 's/\.t$//' | LC_ALL=C sort)
fi
[ ${#TESTS[@]} -gt 0 ] || { echo "runner: no test programs (*.t) in $SUITE" >&2; exit 2; }
[ -n "$LOGS" ] && mkdir -p "$LOGS"

# The relative tests need the caller in the root cgroup of every hierarchy.
AT_ROOT=1
while IFS=: read -r _ _ path; do [ "$path" = / ] || AT_ROOT=0; done < /proc/self/cgroup

SCRATCH=$(mktemp -d /tmp/husk-validation.XXXXXX)
unmount_under() {  # unmount_under DIR: prints how many mounts were left under DIR
  local n=0 m
  while read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "runner: cannot unmount $m" >&2
    n=$((n + 1))
  done < <(findmnt -rn -o TARGET | grep "^$1/" | LC_ALL=C sort -r)
  echo $n
}
trap 'unmount_under "$SCRATCH" >/dev/null; rm -rf --one-file-system "$SCRATCH"' EXIT

reap() {  # reap DIR: delete the runtime's containers whose bundle is under DIR
  local id
  for id in $("$RT" list --format json 2>/dev/null | jq -r --arg d "$1/" '.[]? | select((.bundle // "") | startswith($d)) | .id' 2>/dev/null); do
    "$RT" kill "$id" KILL >/dev/null 2>&1
    sleep 0.2
    "$RT" delete --force "$id" >/dev/null 2>&1
  done
}

# score FILE: "passed failed skipped plan results" of a TAP stream
score() {
  awk '
    /^1\.\.[0-9]+/ { n = substr($0, 4) + 0; if (n > plan) plan = n; next }
    /^ok( |$)/ || /^not ok( |$)/ {
      results++
      if ($0 ~ /#[ \t]*([Ss][Kk][Ii][Pp]|[Tt][Oo][Dd][Oo])/) skipped++
      else if ($0 ~ /^not ok/) failed++
      else passed++
    }
    BEGIN { plan = -1 }
    END { print passed + 0, failed + 0, skipped + 0, plan, results + 0 }' "$1"
}

row() { printf '%-32s %-10s %5s %6s %5s %5s %4s %6s  %s\n' "$@"; }
echo "# runtime: $RT ($("$RT" --version 2>&1 | head -1))"
echo "# suite: $SUITE, $SECS s per program"
row TEST STATUS OK NOT_OK SKIP PLAN RC SECS NOTE
row ---- ------ -- ------ ---- ---- -- ---- ----
P=0 F=0 S=0
T0=$SECONDS
for t in "${TESTS[@]}"; do
  [ -x "$SUITE/$t.t" ] || { echo "runner: no program $SUITE/$t.t" >&2; exit 2; }
  if [[ $t == linux_cgroups_relative_* ]] && [ $AT_ROOT = 0 ]; then
    row "$t" excluded - - - - - - "the caller is not in the root cgroup: it would make cgroups under its own"
    continue
  fi
  d=$SCRATCH/$t
  mkdir -p "$d/cwd" "$d/tmp"
  cp "$SUITE/runtimetest" "$d/cwd/"
  ln -s "$TARBALL" "$d/cwd/"
  start=$(date +%s%N)
  (cd "$d/cwd" && RUNTIME=$RT TMPDIR=$d/tmp exec timeout -k 10 "$SECS" "$SUITE/$t.t") </dev/null >"$d/tap" 2>"$d/err"
  rc=$?
  took=$(( ($(date +%s%N) - start) / 100000000 ))
  took=$((took / 10)).$((took % 10))
  reap "$d/tmp"
  note=()
  m=$(unmount_under "$d")
  [ "$m" -gt 0 ] && note+=("left $m mounts (unmounted)")
  read -r ok notok skip plan results < <(score "$d/tap")
  extra=1
  if [ $rc = 124 ] || [ $rc = 137 ]; then st=timeout
  elif [ "$plan" -lt 0 ]; then st=noplan
  elif [ "$results" -lt "$plan" ]; then st=incomplete
  elif [ $rc != 0 ] && [ "$notok" = 0 ]; then st=crash
  else
    extra=0
    if [ "$notok" -gt 0 ]; then st=fail
    elif [ "$ok" = 0 ] && [ "$skip" -gt 0 ]; then st=skip
    elif [ "$results" = 0 ]; then
      st=empty
      diag=$(grep -o -m1 '"error": "[^"]*' "$d/tap" | cut -c11- | cut -c1-70)
      [ -n "$diag" ] && note=("diagnostic: $diag" "${note[@]}")
    else st=pass
    fi
  fi
  notok=$((notok + extra))
  P=$((P + ok)) F=$((F + notok)) S=$((S + skip))
  [ "$plan" -lt 0 ] && plan=-
  note_s=$(IFS=';'; echo "${note[*]:-}" | sed 's/;/; /g')
  row "$t" "$st" "$ok" "$notok" "$skip" "$plan" "$rc" "$took" "$note_s"
  [ -n "$LOGS" ] && cp "$d/tap" "$LOGS/$t.tap" && cp "$d/err" "$LOGS/$t.err"
  rm -rf --one-file-system "$d"
done
echo "# ${#TESTS[@]} programs, $((SECONDS - T0)) s"
echo "validation: $P passed, $F failed, $S skipped"
