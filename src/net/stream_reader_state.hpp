// What a StreamReader handle shares: asyncio.StreamReader's buffer, EOF flag, exception, the one
// coroutine waiting for data, and flow control of the transport that feeds it.
//
// The buffer is a std::string read from an offset: reading advances the offset, and the string
// is compacted once the offset passes half of it, so consuming a byte is amortised O(1). The
// waiter is a WaitQueue holding at most one Waiter (a second concurrent read is a RuntimeError,
// as in asyncio); feed_data(), feed_eof() and set_exception() wake it, and a cancelled read
// unlinks itself, leaving no waiter behind. With a transport set, more than 2 × limit buffered
// pauses its reading; consuming down to the limit resumes it (asyncio's flow control).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "aio/coro.hpp"
#include "aio/detail/wait_queue.hpp"
#include "aio/loop.hpp"
#include "aio/protocols.hpp"

namespace aio::detail {

class StreamReaderState final : private WaitDescriber {
 public:
  StreamReaderState(std::int64_t limit, EventLoop& loop) noexcept : limit_(limit), loop_(&loop) {}
  StreamReaderState(const StreamReaderState&) = delete;
  StreamReaderState& operator=(const StreamReaderState&) = delete;

  /// The bytes fed and not yet read.
  std::string_view data() const noexcept { return std::string_view(buffer_).substr(start_); }
  std::size_t size() const noexcept { return buffer_.size() - start_; }
  /// Removes and returns the first `n` buffered bytes (n <= size()).
  std::string take(std::size_t n);
  /// Removes the first `n` buffered bytes (n <= size()).
  void discard(std::size_t n) noexcept;

  std::int64_t limit() const noexcept { return limit_; }
  bool eof() const noexcept { return eof_; }
  bool at_eof() const noexcept { return eof_ && size() == 0; }
  std::exception_ptr exception() const noexcept { return exception_; }
  bool waiting() const noexcept { return !waiter_.empty(); }
  bool paused() const noexcept { return paused_; }
  Transport* transport() const noexcept { return transport_; }
  EventLoop& loop() const noexcept { return *loop_; }

  /// Appends `data` and wakes the waiter; pauses the transport past 2 × limit. RuntimeError
  /// after feed_eof() (asyncio asserts).
  void feed_data(std::string_view data);
  void feed_eof();
  /// Every later read throws `error`; a waiting read is woken with it.
  void set_exception(std::exception_ptr error);
  /// nullptr forgets the transport (its connection is gone).
  void set_transport(Transport* transport) noexcept;
  /// Resumes a paused transport once no more than `limit` bytes are buffered.
  void maybe_resume_transport();

  /// Waits until feed_data(), feed_eof() or set_exception() (whose error it throws); resumes a
  /// paused transport first, since waiting on it would deadlock. RuntimeError when another
  /// coroutine is already waiting. Cancelling it leaves no waiter behind.
  Coro<void> wait_for_data(const char* func_name);

  /// asyncio's __repr__: "<StreamReader 4 bytes eof limit=123 ...>".
  std::string repr() const;

 private:
  void resume_reading();

  std::string buffer_;
  std::size_t start_ = 0;  // the bytes before it were read
  std::int64_t limit_;
  EventLoop* loop_;
  bool eof_ = false;
  bool paused_ = false;
  std::exception_ptr exception_;
  Transport* transport_ = nullptr;
  std::string describe_wait() const override;  // "StreamReader.read() from 127.0.0.1:5000"

  WaitQueue waiter_{"StreamReader.read()", this};  // at most one
  const char* waiting_in_ = "read";                // the read that waits
  std::exception_ptr* wake_error_ = nullptr;       // where set_exception() tells the waiter
};

}  // namespace aio::detail
