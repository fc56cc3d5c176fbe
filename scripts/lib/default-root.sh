# Sourced by scripts whose husk calls use husk's default --root (/run/husk): podman passes
# no --root (tests/e2e/run.sh), nor does the OCI validation suite (conformance/run.sh).
# husk keeps its compiled-seccomp cache there (/run/husk/.seccomp). default_root_snapshot
# remembers what was there; default_root_restore removes what appeared since (cache
# entries, leftover state directories) and /run/husk itself when the run made it.
HUSK_DEFAULT_ROOT=${HUSK_DEFAULT_ROOT:-/run/husk}

default_root_snapshot() {
  DEFAULT_ROOT_EXISTED=0
  [ -d "$HUSK_DEFAULT_ROOT" ] && DEFAULT_ROOT_EXISTED=1
  DEFAULT_ROOT_BEFORE=" $(cd "$HUSK_DEFAULT_ROOT" 2>/dev/null && find . -mindepth 1 -maxdepth 2 | tr '\n' ' ') "
}

# What appeared under the default root since the snapshot (deepest first), one per line;
# the root itself when the run made it.
default_root_new() {
  [ -d "$HUSK_DEFAULT_ROOT" ] || return 0
  local p
  for p in $(cd "$HUSK_DEFAULT_ROOT" && find . -mindepth 1 -maxdepth 2 | sort -r); do
    case "$DEFAULT_ROOT_BEFORE" in *" $p "*) ;; *) echo "$HUSK_DEFAULT_ROOT/${p#./}" ;; esac
  done
  [ "${DEFAULT_ROOT_EXISTED:-1}" = 1 ] || echo "$HUSK_DEFAULT_ROOT"
}

default_root_restore() {
  local p
  for p in $(default_root_new); do
    if [ "$p" = "$HUSK_DEFAULT_ROOT" ]; then rmdir "$p" 2>/dev/null || true; else rm -rf "$p"; fi
  done
}
