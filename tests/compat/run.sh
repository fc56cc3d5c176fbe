#!/bin/bash
# Differential test against runc: tests/compat/run.sh [HUSK] [-k REGEX] [-v]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
husk="${1:-$here/../../build/husk}"
[ $# -gt 0 ] && shift
export RT
exec /usr/bin/python3 "$here/compat.py" "$husk" "$@"
