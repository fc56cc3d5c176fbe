#!/bin/bash
# tests/faults/run.sh [--instants-only|--syscalls-only] [RUNTIME]: RUNTIME (default build/husk) killed
# (SIGKILL) at every fault point of create, run, exec and delete (HUSK_FAULT_KILL=CMD:STEP,
# the steps husk's `--debug` prints; docs/reliability.md) and at a sweep of instants during
# create and run. After each kill: `list` shows the container (or it is gone), a second
# create of the id fails with one line, `delete --force` exits 0, and nothing is left: no
# state dir, no cgroup under the test prefix, no process of the container (by cmdline id,
# by root, or by an environment naming its state dir), no mount of the bundle. Needs root.
# --instants-only: only the sweep of instants, for a runtime without husk's fault points
# (e.g. runc: `tests/faults/run.sh --instants-only /usr/sbin/runc`); says so in its output.
# Then (not with --instants-only) the syscalls of create, start, exec and delete fail one at
# a time under strace (tests/faults/syscalls.sh): one error line, nothing left after
# `delete --force`. --syscalls-only: only that sweep.
set -uo pipefail
cd "$(dirname "$0")/../.."
ONLY_INSTANTS=0 ONLY_SYSCALLS=0
[ "${1:-}" = --instants-only ] && { ONLY_INSTANTS=1; shift; }
[ "${1:-}" = --syscalls-only ] && { ONLY_SYSCALLS=1; shift; }
[ "$(id -u)" = 0 ] || { echo "SKIP faults (needs root)"; exit 77; }
. tests/lib/harness.sh
harness_setup faults "${1:-build/husk}" || exit 1
RT=$(basename "$H")
config() {  # config ID: a container that sleeps, in cgroup $CG-ID
  harness_config '.process.args=["/bin/sh","-c","sleep 100"] | .linux.cgroupsPath=$cg' --arg cg "/$CG-$1"
}

fail=0 points=0 instants=0 n=0 leaky=0
bad() { echo "FAIL [$1]: $2"; fail=$((fail + 1)); }
husk() { "$H" --root "$R" "$@" </dev/null >/dev/null 2>"$T/err" & wait $! 2>/dev/null; }

# Nothing of container ID is left.
check_clean() {  # LABEL ID
  local what="$1" id="$2" left=""
  [ -e "$R/$id" ] && left+=" state-dir"
  local cgs
  cgs=$(ls -d /sys/fs/cgroup/*/"$CG-$id" 2>/dev/null | wc -l)
  [ "$cgs" -gt 0 ] && left+=" cgroups:$cgs"
  local p
  for p in $({ grep -lasw -- "$id" /proc/[0-9]*/cmdline
               find /proc/[0-9]*/root -maxdepth 0 -lname "$B/rootfs" 2>/dev/null
               grep -lasF -- "=$R/$id" /proc/[0-9]*/environ; } | cut -d/ -f3 | sort -u); do
    [ "$p" = $$ ] || left+=" process:$p"
  done
  grep -q "$B" /proc/self/mountinfo && left+=" mounts"
  [ -n "$left" ] && { bad "$what" "left:$left"; leaky=$((leaky + 1)); }
}

# After a kill: list shows ID or it is gone; a second create fails cleanly; delete --force
# removes everything.
after_kill() {  # LABEL ID
  local what="$1" id="$2"
  "$H" --root "$R" list >"$T/list" 2>"$T/list.err" || bad "$what" "list failed: $(cat "$T/list.err")"
  [ -s "$T/list.err" ] && bad "$what" "list said: $(cat "$T/list.err")"
  if [ -e "$R/$id" ]; then
    grep -q "^$id " "$T/list" || bad "$what" "list does not show $id"
    husk create --bundle "$B" "$id"
    local rc=$?
    if [ $rc -eq 0 ]; then bad "$what" "a second create of $id succeeded"
    elif ! grep -q "already exists" "$T/err" || [ "$(grep -vc 'level=warning' "$T/err")" -ne 1 ]; then
      bad "$what" "second create: rc $rc: $(cat "$T/err")"
    fi
  fi
  husk delete --force "$id" || bad "$what" "delete --force: $(cat "$T/err")"
  check_clean "$what" "$id"
}

steps_of() {  # CMD LOGFILE: the fault points CMD marked in a --debug log
  sed -n "s/.*msg=\"$1: \(.*\) at +[0-9]*us.*/\1/p" "$2" | grep -v '^tenant: ' | sort -u
}
tenant_steps_of() { sed -n 's/.*msg="exec: tenant: \(.*\) at +[0-9]*us.*/\1/p' "$1" | sort -u; }

CREATE=() EXEC=() TENANT=() DELETE=()
if [ $ONLY_INSTANTS = 1 ] || [ $ONLY_SYSCALLS = 1 ]; then
  echo "fault points: not swept (--instants-only or --syscalls-only, $RT)"
else
  # One --debug pass names the fault points.
  id=flt$$-probe; config $id
  "$H" --root "$R" --debug create --bundle "$B" $id </dev/null >/dev/null 2>"$T/create.log" || { cat "$T/create.log"; exit 1; }
  "$H" --root "$R" start $id
  "$H" --root "$R" --debug exec $id true </dev/null >/dev/null 2>"$T/exec.log"
  "$H" --root "$R" --debug delete --force $id </dev/null >/dev/null 2>"$T/delete.log"
  check_clean probe $id
  mapfile -t CREATE < <(steps_of create "$T/create.log")
  mapfile -t EXEC < <(steps_of exec "$T/exec.log")
  mapfile -t TENANT < <(tenant_steps_of "$T/exec.log")
  mapfile -t DELETE < <(steps_of delete "$T/delete.log")
  echo "fault points: create ${#CREATE[@]}, exec ${#EXEC[@]} (+ tenant ${#TENANT[@]}), delete ${#DELETE[@]}"
  [ ${#CREATE[@]} -gt 0 ] || bad probe "no fault point in create's --debug log (not husk? --instants-only)"
fi

# create and run -d killed at each fault point.
for verb in create run; do
  for s in "${CREATE[@]}"; do
    n=$((n + 1)); id=flt$$-f$n; config $id
    if [ $verb = run ]; then HUSK_FAULT_KILL="create:$s" husk run -d --bundle "$B" $id
    else HUSK_FAULT_KILL="create:$s" husk create --bundle "$B" $id; fi
    rc=$?
    [ $rc -eq 137 ] || bad "$verb:$s" "exit $rc, not 137 (fault point not reached?)"
    points=$((points + 1))
    after_kill "$verb at '$s'" $id
  done
done

# exec (husk and its tenant process) killed at each fault point; delete --force after.
exec_fault() {  # WANT
  n=$((n + 1)); id=flt$$-f$n; config $id
  husk run -d --bundle "$B" $id || { bad "exec:$1" "run -d: $(cat "$T/err")"; return; }
  HUSK_FAULT_KILL="$1" husk exec $id sleep 50
  points=$((points + 1))
  after_kill "exec at '$1'" $id
}
for s in "${EXEC[@]}"; do exec_fault "exec:$s"; done
for s in "${TENANT[@]}"; do exec_fault "exec: tenant:$s"; done

# delete --force killed at each fault point, then again.
for s in "${DELETE[@]}"; do
  n=$((n + 1)); id=flt$$-f$n; config $id
  husk run -d --bundle "$B" $id || { bad "delete:$s" "run -d: $(cat "$T/err")"; continue; }
  HUSK_FAULT_KILL="delete:$s" husk delete --force $id
  rc=$?
  [ $rc -eq 137 ] || bad "delete:$s" "exit $rc, not 137"
  points=$((points + 1))
  after_kill "delete at '$s'" $id
done

# create and run -d killed from outside after 0..MAX ms.
MAX=${HUSK_FAULT_MAX_MS:-30}
[ $ONLY_SYSCALLS = 1 ] && echo "kill instants: not swept (--syscalls-only)"
[ $ONLY_SYSCALLS = 1 ] || for verb in create run; do
  for ms in $(seq 0 2 "$MAX"); do
    n=$((n + 1)); id=flt$$-f$n; config $id
    if [ $verb = run ]; then "$H" --root "$R" run -d --bundle "$B" $id </dev/null >/dev/null 2>&1 &
    else "$H" --root "$R" create --bundle "$B" $id </dev/null >/dev/null 2>&1 & fi
    pid=$!
    sleep "$(printf '0.%03d' "$ms")"
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    instants=$((instants + 1))
    after_kill "$verb killed at ${ms}ms" $id
  done
done

# Syscalls of create, start, exec and delete failed one at a time (tests/faults/syscalls.sh).
if [ $ONLY_INSTANTS = 1 ]; then
  echo "syscall faults: not injected (--instants-only, $RT)"
else
  . tests/faults/syscalls.sh
  sys_sweep
  echo "$RT: $sys_injected syscall faults injected, $sys_leaky left something, $sys_lines not one line" \
    "($sys_runs runs: $sys_unreached not reached, $sys_tolerated reached and tolerated," \
    "$sys_mute failed writing their error line itself;" \
    "sampled N: HUSK_SYSCALL_FAULTS=all for every N)"
fi

echo "$RT swept: $points fault points, $instants kill instants (0-${MAX} ms, create and run);" \
  "left something after delete --force: $leaky; failures: $fail"
[ $fail -eq 0 ]
