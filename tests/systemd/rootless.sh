#!/bin/bash
# husk's systemd cgroup driver rootless (--systemd-cgroup as an unprivileged user, issue 20):
# the user's own systemd makes the container's scope below user@UID.service (default slice
# user.slice, as runc). Run as root in the `tests/vm/run.sh --systemd` guest, or on any
# systemd host with pure cgroup v2:
#   tests/systemd/rootless.sh HUSK          (HUSK: build/husk)
# Creates a user (husk-sdu-<pid>, home under /tmp), `loginctl enable-linger`s it, waits for
# its manager (user@UID.service) and its bus (/run/user/UID/bus), then as that user:
# create/start/exec/kill/delete and run of a `husk spec --rootless` busybox bundle with a
# memory and a pids limit: what `systemctl --user show` reports for the scope, what the
# container sees in /sys/fs/cgroup, the scope gone after delete; the cgroupsPath forms; the
# manager reached by its private socket when there is no bus; no user systemd: one line.
# The user, its manager, its processes and its files are removed at exit, also on failure.
set -uo pipefail
HUSK_SRC=$(realpath "${1:?usage: rootless.sh HUSK}")
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
[ "$(id -u)" = 0 ] || { echo "FAIL: run as root (it creates and removes a test user)"; exit 1; }
[ -d /run/systemd/system ] || { echo "SKIP: systemd is not PID 1 here"; exit 77; }
[ -f /sys/fs/cgroup/cgroup.controllers ] || { echo "SKIP: not a pure cgroup v2 host"; exit 77; }
BUSYBOX=$(command -v busybox) || { echo "FAIL: busybox (busybox-static) is needed"; exit 1; }
for b in useradd userdel runuser loginctl jq; do
  command -v $b >/dev/null || { echo "FAIL: $b is missing"; exit 1; }
done

U=husk-sdu-$$
H=/tmp/$U
useradd -m -d "$H" -s /bin/sh "$U" || { echo "FAIL: useradd $U"; exit 1; }
UIDN=$(id -u "$U")
XDG=/run/user/$UIDN
BUS=unix:path=$XDG/bus
MGR=/user.slice/user-$UIDN.slice/user@$UIDN.service
HUSK=$H/husk
state=$H/state

cleanup() {
  local p n=0
  for id in $(as "$HUSK" --root "$state" list -q 2>/dev/null); do as "$HUSK" --root "$state" delete -f "$id" >/dev/null 2>&1; done
  loginctl disable-linger "$U" 2>/dev/null
  loginctl terminate-user "$U" 2>/dev/null
  systemctl stop "user@$UIDN.service" "user-runtime-dir@$UIDN.service" "user-$UIDN.slice" 2>/dev/null
  while :; do # every process left of the user, by pid
    p=$(ps -e -o pid=,uid= | awk -v u="$UIDN" '$2 == u {print $1}')
    [ -z "$p" ] && break
    [ $n -ge 50 ] && { echo "processes of $U remain: $p"; break; }
    kill -9 $p 2>/dev/null
    sleep 0.1
    n=$((n + 1))
  done
  userdel -r "$U" 2>/dev/null
  rm -rf "$H"
  # nothing left: the user, its manager, its runtime directory, its cgroup
  local left=""
  id -u "$U" >/dev/null 2>&1 && left+=" user"
  [ "$(systemctl is-active "user@$UIDN.service" 2>/dev/null)" = active ] && left+=" user@$UIDN.service"
  [ -e "$XDG" ] && left+=" $XDG"
  [ -e "/sys/fs/cgroup/user.slice/user-$UIDN.slice" ] && left+=" user-$UIDN.slice"
  if [ -n "$left" ]; then
    echo "FAIL left after the test:$left"
    exit 1
  fi
  echo "ok   nothing left (user, manager, $XDG, cgroup)"
}
trap cleanup EXIT

# as CMD...: as the user, with the user's runtime directory and bus
as() { runuser -u "$U" -- env XDG_RUNTIME_DIR="$XDG" DBUS_SESSION_BUS_ADDRESS="$BUS" "$@"; }
sdu() { as systemctl --user "$@" 2>&1; }
h() { as "$HUSK" --root "$state" --systemd-cgroup "$@"; }
hn() { as "$HUSK" --root "$state" "$@"; }

# --- the user's systemd ----------------------------------------------------------------
t0=$(date +%s.%N)
loginctl enable-linger "$U" || bad "loginctl enable-linger $U"
for _ in $(seq 1200); do
  [ "$(systemctl is-active "user@$UIDN.service" 2>/dev/null)" = active ] && [ -S "$XDG/bus" ] && break
  sleep 0.1
done
check "user@$UIDN.service" active "$(systemctl is-active "user@$UIDN.service" 2>&1)"
[ -S "$XDG/bus" ] && ok "the user's bus $XDG/bus (after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s)" ||
  { bad "no bus $XDG/bus"; exit 1; }
check "the user manager's ControlGroup" "$MGR" "$(sdu show -P ControlGroup)"

install -m 0755 "$HUSK_SRC" "$HUSK"
mkdir -p "$H/b/rootfs/bin" && cp "$BUSYBOX" "$H/b/rootfs/bin/busybox"
for a in sh sleep cat true; do ln -s busybox "$H/b/rootfs/bin/$a"; done
chown -R "$U:" "$H"
(cd "$H/b" && as "$HUSK" spec --rootless) || { bad "husk spec --rootless"; exit 1; }
base=$H/b/config.base.json
# a cgroup namespace: the container's /sys/fs/cgroup is its own cgroup2 mount (the rootless
# spec rbinds /sys from the host)
jq '.process.terminal = false | .process.args = ["sleep", "1000"]
    | .linux.namespaces |= (if any(.type == "cgroup") then . else . + [{type: "cgroup"}] end)
    | .linux.resources = {memory: {limit: 67108864}, pids: {limit: 40}}' "$H/b/config.json" >"$base"
config() { jq "$@" "$base" >"$H/b/config.json" && chown "$U:" "$H/b/config.json"; }

id=hsdrl$$
unit=husk-$id.scope
dir=/sys/fs/cgroup$MGR/user.slice/$unit

# --- the lifecycle ---------------------------------------------------------------------
config .
h create --bundle "$H/b" "$id" 2>"$H/err"
rc=$?
check "create exit" 0 $rc
cat "$H/err"
[ $rc -eq 0 ] || { echo "$fails failure(s): the rest needs the container"; exit 1; }
check "state cgroupDriver" systemd "$(jq -r .cgroupDriver "$state/$id/state.json" 2>&1)"
check "ActiveState (systemctl --user)" active "$(sdu show -P ActiveState "$unit")"
check "Slice" user.slice "$(sdu show -P Slice "$unit")"
check "Delegate" yes "$(sdu show -P Delegate "$unit")"
check "ControlGroup" "$MGR/user.slice/$unit" "$(sdu show -P ControlGroup "$unit")"
check "MemoryMax" 67108864 "$(sdu show -P MemoryMax "$unit")"
check "TasksMax" 40 "$(sdu show -P TasksMax "$unit")"
check "system manager: no such unit" not-found "$(systemctl show -P LoadState "$unit")"
pid=$(hn state "$id" | jq -r .pid)
check "init's cgroup" "0::$MGR/user.slice/$unit" "$(cat /proc/"$pid"/cgroup 2>&1)"
check "init's uid (host)" "$UIDN" "$(stat -c %u /proc/"$pid")"
check "host memory.max" 67108864 "$(cat "$dir/memory.max" 2>&1)"
check "scope owner" "$U" "$(stat -c %U "$dir")"

hn start "$id"
check "start exit" 0 $?
check "status" running "$(hn state "$id" | jq -r .status)"
# exec from a scope of the user's own systemd: the process joins the container's scope
us() { as systemd-run --user --scope --quiet "$HUSK" --root "$state" "$@"; }
check "container memory.max" 67108864 "$(us exec "$id" cat /sys/fs/cgroup/memory.max 2>&1)"
check "container pids.max" 40 "$(us exec "$id" cat /sys/fs/cgroup/pids.max 2>&1)"
check "exec's cgroup (namespaced)" "0::/" "$(us exec "$id" cat /proc/self/cgroup 2>&1)"
us exec -d "$id" sleep 999 || bad "exec -d"
check "processes in the scope" 2 "$(wc -l <"$dir/cgroup.procs")"
# exec from a cgroup the user may not move processes out of (this system service, as a
# login session's scope): as runc, the process stays there, with a warning
out=$(hn exec "$id" cat /sys/fs/cgroup/memory.max /proc/self/cgroup 2>"$H/err")
check "exec from outside: exit" 0 $?
own=$(sed -n 's/^0:://p' /proc/self/cgroup) # relative to the container's cgroup namespace root
check "exec from outside: what it sees" "67108864 0::/../../../../..$own" \
  "$(echo "$out" | tr '\n' ' ' | sed 's/ $//')"
grep -q "stays in husk's own cgroup" "$H/err" && [ "$(wc -l <"$H/err")" = 1 ] &&
  ok "exec from outside: warned: $(cat "$H/err")" || bad "exec from outside: stderr: $(cat "$H/err")"
check "ps lists them" 2 "$(hn ps --format json "$id" | jq length)"
check "events --stats: pids.current" 2 "$(hn events --stats "$id" | jq .data.pids.current)"

hn update --memory 134217728 "$id"
check "update exit" 0 $?
check "after update: MemoryMax" 134217728 "$(sdu show -P MemoryMax "$unit")"
check "after update: container memory.max" 134217728 "$(us exec "$id" cat /sys/fs/cgroup/memory.max 2>&1)"

hn kill "$id" KILL
for _ in $(seq 100); do [ "$(hn state "$id" | jq -r .status)" = stopped ] && break; sleep 0.1; done
check "kill: status" stopped "$(hn state "$id" | jq -r .status)"
hn delete "$id"
check "delete exit" 0 $?
check "after delete: LoadState" not-found "$(sdu show -P LoadState "$unit")"
[ -d "$dir" ] && bad "cgroup $dir left after delete" || ok "cgroup gone after delete"
[ -e "$state/$id" ] && bad "state left after delete" || ok "state gone after delete"

# --- run in the foreground: the container sees its limits, the scope goes with it --------
config '.process.args = ["cat", "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/pids.max"]'
check "run output" "67108864 40" "$(h run --bundle "$H/b" "$id" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check "after run: LoadState" not-found "$(sdu show -P LoadState "$unit")"

# --- cgroupsPath as for root: "user.slice:husk:ID" is the default's unit ----------------
config '.linux.cgroupsPath = "user.slice:husk:'"$id"'"'
h create --bundle "$H/b" "$id" 2>"$H/err"
check "user.slice:husk:ID: create exit" 0 $?
check "user.slice:husk:ID: ControlGroup" "$MGR/user.slice/$unit" "$(sdu show -P ControlGroup "$unit")"
hn delete -f "$id"
check "user.slice:husk:ID: after delete -f" not-found "$(sdu show -P LoadState "$unit")"

config '.linux.cgroupsPath = "hsd-t.slice:pfx:'"$id"'"'
h create --bundle "$H/b" "$id" 2>"$H/err"
check "nested slice: create exit" 0 $?
check "nested slice: ControlGroup" "$MGR/hsd.slice/hsd-t.slice/pfx-$id.scope" \
  "$(sdu show -P ControlGroup "pfx-$id.scope")"
check "nested slice: memory.max" 67108864 \
  "$(cat "/sys/fs/cgroup$MGR/hsd.slice/hsd-t.slice/pfx-$id.scope/memory.max" 2>&1)"
hn delete -f "$id"
check "nested slice: after delete -f" not-found "$(sdu show -P LoadState "pfx-$id.scope")"
sdu stop hsd-t.slice hsd.slice >/dev/null

# --- the manager's private socket when there is no bus ------------------------------------
mkdir -p "$H/xdg" && ln -s "$XDG/systemd" "$H/xdg/systemd" && chown -h "$U:" "$H/xdg" "$H/xdg/systemd"
config '.process.args = ["cat", "/sys/fs/cgroup/memory.max"]'
check "private socket: run output" 67108864 \
  "$(runuser -u "$U" -- env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$H/xdg" \
    "$HUSK" --root "$state" --systemd-cgroup run --bundle "$H/b" "$id" 2>&1)"
check "private socket: after run" not-found "$(sdu show -P LoadState "$unit")"

# --- no user systemd: one line naming the sockets, nothing left ---------------------------
mkdir -p "$H/none" && chown "$U:" "$H/none"
runuser -u "$U" -- env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$H/none" \
  "$HUSK" --root "$state" --systemd-cgroup create --bundle "$H/b" "$id" 2>"$H/err"
rc=$?
if [ $rc -ne 0 ] && grep -q "$H/none/bus" "$H/err" && [ "$(wc -l <"$H/err")" = 1 ] && [ ! -e "$state/$id" ]; then
  ok "no user systemd: $(cat "$H/err")"
else
  bad "no user systemd: rc=$rc $(cat "$H/err")"
fi

echo "$fails failure(s)"
[ $fails -eq 0 ]
