#!/bin/bash
# Builds the libFuzzer targets (clang, ASan+UBSan, build-fuzz/) and runs each for SECONDS
# (default 60) from the committed seed corpus tests/fuzz/corpus/<target>/. New inputs go to
# a scratch directory, not the committed corpus. Fails if any target crashes, leaks, times
# out or runs out of memory; the reproducer is kept in build-fuzz/artifacts/.
# Longer runs: tests/fuzz/run.sh 600 (the acceptance figure is 10 minutes per target).
# Only some targets: FUZZ_TARGETS="config state" tests/fuzz/run.sh 30
set -uo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${1:-60}
TARGETS=${FUZZ_TARGETS:-"config state seccomp resources cli"}
CC_=${FUZZ_CC:-clang-14}
CXX_=${FUZZ_CXX:-clang++-14}
B=build-fuzz
if ! command -v "$CXX_" >/dev/null; then
  echo "FAIL: $CXX_ not found (Debian: apt-get install clang-14 libclang-rt-14-dev)"
  exit 1
fi
CC=$CC_ CXX=$CXX_ cmake -S . -B $B -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUSK_FUZZ=ON -DHUSK_TESTS=OFF >/dev/null || exit 1
build_targets=()
for t in $TARGETS; do build_targets+=(--target "fuzz_$t"); done
cmake --build $B -j"$(nproc)" "${build_targets[@]}" >$B/build.log 2>&1 || { tail -30 $B/build.log; echo "FAIL: fuzz build"; exit 1; }
mkdir -p $B/artifacts
pass=0 fail=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in $TARGETS; do
  work=$(mktemp -d "${TMPDIR:-/tmp}/husk-fuzz-$t.XXXXXX")
  log=$B/fuzz_$t.log
  "$B/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=2560 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  rm -rf "$work"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    echo "PASS fuzz_$t: ${runs:-?} runs in ${SECONDS_PER_TARGET}s, ${eps:-?} exec/s, ${cov:-cov: ?}"
    pass=$((pass + 1))
  else
    echo "FAIL fuzz_$t (exit $rc): see $log and $B/artifacts/$t-*"
    grep -m5 -E 'ERROR|runtime error|SUMMARY' "$log"
    fail=$((fail + 1))
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
