// gather() (asyncio-behaviours.md GATHER-*), on virtual time. GATHER-07 (the same coroutine
// object passed several times) cannot be written: a Coro is move-only and consumed by gather().
#include <gtest/gtest.h>

#include <ranges>

#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::now;
using aio::testing::run_virtual;
using aio::testing::yield0;

TEST(Gather, ResultsComeBackInArgumentOrder) {  // GATHER-01
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> a, b, c;
    auto g = aio::gather(a, b, c);
    int callbacks = 0;
    g.add_done_callback([&](auto&) { ++callbacks; });
    b.set_result(1);
    a.set_result(2);
    co_await yield0();
    co_await yield0();
    EXPECT_FALSE(g.done());
    c.set_result(3);
    co_await yield0();
    co_await yield0();
    EXPECT_TRUE(g.done());
    EXPECT_EQ(g.result(), std::make_tuple(2, 1, 3));
    EXPECT_EQ(callbacks, 1);
    auto w = [](double d, std::string v) -> aio::Coro<std::string> {
      co_await aio::sleep(d);
      co_return v;
    };
    auto [x, y, z] = co_await aio::gather(w(0.3, "x"), w(0.1, "y"), w(0.2, "z"));
    EXPECT_EQ(x + y + z, "xyz");
  });
}

TEST(Gather, FirstExceptionWinsAndSiblingsAreNotCancelled) {  // GATHER-02
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> a, b, c, d, e;
    auto g = aio::gather(a, b, c, d, e);
    auto exc = std::make_exception_ptr(std::runtime_error("b"));
    a.set_result(1);
    b.set_exception(exc);
    co_await yield0();
    co_await yield0();
    EXPECT_TRUE(g.done());
    EXPECT_EQ(g.exception(), exc);
    EXPECT_FALSE(c.done());
    EXPECT_FALSE(d.done());
    EXPECT_FALSE(e.done());
    c.set_result(3);
    d.cancel();
    e.set_exception(std::make_exception_ptr(std::runtime_error("e")));
    co_await yield0();
    co_await yield0();
    EXPECT_EQ(g.exception(), exc);
  });
}

TEST(Gather, ReturnExceptionsCollectsThemInPlace) {  // GATHER-03
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> a, b, c, d;
    auto g = aio::gather(aio::return_exceptions, a, b, c, d);
    auto exc = std::make_exception_ptr(std::runtime_error("c"));
    auto exc2 = std::make_exception_ptr(std::runtime_error("d"));
    b.set_result(1);
    c.set_exception(exc);
    a.set_result(3);
    co_await yield0();
    co_await yield0();
    EXPECT_FALSE(g.done());
    d.set_exception(exc2);
    auto [ra, rb, rc, rd] = co_await g;
    EXPECT_EQ(ra.value(), 3);
    EXPECT_EQ(rb.value(), 1);
    EXPECT_EQ(rc.exception(), exc);
    EXPECT_EQ(rd.exception(), exc2);
    EXPECT_FALSE(rc.has_value());
    EXPECT_THROW(rc.value(), std::runtime_error);
  });
}

TEST(Gather, ACancelledChildFailsTheGatherWithoutCancellingIt) {  // GATHER-04
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> a, b, c;
    auto g = aio::gather(a, b, c);
    a.set_result(1);
    b.cancel();
    co_await yield0();
    co_await yield0();
    EXPECT_TRUE(g.done());
    EXPECT_FALSE(g.cancelled());
    EXPECT_THROW(std::rethrow_exception(g.exception()), aio::CancelledError);
    EXPECT_FALSE(c.done());
  });
}

TEST(Gather, ReturnExceptionsWithCancelledChildren) {  // GATHER-05
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> a, b, c, d, e, f;
    auto g = aio::gather(aio::return_exceptions, std::vector{a, b, c, d, e, f});
    a.set_result(1);
    b.set_exception(std::make_exception_ptr(std::domain_error("zde")));
    c.cancel();
    co_await yield0();
    co_await yield0();
    EXPECT_FALSE(g.done());
    d.set_result(3);
    e.cancel();
    f.set_exception(std::make_exception_ptr(std::runtime_error("rte")));
    std::vector<aio::Outcome<int>> r = co_await g;
    EXPECT_EQ(r.size(), 6u);
    EXPECT_EQ(r.at(0).value(), 1);
    EXPECT_THROW(r.at(1).value(), std::domain_error);
    EXPECT_THROW(r.at(2).value(), aio::CancelledError);
    EXPECT_EQ(r.at(3).value(), 3);
    EXPECT_THROW(r.at(4).value(), aio::CancelledError);
    EXPECT_THROW(r.at(5).value(), std::runtime_error);
  });
}

TEST(Gather, EmptyGatherIsDoneAtOnce) {  // GATHER-06
  run_virtual([]() -> aio::Coro<void> {
    auto g = aio::gather();
    EXPECT_TRUE(g.done());
    EXPECT_EQ(co_await g, std::tuple<>());
    auto v = aio::gather(std::vector<aio::Coro<int>>{});
    EXPECT_TRUE(v.done());
    EXPECT_TRUE((co_await v).empty());
  });
}

TEST(Gather, CancellingTheAwaitingTaskCancelsEveryChild) {  // GATHER-08
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<void> waiter;
    int proof = 0;
    auto inner = [&]() -> aio::Coro<void> {
      co_await waiter;
      proof += 1;
    };
    auto child1 = aio::create_task(inner());
    auto child2 = aio::create_task(inner());
    std::optional<aio::Future<std::tuple<std::monostate, std::monostate>>> gatherer;
    auto outer = [&]() -> aio::Coro<void> {
      gatherer = aio::gather(child1, child2);
      co_await *gatherer;
      proof += 100;
    };
    auto f = aio::create_task(outer());
    co_await yield0();
    EXPECT_TRUE(f.cancel());
    EXPECT_THROW(co_await f, aio::CancelledError);
    EXPECT_FALSE(gatherer->cancel());
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_TRUE(child1.cancelled());
    EXPECT_TRUE(child2.cancelled());
    EXPECT_EQ(proof, 0);
  });
}

TEST(Gather, RefusesCancellationOnceAllChildrenAreDone) {  // GATHER-09
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> fut;
    auto child = [&]() -> aio::Coro<int> { co_return co_await fut; };
    auto gt = aio::gather(std::vector<aio::Coro<int>>{});
    gt = aio::gather([&] {
      std::vector<aio::Coro<int>> v;
      v.push_back(child());
      return v;
    }());
    std::optional<bool> cr;
    fut.add_done_callback([&](auto&) { cr = gt.cancel(); });
    fut.set_result(42);
    auto r = co_await gt;
    EXPECT_TRUE(cr.has_value());
    EXPECT_FALSE(*cr);
    EXPECT_FALSE(gt.cancelled());
    EXPECT_EQ(r, std::vector<int>{42});
  });
}

TEST(Gather, CancelMessageGoesThroughReturnExceptions) {  // GATHER-10
  run_virtual([]() -> aio::Coro<void> {
    for (std::string msg : {"", "my message"}) {
      auto test = []() -> aio::Coro<void> {
        for (;;) co_await aio::gather(aio::return_exceptions, aio::sleep(0.05));
      };
      auto qwe = aio::create_task(test());
      co_await aio::sleep(0.2);
      qwe.cancel(msg);
      try {
        co_await qwe;
        ADD_FAILURE();
      } catch (const aio::CancelledError& e) {
        EXPECT_EQ(e.message(), msg);
      }
    }
  });
}

// Found by fuzz/scheduler_fuzzer: the last child to finish failed (or returned), and the
// gather, cancelled with return_exceptions, raised that child's exception instead of
// CancelledError (asyncio: `outer.set_exception(fut._make_cancelled_error())`).
TEST(Gather, ACancelledGatherRaisesCancelledErrorWhateverTheLastChildDid) {
  std::vector<std::string> logged;
  run_virtual([&]() -> aio::Coro<void> {
    aio::get_running_loop().set_exception_handler(
        [&](aio::EventLoop&, const aio::ExceptionContext& c) { logged.push_back(c.message); });
    for (const bool child_fails : {true, false}) {
      std::optional<aio::TaskRef> outer;
      auto child = [&]() -> aio::Coro<int> {
        EXPECT_TRUE(outer->cancel());  // cancels the gather, which cancels this running child
        if (child_fails) throw std::runtime_error("boom");
        co_return 1;  // a cancel requested while running, never delivered: it ends with a value
      };
      auto body = [&]() -> aio::Coro<void> {
        auto g = aio::gather(aio::return_exceptions, aio::create_task(child()));
        co_await g;
      };
      aio::Task<void> t = aio::create_task(body());
      outer = t;
      EXPECT_THROW(co_await t, aio::CancelledError);
      EXPECT_TRUE(t.cancelled());
    }
    co_await yield0();
  });
  EXPECT_TRUE(logged.empty());  // the child's failure was retrieved by the gather
}

TEST(Gather, SeveralFailuresTheFirstPropagatesAndNothingIsLogged) {  // GATHER-11
  std::vector<std::string> logged;
  run_virtual([&]() -> aio::Coro<void> {
    aio::get_running_loop().set_exception_handler(
        [&](aio::EventLoop&, const aio::ExceptionContext& c) { logged.push_back(c.message); });
    aio::Future<void> a, b;
    auto inner = [](aio::Future<void> f, std::string what) -> aio::Coro<void> {
      co_await f;
      throw std::runtime_error(what);
    };
    auto body = [&]() -> aio::Coro<void> {
      co_await aio::gather(inner(a, "first"), inner(b, "second"));
    };
    auto outer = aio::create_task(body());
    co_await yield0();
    a.set_result();
    co_await yield0();
    b.set_result();
    try {
      co_await outer;
      ADD_FAILURE();
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "first");
    }
    co_await aio::sleep(1);
  });
  EXPECT_TRUE(logged.empty());
}

TEST(Gather, AFailingChildDoesNotStopSlowerSiblings) {  // GATHER-12
  run_virtual([]() -> aio::Coro<void> {
    std::vector<std::string> log;
    auto slow = [&]() -> aio::Coro<std::string> {
      co_await aio::sleep(0.5);
      log.push_back("slow finished");
      co_return "ok";
    };
    auto fail = []() -> aio::Coro<void> {
      co_await aio::sleep(0.1);
      throw std::invalid_argument("fail");
    };
    auto ts = aio::create_task(slow());
    EXPECT_THROW(co_await aio::gather(fail(), ts), std::invalid_argument);
    EXPECT_DOUBLE_EQ(now(), 0.1);
    EXPECT_FALSE(ts.done());
    EXPECT_EQ(co_await ts, "ok");
    EXPECT_EQ(log, std::vector<std::string>{"slow finished"});
  });
}

TEST(Gather, VoidChildrenGiveMonostateAndMixedKindsWork) {
  run_virtual([]() -> aio::Coro<void> {
    auto t = aio::create_task(aio::sleep(0.1, 5));
    aio::Future<std::string> f;
    aio::get_running_loop().call_later(0.2, [f]() mutable { f.set_result("f"); });
    auto [v, i, s, c] = co_await aio::gather(aio::sleep(0.3), t, f, aio::sleep(0.1, 'c'));
    EXPECT_EQ(v, std::monostate{});
    EXPECT_EQ(i, 5);
    EXPECT_EQ(s, "f");
    EXPECT_EQ(c, 'c');
    EXPECT_DOUBLE_EQ(now(), 0.3);
  });
}

// A range that makes each element when dereferenced, as a generator expression does.
// (std::views would do, but Clang 14 cannot compile libstdc++ 12's views.)
template <class F>
struct Lazy {
  int n;
  F* make;
  struct iterator {
    using value_type = std::invoke_result_t<F&, int>;
    using difference_type = std::ptrdiff_t;
    const Lazy* range = nullptr;
    int i = 0;
    value_type operator*() const { return (*range->make)(i); }
    iterator& operator++() {
      ++i;
      return *this;
    }
    void operator++(int) { ++i; }
    bool operator==(const iterator& other) const { return i == other.i; }
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, n}; }
};

TEST(Gather, TakesLazyRangesInOnePass) {
  run_virtual([]() -> aio::Coro<void> {
    int made = 0;
    auto f = [&](int i) -> aio::Coro<int> {
      ++made;
      co_await aio::sleep(0.1 * i);
      co_return i* i;
    };
    static_assert(std::ranges::input_range<Lazy<decltype(f)>>);
    auto squares = co_await aio::gather(Lazy<decltype(f)>{4, &f});
    EXPECT_EQ(squares, (std::vector<int>{0, 1, 4, 9}));
    EXPECT_EQ(made, 4);  // each Coro made once
    std::vector<int> order;
    for (auto next : aio::as_completed(Lazy<decltype(f)>{3, &f})) {
      order.push_back(co_await std::move(next));
    }
    EXPECT_EQ(order, (std::vector<int>{0, 1, 4}));
  });
}

TEST(Gather, OutsideARunningLoopUsesTheCurrentLoop) {
  aio::EventLoop loop({.virtual_time = true});
  aio::Runner runner(aio::testing::virtual_time);  // makes its loop the current loop
  aio::EventLoop& current = runner.get_loop();
  auto g = aio::gather(aio::sleep(1, 1), aio::sleep(2, 2));
  EXPECT_EQ(&g.get_loop(), &current);
  EXPECT_EQ(current.run_until_complete(g), std::make_tuple(1, 2));
  EXPECT_DOUBLE_EQ(current.time(), 2.0);
}

TEST(Gather, FuturesOfDifferentLoopsAreRejected) {
  aio::EventLoop one({.virtual_time = true}), two({.virtual_time = true});
  auto a = one.create_future<int>();
  auto b = two.create_future<int>();
  EXPECT_THROW(aio::gather(a, b), std::invalid_argument);
  // A range: the stranger is found wherever it stands, and the references taken so far are
  // given back (the futures are only held by the test again).
  auto a2 = one.create_future<int>();
  std::vector<aio::Future<int>> range{a, a2, b};
  EXPECT_THROW(aio::gather(range), std::invalid_argument);
  std::vector<aio::Future<int>> reversed{b, a};
  EXPECT_THROW(aio::gather(reversed), std::invalid_argument);
  range.clear();
  reversed.clear();
  EXPECT_EQ(&aio::gather(std::vector<aio::Future<int>>{a, a2}).get_loop(), &one);
}

// A gather watches a child without a callback node until the child gets another callback; the
// gather's turn still comes first, as its callback was registered first.
TEST(Gather, ACallbackAddedLaterRunsAfterTheGatherDecided) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> a, b;
    auto g = aio::gather(a, b);
    bool gather_done_first = false;
    a.add_done_callback([&](auto&) { gather_done_first = g.done(); });
    a.set_exception(std::make_exception_ptr(std::runtime_error("a")));
    co_await yield0();
    co_await yield0();
    EXPECT_TRUE(gather_done_first);
    EXPECT_TRUE(g.done());
    b.set_result(2);
  });
}

TEST(Gather, ACallbackAddedEarlierRunsBeforeTheGatherDecides) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> a, b;
    bool gather_done_first = true;
    std::optional<aio::Future<std::tuple<int, int>>> g;
    a.add_done_callback([&](auto&) { gather_done_first = g->done(); });
    g = aio::gather(a, b);
    b.set_result(2);
    a.set_result(1);
    co_await yield0();
    co_await yield0();
    EXPECT_FALSE(gather_done_first);
    EXPECT_EQ(g->result(), std::make_tuple(1, 2));
  });
}

TEST(Gather, TheSameChildTwiceCountsTwice) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> a, b;
    auto g = aio::gather(a, b, a);
    a.set_result(1);
    co_await yield0();
    EXPECT_FALSE(g.done());
    b.set_result(2);
    EXPECT_EQ(co_await g, std::make_tuple(1, 2, 1));
    aio::Future<int> c;
    auto h = aio::gather(aio::return_exceptions, c, c);
    auto exc = std::make_exception_ptr(std::runtime_error("c"));
    c.set_exception(exc);
    auto [x, y] = co_await h;
    EXPECT_EQ(x.exception(), exc);
    EXPECT_EQ(y.exception(), exc);
  });
}

TEST(Gather, ManyFailuresQueuedAtOnceAreDecidedInOrder) {
  run_virtual([]() -> aio::Coro<void> {
    std::vector<aio::Future<int>> children(4);
    auto g = aio::gather(children);
    auto first = std::make_exception_ptr(std::runtime_error("2"));
    children[2].set_exception(first);
    children[0].set_exception(std::make_exception_ptr(std::runtime_error("0")));
    children[3].set_result(3);
    children[1].set_exception(std::make_exception_ptr(std::runtime_error("1")));
    co_await yield0();
    co_await yield0();
    EXPECT_EQ(g.exception(), first);
  });
}

// A range gather of plain values takes each result as its child completes in argument order,
// and lets go of that child at once; the rest wait for the end. Every way it can go.
TEST(Gather, ARangeTakesResultsAsChildrenCompleteInOrder) {
  run_virtual([]() -> aio::Coro<void> {
    std::vector<aio::Future<int>> children(5);
    auto g = aio::gather(children);
    children[0].set_result(10);
    children[1].set_result(11);
    co_await yield0();
    // Taken early: the gather no longer holds them (the test's handles are the only ones).
    EXPECT_EQ(children[0].base()->use_count(), 1u);
    EXPECT_EQ(children[1].base()->use_count(), 1u);
    children[3].set_result(13);  // out of order: it waits for the end
    children[2].set_result(12);
    co_await yield0();
    EXPECT_EQ(children[3].base()->use_count(), 2u);
    EXPECT_FALSE(g.done());
    children[4].set_result(14);
    std::vector<int> all = co_await g;
    EXPECT_EQ(all, (std::vector<int>{10, 11, 12, 13, 14}));
    for (auto& c : children) EXPECT_EQ(c.base()->use_count(), 1u);

    // A failure after some were taken: the gather fails, and lets go of everything.
    std::vector<aio::Future<int>> more(3);
    auto failing = aio::gather(more);
    more[0].set_result(1);
    more[1].set_exception(std::make_exception_ptr(std::runtime_error("boom")));
    EXPECT_THROW(co_await failing, std::runtime_error);
    more[2].set_result(3);
    co_await yield0();
    failing = aio::gather(std::vector<aio::Future<int>>{});  // drop the failed gather
    for (auto& c : more) EXPECT_EQ(c.base()->use_count(), 1u);

    // Cancelled after some were taken: only the pending children are cancelled.
    std::vector<aio::Future<int>> third(3);
    auto cancelled = aio::gather(third);
    third[0].set_result(1);
    co_await yield0();
    EXPECT_TRUE(cancelled.cancel());
    EXPECT_FALSE(third[0].cancelled());
    EXPECT_TRUE(third[1].cancelled());
    EXPECT_TRUE(third[2].cancelled());
    EXPECT_THROW(co_await cancelled, aio::CancelledError);

    // Void children and tasks: monostate results, tasks freed as they finish.
    auto nothing = [](double d) -> aio::Coro<void> { co_await aio::sleep(d); };
    std::vector<aio::Coro<void>> voids;
    for (int i = 0; i < 4; ++i) voids.push_back(nothing(0.1 * i));
    auto units = co_await aio::gather(std::move(voids));
    EXPECT_EQ(units.size(), 4u);

    // Values that are not plain (strings) are all collected at the end, moved out.
    auto word = [](int i) -> aio::Coro<std::string> {
      co_await aio::sleep(0.1 * i);
      co_return std::string(40, static_cast<char>('a' + i));
    };
    std::vector<aio::Coro<std::string>> words;
    for (int i = 0; i < 3; ++i) words.push_back(word(i));
    auto strings = co_await aio::gather(std::move(words));
    EXPECT_EQ(strings.at(2), std::string(40, 'c'));
  });
}

// A range whose size is not known up front collects every result at the end.
TEST(Gather, AnUnsizedRangeCollectsAtTheEnd) {
  run_virtual([]() -> aio::Coro<void> {
    auto f = [](int i) -> aio::Coro<int> {
      co_await aio::sleep(0.1 * i);
      co_return i;
    };
    static_assert(!std::ranges::sized_range<Lazy<decltype(f)>>);
    const Lazy<decltype(f)> five{5, &f};
    std::vector<int> all = co_await aio::gather(five);
    EXPECT_EQ(all, (std::vector<int>{0, 1, 2, 3, 4}));
  });
}

// A range whose size() is wrong (more, or fewer, than it yields) still gets every result.
template <class F>
struct WrongSize : Lazy<F> {
  int claimed;
  std::size_t size() const { return static_cast<std::size_t>(claimed); }
};

TEST(Gather, ARangeWhoseSizeIsWrongStillGetsEveryResult) {
  run_virtual([]() -> aio::Coro<void> {
    auto f = [](int i) -> aio::Coro<int> {
      co_await aio::sleep(0.1 * i);
      co_return i;
    };
    static_assert(std::ranges::sized_range<WrongSize<decltype(f)>>);
    const std::vector<int> expected{0, 1, 2, 3};
    for (int claimed : {2, 7}) {
      const WrongSize<decltype(f)> range{{4, &f}, claimed};
      std::vector<int> all = co_await aio::gather(range);
      EXPECT_EQ(all, expected) << "size() said " << claimed;
    }
  });
}

TEST(Gather, ALoopClosedWithADecisionQueuedFreesEverything) {
  aio::EventLoop loop({.virtual_time = true});
  auto a = loop.create_future<int>();
  auto b = loop.create_future<int>();
  {
    auto g = aio::gather(a, b);
    a.set_exception(std::make_exception_ptr(std::runtime_error("a")));
  }
  loop.close();  // the queued decision holds the gather: dropping it frees the gather
  EXPECT_EQ(a.base()->use_count(), 1u);
}

}  // namespace
