#!/bin/bash
# scripts/layout/check-order.sh [HUSK]: every entry of scripts/layout/husk.order names a
# symbol of the linked binary (default build/husk). A stale entry (a function renamed or
# removed since the order was traced) is printed and the exit status is 1: rerun
# scripts/layout/gen-order.sh, or drop the entry. The link itself runs with
# --no-warn-symbol-ordering, because ld.lld also warns, once per object file, about entries
# that are merely discarded COMDAT copies there: hundreds of lines that say nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
HUSK=${1:-build/husk}
[ -x "$HUSK" ] || { echo "check-order: no binary at $HUSK" >&2; exit 2; }
syms=$(mktemp) ord=$(mktemp)
trap 'rm -f "$syms" "$ord"' EXIT
nm "$HUSK" | awk '{ print $NF }' | sort -u > "$syms"
grep -v -e '^#' -e '^$' scripts/layout/husk.order | sort -u > "$ord"
stale=$(comm -23 "$ord" "$syms")
if [ -n "$stale" ]; then
  echo "check-order: $(wc -l <<<"$stale") entries of scripts/layout/husk.order name no symbol of $HUSK:"
  sed 's/^/  /' <<<"$stale"
  exit 1
fi
echo "check-order: all $(wc -l < "$ord") entries of scripts/layout/husk.order are symbols of $HUSK"
