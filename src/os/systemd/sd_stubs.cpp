// Debian's libdbus-1.a references two libsystemd functions, sd_listen_fds and
// sd_is_socket, from one place: _dbus_listen_systemd_sockets, which a D-Bus *server* runs
// for a "systemd:" listen address (socket activation of dbus-daemon). husk is only a client
// and never listens, so they are never called; Debian ships no static libsystemd to
// satisfy them. These stand-ins answer as libsystemd does when no sockets were passed
// (sd_listen_fds: 0) or refuse (sd_is_socket: -ENOSYS), so that any unexpected caller
// fails cleanly instead of the link failing.
#include <cerrno>

extern "C" int sd_listen_fds(int /*unset_environment*/) { return 0; }
extern "C" int sd_is_socket(int /*fd*/, int /*family*/, int /*type*/, int /*listening*/) { return -ENOSYS; }
