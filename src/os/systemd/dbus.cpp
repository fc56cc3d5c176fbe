// systemd's D-Bus API over libdbus-1's low-level calls (dbus/dbus.h), synchronous with
// deadlines. libdbus aborts the process on an invalid argument (a non-UTF-8 string), so
// values are checked before they are appended.
#include "husk/os/systemd/dbus.hpp"

#include <dbus/dbus.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "husk/core/log.hpp"

namespace husk::os::systemd {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr const char* kJobMatch =
    "type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',"
    "interface='org.freedesktop.systemd1.Manager',member='JobRemoved'";

struct DErr {
  DBusError e;
  DErr() { dbus_error_init(&e); }
  ~DErr() { dbus_error_free(&e); }
  DErr(const DErr&) = delete;
};

struct Unref {
  void operator()(DBusMessage* m) const { dbus_message_unref(m); }
};
using Msg = std::unique_ptr<DBusMessage, Unref>;

Error oom() { return Error::make(Errc::internal, "D-Bus: out of memory building a message"); }

bool utf8(std::string_view s) { return dbus_validate_utf8(std::string(s).c_str(), nullptr); }

template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

template <class T>
bool append_fixed(DBusMessageIter* it, int type, const std::vector<T>& v) {
  DBusMessageIter arr;
  char sig[2] = {static_cast<char>(type), 0};
  const T* p = v.data();
  return dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, sig, &arr) &&
         dbus_message_iter_append_fixed_array(&arr, type, &p, static_cast<int>(v.size())) &&
         dbus_message_iter_close_container(it, &arr);
}

bool append_string(DBusMessageIter* it, const std::string& s) {
  const char* p = s.c_str();
  return dbus_message_iter_append_basic(it, DBUS_TYPE_STRING, &p) != 0;
}

bool append_value(DBusMessageIter* it, const Value& v) {
  DBusMessageIter var;
  if (!dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, signature(v).c_str(), &var)) return false;
  auto basic = [&](int type, auto x) -> bool { return dbus_message_iter_append_basic(&var, type, &x); };
  bool ok = std::visit(Overload{
                           [&](bool b) { return basic(DBUS_TYPE_BOOLEAN, dbus_bool_t{b}); },
                           [&](uint8_t x) { return basic(DBUS_TYPE_BYTE, x); },
                           [&](int16_t x) { return basic(DBUS_TYPE_INT16, dbus_int16_t{x}); },
                           [&](uint16_t x) { return basic(DBUS_TYPE_UINT16, dbus_uint16_t{x}); },
                           [&](int32_t x) { return basic(DBUS_TYPE_INT32, dbus_int32_t{x}); },
                           [&](uint32_t x) { return basic(DBUS_TYPE_UINT32, dbus_uint32_t{x}); },
                           [&](int64_t x) { return basic(DBUS_TYPE_INT64, dbus_int64_t{x}); },
                           [&](uint64_t x) { return basic(DBUS_TYPE_UINT64, dbus_uint64_t{x}); },
                           [&](double x) { return basic(DBUS_TYPE_DOUBLE, x); },
                           [&](const std::string& s) { return append_string(&var, s); },
                           [&](const std::vector<std::string>& a) -> bool {
                             DBusMessageIter arr;
                             if (!dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, "s", &arr)) return false;
                             for (auto& s : a)
                               if (!append_string(&arr, s)) return false;
                             return static_cast<bool>(dbus_message_iter_close_container(&var, &arr));
                           },
                           [&](const std::vector<uint8_t>& a) { return append_fixed(&var, DBUS_TYPE_BYTE, a); },
                           [&](const std::vector<uint32_t>& a) { return append_fixed(&var, DBUS_TYPE_UINT32, a); },
                           [&](const std::vector<int32_t>& a) { return append_fixed(&var, DBUS_TYPE_INT32, a); },
                           [&](const std::vector<uint64_t>& a) {
                             std::vector<dbus_uint64_t> d(a.begin(), a.end());
                             return append_fixed(&var, DBUS_TYPE_UINT64, d);
                           },
                           [&](const DeviceAllowList& a) -> bool {
                             DBusMessageIter arr, st;
                             if (!dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, "(ss)", &arr)) return false;
                             for (auto& [path, perms] : a) {
                               if (!dbus_message_iter_open_container(&arr, DBUS_TYPE_STRUCT, nullptr, &st) ||
                                   !append_string(&st, path) || !append_string(&st, perms) ||
                                   !dbus_message_iter_close_container(&arr, &st))
                                 return false;
                             }
                             return static_cast<bool>(dbus_message_iter_close_container(&var, &arr));
                           },
                       },
                       v);
  return dbus_message_iter_close_container(it, &var) && ok;
}

// Every string in a property must be UTF-8 (libdbus aborts otherwise).
Result<void> check_strings(const Property& p) {
  auto bad = [&] { return Error::make(Errc::invalid_spec, fmt::format("systemd property {}: not UTF-8", p.name)); };
  if (!utf8(p.name)) return bad();
  if (auto* s = std::get_if<std::string>(&p.value); s && !utf8(*s)) return bad();
  if (auto* a = std::get_if<std::vector<std::string>>(&p.value))
    for (auto& s : *a)
      if (!utf8(s)) return bad();
  if (auto* d = std::get_if<DeviceAllowList>(&p.value))
    for (auto& [x, y] : *d)
      if (!utf8(x) || !utf8(y)) return bad();
  return ok();
}

// a(sv)
Result<void> append_properties(DBusMessageIter* it, const Properties& props) {
  DBusMessageIter arr, st;
  if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "(sv)", &arr)) return oom();
  for (auto& p : props) {
    TRY(check_strings(p));
    if (!dbus_message_iter_open_container(&arr, DBUS_TYPE_STRUCT, nullptr, &st) || !append_string(&st, p.name) ||
        !append_value(&st, p.value) || !dbus_message_iter_close_container(&arr, &st))
      return oom();
  }
  if (!dbus_message_iter_close_container(it, &arr)) return oom();
  return ok();
}

Msg manager_call(const char* method) { return Msg(dbus_message_new_method_call(kDest, kPath, kManager, method)); }

Result<void> append_strings(DBusMessage* m, std::initializer_list<const std::string*> ss) {
  DBusMessageIter it;
  dbus_message_iter_init_append(m, &it);
  for (auto* s : ss) {
    if (!utf8(*s)) return Error::make(Errc::invalid_argument, fmt::format("systemd: {:?} is not UTF-8", *s));
    if (!append_string(&it, *s)) return oom();
  }
  return ok();
}

// The object path (or string) that a reply carries first.
Result<std::string> first_string(DBusMessage* reply, int type, const std::string& what) {
  DBusMessageIter it;
  if (!dbus_message_iter_init(reply, &it))
    return Error::make(Errc::protocol, fmt::format("systemd: {}: empty reply", what));
  if (dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_VARIANT) {
    DBusMessageIter inner;
    dbus_message_iter_recurse(&it, &inner);
    it = inner;
  }
  if (dbus_message_iter_get_arg_type(&it) != type)
    return Error::make(Errc::protocol, fmt::format("systemd: {}: unexpected reply type '{}'", what,
                                                   static_cast<char>(dbus_message_iter_get_arg_type(&it))));
  const char* s = nullptr;
  dbus_message_iter_get_basic(&it, &s);
  return std::string(s ? s : "");
}

bool not_loaded(const Error& e) { return e.code() == Errc::not_found; }

}  // namespace

std::string unit_object_path(const std::string& unit) {
  std::string out = "/org/freedesktop/systemd1/unit/";
  if (unit.empty()) return out + "_";
  for (size_t i = 0; i < unit.size(); ++i) {
    unsigned char c = unit[i];
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9' && i > 0);
    out += plain ? std::string(1, static_cast<char>(c)) : fmt::format("_{:02x}", c);
  }
  return out;
}

unsigned parse_version(const std::string& v) {
  size_t i = v.find_first_of("0123456789");
  if (i == std::string::npos) return 0;
  unsigned n = 0;
  for (; i < v.size() && v[i] >= '0' && v[i] <= '9' && n < 100000; ++i) n = n * 10 + (v[i] - '0');
  return n;
}

Result<Bus> Bus::connect(const std::string& address, bool bus) {
  DErr e;
  DBusConnection* c = dbus_connection_open_private(address.c_str(), &e.e);
  if (!c)
    return Error::make(Errc::sys, fmt::format("systemd cgroup driver (--systemd-cgroup): cannot connect to D-Bus at "
                                              "{}: {}",
                                              address, e.e.message ? e.e.message : "unknown error"));
  dbus_connection_set_exit_on_disconnect(c, FALSE);
  Bus b(c, bus);
  if (bus) {
    if (!dbus_bus_register(c, &e.e))
      return Error::make(Errc::sys, fmt::format("systemd cgroup driver (--systemd-cgroup): D-Bus Hello at {}: {}",
                                                address, e.e.message ? e.e.message : "unknown error"));
    ++b.round_trips_;
    // Neither waits for its reply: the bus daemon and systemd handle them before the calls
    // that follow on this connection.
    dbus_bus_add_match(c, kJobMatch, nullptr);
    Msg sub = manager_call("Subscribe");
    if (!sub) return oom();
    dbus_message_set_no_reply(sub.get(), TRUE);
    if (!dbus_connection_send(c, sub.get(), nullptr)) return oom();
  }
  return b;
}

Result<Bus> Bus::connect_system(bool private_socket) {
  if (private_socket && geteuid() == 0 && access(kPrivateSocket, F_OK) == 0) {
    auto b = connect(std::string("unix:path=") + kPrivateSocket, false);
    if (b) return b;
    log::debug("{}; trying the system bus", b.error().message());
  }
  const char* env = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  std::string address = env && *env ? env : std::string("unix:path=") + kSystemBusSocket;
  if (address.starts_with("unix:path=")) {
    std::string path =
        address.substr(10, address.find(',') == std::string::npos ? std::string::npos : address.find(',') - 10);
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
      return Error::sys(
          fmt::format("systemd cgroup driver (--systemd-cgroup): no system D-Bus socket {} (is systemd "
                      "running?)",
                      path));
  }
  return connect(address, true);
}

Result<UserAddress> user_manager_address(const char* session_env, const char* xdg_env, unsigned uid,
                                         bool (*exists)(const std::string& path)) {
  if (session_env && *session_env) return UserAddress{session_env, true};
  std::string dir = xdg_env && *xdg_env ? std::string(xdg_env) : fmt::format("/run/user/{}", uid);
  std::string bus = dir + "/bus", priv = dir + "/systemd/private";
  if (exists(bus)) return UserAddress{"unix:path=" + bus, true};
  if (exists(priv)) return UserAddress{"unix:path=" + priv, false};
  return Error::make(Errc::not_found,
                     fmt::format("systemd cgroup driver (--systemd-cgroup), rootless: no user systemd at {} nor {} "
                                 "(DBUS_SESSION_BUS_ADDRESS unset{}; is the user's systemd running? loginctl "
                                 "enable-linger)",
                                 bus, priv, xdg_env && *xdg_env ? "" : ", XDG_RUNTIME_DIR unset"));
}

Result<Bus> Bus::connect_user() {
  auto exists = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0;
  };
  TRY_ASSIGN(auto a, user_manager_address(std::getenv("DBUS_SESSION_BUS_ADDRESS"), std::getenv("XDG_RUNTIME_DIR"),
                                          ::geteuid(), exists));
  return connect(a.address, a.bus);
}

Bus::Bus(Bus&& o) noexcept : c_(o.c_), bus_(o.bus_), jobs_done_(std::move(o.jobs_done_)), round_trips_(o.round_trips_) {
  o.c_ = nullptr;
}

Bus& Bus::operator=(Bus&& o) noexcept {
  if (this != &o) {
    close();
    c_ = o.c_;
    bus_ = o.bus_;
    jobs_done_ = std::move(o.jobs_done_);
    round_trips_ = o.round_trips_;
    o.c_ = nullptr;
  }
  return *this;
}

Bus::~Bus() { close(); }

void Bus::close() {
  if (!c_) return;
  dbus_connection_close(c_);
  dbus_connection_unref(c_);
  c_ = nullptr;
}

void Bus::take_signal(DBusMessage* m) {
  Msg owned(m);
  if (!dbus_message_is_signal(m, kManager, "JobRemoved")) return;
  DErr e;
  dbus_uint32_t id = 0;
  const char *job = nullptr, *unit = nullptr, *result = nullptr;
  if (dbus_message_get_args(m, &e.e, DBUS_TYPE_UINT32, &id, DBUS_TYPE_OBJECT_PATH, &job, DBUS_TYPE_STRING, &unit,
                            DBUS_TYPE_STRING, &result, DBUS_TYPE_INVALID))
    jobs_done_[job] = result;
}

Result<void> Bus::read_some(Clock::time_point deadline, const std::string& what) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return Error::sys(fmt::format("systemd: {}", what), ETIMEDOUT);
  if (!dbus_connection_read_write(c_, static_cast<int>(left)) || !dbus_connection_get_is_connected(c_))
    return Error::sys(fmt::format("systemd: {}: the D-Bus connection was closed", what), ECONNRESET);
  return ok();
}

Result<DBusMessage*> Bus::call(DBusMessage* m, std::chrono::milliseconds timeout, const std::string& what) {
  Msg msg(m);
  if (!m) return oom();
  dbus_uint32_t serial = 0;
  if (!dbus_connection_send(c_, m, &serial)) return oom();
  ++round_trips_;
  auto deadline = Clock::now() + timeout;
  while (true) {
    while (DBusMessage* in = dbus_connection_pop_message(c_)) {
      int type = dbus_message_get_type(in);
      log::debug("D-Bus: {} received type {} reply_serial {} member {}", what, type, dbus_message_get_reply_serial(in),
                 dbus_message_get_member(in) ? dbus_message_get_member(in) : "-");
      if ((type != DBUS_MESSAGE_TYPE_METHOD_RETURN && type != DBUS_MESSAGE_TYPE_ERROR) ||
          dbus_message_get_reply_serial(in) != serial) {
        take_signal(in);
        continue;
      }
      if (type == DBUS_MESSAGE_TYPE_METHOD_RETURN) return in;
      Msg reply(in);
      DErr e;
      dbus_set_error_from_message(&e.e, in);
      std::string name = e.e.name ? e.e.name : "";
      Errc code =
          name == "org.freedesktop.systemd1.UnitExists"   ? Errc::exists
          : name == "org.freedesktop.systemd1.NoSuchUnit" ? Errc::not_found
          : name == "org.freedesktop.DBus.Error.InvalidArgs" || name == "org.freedesktop.DBus.Error.PropertyReadOnly"
              ? Errc::invalid_argument
              : Errc::sys;
      return Error::make(code, fmt::format("systemd: {}: {} ({})", what, e.e.message ? e.e.message : "", name));
    }
    TRY(read_some(deadline, what));
  }
}

Result<std::string> Bus::wait_job(const std::string& job, Clock::time_point deadline) {
  std::string what = "waiting for job " + job;
  while (true) {
    if (auto it = jobs_done_.find(job); it != jobs_done_.end()) {
      std::string r = it->second;
      jobs_done_.erase(it);
      return r;
    }
    while (DBusMessage* in = dbus_connection_pop_message(c_)) take_signal(in);
    if (jobs_done_.count(job)) continue;
    TRY(read_some(deadline, what));
  }
}

Result<void> Bus::start_transient_unit(const std::string& unit, const Properties& props,
                                       std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  Msg m = manager_call("StartTransientUnit");
  if (!m) return oom();
  std::string mode = "replace";
  TRY(append_strings(m.get(), {&unit, &mode}));
  DBusMessageIter it, aux;
  dbus_message_iter_init_append(m.get(), &it);
  TRY(append_properties(&it, props));
  if (!dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "(sa(sv))", &aux) ||
      !dbus_message_iter_close_container(&it, &aux))
    return oom();
  auto reply = call(m.release(), timeout, "StartTransientUnit " + unit);
  if (!reply) {
    if (reply.error().code() == Errc::exists)
      return Error::make(Errc::exists, fmt::format("systemd unit {} already exists", unit));
    // No answer in time: systemd may still make the unit. StopUnit queued after it on the
    // same connection replaces its start job.
    if (reply.error().sys_errno() == ETIMEDOUT) {
      (void)stop_unit(unit, std::chrono::milliseconds(2000));
      (void)reset_failed_unit(unit);
    }
    return std::move(reply).error();
  }
  Msg r(*reply);
  TRY_ASSIGN(std::string job, first_string(r.get(), DBUS_TYPE_OBJECT_PATH, "StartTransientUnit " + unit));
  auto result = wait_job(job, deadline);
  if (!result || *result != "done") {
    // Leave nothing behind: a job that timed out may still start the unit.
    if (!result) (void)stop_unit(unit, std::chrono::milliseconds(2000));
    (void)reset_failed_unit(unit);
    if (!result) return std::move(result).error().context("systemd unit " + unit);
    return Error::make(Errc::sys,
                       fmt::format("systemd unit {}: the start job finished with result {:?}", unit, *result));
  }
  return ok();
}

Result<void> Bus::stop_unit(const std::string& unit, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  Msg m = manager_call("StopUnit");
  if (!m) return oom();
  std::string mode = "replace";
  TRY(append_strings(m.get(), {&unit, &mode}));
  auto reply = call(m.release(), timeout, "StopUnit " + unit);
  if (!reply) {
    if (not_loaded(reply.error())) return ok();
    return std::move(reply).error();
  }
  Msg r(*reply);
  TRY_ASSIGN(std::string job, first_string(r.get(), DBUS_TYPE_OBJECT_PATH, "StopUnit " + unit));
  TRY_ASSIGN(std::string result, wait_job(job, deadline));
  if (result != "done") log::warning("systemd unit {}: the stop job finished with result {:?}", unit, result);
  return ok();
}

Result<void> Bus::set_unit_properties(const std::string& unit, const Properties& props, bool runtime) {
  Msg m = manager_call("SetUnitProperties");
  if (!m) return oom();
  TRY(append_strings(m.get(), {&unit}));
  DBusMessageIter it;
  dbus_message_iter_init_append(m.get(), &it);
  dbus_bool_t rt = runtime;
  if (!dbus_message_iter_append_basic(&it, DBUS_TYPE_BOOLEAN, &rt)) return oom();
  TRY(append_properties(&it, props));
  TRY_ASSIGN(DBusMessage * reply, call(m.release(), kJobTimeout, "SetUnitProperties " + unit));
  dbus_message_unref(reply);
  return ok();
}

Result<void> Bus::reset_failed_unit(const std::string& unit) {
  Msg m = manager_call("ResetFailedUnit");
  if (!m) return oom();
  TRY(append_strings(m.get(), {&unit}));
  auto reply = call(m.release(), kJobTimeout, "ResetFailedUnit " + unit);
  if (!reply) return not_loaded(reply.error()) ? ok() : Result<void>(std::move(reply).error());
  dbus_message_unref(*reply);
  return ok();
}

Result<std::string> Bus::property_string(const std::string& path, const std::string& iface, const std::string& name) {
  Msg m(dbus_message_new_method_call(kDest, path.c_str(), DBUS_INTERFACE_PROPERTIES, "Get"));
  if (!m) return oom();
  TRY(append_strings(m.get(), {&iface, &name}));
  std::string what = fmt::format("Get {} {}", path, name);
  TRY_ASSIGN(DBusMessage * reply, call(m.release(), kJobTimeout, what));
  Msg r(reply);
  return first_string(reply, DBUS_TYPE_STRING, what);
}

Result<std::string> Bus::unit_control_group(const std::string& unit) {
  std::string iface = unit.ends_with(".slice") ? "org.freedesktop.systemd1.Slice" : "org.freedesktop.systemd1.Scope";
  TRY_ASSIGN(std::string cg, property_string(unit_object_path(unit), iface, "ControlGroup"));
  if (cg.empty()) return Error::make(Errc::not_found, fmt::format("systemd unit {} has no cgroup (not loaded)", unit));
  return cg;
}

Result<std::string> Bus::manager_string(const std::string& name) { return property_string(kPath, kManager, name); }

Result<unsigned> Bus::version() {
  TRY_ASSIGN(std::string v, manager_string("Version"));
  return parse_version(v);
}

}  // namespace husk::os::systemd
