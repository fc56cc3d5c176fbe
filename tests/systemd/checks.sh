# Sourced by tests/systemd/{guest_check,driver,rootless,engines}.sh: one line per check,
# `ok`/`bad`/`check NAME EXPECTED ACTUAL`, failures counted in $fails.
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then ok "$1 = $3"; else bad "$1: expected '$2', got '$3'"; fi
}
