# Sourced by scripts/test.sh. why_failed LOG: the lines of a failed step's log that say why,
# short enough to stay in view at the end of a long run (CI shows the tail of the output):
# each Catch failure with its test case, expression and expansion; else the lines a shell
# step marks as failures; then the log's last lines (the step's own summary).
why_failed() {
  local log=$1 max=${2:-60}
  local catch
  catch=$(awk '
    /^-+$/ && length($0) >= 70 { if (dashes == NR - 2) name = prev; dashes = NR; next }
    { prev = $0 }
    /: FAILED:$/ {
      if (name != shown) { print "  [" name "]"; shown = name }
      print "  " $0; inblock = 1; n = 0; next
    }
    inblock { if ($0 == "" || ++n > 8) inblock = 0; else print "  " $0 }
  ' "$log" | head -n "$max")
  if [ -n "$catch" ]; then
    printf '%s\n' "$catch"
  else
    grep -E '(^|[ :])(FAIL|FAILED|not ok|left:)([ :]|$)|[Ee]rror:' "$log" | grep -v '^PASS' | head -n 20 | sed 's/^/  /'
  fi
  echo "  ... the step's last lines:"
  grep -v '^[[:space:]]*$' "$log" | tail -n 5 | sed 's/^/  /'
}
