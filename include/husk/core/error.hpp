// husk::Error and husk::Result<T>: errors as values below the CLI (docs/design.md §2).
//
// The child processes (S, C) return twice from clone: an exception escaping them would
// run P's destructors inside the child. Errors are therefore plain values that can also
// cross the sync socket as (errno, message).
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace husk {

enum class Errc { sys, invalid_spec, invalid_argument, not_found, exists, bad_state, protocol, unsupported, internal };

class [[nodiscard]] Error {
 public:
  // Captures errno at the call: construct it right after the failing syscall.
  static Error sys(std::string_view op, int err = errno);
  static Error make(Errc c, std::string msg);
  // Rebuilds an error that crossed the sync socket.
  static Error from_wire(int err, std::string msg);

  // "what: <previous message>"
  Error context(std::string_view what) &&;
  Error context(std::string_view what) const&;

  Errc code() const { return code_; }
  int sys_errno() const { return errno_; }
  const std::string& message() const { return msg_; }
  // message + ": " + strerror(errno) when an errno is attached.
  std::string describe() const;

 private:
  Error(Errc c, int e, std::string m) : code_(c), errno_(e), msg_(std::move(m)) {}
  Errc code_;
  int errno_;
  std::string msg_;
};

// A small std::expected<T, Error> (g++ 12 has <expected> only in C++23).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}      // NOLINT(implicit)
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT(implicit)
  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  Result context(std::string_view what) && {
    if (has_value()) return std::move(*this);
    return std::move(*this).error().context(what);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : e_(std::move(e)), ok_(false) {}  // NOLINT(implicit)
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const {}
  const Error& error() const& { return e_; }
  Error&& error() && { return std::move(e_); }
  Result context(std::string_view what) && {
    if (ok_) return {};
    return std::move(e_).context(what);
  }

 private:
  Error e_ = Error::make(Errc::internal, "");
  bool ok_ = true;
};

inline Result<void> ok() { return {}; }

}  // namespace husk

#define HUSK_CAT2_(a, b) a##b
#define HUSK_CAT_(a, b) HUSK_CAT2_(a, b)

// Propagates the error of a Result-returning expression.
#define TRY(expr)                                            \
  do {                                                       \
    auto&& husk_try_r_ = (expr);                             \
    if (!husk_try_r_) return std::move(husk_try_r_).error(); \
  } while (0)

// Binds the value of a Result-returning expression: TRY_ASSIGN(auto fd, open_x());
#define TRY_ASSIGN(lhs, expr) TRY_ASSIGN_IMPL_(HUSK_CAT_(husk_try_v_, __LINE__), lhs, expr)
#define TRY_ASSIGN_IMPL_(tmp, lhs, expr)   \
  auto tmp = (expr);                       \
  if (!tmp) return std::move(tmp).error(); \
  lhs = std::move(*tmp)
