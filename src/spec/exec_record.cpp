#include "husk/spec/exec_record.hpp"

#include "husk/spec/json.hpp"
#include "husk/spec/json_input.hpp"

namespace husk::spec {

using json = nlohmann::json;

ExecRecord exec_record(const Spec& s) {
  ExecRecord r;
  r.oci_version = s.oci_version;
  r.process = s.process;
  if (s.linux_) {
    r.personality = s.linux_->personality;
    r.memory_policy = s.linux_->memory_policy;
    if (auto& sc = s.linux_->seccomp) {
      Seccomp kept;
      kept.default_action = sc->default_action;
      kept.listener_path = sc->listener_path;
      kept.listener_metadata = sc->listener_metadata;
      r.seccomp = std::move(kept);
    }
  }
  return r;
}

json process_to_json(const Process& p) {
  json o = json::object();
  o["terminal"] = p.terminal;
  if (p.console_size) o["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
  json u = {{"uid", p.user.uid}, {"gid", p.user.gid}};
  if (p.user.umask) u["umask"] = *p.user.umask;
  if (!p.user.additional_gids.empty()) u["additionalGids"] = p.user.additional_gids;
  o["user"] = u;
  o["args"] = p.args;
  if (!p.env.empty()) o["env"] = p.env;
  o["cwd"] = p.cwd;
  if (p.capabilities) {
    json c = json::object();
    auto set = [&](const char* k, const std::optional<std::vector<std::string>>& v) {
      if (v) c[k] = *v;
    };
    set("bounding", p.capabilities->bounding);
    set("effective", p.capabilities->effective);
    set("inheritable", p.capabilities->inheritable);
    set("permitted", p.capabilities->permitted);
    set("ambient", p.capabilities->ambient);
    o["capabilities"] = c;
  }
  if (!p.rlimits.empty()) {
    json a = json::array();
    for (auto& l : p.rlimits) a.push_back({{"type", l.type}, {"hard", l.hard}, {"soft", l.soft}});
    o["rlimits"] = a;
  }
  o["noNewPrivileges"] = p.no_new_privileges;
  if (p.apparmor_profile) o["apparmorProfile"] = *p.apparmor_profile;
  if (p.oom_score_adj) o["oomScoreAdj"] = *p.oom_score_adj;
  if (p.selinux_label) o["selinuxLabel"] = *p.selinux_label;
  if (auto& s = p.scheduler) {
    json x = {{"policy", s->policy},   {"nice", s->nice},         {"priority", s->priority},
              {"runtime", s->runtime}, {"deadline", s->deadline}, {"period", s->period}};
    if (!s->flags.empty()) x["flags"] = s->flags;
    o["scheduler"] = x;
  }
  if (p.io_priority) o["ioPriority"] = {{"class", p.io_priority->io_class}, {"priority", p.io_priority->priority}};
  if (auto& a = p.exec_cpu_affinity) {
    json x = json::object();
    if (!a->initial.empty()) x["initial"] = a->initial;
    if (!a->final_.empty()) x["final"] = a->final_;
    o["execCPUAffinity"] = x;
  }
  return o;
}

std::string exec_record_json(const ExecRecord& r) {
  json o = {{"ociVersion", r.oci_version}};
  if (r.process) o["process"] = process_to_json(*r.process);
  json l = json::object();
  if (r.personality) {
    l["personality"] = {{"domain", r.personality->domain}, {"flags", r.personality->flags}};
  }
  if (auto& mp = r.memory_policy) {
    json m = {{"mode", mp->mode}};
    if (mp->nodes) m["nodes"] = *mp->nodes;
    if (!mp->flags.empty()) m["flags"] = mp->flags;
    l["memoryPolicy"] = m;
  }
  if (r.seccomp) {
    json sc = {{"defaultAction", r.seccomp->default_action}};
    if (r.seccomp->listener_path) sc["listenerPath"] = *r.seccomp->listener_path;
    if (r.seccomp->listener_metadata) sc["listenerMetadata"] = *r.seccomp->listener_metadata;
    l["seccomp"] = sc;
  }
  o["linux"] = l;
  return dump_json(o);
}

Result<ExecRecord> parse_exec_record(std::string_view bytes, std::string_view source) {
  TRY_ASSIGN(auto s, parse(bytes, source));
  return exec_record(s);
}

}  // namespace husk::spec
