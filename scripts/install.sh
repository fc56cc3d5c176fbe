#!/bin/bash
# scripts/install.sh [--prefix DIR] [--docker] [--containerd] [--podman] [--binary FILE]
#
# Installs husk (default: build/husk, built if missing) as DIR/bin/husk (default
# /usr/local) with its man page, and on request registers it with an engine:
#   --docker      adds "runtimes": {"husk": {"path": ...}} to /etc/docker/daemon.json
#                 (keeps the rest; a running dockerd is told with SIGHUP):
#                 then `docker run --runtime=husk ...`
#   --containerd  adds a "husk" runtime (runc shim, BinaryName = husk) for CRI clients to
#                 /etc/containerd/config.toml if it has none; `ctr run --runc-binary
#                 DIR/bin/husk ...` needs no configuration
#   --podman      adds husk to [engine.runtimes] and to runtime_supports_json in
#                 /etc/containers/containers.conf if absent: then `podman --runtime husk ...`
# Files are backed up as FILE.husk-backup before the first change. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=/usr/local BIN=build/husk DOCKER=0 CONTAINERD=0 PODMAN=0
ETC=${HUSK_INSTALL_ETC:-/etc}  # for trying it out on a copy
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) PREFIX=$2; shift 2 ;;
    --binary) BIN=$2; shift 2 ;;
    --docker) DOCKER=1; shift ;;
    --containerd) CONTAINERD=1; shift ;;
    --podman) PODMAN=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "install.sh: must run as root" >&2; exit 2; }
if [ ! -x "$BIN" ]; then
  [ "$BIN" = build/husk ] || { echo "install.sh: $BIN is not executable" >&2; exit 2; }
  scripts/deps.sh && scripts/build.sh
fi
DEST=$PREFIX/bin/husk
install -D -m 0755 "$BIN" "$DEST"
install -D -m 0644 man/husk.8 "$PREFIX/share/man/man8/husk.8"
echo "installed $DEST ($("$DEST" --version | head -1))"

backup() { [ -f "$1" ] && [ ! -f "$1.husk-backup" ] && cp -p "$1" "$1.husk-backup"; true; }

if [ $DOCKER = 1 ]; then
  command -v jq >/dev/null || { echo "install.sh: --docker needs jq" >&2; exit 2; }
  f=$ETC/docker/daemon.json
  mkdir -p $ETC/docker
  [ -s $f ] || echo '{}' > $f
  backup $f
  jq --arg p "$DEST" '.runtimes.husk = {"path": $p}' $f > $f.tmp && mv $f.tmp $f
  echo "docker: runtime husk -> $DEST in $f"
  if [ "$ETC" = /etc ] && pid=$(pgrep -xo dockerd); then kill -HUP "$pid" && echo "docker: dockerd ($pid) reloaded"; fi
fi

if [ $CONTAINERD = 1 ]; then
  f=$ETC/containerd/config.toml
  mkdir -p $ETC/containerd
  [ -f $f ] || containerd config default > $f 2>/dev/null || : > $f
  backup $f
  if grep -q 'runtimes.husk\]' $f; then
    echo "containerd: $f already has a husk runtime"
  else
    cat >> $f <<TOML

# added by husk's scripts/install.sh: the runc v2 shim running husk
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.husk]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.husk.options]
    BinaryName = "$DEST"
TOML
    echo "containerd: runtime husk added to $f (restart containerd to use it from CRI)"
  fi
fi

if [ $PODMAN = 1 ]; then
  f=$ETC/containers/containers.conf
  mkdir -p $ETC/containers
  touch $f
  backup $f
  if grep -q '^husk *=' $f; then
    echo "podman: $f already names husk"
  else
    # Keys go right under their table header (appended at the end they would land in
    # whatever table comes last).
    json='runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "husk"]'
    if ! grep -q '^\[engine\]' $f; then
      printf '\n# added by husk scripts/install.sh\n[engine]\n%s\n' "$json" >> $f
    elif ! grep -q '^runtime_supports_json' $f; then
      sed -i "/^\[engine\]/a $json" $f
    elif ! grep -q '^runtime_supports_json.*"husk"' $f; then
      sed -i 's/^\(runtime_supports_json *= *\[\)/\1"husk", /' $f
    fi
    if grep -q '^\[engine.runtimes\]' $f; then
      sed -i "/^\[engine.runtimes\]/a husk = [\"$DEST\"]" $f
    else
      printf '\n[engine.runtimes]\nhusk = ["%s"]\n' "$DEST" >> $f
    fi
    echo "podman: runtime husk -> $DEST in $f"
  fi
fi
