// The hot paths allocate nothing: after a warm-up (the ready queue's blocks, the timer heap's
// array and the frame arena's slabs have grown to size), a coroutine resume, sleep(0), a
// Future await, Queue put/get and a timer insert make no call to operator new.
//
// This executable replaces the global operator new with a counting one, so it is a program of
// its own. Under AddressSanitizer coroutine frames come from operator new on purpose (so that a
// use after free is caught), and the counts are not meaningful: the tests skip there.
#include <gtest/gtest.h>

#include <aio/aio.hpp>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>

#include <malloc.h>

#include "support/tls.hpp"
#include "support/virtual_loop.hpp"

namespace {

std::atomic<std::uint64_t> allocations{0};
std::atomic<std::int64_t> live_bytes{0};  // what operator new handed out and is not freed yet

void* counted_allocate(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) {
    live_bytes.fetch_add(static_cast<std::int64_t>(::malloc_usable_size(p)),
                         std::memory_order_relaxed);
    return p;
  }
  throw std::bad_alloc();
}

void counted_free(void* p) noexcept {
  if (p) {
    live_bytes.fetch_sub(static_cast<std::int64_t>(::malloc_usable_size(p)),
                         std::memory_order_relaxed);
  }
  std::free(p);
}

}  // namespace

// Only the replaceable forms a program's own code reaches; the aligned forms keep their
// library definitions (nothing on these paths is over-aligned).
void* operator new(std::size_t size) {
  return counted_allocate(size);
}
void* operator new[](std::size_t size) {
  return counted_allocate(size);
}
void operator delete(void* p) noexcept {
  counted_free(p);
}
void operator delete[](void* p) noexcept {
  counted_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  counted_free(p);
}

namespace {

constexpr int warm_up = 2000;
constexpr int rounds = 10000;

/// Runs `step` warm_up times, then counts the allocations of `rounds` more.
template <class Step>
aio::Coro<std::uint64_t> allocations_of(Step& step) {
  for (int i = 0; i < warm_up; ++i) co_await step(i);
  const std::uint64_t before = allocations.load(std::memory_order_relaxed);
  for (int i = 0; i < rounds; ++i) co_await step(i);
  co_return allocations.load(std::memory_order_relaxed) - before;
}

/// The allocations of `step` (a lambda returning a Coro<void>) on a virtual-time loop.
template <class Step>
std::uint64_t count(Step step) {
  auto body = [&step]() -> aio::Coro<std::uint64_t> { co_return co_await allocations_of(step); };
  return aio::testing::run_virtual(body);
}

bool skip_counts() {
  return aio::detail::sanitizing_addresses;
}

aio::Coro<int> identity(int x) {
  co_return x;
}

TEST(Allocations, TheCounterSeesAnAllocation) {
  // A direct call: a new-expression whose result is unused may be elided (Clang does).
  const std::uint64_t before = allocations.load();
  void* volatile p = ::operator new(16);
  EXPECT_EQ(allocations.load() - before, 1u);
  ::operator delete(p);
}

TEST(Allocations, AwaitingACoroAllocatesNothing) {
  if (skip_counts()) GTEST_SKIP() << "frames use operator new under AddressSanitizer";
  int sum = 0;
  EXPECT_EQ(count([&sum](int i) -> aio::Coro<void> { sum += co_await identity(i); }), 0u);
  EXPECT_GT(sum, 0);
}

TEST(Allocations, SleepZeroAllocatesNothing) {
  if (skip_counts()) GTEST_SKIP() << "frames use operator new under AddressSanitizer";
  EXPECT_EQ(count([](int) -> aio::Coro<void> { co_await aio::sleep(0); }), 0u);
}

TEST(Allocations, ASleepOnTheTimerHeapAllocatesNothing) {
  if (skip_counts()) GTEST_SKIP() << "frames use operator new under AddressSanitizer";
  EXPECT_EQ(count([](int) -> aio::Coro<void> { co_await aio::sleep(0.001); }), 0u);
}

TEST(Allocations, ADoneFutureAwaitAllocatesNothing) {
  if (skip_counts()) GTEST_SKIP() << "frames use operator new under AddressSanitizer";
  int sum = 0;
  EXPECT_EQ(count([&sum](int i) -> aio::Coro<void> {
              aio::Future<int> f = aio::get_running_loop().create_future<int>();
              f.set_result(i);
              sum += co_await f;
            }),
            0u);
}

TEST(Allocations, APendingFutureAwaitAllocatesNothing) {
  if (skip_counts()) GTEST_SKIP() << "frames use operator new under AddressSanitizer";
  int sum = 0;
  EXPECT_EQ(count([&sum](int i) -> aio::Coro<void> {
              aio::EventLoop& loop = aio::get_running_loop();
              aio::Future<int> f = loop.create_future<int>();
              loop.call_soon([f, i]() mutable { f.set_result(i); });
              sum += co_await f;
            }),
            0u);
}

TEST(Allocations, QueuePutAndGetAllocateNothing) {
  if (skip_counts()) GTEST_SKIP() << "frames use operator new under AddressSanitizer";
  aio::Queue<int> q;
  int sum = 0;
  EXPECT_EQ(count([&](int i) -> aio::Coro<void> {
              co_await q.put(i);
              sum += co_await q.get();
            }),
            0u);
}

TEST(Allocations, QueueHandOffBetweenTasksAllocatesNothing) {
  if (skip_counts()) GTEST_SKIP() << "frames use operator new under AddressSanitizer";
  // The consumer is blocked in get() each time: put() wakes it through the wait queue.
  auto body = []() -> aio::Coro<std::uint64_t> {
    aio::Queue<int> q(1);
    auto consumer = [&q]() -> aio::Coro<void> {
      for (;;) {
        int item = co_await q.get();
        if (item < 0) co_return;
      }
    };
    aio::Task<void> t = aio::create_task(consumer());
    auto step = [&q](int i) -> aio::Coro<void> {
      co_await q.put(i);
      co_await aio::sleep(0);
    };
    const std::uint64_t n = co_await allocations_of(step);
    co_await q.put(-1);
    co_await t;
    co_return n;
  };
  EXPECT_EQ(aio::testing::run_virtual(body), 0u);
}

TEST(Allocations, TimerInsertAndCancelAllocateNothing) {
  if (skip_counts()) GTEST_SKIP() << "frames use operator new under AddressSanitizer";
  int ran = 0;
  EXPECT_EQ(count([&ran](int) -> aio::Coro<void> {
              aio::EventLoop& loop = aio::get_running_loop();
              aio::TimerHandle late = loop.call_later(10.0, [&ran] { ++ran; });
              loop.call_later(0.0, [&ran] { ++ran; });
              late.cancel();
              co_await aio::sleep(0.001);
            }),
            0u);
  EXPECT_EQ(ran, warm_up + rounds);
}

TEST(Allocations, CallSoonAllocatesNothing) {
  if (skip_counts()) GTEST_SKIP() << "frames use operator new under AddressSanitizer";
  int ran = 0;
  EXPECT_EQ(count([&ran](int) -> aio::Coro<void> {
              aio::get_running_loop().call_soon([&ran] { ++ran; });
              co_await aio::sleep(0);
            }),
            0u);
  EXPECT_EQ(ran, warm_up + rounds);
}

// Memory given back: a connection that once carried a burst does not keep what the burst grew
// its buffers to. 8 MiB are written to a client that reads nothing at first (the server's
// write buffer grows), then reads them whole (its StreamReader's buffer grows); once both are
// drained, what is allocated is back near where it was.
aio::Coro<void> write_burst(aio::StreamWriter writer, std::string* burst, aio::Event* done) {
  writer.write(*burst);
  co_await writer.drain();
  done->set();
  co_await aio::sleep(3600);  // stays open, idle
}

/// What stays allocated once an 8 MiB burst over a fresh connection has drained.
std::int64_t bytes_kept_after_a_burst(const aio::ServerOptions& server_options,
                                      const aio::ConnectOptions& connect_options) {
  std::string burst(8 << 20, 'x');
  aio::Event drained;
  std::int64_t kept = -1;
  auto body = [&]() -> aio::Coro<void> {
    std::optional<aio::StreamWriter> server_side;
    aio::ClientConnected handler = [&](aio::StreamReader, aio::StreamWriter w) -> aio::Coro<void> {
      server_side = w;
      co_return;
    };
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0, server_options);
    auto [reader, writer] =
        co_await aio::open_connection("127.0.0.1", server.sockets().at(0).port(), connect_options);
    while (!server_side) co_await aio::sleep(0.001);
    const std::int64_t before = live_bytes.load();
    auto writing = aio::create_task(write_burst(*server_side, &burst, &drained));
    co_await aio::sleep(0.05);  // the kernel's buffers are full: the rest waits in the transport
    EXPECT_GT(live_bytes.load() - before, 1 << 20);
    {
      std::string got = co_await reader.readexactly(static_cast<std::int64_t>(burst.size()));
      EXPECT_EQ(got.size(), burst.size());
    }
    co_await drained.wait();
    kept = live_bytes.load() - before;
    writing.cancel();
    writer.close();
    server_side->close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
  return kept;
}

TEST(Memory, ABurstsBuffersAreGivenBackOnceDrained) {
  if (skip_counts()) GTEST_SKIP() << "sanitizer build";
  const std::int64_t kept = bytes_kept_after_a_burst({}, {});
  EXPECT_GE(kept, 0);
  EXPECT_LT(kept, 512 << 10) << "bytes still held after the burst: " << kept;
}

// The same over TLS: the records OpenSSL wrote and read pass through buffers of their own
// (8.4 MB stayed allocated before they followed the rule).
TEST(Memory, ABurstsBuffersAreGivenBackOnceDrainedOverTls) {
  if (skip_counts()) GTEST_SKIP() << "sanitizer build";
  const std::int64_t kept = bytes_kept_after_a_burst(
      aio::testing::tls_server(aio::testing::server_context()), aio::testing::tls_client());
  EXPECT_GE(kept, 0);
  EXPECT_LT(kept, 512 << 10) << "bytes still held after the burst: " << kept;
}

}  // namespace
