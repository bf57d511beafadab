// Errors are values on the request path: a Result<T> holds either a T or an
// Error{code, message}. ErrorCode is a small closed set with meaning; each API
// dialect maps it to HTTP in exactly one place (identity/api/errors.cc for
// Keystone). g++ 12 has no std::expected in C++20, so this is a minimal type
// with the same shape, swappable later.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace onestack {

enum class ErrorCode {
  kNotFound,
  kConflict,
  kUnauthenticated,
  kForbidden,
  kInvalidArgument,
  kPreconditionFailed,
  kRangeNotSatisfiable,
  kTooLarge,
  kInsufficientStorage,
  kUnavailable,
  kMethodNotAllowed,
  kNotImplemented,
  kNotAcceptable,   // no representation the client accepts (406)
  kLengthRequired,  // a body of unknown length where one must be known (411)
  kUnprocessable,   // well-formed but not what it claims, e.g. a wrong checksum (422)
  kOverQuota,       // a project's limit would be passed (each API answers its own way)
  kInternal,
};

// Returns a stable lower-case name ("not_found"), for logs and tests.
std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;
  // The media type of `message` where a dialect sends it as the whole body
  // ("text/plain": Swift's constraint checks answer so); empty: the
  // dialect's default. A static string.
  std::string_view media_type = {};
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

// An error whose message a dialect sends as a text/plain body.
inline Error make_plain_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message), "text/plain"};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_{ErrorCode::kInternal, {}};
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return Status{}; }

}  // namespace onestack

// Propagates a failed Result/Status out of the enclosing function.
#define ONESTACK_TRY(expr)                                                \
  do {                                                                    \
    auto onestack_try_r_ = (expr);                                        \
    if (!onestack_try_r_.ok()) return std::move(onestack_try_r_).error(); \
  } while (0)
