#include "husk/os/idmap_writer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>

#include "husk/core/fd.hpp"
#include "husk/os/passwd.hpp"

namespace husk::os::idmap {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(sep, i);
    out.push_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

bool to_u64(std::string_view s, uint64_t& v) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string field_of(std::string_view field) { return fmt::format("config.json: /linux/{}", field); }

}  // namespace

Result<std::vector<Range>> parse_map(std::string_view text) {
  std::vector<Range> out;
  for (auto line : split(text, '\n')) {
    std::vector<std::string_view> f;
    for (auto w : split(line, ' '))
      if (!w.empty()) f.push_back(w);
    if (f.empty()) continue;
    Range r;
    if (f.size() != 3 || !to_u64(f[0], r.inside) || !to_u64(f[1], r.outside) || !to_u64(f[2], r.count))
      return Error::make(Errc::invalid_argument,
                         fmt::format("id map line \"{}\": want \"inside outside count\"", line));
    out.push_back(r);
  }
  return out;
}

std::vector<SubRange> subids_for(std::string_view file_text, std::string_view user, uint32_t id) {
  std::vector<SubRange> out;
  std::string id_s = std::to_string(id);
  for (auto line : split(file_text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, ':');
    if (f.size() != 3) continue;
    if (!(f[0] == id_s || (!user.empty() && f[0] == user))) continue;
    SubRange r;
    if (to_u64(f[1], r.start) && to_u64(f[2], r.count) && r.count > 0) out.push_back(r);
  }
  return out;
}

bool is_self_map(const std::vector<Range>& m, uint32_t self) {
  return m.size() == 1 && m[0].count == 1 && m[0].outside == self;
}

Result<void> check_allowed(const std::vector<Range>& m, uint32_t self, const std::vector<SubRange>& sub,
                           std::string_view field, std::string_view subid_file) {
  std::string have = std::to_string(self);
  for (auto& s : sub) have += fmt::format(", {}-{}", s.start, s.start + s.count - 1);
  for (size_t i = 0; i < m.size(); ++i) {
    // Walk the range piecewise: each piece is the caller's id or inside one subordinate range.
    uint64_t at = m[i].outside, end = m[i].outside + m[i].count;
    while (at < end) {
      if (at == self) {
        ++at;
        continue;
      }
      const SubRange* in = nullptr;
      for (auto& s : sub)
        if (at >= s.start && at < s.start + s.count) in = &s;
      if (!in)
        return Error::make(Errc::invalid_spec,
                           fmt::format("{}/{}/hostID: host id {} is not yours (you may map {} per {})", field_of(field),
                                       i, at, have, subid_file));
      at = std::min(end, in->start + in->count);
    }
  }
  return {};
}

std::vector<std::string> helper_argv(const std::string& bin, pid_t pid, const std::vector<Range>& m) {
  std::vector<std::string> a{bin, std::to_string(pid)};
  for (auto& r : m) {
    a.push_back(std::to_string(r.inside));
    a.push_back(std::to_string(r.outside));
    a.push_back(std::to_string(r.count));
  }
  return a;
}

std::string find_on_path(std::string_view name, std::string_view path_env) {
  for (auto dir : split(path_env, ':')) {
    if (dir.empty()) dir = ".";
    std::string p = fmt::format("{}/{}", dir, name);
    struct stat st;
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

WritePlan plan_write(const std::vector<Range>& uid, const std::vector<Range>& gid, uid_t euid, gid_t egid) {
  WritePlan p;
  if (euid == 0) return p;
  p.uid_helper = !uid.empty() && !is_self_map(uid, euid);
  p.gid_helper = !gid.empty() && !is_self_map(gid, egid);
  p.deny_setgroups = !gid.empty() && !p.gid_helper;
  return p;
}

namespace {

// Runs argv, returns its stderr+stdout text on failure.
Result<void> run_helper(const std::vector<std::string>& argv) {
  int pfd[2];
  if (::pipe2(pfd, O_CLOEXEC) < 0) return Error::sys("pipe");
  UniqueFd rd(pfd[0]), wr(pfd[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
  std::vector<char*> av;
  for (auto& s : argv) av.push_back(const_cast<char*>(s.c_str()));
  av.push_back(nullptr);
  char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env, nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, av.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  wr.reset();
  if (rc != 0) return Error::sys("run " + argv[0], rc);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(rd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0 && out.size() < 4096) out.append(buf, n);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return {};
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (auto& c : out)
    if (c == '\n') c = ' ';
  std::string cmd;
  for (auto& s : argv) cmd += (cmd.empty() ? "" : " ") + s;
  return Error::make(Errc::sys, fmt::format("{} failed: {}", cmd, out.empty() ? "no output" : out));
}

Result<void> via_helper(const char* helper, const char* field, const char* subid_file, pid_t pid,
                        const std::vector<Range>& m, uint32_t self) {
  std::string name;
  if (auto pw = read_file("/etc/passwd"))
    if (auto u = passwd::find_user(*pw, self)) name = u->name;
  auto sub_text = read_file(subid_file);
  auto sub = subids_for(sub_text ? *sub_text : std::string(), name, self);
  TRY(check_allowed(m, self, sub, field, subid_file));
  const char* pe = std::getenv("PATH");
  std::string bin = find_on_path(helper, pe && *pe ? pe : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
  if (bin.empty())
    return Error::make(
        Errc::not_found,
        fmt::format("{}: mapping more than your own id needs {} on PATH (package uidmap)", field_of(field), helper));
  return run_helper(helper_argv(bin, pid, m)).context(fmt::format("{}", field_of(field)));
}

}  // namespace

Result<void> write_maps(pid_t pid, const std::string& uid_map, const std::string& gid_map) {
  TRY_ASSIGN(auto uid, parse_map(uid_map));
  TRY_ASSIGN(auto gid, parse_map(gid_map));
  uid_t euid = ::geteuid();
  gid_t egid = ::getegid();
  WritePlan p = plan_write(uid, gid, euid, egid);
  if (p.uid_helper)
    TRY(via_helper("newuidmap", "uidMappings", "/etc/subuid", pid, uid, euid));
  else if (!uid_map.empty())
    TRY(write_file(fmt::format("/proc/{}/uid_map", pid), uid_map).context("write uid_map"));
  if (p.deny_setgroups) {
    auto r = write_file(fmt::format("/proc/{}/setgroups", pid), "deny");
    if (!r && r.error().sys_errno() != ENOENT) return std::move(r).context("write setgroups");
  }
  if (p.gid_helper)
    TRY(via_helper("newgidmap", "gidMappings", "/etc/subgid", pid, gid, egid));
  else if (!gid_map.empty())
    TRY(write_file(fmt::format("/proc/{}/gid_map", pid), gid_map).context("write gid_map"));
  return {};
}

}  // namespace husk::os::idmap
