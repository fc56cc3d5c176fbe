#include "husk/os/capabilities.hpp"

#include <fmt/format.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "husk/core/log.hpp"
#include "husk/spec/defaults.hpp"

namespace husk::os::caps {

int last_cap() {
  static int v = [] {
    int n = static_cast<int>(cap_max_bits()) - 1;
    return n > 0 ? n : spec::kCapMaxKnown;
  }();
  return v;
}

static std::string cap_label(int c) {
  auto n = spec::capability_name(c);
  return n.empty() ? fmt::format("capability {}", c) : std::string(n);
}

Result<void> check_available(const spec::CapSets& c) {
  uint64_t wanted = c.bounding | c.permitted | c.effective | c.inheritable | c.ambient;
  for (int i = 0; i <= 63; ++i) {
    if (!(wanted & (uint64_t{1} << i))) continue;
    if (i > last_cap())
      return Error::make(Errc::unsupported, fmt::format("{} is not known to this kernel", cap_label(i)));
    if (cap_get_bound(static_cast<cap_value_t>(i)) != 1)
      return Error::make(Errc::unsupported,
                         fmt::format("{} is not in the host's capability bounding set", cap_label(i)));
  }
  return {};
}

Result<void> apply_bounding(uint64_t keep) {
  for (int i = 0; i <= last_cap(); ++i) {
    if (keep & (uint64_t{1} << i)) continue;
    if (::prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
      return Error::sys(fmt::format("drop {} from the bounding set", cap_label(i)));
  }
  return {};
}

Result<void> apply_sets(const spec::CapSets& c) {
  cap_t caps = cap_init();
  if (!caps) return Error::sys("cap_init");
  auto set = [&](cap_flag_t flag, uint64_t bits) {
    for (int i = 0; i <= last_cap(); ++i) {
      if (!(bits & (uint64_t{1} << i))) continue;
      cap_value_t v = i;
      cap_set_flag(caps, flag, 1, &v, CAP_SET);
    }
  };
  set(CAP_EFFECTIVE, c.effective);
  set(CAP_PERMITTED, c.permitted);
  set(CAP_INHERITABLE, c.inheritable);
  int r = cap_set_proc(caps);
  int saved = errno;
  cap_free(caps);
  if (r < 0) return Error::sys("set capabilities", saved);
  return {};
}

Result<void> apply_ambient(uint64_t ambient) {
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return Error::sys("clear ambient capabilities");
  for (int i = 0; i <= last_cap(); ++i) {
    if (!(ambient & (uint64_t{1} << i))) continue;
    // The kernel raises an ambient capability only if it is permitted and inheritable.
    // Like runc, a config asking for more is not fatal (runc's own `spec` did that).
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0) {
      if (errno != EPERM) return Error::sys(fmt::format("raise ambient {}", cap_label(i)));
      log::debug("ambient {} not raised: it is not both permitted and inheritable", cap_label(i));
    }
  }
  return {};
}

}  // namespace husk::os::caps
