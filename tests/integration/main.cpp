// Integration tests: root only. Exit 77 (CTest SKIP_RETURN_CODE) when not root.
#define CATCH_CONFIG_RUNNER
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "harness.hpp"

int main(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "integration tests need root: skipped\n");
    return 77;
  }
  int rc = Catch::Session().run(argc, argv);
  if (it::skipped() > 0)
    std::fprintf(stderr, "%d test(s) skipped on this host (see the SKIP: warnings)\n", it::skipped());
  // Leave the machine clean even after failures: our state root and cgroup prefix.
  it::run_cmd({"/bin/rm", "-rf", "/tmp/husk-it-" + std::to_string(::getpid())});
  // (the empty name is a pure-v2 host's /sys/fs/cgroup/husk-test)
  for (const char* c :
       {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd", "unified", ""})
    ::rmdir((std::string("/sys/fs/cgroup/") + c + (*c ? "/" : "") + "husk-test").c_str());
  return rc;
}
