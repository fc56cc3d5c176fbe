#!/bin/bash
# Builds husk, its unit and integration tests with ASan+UBSan (dynamic, build-asan/) and runs
# them. The integration tests exec the husk they were built with (HUSK_BIN is compiled in),
# so the sanitized husk is the one under test. Every report (of the tests and of each husk
# process they start, the container's init included) goes to build-asan/reports/; the step
# fails on a test failure or on any report. Needs root for the integration tests.
# Usage: tests/sanitizers/run.sh [catch2 test spec for the integration tests]
set -uo pipefail
cd "$(dirname "$0")/../.."
B=build-asan
# -O1 with line tables only (-g1): ASan's advice, and half the compile time of -O2 -g (one
# file: 25 s against 53 s of CPU); reports still name file and line.
cmake -S . -B $B -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DHUSK_SANITIZE=ON >/dev/null || exit 1
cmake --build $B -j"$(nproc)" --target husk husk_unit_tests husk_integration_tests test_init >$B/build.log 2>&1 ||
  { tail -30 $B/build.log; echo "FAIL: sanitizer build"; exit 1; }
echo "== build: ${SECONDS}s"
R=$PWD/$B/reports
rm -rf "$R" && mkdir -p "$R"
# handle_segv=0: a container init under a seccomp profile that denies everything, exit_group
# included, can only die by the SIGSEGV of glibc's _exit fallback (as the release husk does);
# ASan's handler would catch it, fail to exit as well and spin (security_test.cpp, "seccomp
# ENOSYS"). Every instrumented check still reports; a plain SIGSEGV still fails its test.
export ASAN_OPTIONS="log_path=$R/asan:detect_leaks=1:abort_on_error=0:exitcode=99:handle_segv=0${HUSK_ASAN_EXTRA:+:$HUSK_ASAN_EXTRA}"
export UBSAN_OPTIONS="log_path=$R/ubsan:print_stacktrace=1:halt_on_error=1"
fail=0
echo "== unit"
$B/husk_unit_tests >$B/unit.log 2>&1 || { tail -20 $B/unit.log; echo "FAIL: unit tests"; fail=1; }
tail -2 $B/unit.log
echo "== integration (${SECONDS}s so far)"
$B/husk_integration_tests "$@" >$B/integration.log 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then tail -30 $B/integration.log; echo "FAIL: integration tests"; fail=1; fi
[ $rc -eq 77 ] && echo "SKIP: integration tests need root"
tail -2 $B/integration.log
echo "== done: ${SECONDS}s"
n=$(find "$R" -type f | wc -l)
if [ "$n" -ne 0 ]; then
  echo "FAIL: $n sanitizer report(s):"
  for f in $(find "$R" -type f | head -10); do echo "--- $f"; grep -m3 -E 'ERROR|runtime error|SUMMARY' "$f"; done
  fail=1
else
  echo "sanitizer reports: 0"
fi
[ $fail -eq 0 ] && echo "PASS: sanitizers" || echo "FAIL: sanitizers"
exit $fail
