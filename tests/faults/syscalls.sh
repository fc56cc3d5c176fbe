# tests/faults/syscalls.sh: sourced by tests/faults/run.sh (uses its H R B T CG n leaky,
# config, bad, husk, check_clean). The syscall-fault sweep: for each command (create, start,
# exec, delete --force) one strace pass counts, per process, the calls it makes of each
# syscall of SYS_ERRNO below; then the Nth call of each (N = 1..count, or for counts over 6
# a sample: 1, 2, count/4, count/2, 3count/4, count-1, count; HUSK_SYSCALL_FAULTS=all for
# every N) fails with the errno of SYS_ERRNO (`strace -f -e inject=SYS:error=E:when=N`;
# strace counts calls per syscall and per process, so every traced process of the command,
# husk and its children, fails its Nth). After each: a command that failed exited non-zero
# (never by a signal, never hung) with exactly one error line on stderr, warnings aside
# (unless the failed write was that line's own, to fd 2); a failed exec left the container
# running; a create or start that succeeded left it created (or stopped, if the fault hit
# its init after create returned) or running; a failed `delete
# --force` is followed by a second one, which must succeed; then `delete --force` leaves
# nothing (check_clean: state dir, cgroups in every hierarchy, processes, mounts). An
# injection the command never reached (no "(INJECTED)" in strace's log) counts as not
# reached; one it reached and still succeeded, as tolerated (listed at the end).

declare -A SYS_ERRNO=(
  [clone3]=EAGAIN [clone]=EAGAIN [unshare]=ENOMEM [setns]=EPERM
  [mount]=EBUSY [move_mount]=EBUSY [mount_setattr]=EBUSY [pivot_root]=EBUSY [umount2]=EBUSY
  [open_tree]=ENOMEM [fsopen]=ENOMEM [fsconfig]=ENOMEM [fsmount]=ENOMEM
  [openat]=EACCES [openat2]=EACCES [mkdir]=ENOSPC [mkdirat]=ENOSPC [write]=ENOSPC
  [rename]=ENOSPC [symlinkat]=ENOSPC [mknodat]=EPERM [unlink]=EACCES [unlinkat]=EACCES
  [rmdir]=EBUSY [fsync]=EIO [flock]=ENOLCK [bpf]=EPERM [sethostname]=EPERM
  [setresuid]=EPERM [capset]=EPERM [socketpair]=EMFILE [sendmsg]=ENOMEM [recvmsg]=ENOMEM
  [pidfd_open]=EMFILE [kill]=EPERM [poll]=ENOMEM [wait4]=EINTR
)
sys_injected=0 sys_leaky=0 sys_lines=0 sys_unreached=0 sys_tolerated=0 sys_runs=0 sys_mute=0

# sys_strace OUT TRACE-ARGS... -- HUSK-ARGS...: strace -f of husk in the background; waits
# until husk itself (the first process) has exited; SYS_RC = its exit code, or "SIGNAME" if
# a signal killed it, or "hung" after 20 s. SYS_PID = strace's pid (still tracing husk's
# children, e.g. a created container's init: the caller deletes it, then sys_wait).
sys_strace() {
  local out=$1 a=() hp="" i
  shift
  while [ "$1" != -- ]; do a+=("$1"); shift; done
  shift
  rm -f "$out"
  timeout -s KILL 40 strace -f -o "$out" "${a[@]}" "$H" --root "$R" "$@" </dev/null >/dev/null 2>"$T/err" &
  SYS_PID=$! SYS_RC=hung
  for i in $(seq ${SYS_POLLS:-400}); do
    [ -n "$hp" ] || hp=$(head -1 "$out" 2>/dev/null | sed -n 's/^\([0-9]*\) .*/\1/p')
    if [ -n "$hp" ] && grep -qE "^$hp +\+\+\+ " "$out"; then  # strace pads the pid
      SYS_RC=$(sed -n "s/^$hp  *+++ exited with \([0-9]*\) +++$/\1/p; s/^$hp  *+++ killed by \(SIG[A-Z0-9]*\).*/\1/p" "$out")
      return
    fi
    sleep 0.05
  done
}
sys_wait() { wait "$SYS_PID" 2>/dev/null; }
# sys_setup VERB ID: `create` or `run -d` of ID; the init keeps this stderr ($T/init.err),
# not the one the command under test writes to.
sys_setup() { "$H" --root "$R" $1 --bundle "$B" "$2" </dev/null >/dev/null 2>"$T/init.err"; }

# sys_counts CMD LOG: "SYSCALL MAX" per line, MAX = the most calls one process made.
sys_counts() {
  awk -v want=" ${!SYS_ERRNO[*]} " '
    $2 ~ /^(\+\+\+|---|<\.\.\.)/ { next }
    { s = $2; sub(/\(.*/, "", s); if (index(want, " " s " ")) c[$1 " " s]++ }
    END { for (k in c) { split(k, a, " "); if (c[k] > m[a[2]]) m[a[2]] = c[k] }
          for (s in m) print s, m[s] }' "$2" | sort
}

sys_ns() {  # COUNT: the Ns to inject
  local c=$1
  if [ "${HUSK_SYSCALL_FAULTS:-sample}" = all ] || [ "$c" -le 6 ]; then seq 1 "$c"
  else printf '%s\n' 1 2 $((c / 4)) $((c / 2)) $((3 * c / 4)) $((c - 1)) "$c" | sort -nu; fi
}

# One counting pass of CMD (create, start, exec, delete) on a fresh container: its log in
# $T/count.CMD.
sys_count() {
  local cmd=$1 id=flt$$-sc$1 trace
  trace=$(IFS=,; echo "${!SYS_ERRNO[*]}"),execve
  config $id
  case $cmd in
    create) sys_strace "$T/count.create" -e trace="$trace" -- create --bundle "$B" $id ;;
    start) sys_setup create $id && sys_strace "$T/count.start" -e trace="$trace" -- start $id ;;
    exec) sys_setup "run -d" $id && sys_strace "$T/count.exec" -e trace="$trace" -- exec $id true ;;
    delete) sys_setup "run -d" $id && sys_strace "$T/count.delete" -e trace="$trace" -- delete --force $id ;;
  esac
  [ "${SYS_RC:-}" = 0 ] || bad "count $cmd" "rc ${SYS_RC:-?}: $(cat "$T/err")"
  husk delete --force $id
  sys_wait
  check_clean "count $cmd" $id
}

# One injection: CMD's SYSCALL fails at its Nth call (per process).
sys_inject() {  # CMD SYSCALL N
  local cmd=$1 sc=$2 nth=$3 e=${SYS_ERRNO[$2]} id what rc st
  n=$((n + 1)) id=flt$$-s$n what="$1 $2=$e #$3"
  config $id
  local inj=(-e trace="$sc",execve -e inject="$sc:error=$e:when=$nth" --)
  case $cmd in
    create) sys_strace "$T/inj" "${inj[@]}" create --bundle "$B" $id ;;
    start) sys_setup create $id && sys_strace "$T/inj" "${inj[@]}" start $id ;;
    exec) sys_setup "run -d" $id && sys_strace "$T/inj" "${inj[@]}" exec $id true ;;
    delete) sys_setup "run -d" $id && sys_strace "$T/inj" "${inj[@]}" delete --force $id ;;
  esac || { bad "$what" "setup: $(cat "$T/init.err")"; husk delete --force $id; check_clean "$what" $id; return; }
  rc=$SYS_RC
  cp "$T/err" "$T/inj.err"
  sys_runs=$((sys_runs + 1))
  if ! grep -q '(INJECTED)' "$T/inj"; then
    sys_unreached=$((sys_unreached + 1))
    [ "$rc" = 0 ] || bad "$what" "not reached, yet rc $rc: $(cat "$T/inj.err")"
  else
    sys_injected=$((sys_injected + 1))
    case $rc in
      0) sys_tolerated=$((sys_tolerated + 1)); SYS_TOLERATED+=" $cmd:$sc#$nth" ;;
      hung | SIG* | "") bad "$what" "husk $cmd: ${rc:-no exit}: $(cat "$T/inj.err")" ;;
      *)
        # Every traced process fails its Nth write: husk's own write of its error line to
        # stderr may be the one that fails (then there is no line to check).
        if grep -qE '^[0-9]+ +write\(2, .*\(INJECTED\)' "$T/inj"; then
          sys_mute=$((sys_mute + 1))
        elif [ "$(grep -vc 'level=warning' "$T/inj.err")" -ne 1 ]; then
          sys_lines=$((sys_lines + 1))
          bad "$what" "rc $rc, not one error line: $(cat "$T/inj.err")"
        fi ;;
    esac
  fi
  # A command that succeeded (fault not reached, or tolerated) left a consistent record.
  if [ "$rc" = 0 ] && { [ "$cmd" = create ] || [ "$cmd" = start ]; }; then
    st=$("$H" --root "$R" state $id 2>/dev/null | jq -r .status)
    local want=created
    [ "$cmd" = start ] && want=running
    if [ "$cmd:$st" = create:stopped ] && grep -q '(INJECTED)' "$T/inj"; then
      # The init failed after create returned (its open of exec.fifo, as runc's init can):
      # a stopped container, which is what its record says.
      SYS_LATE+=" $cmd:$sc#$nth"
    elif [ "$st" != $want ]; then
      bad "$what" "$cmd exited 0, the container is ${st:-gone}, not $want"
    fi
  fi
  if [ "$cmd" = exec ] && [ "$rc" != 0 ]; then
    st=$("$H" --root "$R" state $id 2>/dev/null | jq -r .status)
    [ "$st" = running ] || bad "$what" "after the failed exec the container is ${st:-gone}"
  fi
  if [ "$cmd" = delete ] && [ "$rc" != 0 ]; then
    husk delete --force $id || bad "$what" "second delete --force: $(cat "$T/err")"
  else
    husk delete --force $id || bad "$what" "delete --force: $(cat "$T/err")"
  fi
  sys_wait
  local before=$leaky
  check_clean "$what" $id
  [ $leaky -eq $before ] || sys_leaky=$((sys_leaky + 1))
}

sys_sweep() {
  local cmd sc count ns line
  SYS_TOLERATED="" SYS_LATE=""
  command -v strace >/dev/null || { bad syscalls "no strace (scripts/deps.sh installs it)"; return; }
  for cmd in create start exec delete; do
    sys_count $cmd
    line="syscall faults, $cmd:"
    while read -r sc count; do
      mapfile -t ns < <(sys_ns "$count")
      local r0=$sys_injected
      for nth in "${ns[@]}"; do sys_inject $cmd "$sc" "$nth"; done
      line+=" $sc=${SYS_ERRNO[$sc]} ${#ns[@]}/$count($((sys_injected - r0)) reached);"
    done < <(sys_counts $cmd "$T/count.$cmd")
    echo "$line"
  done
  echo "syscall faults tolerated (reached, the command still succeeded):${SYS_TOLERATED:- none}"
  echo "of which the init failed after create had returned (the container stopped):${SYS_LATE:- none}"
}
