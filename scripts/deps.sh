#!/bin/bash
# Installs what husk needs to build and test, from Debian 12's archive. Idempotent.
#   scripts/deps.sh          build and test dependencies
#   scripts/deps.sh --e2e    also the engines of the end-to-end tests (tests/e2e/run.sh)
#   scripts/deps.sh --bench  also crun, runc and python3-matplotlib (scripts/bench.sh)
#   scripts/deps.sh --conformance  also Go and git (conformance/build-suite.sh) and jq
#   scripts/deps.sh --vm     also QEMU and what tests/vm/run.sh builds its guest with (and jq)
#   scripts/deps.sh --cri    also containerd, CNI plugins and Debian's gRPC for tests/cri
#   scripts/deps.sh --rootless  also what tests/rootless needs (a test user's newuidmap and
#                            newgidmap, rootless podman, useradd, setpriv; runc and crun
#                            for its benchmark)
# Options combine: scripts/deps.sh --e2e --conformance.
set -euo pipefail
# runc and python3: the reference and the driver of tests/compat (the `compat` step).
# strace: the syscall faults of the `faults` step (tests/faults/syscalls.sh); jq: the
# bundles of the faults, concurrency and soak steps (tests/lib/harness.sh).
PKGS=(g++ cmake make lld libdbus-1-dev clang-14 libclang-rt-14-dev pkg-config file libseccomp-dev libcap-dev nlohmann-json3-dev libcli11-dev libfmt-dev catch2 busybox-static man-db groff-base util-linux time procps iproute2 runc python3 universal-ctags strace jq)
for opt in "$@"; do
  case $opt in
    --e2e) PKGS+=(docker.io containerd podman conmon runc crun skopeo umoci jq iproute2 bsdutils util-linux) ;;
    --bench) PKGS+=(runc crun python3 python3-matplotlib time) ;;
    --conformance) PKGS+=(golang-go git tar gzip jq coreutils) ;;
    --vm) PKGS+=(qemu-system-x86 kmod xz-utils systemd dbus dbus-user-session passwd jq) ;;
    --cri) PKGS+=(containerd runc containernetworking-plugins protobuf-compiler python3-grpcio python3-protobuf iproute2) ;;
    --rootless) PKGS+=(uidmap podman conmon runc crun passwd util-linux procps jq busybox-static file tar coreutils) ;;
    *) echo "deps: unknown option $opt (--e2e, --bench, --conformance, --vm, --cri, --rootless)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
