#include "husk/core/error.hpp"

#include <cstring>

namespace husk {

Error Error::sys(std::string_view op, int err) { return Error(Errc::sys, err, std::string(op)); }

Error Error::make(Errc c, std::string msg) { return Error(c, 0, std::move(msg)); }

Error Error::from_wire(int err, std::string msg) {
  return Error(err ? Errc::sys : Errc::internal, err, std::move(msg));
}

Error Error::context(std::string_view what) && {
  std::string m(what);
  if (!msg_.empty()) {
    m += ": ";
    m += msg_;
  }
  msg_ = std::move(m);
  return std::move(*this);
}

Error Error::context(std::string_view what) const& {
  Error copy = *this;
  return std::move(copy).context(what);
}

std::string Error::describe() const {
  if (errno_ == 0) return msg_;
  return msg_ + ": " + std::strerror(errno_);
}

}  // namespace husk
