// linux.netDevices (runtime-spec 1.3): move existing host interfaces into the container's
// network namespace, renamed when asked, keeping their permanent global-scope addresses,
// and set them up. Runs in the parent (root in the host's network namespace) once the
// container's network namespace exists, through rtnetlink.
//
// On delete nothing is done, as the spec says ("The runtime MUST NOT attempt to move the
// interface out of the namespace before deletion"): when the namespace is freed the kernel
// moves physical devices back to the initial namespace and destroys virtual ones.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "husk/core/error.hpp"

namespace husk::os::netdev {

// The kernel's dev_valid_name(): 1..15 bytes (IFNAMSIZ - 1), not "." or "..", no '/',
// ':' or whitespace. A new name may be a template with "%d" (the kernel numbers it).
bool valid_name(std::string_view name);

// host name -> name in the container ("" keeps the host name): the spec's checks, errors
// "config.json: /linux/netDevices/<key>...": names valid, a network namespace of the
// container's (new, or joined by path as runc allows),
// no two devices with the same name in the container.
Result<void> validate(const std::map<std::string, std::string>& devices, bool own_netns);

struct Move {
  std::string host_name;
  std::string name;  // in the container; empty: the host name
};

// Moves `m.host_name` into the network namespace `netns_fd` (RTM_NEWLINK with
// IFLA_NET_NS_FD and IFLA_IFNAME in one message), re-adds its permanent universe-scope
// addresses there (the kernel drops addresses on a namespace move) and sets it up.
Result<void> move_into(int netns_fd, const Move& m);

}  // namespace husk::os::netdev
