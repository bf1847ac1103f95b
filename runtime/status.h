// Status and Result<T>: the only error channel across trainrt's public functions.
//
// A Status is either OK or carries a code and a one-line message that names what failed and where
// ("resourceconfig.json: key 'hosts': expected a list of strings"). Result<T> holds a value or a
// non-OK Status. Both are cheap to move and safe to share read-only between threads.
#ifndef TRAINRT_RUNTIME_STATUS_H_
#define TRAINRT_RUNTIME_STATUS_H_

#include <optional>
#include <string>
#include <utility>

namespace trainrt::runtime {

class [[nodiscard]] Status {
 public:
  enum class Code { kOk, kInvalidArgument, kNotFound, kIOError, kCorruption, kCancelled, kInternal };

  Status() = default;  // OK
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {Code::kCancelled, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }
  // An IOError (NotFound for ENOENT) reading "context: strerror(errnum)". The one errno translator.
  static Status FromErrno(const std::string& context, int errnum);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK", or the message; the message alone is what users see in logs and the failure file.
  std::string ToString() const { return ok() ? "OK" : message_; }
  // A copy whose message is "context: message" (OK stays OK).
  Status WithContext(const std::string& context) const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: REQUIRES: !status.ok()

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace trainrt::runtime

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define TRAINRT_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::trainrt::runtime::Status trainrt_status_ = (expr); \
    if (!trainrt_status_.ok()) return trainrt_status_; \
  } while (0)

#endif  // TRAINRT_RUNTIME_STATUS_H_
