#include "husk/core/log.hpp"

#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <chrono>

#include <nlohmann/json.hpp>

namespace husk::log {
namespace {
FdSink g_stderr_sink(2, Format::text, false);
Sink* g_sink = &g_stderr_sink;
Level g_level = Level::warning;

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
}

std::string quote_logfmt(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}
}  // namespace

std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warning:
      return "warning";
    case Level::error:
      return "error";
  }
  return "error";
}

std::string rfc3339(const timespec& ts) {
  // UTC by arithmetic: glibc's gmtime_r would load /etc/localtime on its first call.
  using namespace std::chrono;
  sys_seconds secs{seconds{ts.tv_sec}};
  auto day = floor<days>(secs);
  year_month_day ymd{day};
  hh_mm_ss<seconds> hms{secs - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), ts.tv_nsec);
}

std::string now_rfc3339() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return rfc3339(ts);
}

std::string format_record(Format f, Level level, std::string_view msg, std::string_view time) {
  if (f == Format::json) {
    nlohmann::ordered_json j;
    j["level"] = level_name(level);
    j["msg"] = msg;
    j["time"] = time;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return fmt::format("time=\"{}\" level={} msg={}\n", time, level_name(level), quote_logfmt(msg));
}

void FdSink::write(Level level, std::string_view msg) {
  write_all(fd_, format_record(format_, level, msg, now_rfc3339()));
  if (mirror_ && level == Level::error && fd_ != 2) {
    std::string line(msg);
    line += '\n';
    write_all(2, line);
  }
}

void set_sink(Sink* s) { g_sink = s ? s : &g_stderr_sink; }
Sink* sink() { return g_sink; }
void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
void emit(Level l, std::string_view msg) { g_sink->write(l, msg); }

}  // namespace husk::log
