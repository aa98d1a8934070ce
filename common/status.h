// Status and Result<T>: how errors cross module boundaries in segd.
//
// A Status is either OK or carries a code and a message a user can act on.
// Exceptions are used only while reading the startup configuration.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace segd {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,  // the input (record, rule, request) is wrong
    kNotFound,
    kAlreadyExists,
    kFailedPrecondition,  // the state does not allow it (e.g. a dependent segment)
    kResourceExhausted,   // disk, map or queue full; retry later
    kUnavailable,         // a service (the broker) cannot be reached; retry later
    kAborted,             // a transaction was aborted; redo it
    kFatal,               // cannot go on with this object; recreate it
    kInternal,
  };

  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Aborted(std::string m) { return {Code::kAborted, std::move(m)}; }
  static Status Fatal(std::string m) { return {Code::kFatal, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T> holds a T or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: REQUIRES: !status.ok()

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace segd

#define SEGD_RETURN_IF_ERROR(expr)       \
  do {                                   \
    ::segd::Status segd_s_ = (expr);     \
    if (!segd_s_.ok()) return segd_s_;   \
  } while (0)
