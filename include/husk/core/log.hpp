// Logging, runc-compatible: text (logrus style) or JSON lines with the
// logrus keys level/msg/time. The level is checked before formatting.
#pragma once

#include <fmt/format.h>

#include <time.h>

#include <string>
#include <string_view>

namespace husk::log {

enum class Level { debug = 0, info = 1, warning = 2, error = 3 };
enum class Format { text, json };

std::string_view level_name(Level l);

// Where formatted lines go. Chosen once in main; a child replaces it with a sink that
// forwards records over the sync socket.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(Level level, std::string_view msg) = 0;
};

// Writes formatted records to an fd; also mirrors errors to stderr when the log goes to
// a file (engines read the file, people read stderr).
class FdSink final : public Sink {
 public:
  FdSink(int fd, Format f, bool mirror_errors_to_stderr) : fd_(fd), format_(f), mirror_(mirror_errors_to_stderr) {}
  void write(Level level, std::string_view msg) override;

 private:
  int fd_;
  Format format_;
  bool mirror_;
};

// Pure formatting, unit-tested: one line including the trailing newline.
std::string format_record(Format f, Level level, std::string_view msg, std::string_view time);
// UTC, nanoseconds, "Z" (as runc's timestamps); rfc3339 is the pure part, unit-tested.
std::string rfc3339(const timespec& ts);
std::string now_rfc3339();

void set_sink(Sink* s);
Sink* sink();
void set_level(Level l);
Level level();
inline bool enabled(Level l) { return static_cast<int>(l) >= static_cast<int>(level()); }
void emit(Level l, std::string_view msg);

template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::debug)) emit(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::info)) emit(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warning(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::warning)) emit(Level::warning, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  emit(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace husk::log
