#!/bin/bash
# Installs, builds and runs every test: unit tests (no root) and integration tests (root;
# real containers). Then checks that the machine is clean: no mount, state dir, cgroup or
# process left by the tests. Prints "N passed, M failed" last.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1
scripts/build.sh || exit 1

# Tests must leave husk's default --root as they found it (podman and the validation
# suite use it): remember what is there now.
. scripts/lib/default-root.sh
default_root_snapshot

passed=0 failed=0
step() {  # step NAME CMD...
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); echo "PASS $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}

step unit build/husk_unit_tests
step docs tests/docs/man_test.sh build/husk
if [ "$(id -u)" = 0 ]; then
  step integration build/husk_integration_tests
  # The runtime-spec's MUST statements, one test each (conformance/*_test.cpp).
  step conformance-spec build/husk_conformance_tests
else
  echo "SKIP integration, conformance-spec (need root)"
fi

# The same integration tests on pure cgroup v2, in a throw-away VM (../shared/tools/v2vm;
# it apt-installs qemu on first use). Skipped when the tool is not there.
V2VM=${HUSK_V2VM:-}
for cand in ../shared/tools/v2vm/run-in-v2vm.sh /work/shared/tools/v2vm/run-in-v2vm.sh; do
  [ -z "$V2VM" ] && [ -x "$cand" ] && V2VM=$cand
done
V2VM=${V2VM:-../shared/tools/v2vm/run-in-v2vm.sh}
# Each finished test prints its duration, so a run the VM's timeout ends names where it stopped.
if [ "$(id -u)" = 0 ] && [ -x "$V2VM" ] && [ "${HUSK_SKIP_V2VM:-0}" != 1 ]; then
  step integration-cgroup-v2 env V2VM_TIMEOUT=1500 "$V2VM" --share "$PWD" -- "$PWD/build/husk_integration_tests" --durations yes
  step conformance-spec-cgroup-v2 env V2VM_TIMEOUT=900 "$V2VM" --share "$PWD" -- "$PWD/build/husk_conformance_tests" --durations yes
else
  echo "SKIP integration-cgroup-v2 (needs root and $V2VM; HUSK_SKIP_V2VM=1 skips it)"
fi

# husk under dockerd, containerd and podman (tests/e2e/run.sh): the engines are installed
# from Debian and started offline with private roots, then stopped and removed.
E2E_TOOL=${HUSK_E2E_TOOLS:-}
for cand in ../shared/tools/e2e /work/shared/tools/e2e; do
  [ -z "$E2E_TOOL" ] && [ -x "$cand/setup-engines.sh" ] && E2E_TOOL=$(cd "$cand" && pwd)
done
if [ "$(id -u)" = 0 ] && [ -n "$E2E_TOOL" ] && [ "${HUSK_SKIP_E2E:-0}" != 1 ]; then
  if scripts/deps.sh --e2e; then
    step e2e-engines env HUSK_E2E_TOOLS="$E2E_TOOL" tests/e2e/run.sh build/husk
  else
    step e2e-engines false
  fi
else
  echo "SKIP e2e-engines (needs root and the e2e tools of ../shared/tools/e2e; HUSK_SKIP_E2E=1 skips it)"
fi

# The benchmark itself works (a quick run: husk, crun and runc, every scenario, the chart).
if [ "$(id -u)" = 0 ] && [ "${HUSK_SKIP_BENCH:-0}" != 1 ]; then
  step bench-smoke scripts/bench.sh -q -o build/bench-smoke
else
  echo "SKIP bench-smoke (needs root; HUSK_SKIP_BENCH=1 skips it)"
fi

clean_check() {
  local bad=0
  if findmnt -rn -o TARGET | grep -E 'husk-bundle|husk-it|husk-demo' ; then echo "left: mounts"; bad=1; fi
  if ls -d /sys/fs/cgroup/*/husk-test /sys/fs/cgroup/*/husk-test/* 2>/dev/null | grep -q .; then
    echo "left: cgroups under /husk-test"; bad=1
  fi
  if ls -d /tmp/husk-bundle-* /tmp/husk-it-* 2>/dev/null | grep -q .; then echo "left: temp dirs"; bad=1; fi
  if [ -n "$(default_root_new)" ]; then echo "left: in $HUSK_DEFAULT_ROOT:"; default_root_new; bad=1; fi
  if pgrep -f '/bin/test_init' >/dev/null; then echo "left: test_init processes"; bad=1; fi
  if [ -e /tmp/husk-e2e ]; then echo "left: e2e engine state"; bad=1; fi
  if ls -d /tmp/husk-bench.* /sys/fs/cgroup/*/husk-bench 2>/dev/null | grep -q .; then echo "left: bench"; bad=1; fi
  if ip link show docker0 >/dev/null 2>&1 && ! pgrep -x dockerd >/dev/null; then echo "left: docker0"; bad=1; fi
  if pgrep -f /tmp/husk-e2e >/dev/null; then echo "left: e2e engine processes"; bad=1; fi
  return $bad
}
step clean-machine clean_check

echo "husk tests: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
