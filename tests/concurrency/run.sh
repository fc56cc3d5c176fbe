#!/bin/bash
# tests/concurrency/run.sh [HUSK]: races on one id and bursts of distinct ids. Every
# command exits 0 or with one error line; afterwards nothing is left (state dir, cgroups
# under the test prefix, processes of the container). Needs root.
#  - create and delete --force of the same id started together (ROUNDS rounds);
#  - 8 creates of the same id at once: exactly one succeeds, the others say "already
#    exists", the survivor is `created` and starts;
#  - 20 run -d of distinct ids at once: all succeed, all are listed, all delete;
#  - kill and delete --force of a running container at once (ROUNDS rounds).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${HUSK_RACE_ROUNDS:-20}
[ "$(id -u)" = 0 ] || { echo "SKIP concurrency (needs root)"; exit 77; }
. tests/lib/harness.sh
harness_setup conc "${1:-build/husk}" || exit 1
P=cc$$
harness_config '.process.args=["/bin/sh","-c","sleep 100"] | .linux.cgroupsPath=$cg' --arg cg "/$CG" || exit 1
fail=0 cmds=0
bad() { echo "FAIL [$1]: $2"; fail=$((fail + 1)); }
# Starts husk ARGS in the background; its stderr goes to $T/err.N.
declare -a PIDS=() ERRS=()
spawn() {
  local e="$T/err.${#PIDS[@]}"
  "$H" --root "$R" "$@" </dev/null >/dev/null 2>"$e" &
  PIDS+=($!) ERRS+=("$e")
}
# Waits for them all; OK: how many exited 0; each failure must be one error line.
reap() {  # LABEL
  local i rc
  OK=0
  for i in "${!PIDS[@]}"; do
    wait "${PIDS[$i]}"; rc=$?
    cmds=$((cmds + 1))
    if [ $rc -eq 0 ]; then OK=$((OK + 1))
    elif [ "$(grep -vc 'level=warning' "${ERRS[$i]}")" -ne 1 ] || [ $rc -gt 128 ]; then
      bad "$1" "exit $rc: $(cat "${ERRS[$i]}")"
    fi
  done
  PIDS=() ERRS=()
}
check_clean() {  # LABEL
  local left=""
  ls "$R" 2>/dev/null | grep -q . && left+=" state:$(ls "$R" | tr '\n' ' ')"
  ls -d /sys/fs/cgroup/*/"$CG" 2>/dev/null | grep -q . && left+=" cgroups"
  for p in /proc/[0-9]*; do
    if { tr "\0" " " <"$p/cmdline"; } 2>/dev/null | grep -q -- "$P-" ||
       [ "$(readlink "$p/root" 2>/dev/null)" = "$B/rootfs" ]; then left+=" process:${p#/proc/}"; fi
  done
  [ -n "$left" ] && bad "$1" "left:$left"
}
h() { "$H" --root "$R" "$@" </dev/null >/dev/null 2>"$T/err"; }

for i in $(seq "$ROUNDS"); do
  spawn create --bundle "$B" $P-a; spawn delete --force $P-a
  reap "create/delete round $i"
  h delete --force $P-a || bad "create/delete round $i" "final delete: $(cat "$T/err")"
  check_clean "create/delete round $i"
done

for k in $(seq 8); do spawn create --bundle "$B" $P-same; done
reap "8 creates of one id"
[ "$OK" = 1 ] || bad "8 creates of one id" "$OK succeeded, not 1"
st=$("$H" --root "$R" state $P-same | jq -r .status)
[ "$st" = created ] || bad "8 creates of one id" "survivor is $st"
h start $P-same || bad "8 creates of one id" "start: $(cat "$T/err")"
h delete --force $P-same
check_clean "8 creates of one id"

# Distinct ids need distinct cgroups.
for k in $(seq 20); do
  jq --arg cg "/$CG/$k" '.linux.cgroupsPath=$cg' "$B/config.json" >"$T/cfg$k"
  mkdir -p "$T/b$k"
  jq --arg r "$B/rootfs" '.root.path=$r' "$T/cfg$k" >"$T/b$k/config.json"
  spawn run -d --bundle "$T/b$k" $P-d$k
done
reap "20 parallel runs"
[ "$OK" = 20 ] || bad "20 parallel runs" "$OK of 20 succeeded"
n=$("$H" --root "$R" list -q | grep -c "^$P-d")
[ "$n" = 20 ] || bad "20 parallel runs" "list shows $n"
for k in $(seq 20); do spawn delete --force $P-d$k; done
reap "20 parallel deletes"
[ "$OK" = 20 ] || bad "20 parallel deletes" "$OK of 20 succeeded"
rmdir /sys/fs/cgroup/*/$CG 2>/dev/null
check_clean "20 parallel runs"

for i in $(seq "$ROUNDS"); do
  h run -d --bundle "$B" $P-k || { bad "kill/delete round $i" "run: $(cat "$T/err")"; continue; }
  spawn kill $P-k KILL; spawn delete --force $P-k; spawn state $P-k
  reap "kill/delete round $i"
  h delete --force $P-k
  check_clean "kill/delete round $i"
done

echo "concurrency: $cmds racing commands; failures: $fail"
[ $fail -eq 0 ]
