// aio/errors.hpp — the exceptions of asyncio.exceptions, as C++ types.
//
// CancelledError, KeyboardInterrupt and GeneratorExit derive from BaseException, not from
// std::exception, exactly as asyncio's derive from BaseException and not Exception: a
// `catch (const std::exception&)` must never swallow a cancellation. Everything else derives
// from the standard exception that matches asyncio's base (TimeoutError is a runtime_error,
// InvalidStateError a logic_error). OS errors are std::system_error; ValueError is
// std::invalid_argument.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace aio {

/// Root of the exceptions that are not errors (asyncio's BaseException): cancellation,
/// interruption, generator exit. Deliberately not a std::exception.
class BaseException {
 public:
  explicit BaseException(std::string message = {}) : message_(std::move(message)) {}
  virtual ~BaseException() = default;
  /// The message given when raised (for CancelledError, the cancel message; may be empty).
  const std::string& message() const noexcept { return message_; }
  virtual const char* name() const noexcept { return "BaseException"; }

 private:
  std::string message_;
};

/// asyncio.CancelledError: thrown at a task's pending co_await when it is cancelled.
class CancelledError : public BaseException {
 public:
  using BaseException::BaseException;
  const char* name() const noexcept override { return "CancelledError"; }
};

/// KeyboardInterrupt: thrown by run() after Ctrl+C; escapes the event loop when a task throws it.
class KeyboardInterrupt : public BaseException {
 public:
  using BaseException::BaseException;
  const char* name() const noexcept override { return "KeyboardInterrupt"; }
};

/// GeneratorExit: thrown at an async generator's pending co_yield by aclose().
class GeneratorExit : public BaseException {
 public:
  using BaseException::BaseException;
  const char* name() const noexcept override { return "GeneratorExit"; }
};

/// asyncio.TimeoutError (the builtin TimeoutError since 3.11).
class TimeoutError : public std::runtime_error {
 public:
  explicit TimeoutError(const std::string& what = "timed out") : std::runtime_error(what) {}
};

/// asyncio.InvalidStateError: result() of a pending future, set_result() twice, ...
class InvalidStateError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// RuntimeError: misuse such as a nested run(), a closed loop, awaiting a Coro twice.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// asyncio.IncompleteReadError: EOF before readexactly(n) / readuntil() was satisfied.
class IncompleteReadError : public std::runtime_error {
 public:
  IncompleteReadError(std::string partial_bytes, std::optional<std::int64_t> expected_bytes)
      : std::runtime_error(describe(partial_bytes.size(), expected_bytes)),
        partial(std::move(partial_bytes)),
        expected(expected_bytes) {}
  std::string partial;
  std::optional<std::int64_t> expected;  // nullopt: readuntil() hit EOF

 private:
  static std::string describe(std::size_t got, std::optional<std::int64_t> expected) {
    return std::to_string(got) + " bytes read on a total of " +
           (expected ? std::to_string(*expected) : std::string("undefined")) + " expected bytes";
  }
};

/// asyncio.LimitOverrunError: the separator was not found within the stream's limit.
class LimitOverrunError : public std::runtime_error {
 public:
  LimitOverrunError(const std::string& what, std::int64_t consumed_bytes)
      : std::runtime_error(what), consumed(consumed_bytes) {}
  std::int64_t consumed;
};

class QueueEmpty : public std::runtime_error {
 public:
  QueueEmpty() : std::runtime_error("queue is empty") {}
};

class QueueFull : public std::runtime_error {
 public:
  QueueFull() : std::runtime_error("queue is full") {}
};

class QueueShutDown : public std::runtime_error {
 public:
  QueueShutDown() : std::runtime_error("queue is shut down") {}
};

/// asyncio.BrokenBarrierError, a RuntimeError there and here.
/// A Broadcast receiver fell behind by more than the buffer holds: `missed()` values were
/// overwritten before it read them; its next recv() gives the oldest value still held.
class Lagged : public std::runtime_error {
 public:
  explicit Lagged(std::uint64_t missed)
      : std::runtime_error("receiver lagged behind by " + std::to_string(missed) + " values"),
        missed_(missed) {}
  std::uint64_t missed() const noexcept { return missed_; }

 private:
  std::uint64_t missed_;
};

class BrokenBarrierError : public RuntimeError {
 public:
  BrokenBarrierError() : RuntimeError("barrier is broken") {}
};

/// asyncio.SendfileNotAvailableError: sendfile(2) cannot serve this socket and file (the file
/// is not a regular one; the first call failed), and no fallback was allowed. A RuntimeError
/// there and here.
class SendfileNotAvailableError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

/// asyncio's BaseExceptionGroup: several errors thrown together (TaskGroup).
class ExceptionGroup : public std::runtime_error {
 public:
  ExceptionGroup(const std::string& what, std::vector<std::exception_ptr> exceptions)
      : std::runtime_error(what), exceptions_(std::move(exceptions)) {}
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  std::vector<std::exception_ptr> exceptions_;
};

/// A one-line description of any exception: "ValueError: boom" style, for logs.
std::string describe_exception(const std::exception_ptr& e);

}  // namespace aio
