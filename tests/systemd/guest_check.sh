#!/bin/bash
# Checks the systemd driver's D-Bus client against a real systemd (PID 1) without husk:
# run it in the `tests/vm/run.sh --systemd` guest, or on any systemd host as root.
#   tests/systemd/guest_check.sh PROBE      (PROBE: build/husk_systemd_probe)
# A transient scope for a sleeping child with MemoryMax/TasksMax/CPUQuota: systemctl show
# and the cgroup files report the limits; starting it again is "already exists"; a property
# systemd rejects is named and leaves no unit; stop removes it; no bus socket is one line.
set -uo pipefail
PROBE=$(realpath "${1:?usage: guest_check.sh PROBE}")
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
[ -d /run/systemd/system ] || { echo "SKIP: systemd is not PID 1 here"; exit 77; }

sleep 300 &
child=$!
id="probe$$"
unit="husk-probe-$id.scope"
cleanup() {
  systemctl stop "$unit" 2>/dev/null
  systemctl reset-failed "$unit" 2>/dev/null
  kill "$child" 2>/dev/null
}
trap cleanup EXIT

for via in private system; do
  opt=(); [ $via = system ] && opt=(-s)
  "$PROBE" "${opt[@]}" connect >/tmp/probe.out 2>/tmp/probe.err && ok "connect via $via bus: systemd $(cat /tmp/probe.out)" \
    || bad "connect via $via: $(cat /tmp/probe.err)"
done

out=$("$PROBE" start "system.slice:husk-probe:$id" "$id" "$child" --memory 67108864 --pids 50 --quota 50000 \
      --period 100000 --annotation org.systemd.property.CollectMode="'inactive-or-failed'" 2>/tmp/probe.err)
rc=$?
grep -E 'round trips|connected' /tmp/probe.err
check "start exit" 0 $rc
check "start unit" "$unit" "$out"
check "ActiveState" active "$(systemctl show -P ActiveState "$unit")"
check "MemoryMax" 67108864 "$(systemctl show -P MemoryMax "$unit")"
check "TasksMax" 50 "$(systemctl show -P TasksMax "$unit")"
check "CPUQuotaPerSecUSec" 500ms "$(systemctl show -P CPUQuotaPerSecUSec "$unit")"
check "Delegate" yes "$(systemctl show -P Delegate "$unit")"
check "CollectMode" inactive-or-failed "$(systemctl show -P CollectMode "$unit")"
cg=$("$PROBE" cgroup "$unit" 2>/dev/null)
check "ControlGroup" "/system.slice/$unit" "$cg"
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  dir=/sys/fs/cgroup$cg
  check "memory.max" 67108864 "$(cat "$dir/memory.max" 2>&1)"
  check "pids.max" 50 "$(cat "$dir/pids.max" 2>&1)"
  check "cpu.max" "50000 100000" "$(cat "$dir/cpu.max" 2>&1)"
  check "cgroup.procs" "$child" "$(cat "$dir/cgroup.procs" 2>&1)"
else
  check "memory.limit_in_bytes" 67108864 "$(cat /sys/fs/cgroup/memory$cg/memory.limit_in_bytes 2>&1)"
  check "pids.max" 50 "$(cat /sys/fs/cgroup/pids$cg/pids.max 2>&1)"
fi

"$PROBE" start "system.slice:husk-probe:$id" "$id" "$child" >/dev/null 2>/tmp/probe.err
rc=$?
check "second start exit (exists)" 3 $rc
grep -q "already exists" /tmp/probe.err && ok "second start: $(tail -1 /tmp/probe.err)" || bad "second start: $(cat /tmp/probe.err)"

"$PROBE" stop "$unit" 2>/tmp/probe.err
check "stop exit" 0 $?
grep 'round trips' /tmp/probe.err
check "after stop: LoadState" not-found "$(systemctl show -P LoadState "$unit")"
[ -d "/sys/fs/cgroup/system.slice/$unit" ] && bad "cgroup left after stop" || ok "cgroup gone after stop"
kill -0 "$child" 2>/dev/null && bad "child alive after stop" || ok "stop killed the child"
"$PROBE" stop "$unit" 2>/dev/null
check "stop of a unit that is gone" 0 $?

# A property systemd rejects: named, nothing left.
sleep 300 &
child=$!
"$PROBE" start "system.slice:husk-probe:$id" "$id" "$child" --annotation org.systemd.property.NoSuchThing="uint64 1" \
  >/dev/null 2>/tmp/probe.err
rc=$?
[ $rc -ne 0 ] && grep -q NoSuchThing /tmp/probe.err && ok "rejected property: $(tail -1 /tmp/probe.err)" \
  || bad "rejected property: rc=$rc $(cat /tmp/probe.err)"
check "after rejection: units" "" "$(systemctl list-units --all --plain --no-legend "husk-probe-*" 2>&1)"
# A malformed annotation never reaches systemd
"$PROBE" start "system.slice:husk-probe:$id" "$id" "$child" --annotation org.systemd.property.TasksMax="{1}" \
  >/dev/null 2>/tmp/probe.err
[ $? -ne 0 ] && grep -q 'annotation org.systemd.property.TasksMax' /tmp/probe.err && ok "bad annotation: $(tail -1 /tmp/probe.err)" \
  || bad "bad annotation: $(cat /tmp/probe.err)"
# A job that fails: a scope for a pid that is gone
kill "$child"; wait "$child" 2>/dev/null
"$PROBE" start "system.slice:husk-probe:$id" "$id" "$child" >/dev/null 2>/tmp/probe.err
rc=$?
[ $rc -ne 0 ] && ok "scope for a dead pid: $(tail -1 /tmp/probe.err)" || bad "scope for a dead pid started"
check "after failure: units" "" "$(systemctl list-units --all --plain --no-legend "husk-probe-*" 2>&1)"

# No answer in time (a 1 ms deadline): an error naming the timeout, no unit left
sleep 300 &
child=$!
"$PROBE" start "system.slice:husk-probe:$id" "$id" "$child" --timeout 1 >/dev/null 2>/tmp/probe.err
rc=$?
[ $rc -ne 0 ] && grep -q 'timed out' /tmp/probe.err && ok "timeout: $(tail -1 /tmp/probe.err)" \
  || bad "timeout: rc=$rc $(cat /tmp/probe.err)"
check "after timeout: units" "" "$(systemctl list-units --all --plain --no-legend "husk-probe-*" 2>&1)"
kill "$child" 2>/dev/null; wait "$child" 2>/dev/null

# No bus socket
DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/nonexistent/bus "$PROBE" -s connect >/dev/null 2>/tmp/probe.err
rc=$?
[ $rc -ne 0 ] && grep -q -- '--systemd-cgroup' /tmp/probe.err && grep -q /run/nonexistent/bus /tmp/probe.err \
  && [ "$(wc -l </tmp/probe.err)" = 1 ] && ok "no bus: $(cat /tmp/probe.err)" || bad "no bus: rc=$rc $(cat /tmp/probe.err)"

# Timing (informative; a loaded TCG-speed guest makes it meaningless): start+stop, 5 times
t0=$(date +%s%N)
for i in $(seq 5); do
  sleep 300 & c=$!
  "$PROBE" start "system.slice:husk-probe:s$i" "s$i" "$c" --memory 67108864 >/dev/null 2>&1 || bad "speed start $i"
  "$PROBE" stop "husk-probe-s$i.scope" 2>/dev/null || bad "speed stop $i"
  wait $c 2>/dev/null
done
t1=$(date +%s%N)
echo "info 5x (start+stop, two probe processes): $(( (t1 - t0) / 5000000 )) ms each on average"

echo "$fails failure(s)"
[ $fails -eq 0 ]
