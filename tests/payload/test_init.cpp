// test_init: the only program in the integration tests' rootfs. Static, multi-call by its
// first argument; prints what the tests assert on.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern char** environ;

static void cat(const char* p) {
  int fd = open(p, O_RDONLY);
  if (fd < 0) {
    printf("cat %s: %s\n", p, strerror(errno));
    return;
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, static_cast<size_t>(n), stdout);
  close(fd);
}

static void on_term(int) { _exit(143); }

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string cmd = argv[1];
  if (cmd == "hostname") {
    char h[256] = {}, d[256] = {};
    gethostname(h, sizeof h);
    getdomainname(d, sizeof d);
    printf("%s %s\n", h, d);
  } else if (cmd == "pid") {
    printf("%d\n", getpid());
  } else if (cmd == "cat") {
    for (int i = 2; i < argc; ++i) cat(argv[i]);
  } else if (cmd == "id") {
    gid_t g[64];
    int n = getgroups(64, g);
    printf("uid=%u gid=%u groups=", getuid(), getgid());
    for (int i = 0; i < n; ++i) printf("%s%u", i ? "," : "", g[i]);
    mode_t m = umask(0);
    printf(" umask=%04o\n", m);
  } else if (cmd == "cwd") {
    char b[4096];
    if (getcwd(b, sizeof b))
      printf("%s\n", b);
    else
      printf("getcwd: %s\n", strerror(errno));
  } else if (cmd == "isatty") {
    printf("%s\n", isatty(0) ? ttyname(0) : "notty");
  } else if (cmd == "env") {
    for (char** e = environ; *e; ++e) printf("%s\n", *e);
  } else if (cmd == "ls") {
    DIR* d = opendir(argc > 2 ? argv[2] : ".");
    if (!d) {
      printf("ls: %s\n", strerror(errno));
      return 1;
    }
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') printf("%s\n", e->d_name);
    closedir(d);
  } else if (cmd == "fds") {
    DIR* d = opendir("/proc/self/fd");
    int self = dirfd(d);
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
      char l[512] = {}, p[64];
      snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
      readlink(p, l, sizeof l - 1);
      printf("%s %s\n", e->d_name, l);
    }
    closedir(d);
  } else if (cmd == "stat") {
    struct stat st;
    if (lstat(argv[2], &st) < 0) {
      printf("stat %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    char t = S_ISCHR(st.st_mode)    ? 'c'
             : S_ISBLK(st.st_mode)  ? 'b'
             : S_ISDIR(st.st_mode)  ? 'd'
             : S_ISLNK(st.st_mode)  ? 'l'
             : S_ISFIFO(st.st_mode) ? 'p'
                                    : 'f';
    printf("%c %u:%u %04o %u:%u\n", t, major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777, st.st_uid, st.st_gid);
  } else if (cmd == "write") {
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      printf("write %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    (void)!write(fd, argv[3], strlen(argv[3]));
    close(fd);
    printf("wrote\n");
  } else if (cmd == "syscall" && argc > 2) {
    // A raw syscall by number with zero arguments: what a seccomp filter answers for it.
    long r = ::syscall(atol(argv[2]), 0, 0, 0, 0, 0, 0);
    printf("syscall %s: %s\n", argv[2], r < 0 ? strerror(errno) : "ok");
  } else if (cmd == "exit") {
    return atoi(argv[2]);
  } else if (cmd == "pause") {
    signal(SIGTERM, on_term);
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
  } else if (cmd == "sleep") {
    sleep(static_cast<unsigned>(atoi(argv[2])));
  } else {
    fprintf(stderr, "test_init: unknown command %s\n", cmd.c_str());
    return 2;
  }
  return 0;
}
