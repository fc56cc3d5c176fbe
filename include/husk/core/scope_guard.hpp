// Runs a cleanup unless dismissed. Arm only in P (docs/design.md §4): a child's copy
// must never run it, which holds because children end in _exit().
#pragma once

#include <utility>

namespace husk {

template <class F>
class ScopeGuard {
 public:
  explicit ScopeGuard(F f) : f_(std::move(f)) {}
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  ~ScopeGuard() {
    if (armed_) f_();
  }
  void dismiss() { armed_ = false; }

 private:
  F f_;
  bool armed_ = true;
};

}  // namespace husk
