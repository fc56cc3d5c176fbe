# tests/rootless/image.sh: sourced. The rootless tests' image is the shared busybox image
# (tests/lib/busybox-image.sh), its layer all root's (the user's podman maps it).
#   make_rootfs DIR             a busybox root filesystem
#   make_archive DIR TAG ARCHIVE  a docker-archive of DIR tagged TAG (`podman load -i`)
. "$(dirname "${BASH_SOURCE[0]}")/../lib/busybox-image.sh"

make_rootfs() { busybox_rootfs "$1"; }
make_archive() { busybox_archive "$1" "$2" "$3" --root-owned; }
