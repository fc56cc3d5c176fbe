#!/bin/bash
# scripts/test.sh [STEP...]      run every step, or only the steps named
# scripts/test.sh --list         print the step names, one a line
#
# Installs what the tests need (scripts/deps.sh), builds, and runs the steps in the order of
# the table below; prints "PASS name (N s)" or "FAIL name (N s)" for each; then, for each
# failed step, the lines of its log that say why (each step's log: build/test-logs/NAME.log),
# the step times and "N passed, M failed" last.
# Exit status 0 iff no step failed. A step that needs root prints "SKIP name (needs root)"
# for another user; no step is skipped for anything else: a missing tool is installed, and
# if that fails the step fails.
#
# Adding a step: a line in STEPS (name, who may run it, function) and the function. The
# function runs from the repository's root and returns the step's status.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

# name                         needs  function
STEPS='
unit                           any    step_unit
docs                           any    step_docs
layout-order                   any    step_layout_order
integration                    root   step_integration
conformance-spec               root   step_conformance_spec
compat                         root   step_compat
integration-cgroup-v2          root   step_integration_cgroup_v2
conformance-spec-cgroup-v2     root   step_conformance_spec_cgroup_v2
e2e-engines                    root   step_e2e_engines
e2e-cri                        root   step_e2e_cri
e2e-systemd                    root   step_e2e_systemd
e2e-cri-systemd                root   step_e2e_cri_systemd
rootless                       root   step_rootless
fuzz-smoke                     any    step_fuzz_smoke
sanitizers                     root   step_sanitizers
faults                         root   step_faults
concurrency                    root   step_concurrency
soak                           root   step_soak
bench-smoke                    root   step_bench_smoke
clean-machine                  any    step_clean_machine
'

# ------------------------------------------------------------------------------- steps
step_unit() { build/husk_unit_tests; }
step_docs() { tests/docs/man_test.sh build/husk; }
# Every entry of the hot-code order names a symbol of the binary (a stale one is reported),
# and the sources keep the guide's sizes: files under 800 lines, functions under 120.
step_layout_order() {
  local rc=0
  scripts/layout/check-order.sh build/husk || rc=1
  scripts/layout/check-size.sh || rc=1
  return $rc
}
step_integration() { build/husk_integration_tests; }
# The runtime-spec's MUST statements, one test each (conformance/*_test.cpp).
step_conformance_spec() { build/husk_conformance_tests; }

# husk beside runc 1.1.5 on the same bundles and commands (tests/compat): what a user can
# observe must match, but for the documented allow-list; pending classes are printed.
step_compat() { tests/compat/run.sh build/husk; }

# The same tests on a pure cgroup v2 hierarchy, in a throw-away VM (tests/vm/run.sh). Each
# finished test prints its duration, so a run the VM's timeout ends names where it stopped.
vm() {
  [ -x tests/vm/run.sh ] || { echo "tests/vm/run.sh is missing"; return 1; }
  scripts/deps.sh --vm || return 1
  tests/vm/run.sh --share "$PWD" "$@"
}
step_integration_cgroup_v2() {
  vm --timeout 1500 -- "$PWD/build/husk_integration_tests" --durations yes
}
step_conformance_spec_cgroup_v2() {
  vm --timeout 900 -- "$PWD/build/husk_conformance_tests" --durations yes
}

# husk under dockerd, containerd and podman, started offline with private roots
# (tests/e2e/engines.sh), then stopped and removed.
step_e2e_engines() { scripts/deps.sh --e2e && tests/e2e/run.sh build/husk; }

# Kubernetes' node path: containerd's CRI service runs pods with runc, then husk, as the
# runtime handler; our own CRI client (tests/cri) checks what the kubelet relies on.
# Then the speed line: pod start (RunPodSandbox + CreateContainer + StartContainer), husk and
# runc interleaved, 20 rounds: husk's median must not be above runc's (tests/cri/bench.sh).
step_e2e_cri() {
  scripts/deps.sh --cri && tests/cri/run.sh build/husk --handler runc --handler husk &&
    tests/cri/bench.sh build/husk -n 20 -r 1
}

# The systemd cgroup driver (--systemd-cgroup) against systemd as PID 1: a throw-away VM
# guest booting systemd on pure cgroup v2 (tests/vm/run.sh --systemd) runs
# tests/systemd/guest.sh: the D-Bus client alone, husk's lifecycle through the driver, then
# docker, containerd and podman in their systemd modes with husk (the host's engines); its
# rootless part runs in the `rootless` step. Then a second guest on a v1/hybrid systemd
# (--cgroup hybrid) runs husk beside runc (tests/systemd/hybrid.sh, about 2.5 minutes).
step_e2e_systemd() {
  scripts/deps.sh --e2e || return 1
  local rc=0
  vm --systemd --mem 3072 --timeout 1800 -- "$PWD/tests/systemd/guest.sh" "$PWD/build" \
    d-bus-client husk-driver engines || rc=1
  vm --systemd --cgroup hybrid --mem 3072 --timeout 600 -- "$PWD/tests/systemd/guest.sh" "$PWD/build" \
    husk-driver-hybrid || rc=1
  return $rc
}

# The same pod lifecycle with containerd's `SystemdCgroup = true` in the systemd guest: each
# pod a kubepods-besteffort-pod<uid>.slice, each container a cri-containerd-<id>.scope in it,
# both listed and active in systemd while the pod runs and gone once it is removed.
step_e2e_cri_systemd() {
  scripts/deps.sh --cri || return 1
  vm --systemd --mem 3072 --timeout 2400 -- /usr/bin/env HUSK_CRI_CGROUP_DRIVER=systemd \
    "$PWD/tests/cri/run.sh" "$PWD/build/husk" --handler runc --handler husk
}

# Rootless husk as a dedicated unprivileged user that the test creates and removes
# (tests/rootless/run.sh): direct run/exec/kill/delete with single and newuidmap ranges,
# bad input refused naming the field, rootless podman with husk as its runtime; then the
# speed line: rootless `run` of /bin/true beside runc and crun, husk <= 0.5x crun's median.
# The pure cgroup v2 guest runs the direct checks again, with a delegated cgroup subtree;
# the systemd guest runs `--systemd-cgroup` as that user through the user's systemd
# (tests/systemd/rootless.sh: a lingering user, a delegated scope, memory.max inside).
step_rootless() {
  scripts/deps.sh --rootless && tests/rootless/run.sh build/husk &&
    vm --timeout 900 -- "$PWD/tests/rootless/run.sh" --skip-podman "$PWD/build/husk" &&
    vm --systemd --mem 2048 --timeout 900 -- "$PWD/tests/systemd/guest.sh" "$PWD/build" husk-driver-rootless &&
    tests/rootless/bench.sh -n 30 -r 0.5 build/husk
}

# libFuzzer targets (config, state file, seccomp profile, update --resources, CLI), 30 s
# each from the committed corpus (HUSK_FUZZ_SECONDS overrides: CI keeps the run under an hour); any crash fails.
step_fuzz_smoke() { tests/fuzz/run.sh "${HUSK_FUZZ_SECONDS:-30}"; }

# husk SIGKILLed at every fault point of create/run/exec/delete (HUSK_FAULT_KILL) and at
# 0-30 ms into create and run: delete --force then leaves nothing (docs/reliability.md).
step_faults() { tests/faults/run.sh build/husk; }
# Races on one id (create/delete, 8 creates, kill/delete/state) and 20 parallel runs:
# success or one error line each, nothing lost or left (tests/concurrency/run.sh).
step_concurrency() { tests/concurrency/run.sh build/husk; }
# 2,000 create/start/delete --force cycles (half with a seccomp profile): the caller's fds
# and RSS, the state root (its seccomp cache included), cgroups, mounts and processes
# measured before and after must not grow (tests/soak/run.sh).
step_soak() { tests/soak/run.sh build/husk; }

# The unit and integration tests with an ASan+UBSan husk (tests/sanitizers/run.sh, its own
# dynamic build in build-asan/): fails on a test failure or on any sanitizer report.
step_sanitizers() { tests/sanitizers/run.sh; }

# The benchmark itself works (a quick run: husk, crun and runc, every scenario, the chart).
step_bench_smoke() { scripts/bench.sh -q -o build/bench-smoke; }

# Nothing the steps made is left: mounts, state, cgroups, processes, engines, interfaces.
# (A glob test, not `ls A B | grep`: under pipefail ls's status for an unmatched pattern
# failed that pipeline whatever the other pattern found, so a leftover went unreported.)
exists_any() {
  local p f
  for p in "$@"; do for f in $p; do [ -e "$f" ] && return 0; done; done
  return 1
}
step_clean_machine() {
  local bad=0
  if findmnt -rn -o TARGET | grep -E 'husk-bundle|husk-it|husk-demo|husk-e2e|husk-validation'; then
    echo "left: mounts"; bad=1
  fi
  if exists_any '/sys/fs/cgroup/*/husk-test'; then
    echo "left: cgroups under /husk-test"; bad=1
  fi
  if exists_any '/tmp/husk-bundle-*' '/tmp/husk-it-*'; then echo "left: temp dirs"; bad=1; fi
  if [ -n "$(default_root_new)" ]; then echo "left: in $HUSK_DEFAULT_ROOT:"; default_root_new; bad=1; fi
  if pgrep -f '/bin/test_init' >/dev/null; then echo "left: test_init processes"; bad=1; fi
  if [ -e /tmp/husk-e2e ]; then echo "left: e2e engine state"; bad=1; fi
  if exists_any '/tmp/husk-bench.*' '/sys/fs/cgroup/*/husk-bench'; then echo "left: bench"; bad=1; fi
  if ip link show husk-e2e0 >/dev/null 2>&1; then echo "left: the e2e bridge husk-e2e0"; bad=1; fi
  if ip link show docker0 >/dev/null 2>&1 && ! pgrep -x dockerd >/dev/null; then echo "left: docker0"; bad=1; fi
  if pgrep -f /tmp/husk-e2e >/dev/null; then echo "left: e2e engine processes"; bad=1; fi
  if [ -e /tmp/husk-cri ] || ip netns list 2>/dev/null | grep -qw husk-cri ||
     exists_any '/sys/fs/cgroup/*/husk-cri'; then echo "left: cri"; bad=1; fi
  if exists_any '/sys/fs/cgroup/*/husk-compat'; then echo "left: compat cgroups"; bad=1; fi
  if exists_any '/tmp/husk-fuzz-*'; then echo "left: fuzz scratch dirs"; bad=1; fi
  if exists_any '/tmp/husk-faults-*' '/tmp/husk-conc-*' '/tmp/husk-soak-*'; then
    echo "left: faults/concurrency/soak dirs"; bad=1
  fi
  if grep -q '^husk-rl' /etc/passwd /etc/subuid /etc/subgid 2>/dev/null || exists_any '/tmp/husk-rl*'; then
    echo "left: rootless test users or homes (husk-rl*)"; bad=1
  fi
  return $bad
}

# -------------------------------------------------------------------------------- main
step_names() { awk 'NF { print $1 }' <<<"$STEPS"; }
step_field() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' <<<"$STEPS"; }

if [ "${1:-}" = --list ]; then step_names; exit 0; fi
case ${1:-} in -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
WANT=()
for a in "$@"; do
  [ -n "$(step_field "$a" 1)" ] || { echo "test.sh: unknown step '$a' (scripts/test.sh --list)" >&2; exit 2; }
  WANT+=("$a")
done
[ ${#WANT[@]} -gt 0 ] || mapfile -t WANT < <(step_names)

scripts/deps.sh || exit 1
scripts/build.sh || exit 1

# Tests must leave husk's default --root as they found it (podman and the validation
# suite use it): remember what is there now.
. scripts/lib/default-root.sh
default_root_snapshot
# Each step's whole output is kept in build/test-logs/STEP.log; a failed step's reasons
# (scripts/lib/why-failed.sh) are printed again at the end, where a truncated log still shows them.
. scripts/lib/why-failed.sh
LOGS=build/test-logs
rm -rf "$LOGS" && mkdir -p "$LOGS"

passed=0 failed=0 failed_names=() times=()
for name in $(step_names); do   # the table's order, whatever the order of the arguments
  [[ " ${WANT[*]} " == *" $name "* ]] || continue
  if [ "$(step_field "$name" 2)" = root ] && [ "$(id -u)" != 0 ]; then
    echo "SKIP $name (needs root)"
    continue
  fi
  echo "== $name"
  t0=$SECONDS
  if "$(step_field "$name" 3)" 2>&1 | tee "$LOGS/$name.log"; then
    passed=$((passed + 1)); echo "PASS $name ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "FAIL $name ($((SECONDS - t0)) s)"
  fi
  times+=("$name $((SECONDS - t0))s")
done

for name in "${failed_names[@]}"; do
  echo "husk tests: why $name failed (all of it: $LOGS/$name.log):"
  why_failed "$LOGS/$name.log"
done
echo "husk tests: step times: ${times[*]}; total ${SECONDS}s"
[ $failed = 0 ] || echo "husk tests: failed: ${failed_names[*]}"
echo "husk tests: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
