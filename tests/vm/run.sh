#!/bin/bash
# tests/vm/run.sh -- run a command as root in a throw-away QEMU guest whose cgroups are
# a PURE v2 hierarchy (cgroup_no_v1=all; or hybrid / legacy v1, --cgroup), and return the
# command's exit status.
#
# usage: tests/vm/run.sh [--systemd [--cgroup v2|hybrid|v1]] [--share DIR]... [--mem MB] [--timeout S]
#                        -- CMD [ARG]...
#
#   --systemd     boot systemd (the host's, from its /usr) as PID 1 with the system D-Bus;
#                 CMD runs as husk-vm-cmd.service once basic.target is reached. Without it
#                 ("plain"), a small init mounts cgroup2 at /sys/fs/cgroup, enables every
#                 available controller in the root's cgroup.subtree_control and runs CMD.
#   --cgroup MODE v2 (default): pure cgroup v2 (cgroup_no_v1=all, systemd.unified_cgroup_hierarchy=1).
#                 hybrid (with --systemd only): systemd mounts the v1 controllers under
#                 /sys/fs/cgroup/<ctrl> (a tmpfs), name=systemd at /sys/fs/cgroup/systemd and
#                 cgroup2 at /sys/fs/cgroup/unified (systemd.unified_cgroup_hierarchy=0
#                 systemd.legacy_systemd_cgroup_controller=0).
#                 v1 (with --systemd only): systemd's legacy layout, the same v1 hierarchies
#                 and no cgroup2 mount at all (systemd.legacy_systemd_cgroup_controller=1).
#   --share DIR   mount the host's DIR read-write at the same path in the guest (virtio-9p);
#                 repeatable.
#   --mem MB      guest memory (default 2048)
#   --timeout S   power the guest off after S seconds and exit 124 (default 900)
#
# The guest: a tmpfs root; /usr is the host's /usr (read-only 9p, under a tmpfs overlay),
# so every host binary (bash, runc, crun, docker, podman, a husk build in a share) runs
# in it; /etc is the host's /etc under a tmpfs overlay; /var, /tmp, /root are empty;
# the Debian kernel's modules are in /usr/lib/modules (modprobe works: overlay, veth,
# bridge, br_netfilter, nf_tables, ...); loopback is up, there is no other network.
# /.huskvm/ext4 is an ext4 file system (a 64 MB image in guest memory, loop-mounted;
# nothing on the host): 6.1 cannot idmap tmpfs, it can idmap ext4.
# CMD runs with PATH, HOME=/root, TERM, LANG=C.UTF-8, HUSK_VM=plain|systemd, HUSK_VM_CGROUP=v2|hybrid|v1 and
# HUSK_TEST_IDMAP_DIR=/.huskvm/ext4 (unset if that could not be made), stdin /dev/null,
# in the caller's $PWD when that exists in the guest (else /). Its stdout and stderr
# stream to this script's stdout and stderr.
#
# Exit status: CMD's; 124 the timeout ended it; 125 the VM (or this script) failed: the
# guest's console log is printed on stderr.
#
# The guest's kernel and initramfs are built once from Debian packages (linux-image-amd64,
# busybox-static: downloaded and unpacked, never installed) into the cache; missing host
# tools (qemu-system-x86, kmod, xz-utils; systemd and dbus for --systemd) are apt-installed.
#
# Environment:
#   HUSK_VM_CACHE    cache directory (default ${XDG_CACHE_HOME:-~/.cache}/husk-vm)
#   HUSK_VM_ACCEL    kvm|tcg (default: kvm when /dev/kvm is usable and the CPU has vmx/svm)
#   HUSK_VM_CPUS     guest vCPUs (default: the host's online CPUs)
#   HUSK_VM_MEM, HUSK_VM_TIMEOUT   defaults of --mem and --timeout
#   HUSK_VM_APPEND   extra kernel command line
#   HUSK_VM_VERBOSE  1: print the guest console and QEMU's messages after the run
#   HUSK_VM_KEEP     1: keep the run's temporary directory (its path is printed)
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Bump when the image's layout changes; the stage-1 init's hash is part of the stamp too.
LAYOUT=1
# Modules the initramfs loads before it can reach the host's files.
STAGE1_MODULES="virtio_pci virtio_console 9pnet_virtio 9p overlay"

die() { echo "tests/vm/run.sh: $*" >&2; exit 125; }
note() { echo "tests/vm/run.sh: $*" >&2; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 125; }

SYSTEMD=0 CGROUP=v2 SHARES=() MEM=${HUSK_VM_MEM:-2048} TIMEOUT=${HUSK_VM_TIMEOUT:-900}
parse_args() {
  local d
  while [ $# -gt 0 ]; do
    case "$1" in
      --systemd) SYSTEMD=1; shift;;
      --share|--mem|--timeout|--cgroup) [ $# -ge 2 ] || die "$1 needs a value"; set -- "$1=$2" "${@:3}";;
      --share=*) d=$(realpath -e -- "${1#*=}" 2>/dev/null) && [ -d "$d" ] || die "--share ${1#*=}: not a directory"
                 SHARES+=("$d"); shift;;
      --mem=*) MEM=${1#*=}; shift;;
      --timeout=*) TIMEOUT=${1#*=}; shift;;
      --cgroup=*) CGROUP=${1#*=}; shift;;
      -h|--help) usage;;
      --) shift; break;;
      -*) die "unknown option $1 (see --help)";;
      *) break;;
    esac
  done
  [ $# -gt 0 ] || die "no command given (see --help)"
  [[ $MEM =~ ^[0-9]+$ ]] && [ "$MEM" -ge 256 ] || die "--mem $MEM: a number of MB, at least 256"
  [[ $TIMEOUT =~ ^[0-9]+$ ]] && [ "$TIMEOUT" -gt 0 ] || die "--timeout $TIMEOUT: a number of seconds"
  case "$CGROUP" in
    v2) ;;
    hybrid|v1) [ "$SYSTEMD" = 1 ] || die "--cgroup $CGROUP needs --systemd (systemd mounts the v1 hierarchies)";;
    *) die "--cgroup $CGROUP: v2, hybrid or v1";;
  esac
  for d in "${SHARES[@]}"; do
    case "$d/" in
      //|/usr/*|/etc/*|/proc/*|/sys/*|/dev/*|/run/*|/.huskvm/*) die "--share $d: a system directory of the guest";;
      *$'\t'*|*$'\n'*) die "--share $d: a tab or newline in the path";;
    esac
  done
  ARGS=("$@")
}

# ------------------------------------------------------------------- host tools
apt_install() {
  note "installing $* (apt)"
  local a=(-y -qq --no-install-recommends -o DPkg::Lock::Timeout=300)
  DEBIAN_FRONTEND=noninteractive apt-get install "${a[@]}" "$@" >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install "${a[@]}" "$@" >&2; } ||
    die "cannot install $*"
}

host_tools() {
  local need=() t
  for t in qemu-system-x86_64:qemu-system-x86 /usr/sbin/depmod:kmod /usr/sbin/modprobe:kmod xz:xz-utils \
           setpriv:util-linux flock:util-linux /usr/sbin/mkfs.ext4:e2fsprogs; do
    command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t#*:}")
  done
  if [ "$SYSTEMD" = 1 ]; then
    [ -x /usr/lib/systemd/systemd ] || need+=(systemd)
    command -v dbus-daemon >/dev/null 2>&1 || need+=(dbus)
  fi
  [ ${#need[@]} = 0 ] || apt_install $(printf '%s\n' "${need[@]}" | sort -u)
}

# ------------------------------------------------------------- the guest image
# An uncompressed ELF kernel boots through PVH, skipping the decompressor (much
# faster under TCG). Debian's bzImage carries an xz payload: find and unpack it.
kernel_elf() {  # VMLINUZ OUT
  local off
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | head -n1 | cut -d: -f1)
  [ -n "$off" ] || return 1
  tail -c +"$((off + 1))" "$1" | xz -dcq --single-stream > "$2" 2>/dev/null
  [ "$(head -c4 "$2" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]
}

# The module tree the guest gets: what containers and engines use, not hardware drivers.
module_tree() {  # UNPACKED_PKG KVER OUT
  local src=$1/lib/modules/$2 dst=$3/lib/modules/$2 d
  mkdir -p "$dst/kernel/drivers/net"
  cp -a "$src"/modules.order "$src"/modules.builtin* "$dst/"
  for d in arch block crypto fs kernel lib mm net security virt; do
    [ -d "$src/kernel/$d" ] && cp -a "$src/kernel/$d" "$dst/kernel/"
  done
  for d in block char md virtio; do cp -a "$src/kernel/drivers/$d" "$dst/kernel/drivers/"; done
  cp -a "$src"/kernel/drivers/net/*.ko "$src"/kernel/drivers/net/{ipvlan,vxlan,bonding,wireguard} "$dst/kernel/drivers/net/"
  /usr/sbin/depmod -b "$3" "$2"
}

build_image() {  # OUT
  local tmp kpkg kver m
  tmp=$(mktemp -d "$CACHE/build.XXXXXX") || die "cannot create a directory in $CACHE"
  note "building the guest kernel and initramfs in $1 (once)"
  (
    set -e
    cd "$tmp"
    resolve() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
    kpkg=$(resolve)
    [ -n "$kpkg" ] || { apt-get update -qq >&2; kpkg=$(resolve); }
    [ -n "$kpkg" ] || { echo "apt knows no linux-image-amd64" >&2; exit 1; }
    apt-get download -q -o APT::Sandbox::User=root "$kpkg" busybox-static >&2
    dpkg-deb -x "$kpkg"_*.deb pkg
    dpkg-deb -x busybox-static_*.deb bb
    kver=$(ls pkg/lib/modules)
    mkdir out
    if grep -qx CONFIG_PVH=y "pkg/boot/config-$kver" && kernel_elf "pkg/boot/vmlinuz-$kver" out/kernel; then :; else
      cp "pkg/boot/vmlinuz-$kver" out/kernel
    fi
    module_tree pkg "$kver" out/modules
    mkdir -p ir/bin ir/dev ir/proc ir/sys ir/newroot ir/modules
    cp bb/bin/busybox ir/bin/
    mknod ir/dev/console c 5 1
    for m in $STAGE1_MODULES; do
      /usr/sbin/modprobe -d out/modules -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
    done | awk '!seen[$0]++' | while read -r m; do
      cp "$m" ir/modules/
      basename "$m" .ko >> ir/modules/load-order
    done
    install -m 0755 "$HERE/initramfs-init" ir/init
    (cd ir && find . | ../bb/bin/busybox cpio -o -H newc 2>/dev/null) > out/initrd
    echo "$kpkg $kver" > out/kernel.pkg
    rm -rf pkg bb ir ./*.deb
  )  # not in a || list: that would switch the subshell's set -e off
  [ $? = 0 ] || { rm -rf "$tmp"; die "building the guest image failed"; }
  mv "$tmp/out" "$1" && rm -rf "$tmp" || die "cannot move the image to $1"
}

image() {
  local stamp
  CACHE=${HUSK_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk-vm}
  mkdir -p "$CACHE" || die "cannot create $CACHE"
  stamp=$(sha256sum "$HERE/initramfs-init" | cut -c1-12)
  IMG=$CACHE/img-$LAYOUT-$stamp
  if [ ! -f "$IMG/kernel.pkg" ]; then
    exec {lock}> "$CACHE/.lock"
    flock "$lock"
    if [ ! -f "$IMG/kernel.pkg" ]; then
      build_image "$IMG"
      # Images of other stamps that no run has used for a week.
      find "$CACHE" -maxdepth 1 -name 'img-*' ! -path "$IMG" -mtime +7 -exec rm -rf {} + 2>/dev/null
    fi
    exec {lock}>&-
  fi
  touch "$IMG"
}

# ---------------------------------------------------------------------- the run
accel() {
  case "${HUSK_VM_ACCEL:-auto}" in
    kvm) echo kvm;;
    tcg) echo tcg;;
    auto) if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then echo kvm; else echo tcg; fi;;
    *) die "HUSK_VM_ACCEL=$HUSK_VM_ACCEL: kvm or tcg";;
  esac
}

# Writes what the guest's stage 2 reads, and the QEMU arguments of the shares (QEMU_FS).
prepare_run() {
  local i=0 d g=$RUNDIR/guest
  mkdir "$g" && cp "$HERE/guest.sh" "$g/" || die "cannot prepare $g"
  {
    declare -p ARGS
    printf 'CWD=%q\nMODE=%q\nCGROUP=%q\nGTERM=%q\n' "$PWD" "$([ "$SYSTEMD" = 1 ] && echo systemd || echo plain)" \
      "$CGROUP" "${TERM:-dumb}"
  } > "$g/args"
  : > "$g/shares"
  # -virtfs options are comma-separated: a comma in a path is written twice.
  QEMU_FS=(-virtfs "local,path=/usr,mount_tag=hvusr,security_model=none,readonly=on,multidevs=remap"
           -virtfs "local,path=/etc,mount_tag=hvetc,security_model=none,readonly=on,multidevs=remap"
           -virtfs "local,path=${IMG//,/,,}/modules/lib/modules/$(cut -d' ' -f2 "$IMG/kernel.pkg"),mount_tag=hvmod,security_model=none,readonly=on"
           -virtfs "local,path=${g//,/,,},mount_tag=hvrun,security_model=passthrough")
  while read -r d; do
    QEMU_FS+=(-virtfs "local,path=${d//,/,,},mount_tag=hvshare$i,security_model=passthrough,multidevs=remap")
    printf 'hvshare%s\t%s\n' "$i" "$d" >> "$g/shares"
    i=$((i + 1))
  done < <([ ${#SHARES[@]} = 0 ] || printf '%s\n' "${SHARES[@]}" | LC_ALL=C sort -u)  # sorted: parents first
}

# Starts QEMU in the background (QPID) with CMD's output streamed through two fifos.
start_qemu() {
  local acc cpus append
  acc=$(accel) || exit 125
  cpus=${HUSK_VM_CPUS:-$(nproc)}
  [ "$acc" = kvm ] && acc=(-accel kvm -cpu host) || acc=(-accel tcg,thread=multi,tb-size=256 -cpu max)
  append="console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init"
  if [ "$CGROUP" = hybrid ]; then
    # systemd's hybrid layout; Debian's systemd defaults to pure v1 without the second option
    append+=" systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0"
  elif [ "$CGROUP" = v1 ]; then
    append+=" systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1"
  else
    append+=" cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
  fi
  append+=" 8250.nr_uarts=1 i8042.noaux i8042.nokbd i8042.nopnp tsc=reliable no_timer_check ${HUSK_VM_APPEND:-}"
  mkfifo "$RUNDIR/stdout" "$RUNDIR/stderr" || die "mkfifo failed"
  # This script holds a write end of each fifo: the readers see EOF only once it closes
  # them after QEMU has gone, even when QEMU died before opening its ends.
  exec {WOUT}<> "$RUNDIR/stdout" {WERR}<> "$RUNDIR/stderr"
  cat < "$RUNDIR/stdout" {WOUT}>&- {WERR}>&- & COUT=$!
  cat < "$RUNDIR/stderr" >&2 {WOUT}>&- {WERR}>&- & CERR=$!
  # setpriv: QEMU (and timeout) die with their parent even if this script is SIGKILLed.
  setpriv --pdeathsig KILL timeout -k 10 "$TIMEOUT" setpriv --pdeathsig KILL \
    qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
      -machine pc "${acc[@]}" -m "$MEM" -smp "$cpus" \
      -kernel "$IMG/kernel" -initrd "$IMG/initrd" -append "$append" \
      -serial "file:$RUNDIR/console.log" \
      -device virtio-serial-pci \
      -chardev "file,id=out,path=$RUNDIR/stdout" -device virtserialport,chardev=out,name=husk.stdout \
      -chardev "file,id=err,path=$RUNDIR/stderr" -device virtserialport,chardev=err,name=husk.stderr \
      "${QEMU_FS[@]}" < /dev/null > "$RUNDIR/qemu.log" 2>&1 {WOUT}>&- {WERR}>&- &
  QPID=$!
}

stop_streams() {
  [ -n "${WOUT:-}" ] && exec {WOUT}>&- {WERR}>&- && WOUT=
  [ -n "${COUT:-}" ] && { wait "$COUT" "$CERR" 2>/dev/null; COUT=; }
}

cleanup() {
  trap - EXIT INT TERM HUP
  [ -n "${QPID:-}" ] && { kill -TERM "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null; QPID=; }
  stop_streams
  [ -n "${RUNDIR:-}" ] || return 0
  if [ "${HUSK_VM_KEEP:-0}" = 1 ]; then note "kept $RUNDIR"; else rm -rf "$RUNDIR"; fi
}

# Run directories whose script was SIGKILLed (its QEMU died with it: pdeathsig).
sweep_run_dirs() {
  local d pid
  for d in "${TMPDIR:-/tmp}"/husk-vm.*; do
    [ -f "$d/owner" ] && read -r pid < "$d/owner" 2>/dev/null || continue
    [[ $pid =~ ^[0-9]+$ ]] && [ ! -d "/proc/$pid" ] && rm -rf "$d"
  done
}

console() {  # [LINES]
  echo "----- guest console -----"
  if [ -n "${1:-}" ]; then tr -d '\r' < "$RUNDIR/console.log" | tail -n "$1"; else tr -d '\r' < "$RUNDIR/console.log"; fi
  echo "----- qemu -----"
  cat "$RUNDIR/qemu.log"
}

main() {
  local qrc rc started
  parse_args "$@"
  host_tools
  image
  sweep_run_dirs
  RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/husk-vm.XXXXXX") || die "mktemp failed"
  trap cleanup EXIT
  echo $$ > "$RUNDIR/owner"
  trap 'note "interrupted"; exit 130' INT
  trap 'note "hung up"; exit 129' HUP
  trap 'note "terminated"; exit 143' TERM
  prepare_run
  start_qemu
  started=$SECONDS
  wait "$QPID"; qrc=$?
  QPID=
  stop_streams
  [ "${HUSK_VM_VERBOSE:-0}" = 1 ] && console >&2
  if [ -s "$RUNDIR/guest/rc" ]; then
    rc=$(cat "$RUNDIR/guest/rc")
    [[ $rc =~ ^[0-9]+$ ]] && exit "$rc"
  fi
  # 124: timeout's TERM ended QEMU; 137: its KILL, 10 s later (not any SIGKILL, e.g. the OOM killer's)
  if [ "$qrc" = 124 ] || { [ "$qrc" = 137 ] && [ $((SECONDS - started)) -ge "$TIMEOUT" ]; }; then
    note "timed out after ${TIMEOUT}s; the end of the guest console:"
    console 15 >&2
    exit 124
  fi
  note "the VM failed: no exit status from the guest (QEMU exited $qrc)"
  console >&2
  exit 125
}

main "$@"
