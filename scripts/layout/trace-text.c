// trace-text: run a command under ptrace single-stepping and print each distinct
// instruction address it executed inside [LO, HI), in first-touch order.
//
// Used by scripts/layout/gen-order.sh to find the code husk runs, so that the linker packs
// it together (scripts/layout/husk.order): the code of a create then spans a few 64 KiB
// fault-around windows of the text instead of most of them (peak RSS), and every command
// takes fewer page faults.
//
// The command's own process is "P"; processes it clones are followed until they exec
// (the container init, hooks) and are "C". Output lines: "P <hex>" or "C <hex>"; an
// address is printed once for P and once for C at most.
// usage: trace-text LO HI OUT -- CMD ARGS...   (LO, HI in hex)
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 6 || strcmp(argv[4], "--") != 0) {
    fprintf(stderr, "usage: trace-text LO HI OUT -- CMD ARGS...\n");
    return 2;
  }
  uintptr_t lo = strtoull(argv[1], NULL, 16), hi = strtoull(argv[2], NULL, 16);
  if (hi <= lo) return 2;
  FILE *out = fopen(argv[3], "w");
  if (!out) { perror(argv[3]); return 2; }
  size_t n = hi - lo;
  unsigned char *seen = calloc(n, 1);  // bit 1: seen in P, bit 2: seen in a C
  if (!seen) return 2;
  pid_t root = fork();
  if (root < 0) { perror("fork"); return 2; }
  if (root == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    execvp(argv[5], argv + 5);
    _exit(127);
  }
  int st, rc = 1;
  waitpid(root, &st, 0);  // its SIGSTOP
  ptrace(PTRACE_SETOPTIONS, root, 0,
         PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
             PTRACE_O_TRACEEXEC);
  ptrace(PTRACE_SINGLESTEP, root, 0, 0);
  unsigned long steps = 0;
  pid_t kids[256];  // children being traced
  int nkids = 0;
  for (;;) {
    pid_t pid = waitpid(-1, &st, __WALL);
    if (pid < 0) break;  // no tracee left
    if (WIFEXITED(st) || WIFSIGNALED(st) ||
        (pid != root && ((unsigned)st >> 16) == PTRACE_EVENT_EXEC)) {
      // Gone, or a child became another program: stop following it.
      if (pid == root) rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      for (int i = 0; i < nkids; i++)
        if (kids[i] == pid) kids[i] = kids[--nkids];
      if (WIFSTOPPED(st)) ptrace(PTRACE_DETACH, pid, 0, 0);
      if (pid != root) continue;
      // The command is done; children it left running (create's container init, blocked
      // until start) go on untraced.
      for (int i = 0; i < nkids; i++) {
        kill(kids[i], SIGSTOP);
        while (waitpid(kids[i], &st, __WALL) == kids[i] && WIFSTOPPED(st) &&
               WSTOPSIG(st) != SIGSTOP)
          ptrace(PTRACE_CONT, kids[i], 0, 0);
        ptrace(PTRACE_DETACH, kids[i], 0, 0);
      }
      break;
    }
    int sig = WSTOPSIG(st), event = (unsigned)st >> 16;
    if (pid != root) {
      int known = 0;
      for (int i = 0; i < nkids; i++) known |= kids[i] == pid;
      if (!known && nkids < 256) kids[nkids++] = pid;
    }
    if (event != 0 || sig == SIGTRAP) {
      sig = 0;
      struct user_regs_struct r;
      if (event == 0 && ptrace(PTRACE_GETREGS, pid, 0, &r) == 0) {
        steps++;
        unsigned char bit = pid == root ? 1 : 2;
        if (r.rip >= lo && r.rip < hi && !(seen[r.rip - lo] & bit)) {
          seen[r.rip - lo] |= bit;
          fprintf(out, "%c %llx\n", pid == root ? 'P' : 'C', (unsigned long long)r.rip);
        }
      }
    } else if (sig == SIGSTOP && pid != root) {
      sig = 0;  // a new child's first stop
    }
    ptrace(PTRACE_SINGLESTEP, pid, 0, sig);
  }
  fclose(out);
  fprintf(stderr, "trace-text: %lu steps, exit %d\n", steps, rc);
  return rc;
}
