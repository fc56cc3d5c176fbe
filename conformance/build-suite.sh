#!/bin/bash
# conformance/build-suite.sh SRC_DIR OUT_DIR
#
# Builds the opencontainers/runtime-tools validation suite that conformance/run.sh runs:
# SRC_DIR is a git checkout of https://github.com/opencontainers/runtime-tools at the pinned
# commit 260e151 (the last one whose go.mod asks for no Go newer than Debian 12's 1.19):
#
#   git clone https://github.com/opencontainers/runtime-tools
#   git -C runtime-tools checkout 260e151b8552afa2678ef6d41820ea0f31cd8be1
#   conformance/build-suite.sh runtime-tools /var/tmp/validation
#
# OUT_DIR receives the 58 test binaries (NAME.t), the static `runtimetest` that the tests copy
# into each bundle, and rootfs-amd64.tar.gz, the bundle's root filesystem (Debian's
# busybox-static with every applet linked in /bin). The build is offline: Debian's Go
# (golang-go, installed by scripts/deps.sh --conformance) with the checkout's vendor/
# directory, GOPROXY=off, and a throw-away GOCACHE/GOPATH. Keep SRC_DIR and OUT_DIR outside
# this repository: the suite's code and binaries are not ours and are never committed.
set -euo pipefail
PIN=260e151b8552afa2678ef6d41820ea0f31cd8be1
TESTS_EXPECTED=58
die() { echo "build-suite: $*" >&2; exit 1; }
[ $# = 2 ] || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(realpath -e "$1") || die "no source directory at $1"
OUT=$2

# The pinned commit, and nothing changed in the tracked files.
command -v git >/dev/null || die "git is missing (apt-get install git)"
head=$(git -C "$SRC" rev-parse --verify -q HEAD 2>/dev/null) ||
  die "$SRC is not a git checkout of runtime-tools (clone it, then: git checkout $PIN)"
[ "$head" = "$PIN" ] ||
  die "$SRC is at commit $head, not the pinned $PIN (git -C $SRC checkout ${PIN:0:7})"
[ -z "$(git -C "$SRC" status --porcelain --untracked-files=no)" ] ||
  die "$SRC has local changes to tracked files (git -C $SRC status)"
[ -d "$SRC/vendor" ] && [ -d "$SRC/validation" ] && [ -d "$SRC/cmd/runtimetest" ] ||
  die "$SRC has no vendor/, validation/ or cmd/runtimetest/: not runtime-tools"

"$HERE/../scripts/deps.sh" --conformance || die "could not install the build dependencies"
command -v go >/dev/null || die "go is missing after scripts/deps.sh --conformance"
BUSYBOX=/bin/busybox
file -L "$BUSYBOX" | grep -q 'statically linked' || die "$BUSYBOX is not Debian's static busybox (busybox-static)"
case "$(uname -m)" in
  x86_64) GOARCH_NAME=amd64 ;;
  aarch64) GOARCH_NAME=arm64 ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac

mkdir -p "$OUT"
OUT=$(realpath -e "$OUT")
TMP=$(mktemp -d /tmp/husk-build-suite.XXXXXX)
trap 'chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT

export GOPROXY=off GOFLAGS=-mod=vendor GOTOOLCHAIN=local GOSUMDB=off GOWORK=off
export GOCACHE=$TMP/gocache GOPATH=$TMP/gopath GOMODCACHE=$TMP/gopath/pkg/mod
echo "build-suite: $(go version), runtime-tools $PIN, into $OUT"

# The test programs: validation/NAME/NAME.go, one main package each (util/ is their library).
mapfile -t names < <(cd "$SRC/validation" && for d in */; do
  d=${d%/}; [ -f "$d/$d.go" ] && echo "$d"; done | LC_ALL=C sort)
[ ${#names[@]} = "$TESTS_EXPECTED" ] ||
  die "found ${#names[@]} test programs under $SRC/validation, expected $TESTS_EXPECTED"
version=$(cat "$SRC/VERSION")
ldflags="-X main.gitCommit=${PIN:0:7} -X main.version=$version"
pkgs=()
for n in "${names[@]}"; do pkgs+=("./validation/$n"); done
# One go invocation builds every program (shared compilation of the libraries); with -o
# naming a directory, each main package is written there under its directory's name.
mkdir -p "$TMP/bin"
(cd "$SRC" && go build -ldflags "$ldflags" -o "$TMP/bin/" "${pkgs[@]}")
# runtimetest runs inside the bundles, which have no libc: fully static.
(cd "$SRC" && CGO_ENABLED=0 go build -tags "netgo osusergo" -ldflags "$ldflags" \
  -o "$TMP/bin/runtimetest.bin" ./cmd/runtimetest)
file "$TMP/bin/runtimetest.bin" | grep -q 'statically linked' || die "runtimetest is not static"

# The rootfs: the suite untars rootfs-<goarch>.tar.gz into each bundle (config root "."),
# runs busybox applets in it (sh, true, ls, sleep, cat) and, for the hooks, runs the
# bundle's /bin/sh on the host. proc, sys and dev are the mount points the default spec uses.
R=$TMP/rootfs
mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/etc"
cp "$BUSYBOX" "$R/bin/busybox"
for a in $("$BUSYBOX" --list); do
  [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"
done
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' > "$R/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' > "$R/etc/group"
chmod 755 "$R" "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/etc"
tar -C "$R" --numeric-owner --owner=0 --group=0 -czf "$TMP/rootfs.tar.gz" .

# Install: replace what a previous build left, nothing else in OUT_DIR.
for n in "${names[@]}"; do
  [ -x "$TMP/bin/$n" ] || die "go build wrote no $n"
  install -m 755 "$TMP/bin/$n" "$OUT/$n.t"
done
install -m 755 "$TMP/bin/runtimetest.bin" "$OUT/runtimetest"
install -m 644 "$TMP/rootfs.tar.gz" "$OUT/rootfs-$GOARCH_NAME.tar.gz"
count=$(find "$OUT" -maxdepth 1 -name '*.t' -type f -perm -u+x | wc -l)
echo "build-suite: $count test binaries, runtimetest, rootfs-$GOARCH_NAME.tar.gz in $OUT"
[ "$count" -ge "$TESTS_EXPECTED" ] || die "only $count test binaries in $OUT"
