#!/bin/bash
# tests/rootless/run.sh [--runtime] RUNTIME [--skip-podman]
#
# Rootless checks, run as root: creates a dedicated unprivileged user (husk-rl-<pid>, home
# under /tmp, a subordinate uid/gid range that useradd allocates from /etc/login.defs) and
# runs RUNTIME (a path, or a name on PATH such as runc) as that user:
#   direct  `RUNTIME spec --rootless` + run of a busybox bundle (uid=0 inside, the caller's
#           id in /proc/self/uid_map), state under $XDG_RUNTIME_DIR/<runtime name> when
#           --root is not given, a multi-range map through newuidmap/newgidmap with the
#           user's subordinate range, exec into it, kill, delete, nothing left behind;
#   podman  rootless podman with RUNTIME: run --rm, run -d + exec + stop + rm (vfs storage,
#           --network none, the image loaded from an archive built here);
#   delegated (pure cgroup v2 only) a cgroupsPath in a subtree delegated to the user: the
#           limits are what the container sees; without it, limits are refused;
#   bad     a host uid the user does not own, a device node the host does not have, a lower
#           oomScoreAdj, a raised RLIMIT_NOFILE hard limit: each a one-line error naming
#           the field, nothing left behind.
# One PASS/FAIL line per check, then "rootless: N passed, M failed"; exit 1 on a failure.
# The user, its files, its subordinate ids and its processes are removed at exit, also on
# failure. Needs: uidmap (newuidmap, newgidmap), podman, busybox-static, jq, util-linux
# (setpriv), passwd (useradd, userdel).
set -u

RT=""
SKIP_PODMAN=0
while [ $# -gt 0 ]; do
  case $1 in
    --runtime) RT=$2; shift 2 ;;
    --runtime=*) RT=${1#--runtime=}; shift ;;
    --skip-podman) SKIP_PODMAN=1; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^#//; s/^ //'; exit 0 ;;
    *) RT=$1; shift ;;
  esac
done
[ -n "$RT" ] || { echo "usage: $0 [--runtime] RUNTIME [--skip-podman]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "rootless: must run as root (it creates and removes a test user)" >&2; exit 2; }
RT_PATH=$(command -v "$RT") || { echo "rootless: no runtime $RT" >&2; exit 2; }
RT_NAME=$(basename "$RT_PATH")
# A husk build under another name still keeps its state in $XDG_RUNTIME_DIR/husk.
"$RT_PATH" --version 2>/dev/null | head -1 | grep -qi '^husk' && RT_NAME=husk
for b in useradd userdel usermod setpriv newuidmap newgidmap jq; do
  command -v $b >/dev/null || { echo "rootless: $b is missing" >&2; exit 2; }
done
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/image.sh"

U=husk-rl-$$
H=/tmp/$U
XR=$H/run          # the user's XDG_RUNTIME_DIR
PASS=0
FAIL=0
OUT=$H/out         # stdout/stderr of the last command run as the user

pass() { echo "PASS $1"; PASS=$((PASS + 1)); }
fail() { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
# check NAME COND_RESULT REASON: pass when the previous test returned 0.
check() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1" "$3"; fi; }

cleanup() {
  local p n=0
  # Every process of the test user (podman's pause process, a conmon, a container left by a
  # failed check): by pid, as listed for that uid.
  if id -u "$U" >/dev/null 2>&1; then
    local uid; uid=$(id -u "$U")
    while :; do
      p=$(ps -e -o pid=,uid= | awk -v u="$uid" '$2 == u {print $1}')
      [ -z "$p" ] && break
      [ $n -ge 50 ] && { echo "rootless: processes of $U remain: $p" >&2; break; }
      kill -9 $p 2>/dev/null
      sleep 0.1; n=$((n + 1))
    done
  fi
  # Mounts on the host under the home (none expected: the containers' mounts live in their
  # own mount namespaces).
  awk -v h="$H" '$5 == h || index($5, h "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
  # podman's lock file for a rootless uid lives outside the home.
  [ -n "${UID_:-}" ] && rm -f "/dev/shm/libpod_rootless_lock_$UID_"
  if id -u "$U" >/dev/null 2>&1; then
    usermod --del-subuids "$SUB_START-$SUB_END" --del-subgids "$SUB_START-$SUB_END" "$U" 2>/dev/null
    userdel "$U" 2>/dev/null || echo "rootless: userdel $U failed" >&2
  fi
  # userdel normally removes the lines; make sure (the files are shared with other users).
  for f in /etc/subuid /etc/subgid; do
    grep -q "^$U:" $f 2>/dev/null && sed -i "/^$U:/d" $f
  done
  [ -d "${DELEG:-}" ] && { rmdir "$DELEG"/*/ 2>/dev/null; rmdir "$DELEG" || echo "rootless: cannot remove $DELEG" >&2; }
  rm -rf "$H"
  rm -f /var/mail/"$U" /var/spool/mail/"$U" 2>/dev/null
}
SUB_START=0; SUB_END=0; UID_=""
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---------------------------------------------------------------------------- the user
mkdir -m 0755 "$H" || exit 2
useradd -M -d "$H" -s /bin/sh -K SUB_UID_COUNT=65536 -K SUB_GID_COUNT=65536 "$U" || { echo "rootless: useradd failed" >&2; exit 2; }
UID_=$(id -u "$U"); GID_=$(id -g "$U")
SUB_START=$(awk -F: -v u="$U" '$1 == u {print $2; exit}' /etc/subuid)
SUB_COUNT=$(awk -F: -v u="$U" '$1 == u {print $3; exit}' /etc/subuid)
SUBG_START=$(awk -F: -v u="$U" '$1 == u {print $2; exit}' /etc/subgid)
if [ -z "$SUB_START" ] || [ -z "$SUBG_START" ] || [ "$SUB_START" != "$SUBG_START" ]; then
  # useradd did not allocate (or not the same range for both): add one ourselves.
  SUB_START=$((1000000000 + ($$ % 10000) * 65536)); SUB_COUNT=65536
  usermod --add-subuids "$SUB_START-$((SUB_START + SUB_COUNT - 1))" --add-subgids "$SUB_START-$((SUB_START + SUB_COUNT - 1))" "$U" ||
    { echo "rootless: cannot add subordinate ids" >&2; exit 2; }
fi
SUB_END=$((SUB_START + SUB_COUNT - 1))
chown "$U:$U" "$H"; chmod 0700 "$H"
mkdir -p "$XR" "$H/bin" "$H/tmp" && chown "$U:$U" "$XR" "$H/bin" "$H/tmp" && chmod 0700 "$XR"
# The runtime as the user can run it wherever the build tree is.
cp "$RT_PATH" "$H/bin/$RT_NAME" && chmod 0755 "$H/bin/$RT_NAME"
R=$H/bin/$RT_NAME
echo "rootless: user $U uid $UID_ gid $GID_, subordinate ids $SUB_START-$SUB_END, runtime $RT_PATH"

# as_user CMD...: runs CMD as the test user (no capabilities, its own environment); output in $OUT.
# With JOIN_CG set, the process is first moved (by root) into that cgroup v2 directory.
as_user() {
  local pre=()
  [ -n "${JOIN_CG:-}" ] && pre=(sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$JOIN_CG")
  "${pre[@]}" setpriv --reuid="$UID_" --regid="$GID_" --clear-groups --inh-caps=-all \
    env -i HOME="$H" USER="$U" LOGNAME="$U" XDG_RUNTIME_DIR="$XR" TMPDIR="$H/tmp" \
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$@" >"$OUT" 2>"$OUT.err" </dev/null
}
# as_user_sh SCRIPT: a shell script as the user.
as_user_sh() { as_user /bin/sh -c "$1"; }

# A bundle owned by the user: rootfs + `RT spec --rootless`, args replaced by ARGS (json).
make_bundle() {
  local b=$1 args=$2
  rm -rf "$b"; mkdir -p "$b"
  cp -a "$H/rootfs" "$b/rootfs"
  chown -R "$U:$U" "$b"
  as_user_sh "cd '$b' && '$R' spec --rootless" || { cat "$OUT.err" >&2; return 1; }
  jq --argjson a "$args" '.process.args = $a | .process.terminal = false' "$b/config.json" >"$b/c.json" &&
    mv "$b/c.json" "$b/config.json" && chown "$U:$U" "$b/config.json"
}
# edit_config BUNDLE JQ-FILTER [jq args...]
edit_config() {
  local b=$1 f=$2; shift 2
  jq "$@" "$f" "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json" && chown "$U:$U" "$b/config.json"
}
# what the user has left: state entries under a root, processes, host mounts under $H.
# Zombies are left out: a container's init whose runtime exited is reparented to the host's
# PID 1, which reaps it when it gets to it.
user_procs() { ps -e -o pid=,uid=,stat=,comm= | awk -v u="$UID_" '$2 == u && $3 !~ /^Z/ {print $1 "(" $4 ")"}' | tr '\n' ' '; }
leftovers() {
  local root=$1 s=""
  [ -d "$root" ] && [ -n "$(ls -A "$root" 2>/dev/null | grep -vx '.seccomp')" ] && s="$s state: $(ls -A "$root" | tr '\n' ' ')"
  local p i; for i in $(seq 20); do p=$(user_procs); [ -z "$p" ] && break; sleep 0.1; done
  [ -n "$p" ] && s="$s processes: $p"
  local m; m=$(awk -v h="$H" 'index($5, h "/") == 1 {print $5}' /proc/self/mountinfo | tr '\n' ' ')
  [ -n "$m" ] && s="$s mounts: $m"
  echo "$s"
}
# After a check found leftovers: remove them, so that the next checks see only their own.
reset_user() {
  local p; p=$(ps -e -o pid=,uid= | awk -v u="$UID_" '$2 == u {print $1}')
  [ -n "$p" ] && kill -9 $p 2>/dev/null
  local i; for i in $(seq 20); do [ -z "$(user_procs)" ] && break; sleep 0.1; done
  rm -rf "$XR/$RT_NAME" "$XR/$RT_NAME-explicit"
}
wait_stopped() {
  local id=$1 root=$2 i
  for i in $(seq 50); do
    as_user "$R" --root "$root" state "$id" || return 0
    jq -e '.status == "stopped"' "$OUT" >/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# one_line_error FIELD: the last command failed with exactly one non-empty stderr line naming FIELD.
one_line_error() {
  local n; n=$(grep -c . "$OUT.err")
  [ "$n" = 1 ] && grep -qi -- "$1" "$OUT.err"
}

mkdir -p "$H/rootfs" && make_rootfs "$H/rootfs" || { echo "rootless: cannot build the rootfs" >&2; exit 2; }
chown -R "$U:$U" "$H/rootfs"

# ---------------------------------------------------------------------------- direct
direct_checks() {
  local b=$H/b1 root=$XR/$RT_NAME-explicit
  make_bundle "$b" '["id"]' || { fail "direct: spec --rootless" "$(head -c 300 "$OUT.err")"; return; }
  if jq -e --argjson u "$UID_" --argjson g "$GID_" \
      '.linux.uidMappings == [{containerID: 0, hostID: $u, size: 1}] and .linux.gidMappings == [{containerID: 0, hostID: $g, size: 1}]
       and ([.linux.namespaces[].type] | index("user")) != null and (.linux.resources == null)' "$b/config.json" >/dev/null; then
    pass "direct: spec --rootless maps the caller ($UID_:$GID_) to 0, user namespace, no resources"
  else
    fail "direct: spec --rootless maps the caller" "$(jq -c '[.linux.uidMappings, .linux.gidMappings, .linux.namespaces]' "$b/config.json")"
  fi

  as_user_sh "cd '$b' && '$R' --root '$root' run r1"
  if [ $? = 0 ] && grep -q '^uid=0(root) gid=0(root)' "$OUT"; then pass "direct: run prints uid=0 gid=0 inside"
  else fail "direct: run prints uid=0 gid=0 inside" "$(head -c 300 "$OUT") $(head -c 300 "$OUT.err")"; fi

  edit_config "$b" '.process.args = ["cat", "/proc/self/uid_map", "/proc/self/gid_map"]'
  as_user_sh "cd '$b' && '$R' --root '$root' run r2"
  local got; got=$(awk '{print $1, $2, $3}' "$OUT" | tr '\n' ';')
  [ "$got" = "0 $UID_ 1;0 $GID_ 1;" ]
  check "direct: uid_map/gid_map show the caller's ids ($UID_/$GID_)" $? "got '$got' $(head -c 300 "$OUT.err")"
  local l; l=$(leftovers "$root")
  [ -z "$l" ]; check "direct: nothing left after run" $? "$l"
  [ -z "$l" ] || reset_user

  # No --root: state under $XDG_RUNTIME_DIR/<runtime name> (runc's rule for a rootless caller).
  edit_config "$b" '.process.args = ["sleep", "100"]'
  as_user_sh "cd '$b' && '$R' create r3"
  if [ $? = 0 ] && [ -d "$XR/$RT_NAME/r3" ]; then pass "direct: default state root is \$XDG_RUNTIME_DIR/$RT_NAME"
  else fail "direct: default state root is \$XDG_RUNTIME_DIR/$RT_NAME" "rc/dir: $(ls -A "$XR" 2>&1 | tr '\n' ' ') $(head -c 300 "$OUT.err")"; fi
  as_user "$R" delete -f r3 || as_user "$R" --root "$XR/$RT_NAME" delete -f r3
  l=$(leftovers "$XR/$RT_NAME")
  [ -z "$l" ]; check "direct: nothing left after create + delete -f (default root)" $? "$l"
  [ -z "$l" ] || reset_user
  rm -rf "$b"
}

multi_checks() {
  local b=$H/b2 root=$XR/$RT_NAME-explicit
  make_bundle "$b" '["cat", "/proc/self/uid_map", "/proc/self/gid_map"]' || { fail "multi: spec" "$(head -c 300 "$OUT.err")"; return; }
  edit_config "$b" '.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}, {containerID: 1, hostID: $s, size: $n}]
    | .linux.gidMappings = [{containerID: 0, hostID: $g, size: 1}, {containerID: 1, hostID: $s, size: $n}]' \
    --argjson u "$UID_" --argjson g "$GID_" --argjson s "$SUB_START" --argjson n "$SUB_COUNT"
  as_user_sh "cd '$b' && '$R' --root '$root' run m1"
  local got; got=$(awk '{print $1, $2, $3}' "$OUT" | tr '\n' ';')
  local want="0 $UID_ 1;1 $SUB_START $SUB_COUNT;0 $GID_ 1;1 $SUB_START $SUB_COUNT;"
  [ "$got" = "$want" ]
  check "multi: uid_map/gid_map written through newuidmap/newgidmap (1 + $SUB_COUNT ids)" $? "got '$got' want '$want' $(head -c 300 "$OUT.err")"

  # A long-running container with that map: exec into it (as uid 1000 inside = a subuid outside).
  edit_config "$b" '.process.args = ["sleep", "1000"]'
  as_user_sh "cd '$b' && '$R' --root '$root' create m2 && '$R' --root '$root' start m2"
  if [ $? != 0 ]; then fail "multi: create + start" "$(head -c 300 "$OUT.err")"; else
    as_user "$R" --root "$root" exec --user 1000:1000 m2 id
    grep -q '^uid=1000(user) gid=1000(user)' "$OUT"
    check "multi: exec --user 1000:1000 into it prints uid=1000 gid=1000" $? "$(head -c 300 "$OUT") $(head -c 300 "$OUT.err")"
    local pid; pid=$(as_user "$R" --root "$root" state m2 && jq -r .pid "$OUT")
    local st; st=$(awk '/^Uid:/ {print $2}' /proc/"$pid"/status 2>/dev/null)
    [ "$st" = "$UID_" ]; check "multi: the container's init runs as $UID_ on the host" $? "pid $pid uid $st"
    as_user "$R" --root "$root" kill m2 KILL
    wait_stopped m2 "$root"; check "multi: kill KILL stops it" $? "$(head -c 300 "$OUT")"
    as_user "$R" --root "$root" delete m2; check "multi: delete" $? "$(head -c 300 "$OUT.err")"
  fi
  local l; l=$(leftovers "$root")
  [ -z "$l" ]; check "multi: nothing left (state, processes, mounts)" $? "$l"
  [ -z "$l" ] || reset_user
  rm -rf "$b"
}

# bad_check NAME FIELD JQ-FILTER: a config the user may not ask for.
bad_check() {
  local name=$1 field=$2 filter=$3 b=$H/b3 root=$XR/$RT_NAME-explicit
  make_bundle "$b" '["true"]' || { fail "bad: $name" "spec failed"; return; }
  edit_config "$b" "$filter"
  as_user_sh "cd '$b' && '$R' --root '$root' run x1"
  local rc=$? l; l=$(leftovers "$root")
  if [ $rc = 0 ]; then fail "bad: $name" "run succeeded"
  elif ! one_line_error "$field"; then fail "bad: $name" "not one line naming $field: $(head -c 400 "$OUT.err" | tr '\n' '|')"
  elif [ -n "$l" ]; then fail "bad: $name" "left behind:$l"
  else pass "bad: $name: $(tr -d '\n' <"$OUT.err" | head -c 160)"; fi
  as_user "$R" --root "$root" delete -f x1
  [ -z "$l" ] || reset_user
  rm -rf "$b"
}

bad_checks() {
  bad_check "a host uid the user does not own (uidMappings hostID 0)" uidMapping \
    '.linux.uidMappings = [{containerID: 0, hostID: 0, size: 1}]'
  bad_check "a device node the host has no such path for (linux.devices)" husk-rl-nodev \
    '.linux.devices = [{path: "/dev/husk-rl-nodev", type: "c", major: 1, minor: 3}]'
  bad_check "a lower oomScoreAdj (-500)" "oomScoreAdj\|oom_score_adj" \
    '.process.oomScoreAdj = -500'
  bad_check "a raised RLIMIT_NOFILE hard limit" RLIMIT_NOFILE \
    ".process.rlimits = [{type: \"RLIMIT_NOFILE\", hard: $(( $(ulimit -Hn) * 2 )), soft: 1024}]"
}

# ---------------------------------------------------------------------------- podman
podman_checks() {
  local img=localhost/husk-rl-busybox:latest c=$H/.config/containers
  mkdir -p "$c" && chown -R "$U:$U" "$H/.config"
  # vfs storage: needs neither fuse-overlayfs nor kernel overlay in a user namespace.
  printf '[storage]\ndriver = "vfs"\n' >"$c/storage.conf"
  cat >"$c/containers.conf" <<EOF
[containers]
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime_supports_json = ["crun", "runc", "husk"]
EOF
  chown "$U:$U" "$c"/*.conf
  make_archive "$H/rootfs" "$img" "$H/busybox.tar" && chown "$U:$U" "$H/busybox.tar" ||
    { fail "podman: image archive" "cannot build"; return; }
  as_user podman load -q -i "$H/busybox.tar"
  [ $? = 0 ] || { fail "podman: load the image for the user" "$(head -c 300 "$OUT.err")"; return; }
  pass "podman: image loaded for the user"
  as_user podman --runtime "$R" run --rm --network none "$img" id
  grep -q '^uid=0(root) gid=0(root)' "$OUT"
  check "podman: run --rm IMG id prints uid=0 gid=0" $? "$(head -c 300 "$OUT") $(tail -c 400 "$OUT.err")"
  as_user podman --runtime "$R" run --rm --network none "$img" cat /proc/self/uid_map
  local got; got=$(awk '{print $1, $2, $3}' "$OUT" | tr '\n' ';')
  [ "$got" = "0 $UID_ 1;1 $SUB_START $SUB_COUNT;" ]
  check "podman: the container's uid_map is the user + its subordinate range" $? "got '$got'"
  as_user podman --runtime "$R" run -d --name rl1 --network none "$img" sleep 1000
  if [ $? != 0 ]; then fail "podman: run -d" "$(tail -c 400 "$OUT.err")"; else
    pass "podman: run -d"
    as_user podman --runtime "$R" exec rl1 cat /proc/1/cmdline
    [ "$(tr '\0' ' ' <"$OUT")" = "sleep 1000 " ]
    check "podman: exec sees the container's init" $? "$(tr '\0' ' ' <"$OUT" | head -c 200) $(tail -c 300 "$OUT.err")"
    as_user podman --runtime "$R" stop -t 1 rl1; check "podman: stop" $? "$(tail -c 300 "$OUT.err")"
    as_user podman --runtime "$R" rm rl1; check "podman: rm" $? "$(tail -c 300 "$OUT.err")"
  fi
  as_user podman ps -aq
  [ ! -s "$OUT" ]; check "podman: no container left" $? "$(tr '\n' ' ' <"$OUT")"
  as_user podman --runtime "$R" rm -af -t 0
  [ -d "$XR/$RT_NAME" ] && as_user ls -A "$XR/$RT_NAME"
}

# A cgroup v2 subtree delegated to the user (pure v2 hosts: the VM step runs this): the
# container gets its limits there, as the user sees them inside; its cgroup goes with it.
DELEG=/sys/fs/cgroup/husk-rl-$$
delegated_checks() {
  if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
    echo "SKIP delegated: /sys/fs/cgroup is not a pure cgroup v2 hierarchy (scripts/test.sh runs this group in its v2 guest)"
    return
  fi
  local b=$H/b4 root=$XR/$RT_NAME-explicit c
  mkdir "$DELEG" "$DELEG/sh" || { fail "delegated: make $DELEG" "mkdir failed"; return; }
  chown "$U:$U" "$DELEG" "$DELEG/cgroup.procs" "$DELEG/cgroup.subtree_control" "$DELEG/sh" "$DELEG/sh/cgroup.procs"
  for c in memory pids; do echo "+$c" >"$DELEG/cgroup.subtree_control" || { fail "delegated: enable $c" "no $c controller"; return; }; done
  make_bundle "$b" '["sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max"]' || { fail "delegated: spec" "$(head -c 300 "$OUT.err")"; return; }
  edit_config "$b" '.linux.cgroupsPath = $p | .linux.resources = {memory: {limit: 100000000}, pids: {limit: 50}}' \
    --arg p "/husk-rl-$$/c1"
  JOIN_CG=$DELEG/sh as_user_sh "cd '$b' && '$R' --root '$root' run d1"
  local got; got=$(tr '\n' ' ' <"$OUT")
  [ "$got" = "99999744 50 " ]
  check "delegated: memory.max and pids.max inside are the config's (cgroupsPath in the user's subtree)" $? "got '$got' $(head -c 300 "$OUT.err")"
  [ ! -e "$DELEG/c1" ]; check "delegated: the container's cgroup is removed" $? "$DELEG/c1 is left"
  edit_config "$b" 'del(.linux.cgroupsPath)'
  as_user_sh "cd '$b' && '$R' --root '$root' run d2"
  [ $? != 0 ] && one_line_error "linux.resources"
  check "delegated: limits without a delegated cgroup are refused naming linux.resources" $? "$(head -c 300 "$OUT.err")"
  local l; l=$(leftovers "$root")
  [ -z "$l" ]; check "delegated: nothing left" $? "$l"
  [ -z "$l" ] || reset_user
  rm -rf "$b"
}

direct_checks
multi_checks
delegated_checks
bad_checks
if [ $SKIP_PODMAN = 1 ]; then echo "SKIP podman checks (--skip-podman)"
elif ! command -v podman >/dev/null; then echo "SKIP podman checks: podman is not installed"
else podman_checks; fi

echo "rootless: $PASS passed, $FAIL failed"
[ $FAIL = 0 ]
