// aio/generator.hpp — asyncio's async generators: `async def` with `yield`.
//
//   aio::AsyncGenerator<int> mygen(int b, int n) {
//     for (int i = 0; i < n; ++i) { co_yield pow(b, i); co_await aio::sleep(1); }
//   }
//   auto g = mygen(2, 10);
//   while (auto v = co_await g.next()) use(*v);               // async for
//   std::vector<int> all = co_await aio::collect(mygen(2, 10)); // async comprehension
//
// The generator runs inline in the task that awaits next() (a symmetric transfer each way), so
// it may co_await anything and cancelling that task cancels what the generator awaits.
// athrow(e) throws `e` at the pending co_yield; aclose() throws GeneratorExit there and lets
// the generator's cleanup run (and co_await); yielding again after that is a RuntimeError.
// Generators still suspended when run() ends are closed by the loop's shutdown_asyncgens();
// one destroyed while suspended runs its destructors but no asynchronous cleanup (debug mode
// reports it). Movable, not copyable.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/frame_allocator.hpp"
#include "aio/errors.hpp"
#include "aio/loop.hpp"

namespace aio {

template <class T>
class AsyncGenerator;

namespace detail {

/// The loop's registry of started, unfinished generators (shutdown_asyncgens()), on the
/// running loop; a closing loop forgets them (sets their `loop` to null).
void register_generator(GeneratorBase* g);
void unregister_generator(GeneratorBase* g) noexcept;
void report_generator_destroyed(const char* function) noexcept;

template <class T>
class GeneratorPromise {
 public:
  explicit GeneratorPromise(SourceName where = {}) noexcept : function_(where.function) {}

  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* p, std::size_t size) noexcept { free_frame(p, size); }

  AsyncGenerator<T> get_return_object() noexcept;
  std::suspend_always initial_suspend() noexcept { return {}; }

  struct YieldAwaiter {
    GeneratorPromise* p;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<>) const noexcept {
      return p->consumer_;
    }
    void await_resume() const {
      if (p->to_throw_) std::rethrow_exception(std::exchange(p->to_throw_, nullptr));
    }
  };
  template <class U>
  requires std::is_constructible_v<T, U&&> YieldAwaiter yield_value(U&& v) {
    value_.emplace(std::forward<U>(v));
    return {this};
  }
  void return_void() noexcept {}

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<GeneratorPromise> h) noexcept {
      h.promise().finished_ = true;
      return h.promise().consumer_;
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }

 private:
  friend class AsyncGenerator<T>;
  std::optional<T> value_;
  std::exception_ptr error_;     // what escaped the body
  std::exception_ptr to_throw_;  // athrow()/aclose(): thrown at the pending co_yield
  std::coroutine_handle<> consumer_;
  const char* function_;
  bool finished_ = false;
  bool running_ = false;  // resumed by next()/athrow()/aclose() and not back yet
};

}  // namespace detail

template <class T>
class [[nodiscard]] AsyncGenerator final : private detail::GeneratorBase {
 public:
  using promise_type = detail::GeneratorPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  explicit AsyncGenerator(Handle h) noexcept : h_(h) {}
  AsyncGenerator(AsyncGenerator&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {
    if (other.loop) {
      detail::unregister_generator(&other);
      detail::register_generator(this);
    }
  }
  AsyncGenerator& operator=(AsyncGenerator&&) = delete;
  AsyncGenerator(const AsyncGenerator&) = delete;
  ~AsyncGenerator() {
    if (!h_) return;
    if (loop) {
      detail::unregister_generator(this);
      if (!h_.promise().finished_) detail::report_generator_destroyed(h_.promise().function_);
    }
    h_.destroy();
  }

  /// The next value, or nullopt when the generator is exhausted (asyncio's __anext__).
  Coro<std::optional<T>> next() { return step(nullptr); }
  /// Throws `e` at the pending co_yield; returns the next value like next().
  Coro<std::optional<T>> athrow(std::exception_ptr e) { return step(std::move(e)); }
  /// Throws GeneratorExit at the pending co_yield and lets the generator finish its cleanup.
  Coro<void> aclose();

 private:
  Coro<void> close() override { return aclose(); }

  // Resumes the generator (with `to_throw` at its co_yield) until it yields or ends.
  struct Resume {
    Handle h;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) noexcept {
      h.promise().consumer_ = consumer;
      return h;
    }
    void await_resume() const noexcept {}
  };

  Coro<std::optional<T>> step(std::exception_ptr to_throw) {
    if (!h_) throw RuntimeError("async generator is empty (moved from)");
    promise_type& p = h_.promise();
    // Another next() is still in the body (awaiting there), or the body calls next() on itself.
    if (p.running_) throw RuntimeError("anext(): asynchronous generator is already running");
    if (p.finished_) {
      if (to_throw) std::rethrow_exception(to_throw);
      co_return std::nullopt;
    }
    if (!loop && !started_) {
      started_ = true;
      detail::register_generator(this);
    }
    p.to_throw_ = std::move(to_throw);
    p.value_.reset();
    p.running_ = true;
    co_await Resume{h_};
    p.running_ = false;
    if (p.finished_) {
      finished();
      if (p.error_) std::rethrow_exception(std::exchange(p.error_, nullptr));
      co_return std::nullopt;
    }
    co_return std::move(p.value_);
  }

  void finished() noexcept {
    if (loop) detail::unregister_generator(this);
  }

  Handle h_;
  bool started_ = false;
};

template <class T>
AsyncGenerator<T> detail::GeneratorPromise<T>::get_return_object() noexcept {
  return AsyncGenerator<T>(std::coroutine_handle<GeneratorPromise>::from_promise(*this));
}

template <class T>
Coro<void> AsyncGenerator<T>::aclose() {
  if (!h_) co_return;
  promise_type& p = h_.promise();
  if (p.running_) throw RuntimeError("aclose(): asynchronous generator is already running");
  if (p.finished_ || !started_) {
    p.finished_ = true;  // never started, or done: nothing to clean up asynchronously
    finished();
    co_return;
  }
  p.to_throw_ = std::make_exception_ptr(GeneratorExit());
  p.value_.reset();
  p.running_ = true;
  co_await Resume{h_};
  p.running_ = false;
  if (!p.finished_) throw RuntimeError("async generator ignored GeneratorExit");
  finished();
  if (std::exception_ptr e = std::exchange(p.error_, nullptr)) {
    try {
      std::rethrow_exception(e);
    } catch (const GeneratorExit&) {
      // the expected way out
    }
  }
}

/// The async comprehension `[x async for x in gen]`.
template <class T>
Coro<std::vector<T>> collect(AsyncGenerator<T> gen) {
  std::vector<T> out;
  while (auto v = co_await gen.next()) out.push_back(std::move(*v));
  co_return out;
}

}  // namespace aio
