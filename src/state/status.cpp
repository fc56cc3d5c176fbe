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
  // A create that died (its lock is free) left a container that is stopped, whatever
  // of it still lives: delete removes it all (runc 1.3.1 lists it so too).
  if (!f.saved) return f.creator_alive ? Status::creating : Status::stopped;
  if (!f.init_alive) return Status::stopped;
  if (f.frozen) return Status::paused;
  if (f.fifo_exists) return Status::created;
  return Status::running;
}

}  // namespace husk::state
