// cgroupfs, v1 hierarchies: directories, resource writes, the freezer, `tasks` joins.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "fs.hpp"
#include "husk/core/path.hpp"
#include "husk/os/cgroups/driver.hpp"
#include "husk/os/cgroups/writes.hpp"

namespace husk::os::cgroups {

Result<bool> make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return true;
  if (errno == EEXIST) return false;
  if (errno != ENOENT) return Error::sys(fmt::format("create cgroup {}", dir));
  std::string cur;
  for (auto& c : path::components(dir)) {
    cur += "/" + c;
    if (::mkdir(cur.c_str(), 0755) < 0 && errno != EEXIST) return Error::sys(fmt::format("create cgroup {}", cur));
  }
  return true;
}

Result<void> join_self_v1(const std::vector<std::string>& dirs) {
  TRY_ASSIGN(auto tasks, v1::open_tasks(dirs));
  return join_self_v1(tasks, dirs);
}

Result<void> join_self_v1(std::span<const UniqueFd> tasks, const std::vector<std::string>& dirs) {
  if (tasks.size() != dirs.size())
    return Error::make(Errc::protocol, "join cgroup: one tasks fd per v1 directory expected");
  for (size_t i = 0; i < tasks.size(); ++i)
    if (::write(tasks[i].get(), "0", 1) != 1) return Error::sys(fmt::format("join cgroup {}", dirs[i]));
  return {};
}

namespace v1 {
namespace {

Result<void> copy_cpuset_down(const std::string& mountpoint, const std::string& leaf) {
  // New cpuset cgroups start empty and refuse tasks: fill cpus/mems from the parent.
  std::string cur = mountpoint;
  for (auto& c : path::components(leaf.substr(mountpoint.size()))) {
    std::string parent = cur;
    cur = path::join(cur, c);
    for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
      auto v = read_file(cur + "/" + f);
      if (v && v->find_first_not_of(" \n") == std::string::npos) {
        TRY_ASSIGN(auto pv, read_file(parent + "/" + f));
        TRY(write_file(cur + "/" + f, pv));
      }
    }
  }
  return {};
}

// memory and memory+swap must stay ordered (memsw >= limit at every step): when the new
// total is above the current limit (or unlimited), swap goes first.
void order_memory(const std::string& dir, const spec::Resources& r, Writes& writes) {
  if (!r.memory || !r.memory->limit || *r.memory->limit == 0 || !r.memory->swap || *r.memory->swap == 0) return;
  auto cur = read_file(dir + "/memory.limit_in_bytes");
  uint64_t cur_limit = cur ? std::strtoull(cur->c_str(), nullptr, 10) : 0;
  bool swap_first = *r.memory->swap == -1 || static_cast<uint64_t>(*r.memory->swap) > cur_limit;
  auto is_mem = [](const auto& x) { return x.first == "memory.limit_in_bytes"; };
  auto is_sw = [](const auto& x) { return x.first == "memory.memsw.limit_in_bytes"; };
  auto a = std::find_if(writes.begin(), writes.end(), is_mem), b = std::find_if(writes.begin(), writes.end(), is_sw);
  if (a != writes.end() && b != writes.end() && swap_first != (b < a)) std::iter_swap(a, b);
}

// A kernel without CFQ (blk-mq: BFQ or none) has no blkio.weight: the weights go to
// BFQ's files, as runc (fs/blkio.go detectWeightFilenames).
void bfq_names(const std::string& dir, Writes& writes) {
  int cfq = -1;
  for (auto& [file, value] : writes) {
    if (file != "blkio.weight" && file != "blkio.weight_device") continue;
    if (cfq == -1) cfq = ::access((dir + "/blkio.weight").c_str(), F_OK) == 0;
    if (!cfq) file = file == "blkio.weight" ? "blkio.bfq.weight" : "blkio.bfq.weight_device";
  }
}

}  // namespace

Result<bool> make(const std::string& hierarchy, const std::string& dir) {
  TRY_ASSIGN(bool made, make_dir(dir));
  if (made && hierarchy.find("cpuset") != std::string::npos) {
    auto mp = dir.substr(0, dir.find('/', std::string("/sys/fs/cgroup/").size()));
    TRY(copy_cpuset_down(mp, dir).context("cgroup cpuset"));
  }
  return made;
}

Result<void> set(const std::string& hierarchy, const std::string& dir, const spec::Resources& r) {
  const spec::Resources* res = &r;
  spec::Resources lifted;
  if (state::hierarchy_has(hierarchy, "memory") && r.memory && r.memory->limit == -1 &&
      r.memory->swap.value_or(0) == 0 && ::access((dir + "/memory.memsw.limit_in_bytes").c_str(), F_OK) == 0) {
    // An unlimited memory without a swap value lifts memory+swap too, as runc
    // (setMemoryAndSwap): the memory limit may not go above memsw.
    lifted = r;
    lifted.memory->swap = -1;
    res = &lifted;
  }
  Writes writes = v1_writes(hierarchy, *res);
  if (state::hierarchy_has(hierarchy, "memory")) order_memory(dir, *res, writes);
  if (state::hierarchy_has(hierarchy, "blkio")) bfq_names(dir, writes);
  // A device rule is one write(2) each: consecutive rules for one file share an open.
  UniqueFd rules;
  std::string rules_file;
  std::string period;  // a cfs period the kernel refused before the quota was written
  for (auto& [file, value] : writes) {
    if (file == "cpu.cfs_period_us" && res->cpu && res->cpu->quota.value_or(0) != 0) {
      // A shorter period is refused (EINVAL) while the old quota over it exceeds the
      // parent's limit: written again after the quota, as runc (fs/cpu.go).
      auto w = write_file(dir + "/" + file, value);
      if (!w && w.error().sys_errno() == EINVAL) period = value;
      if (w || !period.empty()) continue;
      TRY(write_one(dir, file, value));  // another error: write_one's report of it
      continue;
    }
    if (file.rfind("devices.", 0) != 0) {
      TRY(write_one(dir, file, value));
      if (file == "cpu.cfs_quota_us" && !period.empty()) TRY(write_one(dir, "cpu.cfs_period_us", period));
      continue;
    }
    std::string path = dir + "/" + file;
    if (file != rules_file) {
      rules.reset(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
      if (!rules) return Error::sys("open " + path).context(fmt::format("cgroup: set {}={}", file, value));
      rules_file = file;
    }
    if (::write(rules.get(), value.data(), value.size()) < 0)
      return Error::sys("write " + path).context(fmt::format("cgroup: set {}={}", file, value));
  }
  return {};
}

// Writing FROZEN starts freezing; freezer.state reads FREEZING until every task has
// stopped. As runc does, wait for FROZEN, and every 25 tries thaw and freeze again (a
// task in a vfork or a signal delivery can keep the cgroup FREEZING); give up after
// ~1000 tries, thawed, with an error.
Result<void> freeze(const std::string& dir, bool f) {
  const std::string file = dir + "/freezer.state";
  if (!f) return write_file(file, "THAWED");
  for (int i = 0; i < 1000; ++i) {
    if (i % 25 == 24) {
      TRY(write_file(file, "THAWED"));
      ::usleep(10);
    }
    TRY(write_file(file, "FROZEN"));
    TRY_ASSIGN(std::string state, read_file(file));
    if (state.rfind("FROZEN", 0) == 0) return {};
    ::usleep(i < 25 ? 10 : 100);
  }
  (void)write_file(file, "THAWED");
  return Error::make(Errc::bad_state, fmt::format("unable to freeze {}: it stays FREEZING", dir));
}

bool frozen(const std::string& dir) {
  auto v = read_file(dir + "/freezer.state");
  return v && v->rfind("FROZEN", 0) == 0;
}

Result<std::vector<UniqueFd>> open_tasks(const std::vector<std::string>& dirs) {
  std::vector<UniqueFd> out;
  out.reserve(dirs.size());
  for (auto& d : dirs) {
    UniqueFd fd(::open((d + "/tasks").c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return Error::sys(fmt::format("join cgroup {}", d));
    out.push_back(std::move(fd));
  }
  return out;
}

}  // namespace v1
}  // namespace husk::os::cgroups
