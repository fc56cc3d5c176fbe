#include "husk/os/netdev.hpp"

#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <functional>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "husk/core/fd.hpp"

namespace husk::os::netdev {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ) return false;
  if (name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

Result<void> validate(const std::map<std::string, std::string>& devices, bool own_netns) {
  if (devices.empty()) return {};
  auto bad = [](const std::string& key, std::string_view field, std::string msg) {
    return Error::make(Errc::invalid_spec, fmt::format("config.json: /linux/netDevices/{}{}: {}", key, field, msg));
  };
  if (!own_netns)
    return Error::make(Errc::invalid_spec,
                       "config.json: /linux/netDevices: moving network devices needs a network namespace");
  std::set<std::string> names;
  for (const auto& [host, name] : devices) {
    if (!valid_name(host)) return bad(host, "", fmt::format("invalid network device name \"{}\"", host));
    if (!name.empty() && !valid_name(name))
      return bad(host, "/name", fmt::format("invalid network device name \"{}\"", name));
    const std::string& final_name = name.empty() ? host : name;
    if (final_name.find("%d") != std::string::npos) continue;  // the kernel picks a free name
    if (!names.insert(final_name).second)
      return bad(host, name.empty() ? "" : "/name",
                 fmt::format("two devices would be named \"{}\" in the container", final_name));
  }
  return {};
}

namespace {

// A NETLINK_ROUTE socket and request building.
class Msg {
 public:
  Msg(uint16_t type, uint16_t flags) {
    buf_.resize(NLMSG_HDRLEN);
    hdr()->nlmsg_type = type;
    hdr()->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  }
  template <class T>
  void body(const T& t) {
    append(&t, sizeof t);
  }
  void attr(uint16_t type, const void* data, size_t len) {
    rtattr a{};
    a.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    a.rta_type = type;
    append(&a, sizeof a);
    append(data, len);
  }
  void attr_str(uint16_t type, const std::string& s) { attr(type, s.c_str(), s.size() + 1); }
  nlmsghdr* hdr() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  std::vector<char>& bytes() {
    hdr()->nlmsg_len = static_cast<uint32_t>(buf_.size());
    return buf_;
  }

 private:
  void append(const void* p, size_t n) {
    size_t at = buf_.size();
    buf_.resize(at + NLMSG_ALIGN(n), 0);
    std::memcpy(buf_.data() + at, p, n);
  }
  std::vector<char> buf_;
};

class Rtnl {
 public:
  static Result<Rtnl> open() {
    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return Error::sys("socket(NETLINK_ROUTE)");
    Rtnl r;
    r.fd_ = UniqueFd(fd);
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) return Error::sys("bind(NETLINK_ROUTE)");
    return r;
  }
  // A socket in the network namespace `netns_fd`: the calling thread enters it for the
  // socket() call and returns to its own.
  static Result<Rtnl> open_in(int netns_fd) {
    int self = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) return Error::sys("open /proc/thread-self/ns/net");
    UniqueFd own(self);
    if (::setns(netns_fd, CLONE_NEWNET) < 0) return Error::sys("setns into the container's network namespace");
    auto r = open();
    if (::setns(own.get(), CLONE_NEWNET) < 0) return Error::sys("setns back into the runtime's network namespace");
    return r;
  }

  // Sends `m` and calls `each` for every reply message until the ack (or NLMSG_DONE of a
  // dump). A negative error in the ack becomes the Error.
  Result<void> call(Msg& m, const std::function<void(const nlmsghdr*)>& each = {}) {
    m.hdr()->nlmsg_seq = ++seq_;
    auto& b = m.bytes();
    if (::send(fd_.get(), b.data(), b.size(), 0) < 0) return Error::sys("send(NETLINK_ROUTE)");
    std::vector<char> in(65536);
    for (;;) {
      ssize_t n = ::recv(fd_.get(), in.data(), in.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::sys("recv(NETLINK_ROUTE)");
      }
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<const nlmsghdr*>(in.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_seq != seq_) continue;
        if (h->nlmsg_type == NLMSG_DONE) return {};
        if (h->nlmsg_type == NLMSG_ERROR) {
          auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
          if (e->error == 0) return {};
          return Error::sys("rtnetlink", -e->error);
        }
        if (each) each(h);
      }
    }
  }

 private:
  UniqueFd fd_;
  uint32_t seq_ = 0;
};

struct Addr {
  ifaddrmsg msg;
  std::vector<std::pair<uint16_t, std::string>> attrs;  // IFA_LOCAL, IFA_ADDRESS, IFA_BROADCAST
};

// The device's permanent addresses of global scope (RFC 3549 2.3.3.2 terms), any family.
Result<std::vector<Addr>> permanent_addrs(Rtnl& nl, int ifindex) {
  Msg m(RTM_GETADDR, NLM_F_DUMP);
  ifaddrmsg q{};
  q.ifa_family = AF_UNSPEC;
  m.body(q);
  std::vector<Addr> out;
  TRY(nl.call(m, [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWADDR) return;
    auto* a = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
    if (static_cast<int>(a->ifa_index) != ifindex || a->ifa_scope != RT_SCOPE_UNIVERSE) return;
    uint32_t flags = a->ifa_flags;
    Addr keep{*a, {}};
    int len = static_cast<int>(IFA_PAYLOAD(h));
    for (auto* rta = IFA_RTA(a); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
      const char* d = static_cast<const char*>(RTA_DATA(rta));
      size_t dl = RTA_PAYLOAD(rta);
      if (rta->rta_type == IFA_FLAGS && dl >= sizeof(uint32_t)) std::memcpy(&flags, d, sizeof flags);
      if (rta->rta_type == IFA_LOCAL || rta->rta_type == IFA_ADDRESS || rta->rta_type == IFA_BROADCAST)
        keep.attrs.emplace_back(rta->rta_type, std::string(d, dl));
    }
    if (flags & IFA_F_PERMANENT) out.push_back(std::move(keep));
  }));
  return out;
}

Result<void> set_up(Rtnl& nl, int ifindex, bool up) {
  Msg m(RTM_NEWLINK, NLM_F_ACK);
  ifinfomsg i{};
  i.ifi_family = AF_UNSPEC;
  i.ifi_index = ifindex;
  i.ifi_flags = up ? IFF_UP : 0;
  i.ifi_change = IFF_UP;
  m.body(i);
  return nl.call(m);
}

// RTM_GETLINK by name (index 0) or by index: the index and the name.
Result<std::pair<int, std::string>> get_link(Rtnl& nl, int ifindex, const std::string& name) {
  Msg m(RTM_GETLINK, NLM_F_ACK);
  ifinfomsg i{};
  i.ifi_family = AF_UNSPEC;
  i.ifi_index = ifindex;
  m.body(i);
  if (ifindex == 0) m.attr_str(IFLA_IFNAME, name);
  std::pair<int, std::string> found{0, ""};
  TRY(nl.call(m, [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    auto* li = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
    found.first = li->ifi_index;
    int len = static_cast<int>(IFLA_PAYLOAD(h));
    for (auto* rta = IFLA_RTA(li); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
      if (rta->rta_type == IFLA_IFNAME) found.second = static_cast<const char*>(RTA_DATA(rta));
  }));
  if (found.first == 0) return Error::make(Errc::not_found, fmt::format("no link {}", name));
  return found;
}

bool matches_template(const std::string& tmpl, const std::string& name) {
  size_t at = tmpl.find("%d");
  if (at == std::string::npos) return tmpl == name;
  std::string pre = tmpl.substr(0, at), post = tmpl.substr(at + 2);
  if (name.size() <= pre.size() + post.size() || name.compare(0, pre.size(), pre) != 0 ||
      name.compare(name.size() - post.size(), post.size(), post) != 0)
    return false;
  for (size_t k = pre.size(); k < name.size() - post.size(); ++k)
    if (!std::isdigit(static_cast<unsigned char>(name[k]))) return false;
  return true;
}

}  // namespace

Result<void> move_into(int netns_fd, const Move& mv) {
  const std::string& name = mv.name.empty() ? mv.host_name : mv.name;
  auto what = fmt::format("netDevices: {}", mv.host_name);
  TRY_ASSIGN(Rtnl host, Rtnl::open());
  auto link = get_link(host, 0, mv.host_name);
  if (!link)
    return std::move(link).error().context(
        fmt::format("{}: no such interface in the runtime's network namespace", what));
  int index = link->first;
  // The spec's check before the move: a taken name is an error (the kernel would move the
  // device first and then fail the rename, leaving it in the namespace under its old name).
  TRY_ASSIGN(Rtnl inner, Rtnl::open_in(netns_fd).context(what));
  bool tmpl = name.find("%d") != std::string::npos;
  if (!tmpl && get_link(inner, 0, name))
    return Error::make(Errc::exists, fmt::format("{}: a device named \"{}\" already exists in the container's "
                                                 "network namespace",
                                                 what, name));
  // Addresses first: taking the link down drops its IPv6 addresses.
  TRY_ASSIGN(auto addrs, permanent_addrs(host, index).context(what));
  TRY(set_up(host, index, false).context(fmt::format("{}: set down", what)));
  {
    Msg m(RTM_NEWLINK, NLM_F_ACK);
    ifinfomsg i{};
    i.ifi_family = AF_UNSPEC;
    i.ifi_index = index;
    m.body(i);
    uint32_t ns = static_cast<uint32_t>(netns_fd);
    m.attr(IFLA_NET_NS_FD, &ns, sizeof ns);
    m.attr_str(IFLA_IFNAME, name);
    auto r = host.call(m);
    if (!r) {
      if (r.error().sys_errno() == EEXIST)
        return Error::make(Errc::exists, fmt::format("{}: a device named \"{}\" already exists in the container's "
                                                     "network namespace",
                                                     what, name));
      return std::move(r).error().context(
          fmt::format("{}: move into the container's network namespace as {}", what, name));
    }
  }
  // A template name: the kernel kept the index unless it was taken there.
  auto moved = tmpl ? get_link(inner, index, "") : get_link(inner, 0, name);
  if (!moved || !matches_template(name, moved->second))
    return Error::make(Errc::not_found,
                       fmt::format("{}: moved, but not found in the container's network namespace as {}", what, name));
  int nindex = moved->first;
  for (auto& a : addrs) {
    Msg m(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    ifaddrmsg am = a.msg;
    am.ifa_index = static_cast<uint32_t>(nindex);
    m.body(am);
    for (auto& [t, v] : a.attrs) m.attr(t, v.data(), v.size());
    TRY(inner.call(m).context(fmt::format("{}: add its address back in the container's network namespace", what)));
  }
  TRY(set_up(inner, nindex, true)
          .context(fmt::format("{}: set {} up in the container's network namespace", what, moved->second)));
  return {};
}

}  // namespace husk::os::netdev
