#!/bin/bash
# Everything the `e2e-systemd` step checks, run inside the `tests/vm/run.sh --systemd` guest
# (systemd as PID 1, pure cgroup v2, the system D-Bus):
#   tests/systemd/guest.sh BUILD_DIR [PART]...   (BUILD_DIR: holds husk and husk_systemd_probe)
# 1. guest_check.sh: the D-Bus client alone (husk_systemd_probe);
# 2. driver.sh: husk with --systemd-cgroup;
# 3. rootless.sh: husk with --systemd-cgroup as an unprivileged user (the user's systemd);
# 4. engines.sh: docker, containerd and podman in their systemd modes running husk.
# 5. hybrid.sh: husk beside runc on a v1/hybrid host (the `--cgroup hybrid` guest only; the
#    pure v2 parts above need that guest's default `--cgroup v2`).
# PARTs (d-bus-client, husk-driver, husk-driver-rootless, engines, husk-driver-hybrid) run
# only those; with no PART every part but husk-driver-hybrid runs.
# Exit status 0 iff every part passed; a part that cannot run here fails (no skip: this
# script only runs in the guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$(realpath "${1:?usage: guest.sh BUILD_DIR [PART]...}")
shift
ONLY=("$@")
[ -d /run/systemd/system ] || { echo "FAIL: systemd is not PID 1 here (run in tests/vm/run.sh --systemd)"; exit 1; }
failed=()
part() { # part NAME CMD...
  local name=$1
  shift
  if { [ ${#ONLY[@]} -gt 0 ] && [[ " ${ONLY[*]} " != *" $name "* ]]; } ||
     { [ ${#ONLY[@]} = 0 ] && [ "$name" = husk-driver-hybrid ]; }; then
    echo "== $name: not selected"
    return
  fi
  echo "== $name"
  "$@"
  local rc=$?
  if [ $rc -eq 0 ]; then echo "PASS $name"; else echo "FAIL $name (exit $rc)"; failed+=("$name"); fi
}
echo "systemd $(systemctl --version | head -1 | awk '{print $2}'), kernel $(uname -r)"
part d-bus-client "$HERE/guest_check.sh" "$BUILD/husk_systemd_probe"
part husk-driver "$HERE/driver.sh" "$BUILD/husk"
part husk-driver-rootless "$HERE/rootless.sh" "$BUILD/husk"
part engines "$HERE/engines.sh" "$BUILD/husk"
part husk-driver-hybrid "$HERE/hybrid.sh" "$BUILD/husk"
[ ${#failed[@]} -eq 0 ] && echo "systemd guest: all passed" || echo "systemd guest: failed: ${failed[*]}"
[ ${#failed[@]} -eq 0 ]
