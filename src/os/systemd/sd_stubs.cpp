// What libdbus-1.a would otherwise pull from outside husk's rules ("No NSS in a static
// binary"), answered here.
//
// 1. Debian's libdbus-1.a references two libsystemd functions, sd_listen_fds and
//    sd_is_socket, from one place: _dbus_listen_systemd_sockets, which a D-Bus *server*
//    runs for a "systemd:" listen address (socket activation of dbus-daemon). husk is only
//    a client and never listens, so they are never called; Debian ships no static
//    libsystemd to satisfy them. These stand-ins answer as libsystemd does when no sockets
//    were passed (sd_listen_fds: 0) or refuse (sd_is_socket: -ENOSYS).
// 2. libdbus looks up users, groups and host names through glibc's NSS (getpwnam_r,
//    getpwuid_r, getgrouplist: the DBUS_COOKIE_SHA1 mechanism's home directory, a server's
//    user checks; getaddrinfo/getnameinfo/freeaddrinfo: tcp: addresses). Statically linked,
//    NSS would dlopen the host's libnss_*.so of another glibc. husk connects to unix:path=
//    addresses with EXTERNAL authentication (the uid as a number) and needs none of them,
//    so the build renames libdbus's references to these (objcopy --redefine-syms with
//    dbus_nss.syms on a copy of the archive, CMakeLists.txt): a user
//    or group is never found, a tcp: address has no family. Nothing of NSS is in husk
//    (`nm husk | grep __nss_` lists only the two weak references fork() has).
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <sys/socket.h>

#include <cerrno>

extern "C" {

int sd_listen_fds(int /*unset_environment*/) { return 0; }
int sd_is_socket(int /*fd*/, int /*family*/, int /*type*/, int /*listening*/) { return -ENOSYS; }

int husk_dbus_getpwnam_r(const char*, struct passwd*, char*, size_t, struct passwd** result) {
  *result = nullptr;
  return 0;  // not found
}
int husk_dbus_getpwuid_r(uid_t, struct passwd*, char*, size_t, struct passwd** result) {
  *result = nullptr;
  return 0;
}
int husk_dbus_getgrouplist(const char*, gid_t, gid_t*, int* ngroups) {
  *ngroups = 0;
  return -1;
}
int husk_dbus_getaddrinfo(const char*, const char*, const struct addrinfo*, struct addrinfo** res) {
  *res = nullptr;
  return EAI_FAMILY;
}
void husk_dbus_freeaddrinfo(struct addrinfo*) {}
int husk_dbus_getnameinfo(const struct sockaddr*, socklen_t, char*, socklen_t, char*, socklen_t, int) {
  return EAI_FAMILY;
}
}
