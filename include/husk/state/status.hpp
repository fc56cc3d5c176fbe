// Container status, derived from facts and never trusted from the file (docs/design.md §3).
#pragma once

#include <string_view>

namespace husk::state {

enum class Status { creating, created, running, paused, stopped };

std::string_view to_string(Status s);

struct Facts {
  bool init_alive = false;     // pid exists, is not a zombie, and its start time matches
  bool fifo_exists = false;    // exec.fifo still there: start has not run
  bool frozen = false;         // freezer says FROZEN
  bool saved = true;           // the record is complete (false: create has not finished)
  bool creator_alive = false;  // !saved: the create holds the directory's lock
};

Status derive_status(const Facts& f);

inline bool can_start(Status s) { return s == Status::created; }
inline bool can_kill(Status s) { return s == Status::created || s == Status::running || s == Status::paused; }
inline bool can_delete(Status s) { return s == Status::stopped; }
inline bool can_pause(Status s) { return s == Status::running || s == Status::created; }
inline bool can_resume(Status s) { return s == Status::paused; }

}  // namespace husk::state
