// aio/coro.hpp — Coro<T>: what an `async def` function returns.
//
// A Coro is lazy: nothing runs until it is awaited or handed to create_task(). `co_await coro`
// runs it inline in the awaiting task by symmetric transfer (no trip through the loop) and
// yields its T or rethrows its exception. It is move-only and awaited at most once; awaiting it
// again is a RuntimeError, as in asyncio. In debug mode a Coro destroyed without ever running
// is reported: "coroutine 'name' was never awaited".
//
// The promise doubles as the Task state (a FutureBase, aio/detail/future_base.hpp), so
// create_task() allocates nothing beyond the coroutine frame.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

#include "aio/detail/frame_allocator.hpp"
#include "aio/detail/thread_state.hpp"
#include "aio/errors.hpp"
#include "aio/future.hpp"

namespace aio {

template <class T = void>
class Coro;

namespace detail {

/// Names the coroutine function a promise belongs to, and its file (for the debug-mode reports
/// and the call graphs).
struct SourceName {
  // Default arguments of a default argument: evaluated in the coroutine that makes the promise.
  SourceName(const char* f = __builtin_FUNCTION(),  // NOLINT
             const char* file_name = __builtin_FILE()) noexcept
      : function(f), file(file_name) {}
  const char* function;
  const char* file;
};

void report_never_awaited(const char* function) noexcept;
// The errors of awaiting a Coro twice or an empty one, out of line so that the checks inline.
[[noreturn]] void throw_reused_coro();
[[noreturn]] void throw_empty_coro();

template <class T>
class Promise;

/// co_return for a value, or for nothing.
template <class T>
class PromiseReturn : public FutureCore<T> {
 public:
  template <class U = T>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) { this->store_value(std::forward<U>(value)); }
};

template <>
class PromiseReturn<void> : public FutureCore<void> {
 public:
  void return_void() noexcept {}
};

// GCC before 13 lays out the frame of a coroutine function that has a co_await in an if, while
// or switch condition and declares no variable wrongly (GCC PR 106188; README.md, "Compilers"):
// its handle is not where its frame was allocated. Debug builds check, so that such a coroutine
// stops at once with a message naming it, instead of crashing somewhere in its first step.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13 && !defined(NDEBUG)
#define AIO_CHECK_FRAME_LAYOUT 1
inline thread_local void* last_allocated_frame = nullptr;
[[noreturn]] void report_misplaced_frame(const char* function) noexcept;
#endif

template <class T>
class Promise final : public PromiseReturn<T> {
 public:
  explicit Promise(SourceName where = {}) noexcept {
    this->frame_.function = where.function;
    this->frame_.file = where.file;
  }

#ifdef AIO_CHECK_FRAME_LAYOUT
  static void* operator new(std::size_t size) {
    return last_allocated_frame = allocate_frame(size);
  }
#else
  static void* operator new(std::size_t size) {
    return allocate_frame(size);
  }
#endif
  static void operator delete(void* p, std::size_t size) noexcept {
    free_frame(p, size);
  }

  Coro<T> get_return_object() noexcept;

  // Lazy. (A task cancelled before its first step never resumes here: see FutureBase::run.)
  std::suspend_always initial_suspend() noexcept {
    return {};
  }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
      Promise& p = h.promise();
      if (!p.is_task_) return p.resume_point_;  // awaited inline: back to the awaiter
      p.finish();                               // a task: settle it (may free this frame)
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() noexcept {
    return {};
  }

  void unhandled_exception() noexcept {
    if (this->is_task_) classify_task_exception();
    this->exception_ = std::current_exception();
  }

  // Inline awaiting (Coro's awaiter).
  void set_continuation(std::coroutine_handle<> c) noexcept {
    this->resume_point_ = c;
  }
  T take_inline_result() {
    if (this->exception_) std::rethrow_exception(std::move(this->exception_));
    if constexpr (!std::is_void_v<T>) return std::move(this->value());
  }
  /// Marks the coroutine as taken (awaited or made a task); RuntimeError the second time.
  void claim() {
    if (this->claimed_) [[unlikely]]
      throw_reused_coro();
    this->claimed_ = true;
  }
  bool claimed() const noexcept {
    return this->claimed_;
  }
  const char* function_name() const noexcept {
    return this->frame_.function;
  }

  /// Makes this coroutine a task on `loop` (see create_task); true if the caller is to run its
  /// first step now (the eager task factory).
  bool start_task(EventLoop& loop, EagerStart eager = EagerStart::factory) {
    claim();
    this->is_task_ = true;
    this->resume_point_ = std::coroutine_handle<Promise>::from_promise(*this);
    return this->start(loop, eager);
  }

  void finish_task() noexcept {
    this->finish();
  }

  std::string repr() const override {
    return this->is_task_ ? task_repr(*this, this->frame_.function) : FutureCore<T>::repr();
  }

 private:
  void destroy() noexcept override {
    std::coroutine_handle<Promise>::from_promise(*this).destroy();
  }
  void classify_task_exception() noexcept {
    try {
      throw;
    } catch (const CancelledError&) {
      this->ended_by_cancel_ = true;
    } catch (const KeyboardInterrupt&) {
      this->ended_by_interrupt_ = true;
    } catch (...) {
    }
  }
};

/// What `co_await coro` suspends on: a symmetric transfer into the callee. A caller that is a
/// Coro itself records the callee as the Coro it awaits (the call graphs' chain) until it
/// resumes; another coroutine's link is the callee's own, which nothing reads.
template <class T>
class CoroAwaiter {
 public:
  explicit CoroAwaiter(std::coroutine_handle<Promise<T>> h) noexcept : h_(h) {}
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller,
                                        std::uint32_t line = __builtin_LINE()) noexcept {
    CoroFrame& callee = h_.promise().frame();
    if constexpr (std::is_base_of_v<FutureBase, P>) {
      caller_ = &caller.promise().frame();
      caller_->awaiting = &callee;
      caller_->line = line;
    } else {
      caller_ = &callee;
    }
    h_.promise().set_continuation(caller);
    return h_;
  }
  T await_resume() {
    caller_->awaiting = nullptr;
    return h_.promise().take_inline_result();
  }

 private:
  std::coroutine_handle<Promise<T>> h_;
  CoroFrame* caller_;
};

}  // namespace detail

template <class T>
class [[nodiscard]] Coro {
 public:
  using promise_type = detail::Promise<T>;
  using value_type = T;

  Coro() noexcept = default;
  explicit Coro(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  Coro(Coro&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  Coro& operator=(Coro&& other) noexcept {
    if (this != &other) {
      reset();
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }
  Coro(const Coro&) = delete;
  Coro& operator=(const Coro&) = delete;
  ~Coro() { reset(); }

  /// True until the Coro is moved from or handed to a task.
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  detail::CoroAwaiter<T> operator co_await() & { return detail::CoroAwaiter<T>(claim()); }
  detail::CoroAwaiter<T> operator co_await() && { return detail::CoroAwaiter<T>(claim()); }

  /// Gives up ownership of the frame (create_task takes it).
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, nullptr); }

 private:
  std::coroutine_handle<promise_type> claim() {
    if (!h_) [[unlikely]]
      detail::throw_empty_coro();
    h_.promise().claim();
    return h_;
  }
  void reset() noexcept {
    if (!h_) return;
    if (!h_.promise().claimed()) detail::report_never_awaited(h_.promise().function_name());
    h_.destroy();
    h_ = nullptr;
  }

  std::coroutine_handle<promise_type> h_;
};

template <class T>
Coro<T> detail::Promise<T>::get_return_object() noexcept {
  auto h = std::coroutine_handle<Promise>::from_promise(*this);
#ifdef AIO_CHECK_FRAME_LAYOUT
  if (h.address() != last_allocated_frame) [[unlikely]]
    report_misplaced_frame(h.promise().function_name());
#endif
  return Coro<T>(h);
}

}  // namespace aio
