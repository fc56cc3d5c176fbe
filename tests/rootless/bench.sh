#!/bin/bash
# tests/rootless/bench.sh [-n ROUNDS] [-r MAX_RATIO] HUSK
#
# Rootless `run` of /bin/true: husk beside runc and crun, each run as the same dedicated
# unprivileged user (husk-rlb-<pid>, created and removed here), rounds interleaved
# (A B C, B C A, C A B, ...). One bundle for all: `HUSK spec --rootless` (user namespace
# mapping the user to 0, pid/ipc/uts/mount/network namespaces, no cgroupsPath, no
# resources), args /bin/true, ociVersion 1.0.2-dev (crun 1.8.1 refuses 1.2.0).
# Each run is timed by the user's shell ($EPOCHREALTIME around the runtime's process).
#
# Run as root. For every runtime alike, in a private mount namespace: the user's
# XDG_RUNTIME_DIR (the state roots) is a tmpfs, as /run/user/<uid> is on a systemd host;
# on a hybrid cgroup host whose cgroup2 mount holds controllers (crun 1.8.1 refuses it,
# rootless too: "cgroups in hybrid mode not supported") /sys/fs/cgroup/unified is an empty
# tmpfs. No runtime gets a cgroup: the user owns none (runc and husk skip them rootless).
# Prints each runtime's median [min-max] in ms and husk's ratio to each; exit 1 when a
# runtime fails a run, or (-r) when husk's median is above MAX_RATIO times crun's. Needs: runc, crun, busybox-static, jq, util-linux (setpriv,
# unshare), passwd (useradd, userdel).
set -u
N=30 MAX=
while getopts "n:r:" o; do
  case $o in
    n) N=$OPTARG ;;
    r) MAX=$OPTARG ;;
    *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# = 1 ] || { echo "usage: $0 [-n ROUNDS] HUSK" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "rootless bench: must run as root (it creates and removes a test user)" >&2; exit 2; }
HUSK=$(realpath "$1") || exit 2
for b in runc crun setpriv unshare useradd userdel jq; do
  command -v $b >/dev/null || { echo "rootless bench: $b is missing" >&2; exit 2; }
done
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/image.sh"

if [ -z "${HUSK_RLB_INNER:-}" ]; then
  U=husk-rlb-$$
  H=/tmp/$U
  cleanup() {
    local p uid
    if uid=$(id -u "$U" 2>/dev/null); then
      for _ in $(seq 50); do
        p=$(ps -e -o pid=,uid= | awk -v u="$uid" '$2 == u {print $1}')
        [ -z "$p" ] && break
        kill -9 $p 2>/dev/null; sleep 0.1
      done
      userdel "$U" 2>/dev/null || echo "rootless bench: userdel $U failed" >&2
    fi
    for f in /etc/subuid /etc/subgid; do grep -q "^$U:" $f 2>/dev/null && sed -i "/^$U:/d" $f; done
    rm -rf "$H"
    rm -f /var/mail/"$U" /var/spool/mail/"$U" 2>/dev/null
  }
  trap cleanup EXIT
  trap 'exit 1' INT TERM
  mkdir -m 0700 "$H" || exit 2
  useradd -M -d "$H" -s /bin/sh "$U" || { echo "rootless bench: useradd failed" >&2; exit 2; }
  mkdir -p "$H/b/rootfs" "$H/run" "$H/bin" && make_rootfs "$H/b/rootfs" || exit 2
  cp "$HUSK" "$H/bin/husk"
  (cd "$H/b" && "$H/bin/husk" spec --rootless) || exit 2
  jq --argjson u "$(id -u "$U")" --argjson g "$(id -g "$U")" \
    '.ociVersion = "1.0.2-dev" | .process.args = ["/bin/true"] | .process.terminal = false
     | .linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}]
     | .linux.gidMappings = [{containerID: 0, hostID: $g, size: 1}]' "$H/b/config.json" >"$H/b/c.json" &&
    mv "$H/b/c.json" "$H/b/config.json" || exit 2
  chown -R "$U:$U" "$H"
  UNI=/sys/fs/cgroup/unified HIDE=
  if [ -f $UNI/cgroup.controllers ] && [ -n "$(cat $UNI/cgroup.controllers)" ] && [ -d /sys/fs/cgroup/memory ]; then
    HIDE=$UNI
  fi
  echo "# husk $("$HUSK" --version | head -1 | awk '{print $3}'), $(crun --version | head -1), $(runc --version | head -1); kernel $(uname -r), $(nproc) CPUs"
  echo "# rootless run of /bin/true as $U (uid $(id -u "$U")), $N rounds interleaved${HIDE:+; $HIDE hidden (crun)}"
  HUSK_RLB_INNER=1 U=$U H=$H HIDE=$HIDE unshare -m --propagation private -- "$0" -n "$N" ${MAX:+-r "$MAX"} "$HUSK"
  exit $?
fi

# --- inside the private mount namespace, still root --------------------------------
[ -n "$HIDE" ] && mount -t tmpfs -o size=1m,mode=755 husk-rlb "$HIDE"
mount -t tmpfs -o size=16m,mode=700,uid="$(id -u "$U")",gid="$(id -g "$U")" husk-rlb-run "$H/run" || exit 2
SAMPLES=$H/samples
# The user's loop: one line "RUNTIME MICROSECONDS" per run, or "RUNTIME FAIL rc".
setpriv --reuid="$(id -u "$U")" --regid="$(id -g "$U")" --clear-groups --inh-caps=-all \
  env -i HOME="$H" USER="$U" LOGNAME="$U" XDG_RUNTIME_DIR="$H/run" PATH=/usr/bin:/bin:/usr/sbin:/sbin \
  N="$N" BIN_husk="$H/bin/husk" BIN_runc="$(command -v runc)" BIN_crun="$(command -v crun)" \
  bash -c '
    cd "$HOME/b" || exit 2
    names=(husk runc crun)
    for ((i = 0; i < N; i++)); do
      for ((k = 0; k < 3; k++)); do
        r=${names[$(((i + k) % 3))]}
        bin=BIN_$r
        t0=${EPOCHREALTIME/./}
        "${!bin}" --root "$XDG_RUNTIME_DIR/$r" run "b$i" >/dev/null 2>"$HOME/err" </dev/null
        rc=$?
        t1=${EPOCHREALTIME/./}
        if [ $rc = 0 ]; then echo "$r $((t1 - t0))"; else echo "$r FAIL $rc $(head -c 300 "$HOME/err")"; fi
      done
    done' >"$SAMPLES"
if grep -q FAIL "$SAMPLES"; then
  echo "rootless bench: failed runs:" >&2
  grep FAIL "$SAMPLES" | sort | uniq -c | head -5 >&2
  exit 1
fi
awk -v max="$MAX" '
  { v[$1] = v[$1] " " $2 }
  END {
    split("husk crun runc", order, " ")
    for (o = 1; o <= 3; o++) {
      r = order[o]
      n = split(substr(v[r], 2), a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      med[r] = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      printf "%-5s median %7.2f ms  [%.2f-%.2f]  (n=%d)\n", r, med[r] / 1000, a[1] / 1000, a[n] / 1000, n
    }
    ratio = med["husk"] / med["crun"]
    printf "husk/runc %.2fx, husk/crun %.2fx (medians)\n", med["husk"] / med["runc"], ratio
    if (max != "" && ratio > max + 0) { printf "FAIL husk/crun %.2fx is above %s\n", ratio, max; exit 1 }
  }' "$SAMPLES"
