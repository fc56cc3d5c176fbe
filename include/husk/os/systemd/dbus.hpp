// A small client of systemd's D-Bus API (org.freedesktop.systemd1.Manager) over libdbus-1,
// linked statically: what the systemd cgroup driver needs and nothing more. One connection
// per husk command; each call is synchronous with a deadline.
//
// Round trips: as root husk talks to systemd's private socket (/run/systemd/private, as
// runc's go-systemd does): no bus daemon in between, no Hello, and systemd sends job signals
// to every private connection unasked. On the system bus (or a user's session bus) the
// connection says Hello, then AddMatch and Subscribe are sent without waiting for replies
// (the bus and systemd handle one connection's messages in order).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/os/systemd/props.hpp"

struct DBusConnection;
struct DBusMessage;

namespace husk::os::systemd {

inline constexpr const char* kPrivateSocket = "/run/systemd/private";
inline constexpr const char* kSystemBusSocket = "/run/dbus/system_bus_socket";
inline constexpr std::chrono::milliseconds kJobTimeout{30000};  // runc's

class Bus {
 public:
  // Root: systemd's private socket when it exists, else the system bus
  // ($DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket). A missing socket is one line
  // naming it and --systemd-cgroup. `private_socket` false: the system bus only.
  static Result<Bus> connect_system(bool private_socket = true);
  // A rootless user's systemd: where user_manager_address points (the session bus, else
  // the manager's private socket, as `systemctl --user` uses).
  static Result<Bus> connect_user();
  // A D-Bus address ("unix:path=..."); `bus`: a bus daemon is there (Hello, AddMatch).
  static Result<Bus> connect(const std::string& address, bool bus);

  Bus(Bus&& o) noexcept;
  Bus& operator=(Bus&& o) noexcept;
  ~Bus();

  // StartTransientUnit(unit, "replace", props, []) and waits for the job's JobRemoved.
  // An existing unit: Errc::exists ("unit ... already exists"); a property systemd rejects:
  // its message (systemd names the property); a job whose result is not "done" or that
  // times out: an error naming the result, after ResetFailedUnit.
  Result<void> start_transient_unit(const std::string& unit, const Properties& props,
                                    std::chrono::milliseconds timeout = kJobTimeout);
  // StopUnit(unit, "replace") and waits for the job; a unit that is not loaded is fine.
  Result<void> stop_unit(const std::string& unit, std::chrono::milliseconds timeout = kJobTimeout);
  // SetUnitProperties(unit, runtime, props).
  Result<void> set_unit_properties(const std::string& unit, const Properties& props, bool runtime = true);
  // ResetFailedUnit(unit); a unit that is not loaded is fine.
  Result<void> reset_failed_unit(const std::string& unit);
  // The unit's ControlGroup property ("/system.slice/husk-x.scope"), read at the unit's
  // object path (unit_object_path: one round trip, as go-systemd does, no GetUnit);
  // Errc::not_found when the unit has none (not loaded). GetUnit is not used: over the
  // private socket systemd 252 never answered it in the test guest (Properties.Get,
  // StartTransientUnit and StopUnit were answered on the same socket).
  Result<std::string> unit_control_group(const std::string& unit);
  // A string property of the manager: "Version" ("252.39-1~deb12u2"), "ControlGroup".
  Result<std::string> manager_string(const std::string& name);
  // The leading number of Manager.Version (252), 0 when unknown.
  Result<unsigned> version();

  // Round trips so far (for measuring where the time goes).
  unsigned round_trips() const { return round_trips_; }

 private:
  explicit Bus(DBusConnection* c, bool bus) : c_(c), bus_(bus) {}
  void close();
  // Sends `m` (consumed) and reads until its reply; signals read meanwhile are kept.
  Result<DBusMessage*> call(DBusMessage* m, std::chrono::milliseconds timeout, const std::string& what);
  // Reads messages until JobRemoved for `job` (or the deadline); its result.
  Result<std::string> wait_job(const std::string& job, std::chrono::steady_clock::time_point deadline);
  Result<void> read_some(std::chrono::steady_clock::time_point deadline, const std::string& what);
  void take_signal(DBusMessage* m);
  Result<std::string> property_string(const std::string& path, const std::string& iface, const std::string& name);

  DBusConnection* c_ = nullptr;
  bool bus_ = false;
  std::map<std::string, std::string> jobs_done_;  // job object path -> result
  unsigned round_trips_ = 0;
};

// Where a rootless user's systemd is reached, pure: $DBUS_SESSION_BUS_ADDRESS when set (a
// bus, as runc); else in the runtime directory ($XDG_RUNTIME_DIR, or /run/user/UID) its
// "bus" socket, else the user manager's own "systemd/private" (no bus daemon: `bus` false).
// `exists` says whether a socket path exists. Neither: one line naming the sockets.
struct UserAddress {
  std::string address;  // "unix:path=/run/user/1000/bus"
  bool bus = true;
};
Result<UserAddress> user_manager_address(const char* session_env, const char* xdg_env, unsigned uid,
                                         bool (*exists)(const std::string& path));

// systemd's object path of a unit: "/org/freedesktop/systemd1/unit/" + the name with every
// byte but [A-Za-z0-9] (and a leading digit) as "_xx" ("husk_2dx_2escope").
std::string unit_object_path(const std::string& unit);
// Parses "252.39-1~deb12u2" / "v245.4-1.fc32" -> 252 / 245; 0 if there is no number.
unsigned parse_version(const std::string& v);

}  // namespace husk::os::systemd
