#!/usr/bin/bash
# Stage 2 of the husk test VM (tests/vm/run.sh), run with the host's bash from
# the guest's /usr. run.sh copies it into each run's directory, which the guest
# sees at /.huskvm/run with the files written for this run:
#   args    ARGS (the command), CWD, MODE (plain|systemd), CGROUP (v2|hybrid|v1), GTERM   (bash source)
#   shares  "TAG<TAB>PATH" lines, parents first
#   rc      written here: the command's exit status
#
#   guest.sh boot   PID 1 after switch_root. plain: enable every cgroup v2 controller
#                   for the root's children, mount the shares, run the command, power off.
#                   systemd: prepare /etc and exec systemd, whose default target
#                   starts husk-vm-cmd.service. CGROUP=hybrid or v1: stage 1's cgroup2 mount
#                   at /sys/fs/cgroup is taken away first (systemd keeps the layout it
#                   finds mounted there), so systemd mounts the hybrid or legacy layout.
#   guest.sh cmd    the command's service (systemd mode): run it, power off.
set -u
RUN=/.huskvm/run
BB=/.huskvm/busybox
P9="trans=virtio,version=9p2000.L,msize=512000"
# shellcheck source=/dev/null
. "$RUN/args"

# Under TCG every exec of a host binary costs (its libraries come over 9p): the
# steps before the command use bash's builtins and the static busybox.
log() {
  local up=
  read -r up _ < /proc/uptime
  echo "husk-vm: $* (uptime ${up}s)" > /dev/console
}

mount_shares() {
  local tag path
  while IFS=$'\t' read -r tag path; do
    [ -n "$tag" ] || continue
    $BB mkdir -p "$path" && $BB mount -t 9p -o "$P9,cache=mmap,posixacl" "$tag" "$path" || log "cannot mount the share $path"
  done < "$RUN/shares"
}

# Every controller of the pure v2 hierarchy (stage 1 mounted it) enabled for the root's children.
cgroup_v2() {
  local c all
  read -r -a all < /sys/fs/cgroup/cgroup.controllers
  for c in "${all[@]}"; do
    echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || log "cannot enable the $c controller"
  done
}

# The guest's /etc is an overlay over the host's: make it a machine of its own that
# boots straight to the command (nothing the host's admin enabled is started).
systemd_etc() {
  local s=/etc/systemd/system id u
  read -r id < /proc/sys/kernel/random/uuid
  echo "${id//-/}" > /etc/machine-id
  echo husk-vm > /etc/hostname
  : > /etc/fstab
  $BB rm -rf "$s"/*.wants "$s"/*.requires "$s/default.target"
  # ConditionNeedsUpdate= units (hwdb, ldconfig, sysusers, catalog) would rebuild caches.
  $BB touch /etc/.updated /var/.updated
  $BB cat > "$s/husk-vm.target" <<'EOF'
[Unit]
Description=husk test VM: the command
Requires=basic.target
After=basic.target
Wants=dbus.service husk-vm-cmd.service
AllowIsolate=yes
EOF
  $BB cat > "$s/husk-vm-cmd.service" <<'EOF'
[Unit]
Description=husk test VM: the command
After=basic.target dbus.service
# guest.sh powers off itself; should it fail to start, the host must not wait for its timeout
FailureAction=poweroff-force

[Service]
# exec, not oneshot: its start job ends at exec, so the boot can finish while it runs
Type=exec
ExecStart=/usr/bin/bash /.huskvm/run/guest.sh cmd
StandardInput=null
StandardOutput=journal+console
StandardError=journal+console
# as in the plain mode: no task limit of a service on the tests' processes
TasksMax=infinity
EOF
  $BB ln -sfn husk-vm.target "$s/default.target"
  # Boot-time work no container needs; each costs seconds under TCG. (Modules load on
  # demand: the static nodes /dev/fuse, /dev/loop-control, /dev/net/tun... are kept.)
  for u in modprobe@dm_mod.service modprobe@loop.service modprobe@fuse.service modprobe@drm.service \
           modprobe@configfs.service sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
           sys-fs-fuse-connections.mount systemd-binfmt.service proc-sys-fs-binfmt_misc.automount; do
    $BB ln -sfn /dev/null "$s/$u"
  done
}

# An ext4 file system for the command, whose directory it gets as HUSK_TEST_IDMAP_DIR: the
# guest's / and /tmp are tmpfs, which 6.1 cannot idmap (6.3 can), ext4 can. A sparse image
# in the guest's memory, loop-mounted; it goes with the guest.
EXT4=/.huskvm/ext4
ext4_dir() {
  /usr/sbin/modprobe -a loop ext4 &&
    $BB truncate -s 64M /.huskvm/ext4.img &&
    /usr/sbin/mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=0,nodiscard -m 0 /.huskvm/ext4.img &&
    $BB mkdir -p "$EXT4" && $BB mount -t ext4 -o loop /.huskvm/ext4.img "$EXT4" && $BB chmod 1777 "$EXT4" ||
    { log "no ext4 file system for the command (its idmapped-mount tests will skip)"; return 1; }
}

# Name of the /dev node of the virtio-serial port NAME (/dev/null if there is none).
port() {
  local p i name
  for ((i = 0; i < 50; i++)); do
    for p in /sys/class/virtio-ports/*; do
      name=
      read -r name < "$p/name" 2>/dev/null
      [ "$name" = "$1" ] && { echo "/dev/${p##*/}"; return; }
    done
    $BB sleep 0.1
  done
  log "no virtio port $1"
  echo /dev/null
}

# Runs the command with its output going through pipes to the host's ports (a port
# can be opened once, a pipe can be reopened through /dev/stdout), writes its status.
run_command() {
  local out err c1 c2 rc i ext4=()
  out=$(port husk.stdout) err=$(port husk.stderr)
  $BB mkfifo /.huskvm/stdout /.huskvm/stderr
  $BB cat < /.huskvm/stdout > "$out" & c1=$!
  $BB cat < /.huskvm/stderr > "$err" & c2=$!
  ext4_dir && ext4=(HUSK_TEST_IDMAP_DIR="$EXT4")
  cd "$CWD" 2>/dev/null || cd /
  log "command starts"
  /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    TERM="$GTERM" LANG=C.UTF-8 HUSK_VM="$MODE" HUSK_VM_CGROUP="${CGROUP:-v2}" "${ext4[@]}" "${ARGS[@]}" < /dev/null > /.huskvm/stdout 2> /.huskvm/stderr
  rc=$?
  # What the command wrote is in the pipes; a process it left behind may keep them open.
  for ((i = 0; i < 100; i++)); do
    kill -0 "$c1" 2>/dev/null || kill -0 "$c2" 2>/dev/null || break
    $BB sleep 0.05
  done
  kill "$c1" "$c2" 2>/dev/null
  echo "$rc" > "$RUN/rc.part" && $BB mv "$RUN/rc.part" "$RUN/rc"
  log "command exited $rc"
  $BB sync
}

case "${1:-}" in
  boot)
    if [ "$MODE" = systemd ]; then
      mount_shares
      systemd_etc
      if [ "${CGROUP:-v2}" != v2 ]; then
        $BB umount /sys/fs/cgroup || log "cannot unmount cgroup2 from /sys/fs/cgroup: systemd will keep pure v2"
      fi
      log "starting systemd"
      exec /usr/lib/systemd/systemd
    fi
    cgroup_v2
    mount_shares
    $BB hostname husk-vm
    $BB ip link set lo up
    run_command
    $BB poweroff -f
    ;;
  cmd)
    run_command
    systemctl poweroff --force --force
    ;;
  *) echo "usage: guest.sh boot|cmd" >&2; exit 2;;
esac
