// contextvars with tasks (asyncio-behaviours.md TASK-31, RUN-07, EAG-06), on virtual time.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::run_virtual;
using aio::testing::yield0;

TEST(ContextVar, GetSetAndReset) {
  aio::ContextVar<int> plain("plain");
  aio::ContextVar<std::string> with_default("with_default", "nope");
  EXPECT_EQ(plain.name(), "plain");
  EXPECT_THROW(plain.get(), std::out_of_range);  // LookupError
  EXPECT_EQ(plain.get(7), 7);
  EXPECT_EQ(with_default.get(), "nope");

  aio::Context ctx;
  ctx.run([&] {
    auto t1 = plain.set(1);
    EXPECT_FALSE(t1.old_value().has_value());
    auto t2 = plain.set(2);
    EXPECT_EQ(t2.old_value(), 1);
    EXPECT_EQ(plain.get(), 2);
    plain.reset(t2);
    EXPECT_EQ(plain.get(), 1);
    EXPECT_THROW(plain.reset(t2), aio::RuntimeError);  // used once already
    plain.reset(t1);
    EXPECT_THROW(plain.get(), std::out_of_range);
    auto t3 = plain.set(3);
    aio::Context other;
    other.run([&] { EXPECT_THROW(plain.reset(t3), std::invalid_argument); });
    EXPECT_THROW(ctx.run([] {}), aio::RuntimeError);  // already entered
  });
  EXPECT_EQ(ctx.get(plain), 3);
  EXPECT_EQ(ctx.size(), 1u);
  EXPECT_FALSE(ctx.get(with_default).has_value());  // a context holds values, not defaults
  EXPECT_THROW(plain.get(), std::out_of_range);     // nothing leaked out of ctx.run()

  aio::Context copy = ctx.copy();
  copy.run([&] { plain.set(4); });
  EXPECT_EQ(ctx.get(plain), 3);
  EXPECT_EQ(copy.get(plain), 4);
  EXPECT_TRUE(copy == copy);
  EXPECT_FALSE(copy == ctx);
}

// A task runs in a copy of its creator's context, taken when it is created: it sees nothing
// set afterwards, and what it sets stays in it. Given a context, it runs in that one itself.
TEST(ContextVar, ContextsAreCopiedPerTask) {  // TASK-31
  aio::ContextVar<std::string> cvar("cvar", "nope");
  run_virtual([&]() -> aio::Coro<void> {
    std::string seen_by_sub;
    auto sub = [&]() -> aio::Coro<void> {
      co_await aio::sleep(0.01);
      seen_by_sub = cvar.get();
      cvar.set("something else");
    };
    auto st = aio::create_task(sub());
    cvar.set("yes");
    co_await st;
    EXPECT_EQ(seen_by_sub, "nope");
    EXPECT_EQ(cvar.get(), "yes");

    aio::ContextVar<int> num("num");
    auto set_num = [&](int v) -> aio::Coro<void> {
      co_await yield0();
      num.set(v);
    };
    aio::Context ctx = aio::copy_context();
    std::vector<std::optional<int>> ret{ctx.get(num)};
    co_await aio::create_task(set_num(1), "", ctx);
    ret.push_back(ctx.get(num));
    co_await aio::get_running_loop().create_task(set_num(2), "", ctx);
    ret.push_back(ctx.get(num));
    EXPECT_EQ(ret, (std::vector<std::optional<int>>{std::nullopt, 1, 2}));
    EXPECT_EQ(num.get(0), 0);  // our own context never had it
  });
}

TEST(ContextVar, ChildrenSeeTheCreatorsValuesAndNotEachOthers) {
  aio::ContextVar<int> depth("depth", 0);
  run_virtual([&]() -> aio::Coro<void> {
    depth.set(1);
    std::vector<int> seen;
    auto child = [&](int i) -> aio::Coro<int> {
      seen.push_back(depth.get());
      depth.set(10 + i);
      co_await yield0();
      co_return depth.get();
    };
    std::vector<aio::Coro<int>> children;
    for (int i = 0; i < 3; ++i) children.push_back(child(i));
    const auto mine = co_await aio::gather(std::move(children));
    EXPECT_EQ(mine, (std::vector<int>{10, 11, 12}));
    EXPECT_EQ(seen, (std::vector<int>{1, 1, 1}));
    EXPECT_EQ(depth.get(), 1);

    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
      depth.set(2);  // the body runs in the creator's task: its context
      tg.create_task(child(5));
      co_return;
    });
    EXPECT_EQ(seen.back(), 2);
    EXPECT_EQ(depth.get(), 2);

    // to_thread() runs the function in a copy of this context.
    const int in_thread = co_await aio::to_thread([&] {
      const int v = depth.get();
      depth.set(99);
      return v;
    });
    EXPECT_EQ(in_thread, 2);
    EXPECT_EQ(depth.get(), 2);
  });
}

// Callbacks keep a copy of the context they were scheduled from, as asyncio's Handle does:
// call_soon, call_later and done callbacks see the scheduler's values, and what they set stays
// in their copy.
TEST(ContextVar, CallbacksRunInACopyOfTheSchedulersContext) {
  aio::ContextVar<std::string> who("who", "nobody");
  run_virtual([&]() -> aio::Coro<void> {
    auto& loop = aio::get_running_loop();
    who.set("main");
    std::vector<std::string> seen;
    auto record = [&] {
      seen.push_back(who.get());
      who.set("changed by a callback");
    };
    loop.call_soon(record);
    loop.call_later(0.1, record);
    auto f = loop.create_future<void>();
    f.add_done_callback([&](aio::Future<void>&) { record(); });
    who.set("main, later");  // each callback took its copy already
    f.set_result();
    co_await aio::sleep(0.2);
    EXPECT_EQ(seen, (std::vector<std::string>{"main", "main", "main"}));
    EXPECT_EQ(who.get(), "main, later");

    // From a task that touches no variable before scheduling (its context, a copy of main's,
    // is found when the callback is made), and from a task made in a later step of main's.
    auto plain = [&]() -> aio::Coro<void> {
      loop.call_soon([&] { seen.push_back(who.get()); });
      co_return;
    };
    seen.clear();
    co_await aio::create_task(plain());  // a copy of main's context, as a task
    co_await yield0();
    EXPECT_EQ(seen, std::vector<std::string>{"main, later"});

    // A task created in a step that has not touched a variable still gets main's values.
    auto read = [&]() -> aio::Coro<std::string> { co_return who.get(); };
    EXPECT_EQ(co_await aio::create_task(read()), "main, later");
  });
}

// asyncio's context= on call_soon, call_later, call_at, call_soon_threadsafe and
// add_done_callback: the callback runs in that context itself, not in a copy.
TEST(ContextVar, CallbacksTakeAnExplicitContext) {
  aio::ContextVar<std::string> who("who", "nobody");
  run_virtual([&]() -> aio::Coro<void> {
    auto& loop = aio::get_running_loop();
    aio::Context ctx;
    ctx.run([&] { who.set("ctx"); });
    std::vector<std::string> seen;
    auto record = [&] {
      seen.push_back(who.get());
      who.set("changed");
    };
    loop.call_soon(record, ctx);
    loop.call_later(0.1, record, ctx);
    loop.call_at(loop.time() + 0.2, record, ctx);
    loop.call_soon_threadsafe(record, ctx);
    auto f = loop.create_future<void>();
    f.add_done_callback([&](aio::Future<void>&) { record(); }, ctx);
    f.set_result();
    co_await aio::sleep(0.3);
    // The first saw ctx's value, and set it in ctx itself for the others.
    EXPECT_EQ(seen, (std::vector<std::string>{"ctx", "changed", "changed", "changed", "changed"}));
    EXPECT_EQ(ctx.get(who), "changed");
    EXPECT_EQ(who.get(), "nobody");
  });
}

// test_tasks test_context_2: a done callback added while nothing was set runs in an empty
// context of its own, so what it sets leaks neither into the task nor into the thread's
// context (the loop's caller), nor into the callbacks after it.
TEST(ContextVar, CallbacksScheduledWithNothingSetDoNotLeakWhatTheySet) {
  aio::ContextVar<std::string> cvar("cvar", "nope");
  std::unique_ptr<aio::EventLoop> loop = aio::new_event_loop(aio::testing::virtual_time);
  std::vector<std::string> seen;
  auto record = [&] { seen.push_back(cvar.get()); };
  loop->call_later(0.002, record);  // plain, runs after the first done callback set its value
  auto main_ = [&]() -> aio::Coro<void> {
    auto on_done = [&](aio::Future<void>&) {
      record();
      cvar.set("something else");  // must not pollute main's context
    };
    EXPECT_EQ(cvar.get(), "nope");
    for (int j = 0; j < 2; ++j) {
      auto fut = loop->create_future<void>();
      fut.add_done_callback(on_done);
      loop->call_soon(record);
      cvar.set("yes" + std::to_string(j));
      loop->call_soon([fut]() mutable { fut.set_result(); });
      co_await fut;
      EXPECT_EQ(cvar.get(), "yes" + std::to_string(j));
      for (int i = 0; i < 3; ++i) {
        cvar.set("yes" + std::to_string(i) + "-" + std::to_string(j));
        co_await aio::sleep(0.001);
        EXPECT_EQ(cvar.get(), "yes" + std::to_string(i) + "-" + std::to_string(j));
      }
    }
  };
  loop->run_until_complete(main_());
  loop->close();
  EXPECT_EQ(cvar.get(), "nope");
  // The second round's callbacks were made in main's context: they run in copies of it.
  EXPECT_EQ(seen, (std::vector<std::string>{"nope", "nope", "nope", "yes2-0", "yes2-0"}));
}

// Task.get_context() is the context the task runs in: what the task sets shows in it, and a
// value set through it (Context::run) is seen by the task.
TEST(ContextVar, TaskGetContextIsTheTasksOwn) {
  aio::ContextVar<int> v("v", 0);
  run_virtual([&]() -> aio::Coro<void> {
    aio::Event go;
    auto task_body = [&]() -> aio::Coro<int> {
      v.set(1);
      co_await go.wait();
      co_return v.get();
    };
    auto t = aio::create_task(task_body());
    co_await yield0();
    aio::Context ctx = t.get_context();
    EXPECT_EQ(ctx.get(v), 1);
    ctx.run([&] { v.set(2); });
    EXPECT_TRUE(static_cast<aio::TaskRef>(t).get_context() == ctx);
    go.set();
    EXPECT_EQ(co_await t, 2);
    EXPECT_EQ(v.get(), 0);  // ours is untouched
  });
}

TEST(ContextVar, TheEagerStepRunsInTheTasksCopy) {  // EAG-06
  aio::ContextVar<int> cv("cv", 0);
  run_virtual([&]() -> aio::Coro<void> {
    aio::get_running_loop().set_task_factory(aio::eager_task_factory);
    bool first_step = false, second_step = false;
    auto coro = [&]() -> aio::Coro<void> {
      EXPECT_EQ(cv.get(), 1);
      cv.set(2);
      first_step = true;
      co_await aio::sleep(0.1);
      EXPECT_EQ(cv.get(), 2);
      cv.set(3);
      second_step = true;
    };
    cv.set(1);
    auto t = aio::create_task(coro());
    EXPECT_TRUE(first_step);
    EXPECT_FALSE(second_step);
    EXPECT_EQ(cv.get(), 1);
    co_await t;
    EXPECT_TRUE(second_step);
    EXPECT_EQ(cv.get(), 1);
  });
}

TEST(ContextVar, ARunnerKeepsOneContextAcrossRuns) {  // RUN-07
  aio::ContextVar<int> cvar("cvar", -1);
  auto f = [&](int val) -> aio::Coro<int> {
    const int old = cvar.get();
    co_await aio::sleep(0);
    cvar.set(val);
    co_return old;
  };
  auto get_context = []() -> aio::Coro<aio::Context> { co_return aio::copy_context(); };
  aio::Runner runner;
  EXPECT_EQ(runner.run(f(1)), -1);
  EXPECT_EQ(runner.run(f(2)), 1);
  EXPECT_EQ(runner.run(get_context()).get(cvar), 2);
  EXPECT_EQ(cvar.get(), -1);  // the thread's own context is untouched

  // A value set on the thread before aio::run() is seen inside (run() copies the context).
  cvar.set(5);
  EXPECT_EQ(aio::run(f(6)), 5);
  EXPECT_EQ(cvar.get(), 5);
}

TEST(ContextVar, EachThreadHasItsOwnContext) {
  aio::ContextVar<int> v("v", 0);
  v.set(1);
  int in_other = -1;
  std::thread([&] { in_other = v.get(); }).join();
  EXPECT_EQ(in_other, 0);
  EXPECT_EQ(v.get(), 1);
}

}  // namespace
