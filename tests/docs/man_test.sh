#!/bin/bash
# tests/docs/man_test.sh HUSK [MANDIR]
#
# Documentation coverage: every command `husk --help` lists has man/husk-COMMAND.8 (an
# alias such as `ls` must be named in its page), every flag of every command (from
# `husk COMMAND --help`) and every global flag appears in the pages, and `man -l` renders
# each page without a warning. A flag added to the CLI without documentation fails here.
set -uo pipefail
HUSK=${1:?usage: man_test.sh HUSK [MANDIR]}
MANDIR=${2:-$(cd "$(dirname "$0")/../../man" && pwd)}
fail=0
bad() { echo "man: $*"; fail=1; }

# roff spells a flag with escaped dashes: --pid-file -> \-\-pid\-file
roff() { printf '%s' "$1" | sed 's/-/\\-/g'; }
# The flags of a --help text: "-b,--bundle TEXT  ..." -> -b --bundle
flags_of() {
  sed -n '/^Options:/,/^[A-Z][a-z]*:$/p' | grep -E '^\s+-' | awk '{print $1}' | tr ',' '\n' |
    grep -E '^-' | grep -vxE -- '-h|--help'
}
has() {  # has PAGE FLAG: the whole flag (--all is not found in --allow)
  grep -qP -- "\\Q$(roff "$2")\\E(?![a-z0-9]|\\\\-[a-z])" "$1"
}

top=$("$HUSK" --help) || { bad "husk --help failed"; exit 1; }
[ -f "$MANDIR/husk.8" ] || bad "missing $MANDIR/husk.8"
for f in $(printf '%s\n' "$top" | flags_of); do
  [ "$f" = -v ] || [ "$f" = --version ] || has "$MANDIR/husk.8" "$f" || bad "husk.8: global flag $f is not documented"
done
has "$MANDIR/husk.8" --version || bad "husk.8: --version is not documented"

cmds=0
while read -r line; do
  names=$(printf '%s' "$line" | sed -E 's/^ +//; s/  .*$//')
  cmd=${names%%,*}
  [ -n "$cmd" ] || continue
  cmds=$((cmds + 1))
  page=$MANDIR/husk-$cmd.8
  if [ ! -f "$page" ]; then bad "no page for command $cmd ($page)"; continue; fi
  grep -qF "$(roff "husk-$cmd")" "$page" || bad "husk-$cmd.8: NAME does not say husk-$cmd"
  grep -q '^\.SH EXAMPLES' "$page" || bad "husk-$cmd.8: no EXAMPLES section"
  for alias in $(printf '%s' "$names" | tr ',' ' '); do
    grep -qw -- "$alias" "$page" || bad "husk-$cmd.8: alias $alias is not named"
  done
  grep -qF "husk\\-$cmd" "$MANDIR/husk.8" || bad "husk.8 does not point to husk-$cmd(8)"
  for f in $("$HUSK" "$cmd" --help | flags_of); do
    has "$page" "$f" || bad "husk-$cmd.8: flag $f of '$cmd' is not documented"
  done
done < <(printf '%s\n' "$top" | sed -n '/^Subcommands:/,$p' | tail -n +2 | grep -E '^  [a-z]')
[ "$cmds" -gt 10 ] || bad "found only $cmds commands in husk --help"

# Every page renders without a warning.
for p in "$MANDIR"/*.8; do
  w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null)
  [ -z "$w" ] || bad "$(basename "$p"): man -l warns: $w"
  [ -n "$(LC_ALL=C.UTF-8 MANWIDTH=80 man -E UTF-8 -l "$p" 2>/dev/null | head -1)" ] || bad "$(basename "$p"): renders empty"
done
pages=$(ls "$MANDIR"/husk-*.8 | wc -l)
[ "$pages" = "$cmds" ] || bad "$pages command pages for $cmds commands"
[ $fail = 0 ] && echo "man: $cmds commands, every command and flag documented, $((pages + 1)) pages render cleanly"
exit $fail
