#include "husk/os/resctrl.hpp"
#include "husk/core/text.hpp"
#include "husk/os/mountinfo.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <map>

#include <fmt/format.h>

#include "husk/core/fd.hpp"
#include "husk/core/scope_guard.hpp"

namespace husk::os::resctrl {

namespace {

Error bad(std::string_view field, std::string msg) {
  return Error::make(Errc::invalid_spec, fmt::format("config.json: /linux/intelRdt{}: {}", field, msg));
}

using text::trim;

bool clos_set(const Config& c) { return c.clos_id && !c.clos_id->empty(); }

// Writes to an existing resctrl file (O_CREAT only matters in a fixture tree).
Result<void> write_to(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error::sys(fmt::format("open {}", path));
  UniqueFd f(fd);
  return write_all(fd, data).context(fmt::format("write {}", path));
}

// The kernel explains a refused write in info/last_cmd_status.
Error with_status(const std::string& root, Error e) {
  auto st = read_file(root + "/info/last_cmd_status");
  if (!st) return e;
  std::string s(trim(*st));
  std::string msg = fmt::format("{} (resctrl last_cmd_status: {})", e.message(), s);
  if (e.sys_errno() != 0) return Error::sys(msg, e.sys_errno());
  return Error::make(e.code(), msg);
}

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// "L3:0=7f0;1=1f" -> ("L3", {0: 0x7f0, 1: 0x1f}).
bool parse_line(std::string_view line, std::string& res, std::map<std::string, uint64_t>& doms) {
  line = trim(line);
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  res = std::string(trim(line.substr(0, colon)));
  int base = (!res.empty() && res[0] == 'L') ? 16 : 10;
  std::string_view rest = line.substr(colon + 1);
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view d = trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    if (d.empty()) continue;
    size_t eq = d.find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view v = trim(d.substr(eq + 1));
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size()) return false;
    doms[std::string(trim(d.substr(0, eq)))] = n;
  }
  return true;
}

}  // namespace

std::optional<std::string> find_root(std::string_view mountinfo) {
  for (auto& e : os::mountinfo::parse(mountinfo))
    if (e.fstype == "resctrl") return std::move(e.mountpoint);
  return std::nullopt;
}

Result<std::string> host_root(const std::string& mountinfo_path) {
  TRY_ASSIGN(auto text, read_file(mountinfo_path));
  auto root = find_root(text);
  if (!root)
    return Error::make(
        Errc::unsupported,
        fmt::format("config.json: /linux/intelRdt: resctrl is not mounted (no resctrl filesystem in {}): "
                    "Intel RDT needs the resctrl filesystem (mount -t resctrl resctrl /sys/fs/resctrl)",
                    mountinfo_path));
  return *root;
}

Result<void> validate(const Config& c) {
  if (c.clos_id) {
    const std::string& id = *c.clos_id;
    if (id == "." || id == ".." || (id.size() > 1 && id.find('/') != std::string::npos) ||
        id.find('\n') != std::string::npos)
      return bad("/closID", fmt::format("invalid CLOS name \"{}\"", id));
  }
  if (c.l3_cache_schema && c.l3_cache_schema->find('\n') != std::string::npos)
    return bad("/l3CacheSchema", "must not contain a newline");
  if (c.mem_bw_schema) {
    if (c.mem_bw_schema->rfind("MB:", 0) != 0) return bad("/memBwSchema", "must start with \"MB:\"");
    if (c.mem_bw_schema->find('\n') != std::string::npos) return bad("/memBwSchema", "must not contain a newline");
  }
  for (size_t i = 0; i < c.schemata.size(); ++i)
    if (c.schemata[i].find('\n') != std::string::npos)
      return bad(fmt::format("/schemata/{}", i), "must not contain a newline");
  return {};
}

std::string schemata_text(const Config& c) {
  std::string out;
  auto add = [&](const std::string& s) {
    if (!s.empty()) out += s + "\n";
  };
  if (c.l3_cache_schema) add(*c.l3_cache_schema);
  if (c.mem_bw_schema) add(*c.mem_bw_schema);
  for (const auto& s : c.schemata) add(s);
  return out;
}

bool schemata_match(std::string_view existing, std::string_view wanted) {
  std::map<std::string, std::map<std::string, uint64_t>> have;
  for (std::string_view rest = existing; !rest.empty();) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    std::string res;
    std::map<std::string, uint64_t> doms;
    if (!trim(line).empty() && parse_line(line, res, doms)) have[res] = std::move(doms);
  }
  for (std::string_view rest = wanted; !rest.empty();) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (trim(line).empty()) continue;
    std::string res;
    std::map<std::string, uint64_t> doms;
    if (!parse_line(line, res, doms)) return false;
    auto h = have.find(res);
    if (h == have.end()) return false;
    for (const auto& [id, v] : doms) {
      auto d = h->second.find(id);
      if (d == h->second.end() || d->second != v) return false;
    }
  }
  return true;
}

Result<Group> apply(const std::string& root, const std::string& container_id, const Config& c, pid_t pid) {
  TRY(validate(c));
  const std::string clos = clos_set(c) ? *c.clos_id : container_id;
  Group g;
  g.clos_path = clos == "/" ? root : root + "/" + clos;
  const std::string text = schemata_text(c);
  if (clos_set(c) && text.empty()) {
    if (!is_dir(g.clos_path))
      return bad("/closID", fmt::format("resctrl group \"{}\" does not exist in {} (with no schemata it must be "
                                        "made beforehand)",
                                        clos, root));
  } else if (clos != "/") {
    if (::mkdir(g.clos_path.c_str(), 0755) == 0)
      g.created = true;
    else if (errno != EEXIST)
      return with_status(root, Error::sys(fmt::format("intelRdt: mkdir {}", g.clos_path)));
  }
  ScopeGuard undo([&] { (void)remove(g); });
  if (!text.empty()) {
    if (g.created) {
      auto w = write_to(g.clos_path + "/schemata", text);
      if (!w) return with_status(root, std::move(w).error().context("intelRdt: schemata"));
    } else {
      TRY_ASSIGN(auto have, read_file(g.clos_path + "/schemata").context("intelRdt"));
      if (!schemata_match(have, text))
        return bad("", fmt::format("resctrl group \"{}\" exists and its schemata do not match the config (has \"{}\", "
                                   "config wants \"{}\")",
                                   clos, trim(have), trim(text)));
    }
  }
  if (c.enable_monitoring) {
    std::string mon = g.clos_path + "/mon_groups/" + container_id;
    if (::mkdir(mon.c_str(), 0755) < 0)
      return with_status(root, Error::sys(fmt::format("intelRdt: enableMonitoring: mkdir {}", mon)));
    g.mon_path = mon;
  }
  if (auto w = add_task(g, pid); !w) return with_status(root, std::move(w).error());
  undo.dismiss();
  return g;
}

Result<void> add_task(const Group& g, pid_t pid) {
  const std::string p = std::to_string(pid);
  TRY(write_to(g.clos_path + "/tasks", p).context("intelRdt"));
  if (!g.mon_path.empty()) TRY(write_to(g.mon_path + "/tasks", p).context("intelRdt"));
  return {};
}

Result<void> remove(const Group& g) {
  if (!g.mon_path.empty() && ::rmdir(g.mon_path.c_str()) < 0 && errno != ENOENT)
    return Error::sys(fmt::format("intelRdt: rmdir {}", g.mon_path));
  if (g.created && ::rmdir(g.clos_path.c_str()) < 0 && errno != ENOENT)
    return Error::sys(fmt::format("intelRdt: rmdir {}", g.clos_path));
  return {};
}

}  // namespace husk::os::resctrl
