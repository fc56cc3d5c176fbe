#!/bin/bash
# husk's systemd cgroup driver (--systemd-cgroup) against a real systemd (PID 1): run it in
# the `tests/vm/run.sh --systemd` guest, or on any systemd host with pure cgroup v2, as root.
#   tests/systemd/driver.sh HUSK          (HUSK: build/husk)
# husk alone: create/start/exec/update/pause/resume/ps/events/kill --all/delete; what
# `systemctl show` reports for the unit and what the container sees in its cgroup files;
# the scope is gone after delete; cgroupsPath forms; failing creates leave no unit, state,
# cgroup or process.
set -uo pipefail
HUSK=$(realpath "${1:?usage: driver.sh HUSK}")
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
[ -d /run/systemd/system ] || { echo "SKIP: systemd is not PID 1 here"; exit 77; }
[ -f /sys/fs/cgroup/cgroup.controllers ] || { echo "SKIP: not a pure cgroup v2 host"; exit 77; }
BUSYBOX=$(command -v busybox) || { echo "FAIL: busybox (busybox-static) is needed"; exit 1; }

work=$(mktemp -d /tmp/husk-sd.XXXXXX)
root=$work/state
h() { "$HUSK" --root "$root" --systemd-cgroup "$@"; }
hn() { "$HUSK" --root "$root" "$@"; } # without the flag: the state says which driver
cleanup() {
  for id in $(hn list -q 2>/dev/null); do hn delete -f "$id" >/dev/null 2>&1; done
  for u in $(systemctl list-units --all --plain --no-legend 'husk-hsd*' 'pfx-hsd*' 2>/dev/null | awk '{print $1}'); do
    systemctl stop "$u" 2>/dev/null
    systemctl reset-failed "$u" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

# bundle: busybox, `sleep 1000` by default
mkdir -p "$work/b/rootfs/bin" && cp "$BUSYBOX" "$work/b/rootfs/bin/busybox"
for a in sh sleep cat true false; do ln -s busybox "$work/b/rootfs/bin/$a"; done
(cd "$work/b" && "$HUSK" spec) || { echo "FAIL husk spec"; exit 1; }
base=$work/b/config.base.json
jq '.process.terminal = false | .process.args = ["sleep", "1000"] | .root.readonly = false
    | .linux.resources.memory = {limit: 67108864} | .linux.resources.cpu = {quota: 50000, period: 100000}
    | .linux.resources.pids = {limit: 50}
    | .annotations["org.systemd.property.CollectMode"] = "'"'inactive-or-failed'"'"' \
  "$work/b/config.json" >"$base"
config() { jq "$@" "$base" >"$work/b/config.json"; }
units() { systemctl list-units --all --plain --no-legend "$@" 2>&1; }

id=hsd$$
unit=husk-$id.scope
dir=/sys/fs/cgroup/system.slice/$unit

# --- the lifecycle ---------------------------------------------------------------------
config .
h create --bundle "$work/b" "$id" 2>"$work/err"
check "create exit" 0 $?
cat "$work/err"
check "state cgroupDriver" systemd "$(jq -r .cgroupDriver "$root/$id/state.json" 2>&1)"
check "ActiveState" active "$(systemctl show -P ActiveState "$unit")"
check "Slice" system.slice "$(systemctl show -P Slice "$unit")"
check "Delegate" yes "$(systemctl show -P Delegate "$unit")"
check "Description" "husk container $id" "$(systemctl show -P Description "$unit")"
check "MemoryMax" 67108864 "$(systemctl show -P MemoryMax "$unit")"
check "CPUQuotaPerSecUSec" 500ms "$(systemctl show -P CPUQuotaPerSecUSec "$unit")"
check "TasksMax" 50 "$(systemctl show -P TasksMax "$unit")"
check "CollectMode (annotation)" inactive-or-failed "$(systemctl show -P CollectMode "$unit")"
pid=$(hn state "$id" | jq -r .pid)
check "init's cgroup" "0::/system.slice/$unit" "$(cat /proc/"$pid"/cgroup 2>&1)"
check "host memory.max" 67108864 "$(cat "$dir/memory.max" 2>&1)"

hn start "$id"
check "start exit" 0 $?
check "status" running "$(hn state "$id" | jq -r .status)"
check "container memory.max" 67108864 "$(hn exec "$id" cat /sys/fs/cgroup/memory.max 2>&1)"
check "container cpu.max" "50000 100000" "$(hn exec "$id" cat /sys/fs/cgroup/cpu.max 2>&1)"
check "container pids.max" 50 "$(hn exec "$id" cat /sys/fs/cgroup/pids.max 2>&1)"
check "exec's cgroup (namespaced)" "0::/" "$(hn exec "$id" cat /proc/self/cgroup 2>&1)"
check "DeviceAllow has /dev/null" "/dev/char/1:3 rwm" "$(systemctl show -P DeviceAllow "$unit" | grep -o '/dev/char/1:3 rwm')"
check "container writes /dev/null" writable "$(hn exec "$id" sh -c 'echo x >/dev/null && echo writable' 2>&1)"
hn exec "$id" sh -c "sleep 1000 & echo \$! >/dev/null" || bad "exec sh"
hn exec -d "$id" sleep 999 || bad "exec -d"
check "processes in the scope" 3 "$(wc -l <"$dir/cgroup.procs")"
check "ps lists them" 3 "$(hn ps --format json "$id" | jq length)"

hn update --memory 134217728 --pids-limit 60 --cpu-quota 25000 "$id"
check "update exit" 0 $?
check "after update: MemoryMax" 134217728 "$(systemctl show -P MemoryMax "$unit")"
check "after update: TasksMax" 60 "$(systemctl show -P TasksMax "$unit")"
check "after update: CPUQuotaPerSecUSec" 250ms "$(systemctl show -P CPUQuotaPerSecUSec "$unit")"
check "after update: container memory.max" 134217728 "$(hn exec "$id" cat /sys/fs/cgroup/memory.max 2>&1)"
check "after update: container pids.max" 60 "$(hn exec "$id" cat /sys/fs/cgroup/pids.max 2>&1)"
check "after update: container cpu.max" "25000 100000" "$(hn exec "$id" cat /sys/fs/cgroup/cpu.max 2>&1)"
check "after update: container writes /dev/null" writable "$(hn exec "$id" sh -c 'echo x >/dev/null && echo writable' 2>&1)"

hn pause "$id"
check "pause: status" paused "$(hn state "$id" | jq -r .status)"
check "pause: cgroup.freeze" 1 "$(cat "$dir/cgroup.freeze")"
hn resume "$id"
check "resume: status" running "$(hn state "$id" | jq -r .status)"
check "events --stats: pids.current" 3 "$(hn events --stats "$id" | jq .data.pids.current)"

hn kill --all "$id" KILL
for i in $(seq 50); do [ "$(hn state "$id" | jq -r .status)" = stopped ] && break; sleep 0.1; done
check "kill --all: status" stopped "$(hn state "$id" | jq -r .status)"
check "kill --all: processes left" 0 "$(cat "$dir/cgroup.procs" 2>/dev/null | wc -l)"
hn delete "$id"
check "delete exit" 0 $?
check "after delete: LoadState" not-found "$(systemctl show -P LoadState "$unit")"
[ -d "$dir" ] && bad "cgroup $dir left after delete" || ok "cgroup gone after delete"
[ -e "$root/$id" ] && bad "state left after delete" || ok "state gone after delete"

# --- run in the foreground: the container sees its limits, the scope goes with it ---------
config '.process.args = ["cat", "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/pids.max"]'
check "run output" "67108864 50" "$(h run --bundle "$work/b" "$id" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check "after run: units" "" "$(units "husk-$id*")"

# --- cgroupsPath forms -------------------------------------------------------------------
config '.linux.cgroupsPath = "hsd-t.slice:pfx:'"$id"'"'
h create --bundle "$work/b" "$id" 2>"$work/err"
check "nested slice: create exit" 0 $?
check "nested slice: ControlGroup" "/hsd.slice/hsd-t.slice/pfx-$id.scope" \
  "$(systemctl show -P ControlGroup "pfx-$id.scope")"
check "nested slice: memory.max" 67108864 "$(cat /sys/fs/cgroup/hsd.slice/hsd-t.slice/pfx-"$id".scope/memory.max 2>&1)"
hn delete -f "$id"
check "nested slice: after delete" "" "$(units "pfx-$id.scope")"
systemctl stop hsd-t.slice hsd.slice 2>/dev/null

for p in "a:b" "x.slice:a:b:c" "no-slice-suffix:p:n" "a--b.slice:p:n"; do
  config '.linux.cgroupsPath = "'"$p"'"'
  h create --bundle "$work/b" "$id" 2>"$work/err"
  rc=$?
  if [ $rc -ne 0 ] && grep -q cgroupsPath "$work/err" && [ "$(wc -l <"$work/err")" = 1 ] && [ ! -e "$root/$id" ]; then
    ok "cgroupsPath $p: $(cat "$work/err")"
  else
    bad "cgroupsPath $p: rc=$rc $(cat "$work/err")"
  fi
done

# --- failing creates leave nothing ----------------------------------------------------------
# a createRuntime hook fails after systemd made the unit
config '.hooks.createRuntime = [{"path": "/bin/false"}]'
h create --bundle "$work/b" "$id" 2>"$work/err"
rc=$?
[ $rc -ne 0 ] && ok "failing hook: $(tail -1 "$work/err")" || bad "failing hook: create succeeded"
check "failing hook: units" "" "$(units "husk-hsd*")"
[ -e "$root/$id" ] && bad "failing hook: state left" || ok "failing hook: no state"
[ -d "$dir" ] && bad "failing hook: cgroup left" || ok "failing hook: no cgroup"

# a property systemd rejects: named, nothing left
config '.annotations["org.systemd.property.NoSuchThing"] = "uint64 1"'
h create --bundle "$work/b" "$id" 2>"$work/err"
rc=$?
[ $rc -ne 0 ] && grep -q NoSuchThing "$work/err" && ok "rejected property: $(tail -1 "$work/err")" \
  || bad "rejected property: rc=$rc $(cat "$work/err")"
check "rejected property: units" "" "$(units "husk-hsd*")"
[ -e "$root/$id" ] && bad "rejected property: state left" || ok "rejected property: no state"

# the unit exists already (another container's): create fails, the other one is untouched
config .
h create --bundle "$work/b" "$id" || bad "create $id"
config '.linux.cgroupsPath = "system.slice:husk:'"$id"'"'
h create --bundle "$work/b" "${id}b" 2>"$work/err"
rc=$?
[ $rc -ne 0 ] && grep -q "already exists" "$work/err" && ok "unit exists: $(tail -1 "$work/err")" \
  || bad "unit exists: rc=$rc $(cat "$work/err")"
[ -e "$root/${id}b" ] && bad "unit exists: state left" || ok "unit exists: no state"
check "unit exists: the first one" active "$(systemctl show -P ActiveState "$unit")"
hn delete -f "$id" || bad "delete -f"
check "delete -f: units" "" "$(units "husk-hsd*")"

echo "$fails failure(s)"
[ $fails -eq 0 ]
