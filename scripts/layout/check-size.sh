#!/bin/bash
# scripts/layout/check-size.sh: the developers' guide's size rules for the sources under
# src/ and include/: no file over 800 lines, no function over 120 (start and end lines
# from universal-ctags). Prints each violation and exits 1 if there is one.
#   HUSK_MAX_FILE_LINES, HUSK_MAX_FUNCTION_LINES override the limits.
set -euo pipefail
cd "$(dirname "$0")/../.."
max_file=${HUSK_MAX_FILE_LINES:-800} max_fn=${HUSK_MAX_FUNCTION_LINES:-120}
command -v ctags >/dev/null || { echo "check-size: ctags (universal-ctags) is missing" >&2; exit 2; }
mapfile -t files < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'include/*.hpp')
bad=0
while read -r n f; do
  [ "$f" = total ] && continue
  if [ "$n" -gt "$max_file" ]; then echo "check-size: $f: $n lines (over $max_file)"; bad=1; fi
done < <(wc -l "${files[@]}")
fns=0
while read -r end start file name; do
  fns=$((fns + 1))
  len=$((end - start + 1))
  if [ "$len" -gt "$max_fn" ]; then echo "check-size: $file:$start: $name is $len lines (over $max_fn)"; bad=1; fi
done < <(ctags -x --language-force=c++ --kinds-c++=f --_xformat='%{end} %n %F %N' "${files[@]}" |
         awk '$1 ~ /^[0-9]+$/')
[ "$bad" = 0 ] && echo "check-size: ${#files[@]} files within $max_file lines, $fns functions within $max_fn lines"
exit "$bad"
