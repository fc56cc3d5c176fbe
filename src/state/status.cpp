#include "husk/state/status.hpp"

namespace husk::state {

std::string_view to_string(Status s) {
  switch (s) {
    case Status::creating:
      return "creating";
    case Status::created:
      return "created";
    case Status::running:
      return "running";
    case Status::paused:
      return "paused";
    case Status::stopped:
      return "stopped";
  }
  return "unknown";
}

Status derive_status(const Facts& f) {
  if (!f.saved) return f.init_alive ? Status::creating : Status::stopped;
  if (!f.init_alive) return Status::stopped;
  if (f.frozen) return Status::paused;
  if (f.fifo_exists) return Status::created;
  return Status::running;
}

}  // namespace husk::state
