// The eager task factory and eager_start (asyncio-behaviours.md EAG-*), on virtual time. EAG-06
// (the eager step sees the creator's context variables) is in contextvars_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::run_virtual;
using aio::testing::yield0;

/// Runs `body()` as the main task of a virtual-time loop whose task factory is eager.
template <class F>
void run_eager(F&& body) {
  auto main = [&]() -> aio::Coro<void> {
    aio::get_running_loop().set_task_factory(aio::eager_task_factory);
    co_await body();
  };
  run_virtual(main);
}

bool contains(const std::vector<aio::TaskRef>& tasks, const aio::TaskRef& t) {
  return std::find(tasks.begin(), tasks.end(), t) != tasks.end();
}

TEST(EagerTask, TheFactoryIsSetAndCleared) {
  run_virtual([]() -> aio::Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    EXPECT_EQ(loop.get_task_factory(), aio::TaskFactory::standard);
    loop.set_task_factory(aio::eager_task_factory);
    EXPECT_EQ(loop.get_task_factory(), aio::TaskFactory::eager);
    loop.set_task_factory(nullptr);  // asyncio's set_task_factory(None)
    EXPECT_EQ(loop.get_task_factory(), aio::TaskFactory::standard);
    bool ran = false;
    auto mark = [&]() -> aio::Coro<void> {
      ran = true;
      co_return;
    };
    auto t = aio::create_task(mark());
    EXPECT_FALSE(ran);  // standard again: the first step is scheduled
    co_await t;
    EXPECT_TRUE(ran);
  });
}

TEST(EagerTask, RunsSynchronouslyUntilItsFirstSuspension) {  // EAG-01
  run_eager([]() -> aio::Coro<void> {
    auto hello = []() -> aio::Coro<std::string> { co_return "hello"; };
    auto t = aio::create_task(hello());
    EXPECT_TRUE(t.done());
    EXPECT_EQ(co_await t, "hello");

    auto fut = aio::get_running_loop().create_future<std::string>();
    auto set_result = [](aio::Future<std::string> f) -> aio::Coro<void> {
      f.set_result("my message");
      co_return;
    };
    auto setter = aio::get_running_loop().create_task(set_result(fut));
    EXPECT_TRUE(setter.done());
    EXPECT_TRUE(fut.done());
    EXPECT_EQ(co_await fut, "my message");
  });
}

TEST(EagerTask, BlocksAfterTheEagerStep) {  // EAG-02
  run_eager([]() -> aio::Coro<void> {
    std::vector<std::string> log;
    auto coro = [&]() -> aio::Coro<std::string> {
      log.push_back("step1");
      co_await aio::sleep(0.1);
      log.push_back("step2");
      co_return "finished after blocking";
    };
    auto t = aio::create_task(coro());
    EXPECT_EQ(log, std::vector<std::string>{"step1"});
    EXPECT_FALSE(t.done());
    EXPECT_EQ(co_await t, "finished after blocking");
    EXPECT_EQ(log, (std::vector<std::string>{"step1", "step2"}));
  });
}

TEST(EagerTask, Cancellation) {  // EAG-03
  run_eager([]() -> aio::Coro<void> {
    auto quick = []() -> aio::Coro<std::string> { co_return "finished without blocking"; };
    auto t = aio::create_task(quick());
    EXPECT_FALSE(t.cancel());  // done already: nothing to cancel
    EXPECT_EQ(co_await t, "finished without blocking");
    EXPECT_FALSE(t.cancelled());

    auto slow = []() -> aio::Coro<std::string> {
      co_await aio::sleep(0.1);
      co_return "finished after blocking";
    };
    auto s = aio::create_task(slow());
    EXPECT_TRUE(s.cancel("cancellation message"));
    EXPECT_GT(s.cancelling(), 0);
    try {
      co_await s;
      ADD_FAILURE() << "the task was not cancelled";
    } catch (const aio::CancelledError& e) {
      EXPECT_EQ(e.message(), "cancellation message");
    }
    EXPECT_TRUE(s.cancelled());
  });
}

TEST(EagerTask, CurrentTaskDuringTheEagerStep) {  // EAG-04
  run_eager([]() -> aio::Coro<void> {
    const aio::TaskRef creator = *aio::current_task();
    std::optional<aio::TaskRef> captured;
    auto coro = [&]() -> aio::Coro<void> {
      captured = aio::current_task();
      co_await aio::sleep(0.1);
      EXPECT_TRUE(aio::current_task() == captured);  // the same task after blocking
    };
    auto t = aio::create_task(coro());
    EXPECT_TRUE(captured && *captured == t);
    EXPECT_TRUE(*aio::current_task() == creator);  // back in the creator
    co_await t;

    // An eager task made from a plain callback, where no task runs: none afterwards either.
    std::optional<aio::TaskRef> in_step;
    bool after_is_none = false;
    std::optional<aio::Task<void>> from_callback;
    auto record = [&]() -> aio::Coro<void> {
      in_step = aio::current_task();
      co_return;
    };
    aio::get_running_loop().call_soon([&] {
      from_callback = aio::create_task(record());
      after_is_none = !aio::current_task().has_value();
    });
    co_await yield0();
    EXPECT_TRUE(from_callback && in_step && *in_step == *from_callback);
    EXPECT_TRUE(after_is_none);
  });
}

TEST(EagerTask, AllTasks) {  // EAG-05
  run_eager([]() -> aio::Coro<void> {
    std::vector<aio::TaskRef> during;
    auto completes = [&]() -> aio::Coro<void> {
      during = aio::all_tasks();
      co_return;
    };
    auto t = aio::create_task(completes());
    EXPECT_TRUE(contains(during, t));
    EXPECT_FALSE(contains(aio::all_tasks(), t));

    auto& loop = aio::get_running_loop();
    auto fut1 = loop.create_future<void>();
    auto fut2 = loop.create_future<void>();
    auto blocks = [&]() -> aio::Coro<void> {
      during = aio::all_tasks();
      co_await fut1;
      fut2.set_result();
    };
    auto b = aio::create_task(blocks());
    EXPECT_TRUE(contains(during, b));
    EXPECT_TRUE(contains(aio::all_tasks(), b));
    fut1.set_result();
    co_await fut2;
    co_await yield0();
    EXPECT_FALSE(contains(aio::all_tasks(), b));
  });
}

TEST(EagerTask, NotEagerWhileTheLoopIsNotRunning) {  // EAG-07
  aio::EventLoop loop{aio::testing::virtual_time};
  loop.set_task_factory(aio::eager_task_factory);
  std::vector<std::string> log;
  auto coro = [&]() -> aio::Coro<int> {
    log.push_back("ran");
    co_return 7;
  };
  auto t = loop.create_task(coro());
  EXPECT_TRUE(log.empty());
  EXPECT_FALSE(t.done());
  EXPECT_EQ(loop.run_until_complete(t), 7);
  EXPECT_EQ(log, std::vector<std::string>{"ran"});
}

TEST(EagerTask, TheNameIsSetBeforeTheEagerStep) {
  run_eager([]() -> aio::Coro<void> {
    std::string seen;
    auto coro = [&]() -> aio::Coro<void> {
      seen = aio::current_task()->get_name();
      co_return;
    };
    auto t = aio::get_running_loop().create_task(coro(), "test name");
    EXPECT_EQ(seen, "test name");
    co_await t;
  });
}

TEST(EagerTask, AnErrorInTheEagerStepIsStoredOnTheTask) {
  run_eager([]() -> aio::Coro<void> {
    auto fails = []() -> aio::Coro<int> {
      throw std::runtime_error("boom");
      co_return 0;
    };
    auto t = aio::create_task(fails());  // does not throw here
    EXPECT_TRUE(t.done());
    EXPECT_THROW(co_await t, std::runtime_error);
  });
}

aio::Coro<void> recursive_task_groups(int width, int depth) {
  if (depth == 0) co_return;
  co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
    for (int i = 0; i < width; ++i) tg.create_task(recursive_task_groups(width, depth - 1));
    co_return;
  });
}

aio::Coro<void> recursive_gather(int width, int depth) {
  if (depth == 0) co_return;
  std::vector<aio::Coro<void>> children;
  for (int i = 0; i < width; ++i) children.push_back(recursive_gather(width, depth - 1));
  co_await aio::gather(std::move(children));
}

// Tasks that never block finish inside create_task(): gather() then has nothing to wait for,
// and 781 tasks (5 wide, 4 deep) run without a single trip through the loop. A TaskGroup hears
// of each through its done callback, a loop turn later (asyncio 3.13's gh-128550), so it turns
// the loop either way. With the standard factory every task is scheduled.
TEST(EagerTask, TaskTreesThatNeverBlockFinishWithoutTheLoop) {
  for (const bool eager : {true, false}) {
    run_virtual([&]() -> aio::Coro<void> {
      auto& loop = aio::get_running_loop();
      if (eager) loop.set_task_factory(aio::eager_task_factory);
      bool loop_turned = false;
      loop.call_soon([&] { loop_turned = true; });
      co_await recursive_task_groups(5, 4);
      EXPECT_TRUE(loop_turned) << "task groups, eager=" << eager;
      co_await yield0();
      loop_turned = false;
      loop.call_soon([&] { loop_turned = true; });
      co_await recursive_gather(5, 4);
      EXPECT_EQ(loop_turned, !eager) << "gather, eager=" << eager;
    });
  }
}

// A child that fails in its eager step aborts the group through its done callback, a loop turn
// later (asyncio 3.13's gh-128550): a sibling created meanwhile is cancelled with the body, new
// tasks are refused from then on, and the error comes out in the ExceptionGroup.
TEST(EagerTask, AChildFailingEagerlyAbortsItsGroup) {
  run_eager([]() -> aio::Coro<void> {
    auto fails = []() -> aio::Coro<void> {
      throw std::runtime_error("eager failure");
      co_return;
    };
    bool body_cancelled = false;
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        tg.create_task(fails());
        auto sibling = tg.create_task(aio::sleep(1));  // not aborted yet
        try {
          co_await aio::sleep(10);
        } catch (const aio::CancelledError&) {
          body_cancelled = true;
        }
        EXPECT_TRUE(sibling.cancelled());
        EXPECT_THROW(tg.create_task(aio::sleep(1)), aio::RuntimeError);  // shutting down
        throw aio::CancelledError();
      });
      ADD_FAILURE() << "the group did not fail";
    } catch (const aio::ExceptionGroup& eg) {
      EXPECT_EQ(eg.exceptions().size(), 1u);
      for (const auto& e : eg.exceptions())
        EXPECT_THROW(std::rethrow_exception(e), std::runtime_error);
    }
    EXPECT_TRUE(body_cancelled);
    EXPECT_EQ(aio::testing::now(), 0.0);
  });
}

aio::Coro<void> fail_at_once() {
  throw std::runtime_error("third task failed");
  co_return;
}

// A child of the group that outlives the body: a plain function (a lambda's captures would die
// with the body's frame).
aio::Coro<void> create_a_failing_sibling(aio::TaskGroup tg, bool* ran) {
  tg.create_task(fail_at_once());
  bool cancelled = false;
  try {
    co_await yield0();  // eager tasks are cancelled here
    co_await yield0();  // lazy ones here
  } catch (const aio::CancelledError&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
  *ran = true;
  if (cancelled) throw aio::CancelledError();
}

// test_taskgroups test_cancels_task_if_created_during_creation (gh-128550): a task whose
// step creates a child that fails at once is cancelled by the group, eager or not.
TEST(EagerTask, ATaskIsCancelledIfItsChildFailsWhileItIsBeingCreated) {
  for (bool eager : {true, false}) {
    run_virtual([&]() -> aio::Coro<void> {
      if (eager) aio::get_running_loop().set_task_factory(aio::eager_task_factory);
      bool ran = false;
      try {
        co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
          tg.create_task(create_a_failing_sibling(tg, &ran));
          co_return;
        });
        ADD_FAILURE() << "the group did not fail";
      } catch (const aio::ExceptionGroup& eg) {
        EXPECT_EQ(eg.exceptions().size(), 1u);
        for (const auto& e : eg.exceptions())
          EXPECT_THROW(std::rethrow_exception(e), std::runtime_error);
      }
      EXPECT_TRUE(ran) << (eager ? "eager" : "lazy");
    });
  }
}

// asyncio 3.14's eager_start: per call, over the loop's factory either way.
TEST(EagerTask, EagerStartPerCall) {
  run_virtual([]() -> aio::Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    std::vector<std::string> steps;
    auto step = [&](std::string name) -> aio::Coro<std::string> {
      steps.push_back(name);
      co_return name;
    };
    // The standard factory: eager_start = true runs the first step inside create_task().
    auto a = aio::create_task(step("a"), aio::TaskOptions{.name = "eager-a", .eager_start = true});
    EXPECT_TRUE(a.done());
    EXPECT_EQ(a.get_name(), "eager-a");
    auto b = loop.create_task(step("b"), aio::TaskOptions{.eager_start = true});
    EXPECT_TRUE(b.done());
    auto c = aio::create_task(step("c"),
                              aio::TaskOptions{.eager_start = std::nullopt});  // the factory's way
    EXPECT_FALSE(c.done());
    EXPECT_EQ(steps, (std::vector<std::string>{"a", "b"}));
    co_await c;

    // The eager factory: eager_start = false schedules the step.
    loop.set_task_factory(aio::eager_task_factory);
    auto d = aio::create_task(step("d"), aio::TaskOptions{.eager_start = false});
    EXPECT_FALSE(d.done());
    auto e = aio::create_task(step("e"), aio::TaskOptions{});
    EXPECT_TRUE(e.done());
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
      auto f = tg.create_task(step("f"), aio::TaskOptions{.name = "f", .eager_start = false});
      EXPECT_FALSE(f.done());
      EXPECT_EQ(f.get_name(), "f");
      auto g =
          tg.create_task(aio::sleep(0, std::string("g")), aio::TaskOptions{.eager_start = true});
      EXPECT_FALSE(g.done());  // its eager step ran until the sleep
      co_return;
    });
    EXPECT_EQ(steps, (std::vector<std::string>{"a", "b", "c", "e", "d", "f"}));
    loop.set_task_factory(nullptr);

    // The context option: the task runs in that context itself.
    aio::ContextVar<int> v("v", 0);
    aio::Context ctx;
    auto read_v = [&]() -> aio::Coro<int> { co_return v.get(); };
    ctx.run([&] { v.set(5); });
    auto h = aio::create_task(read_v(), aio::TaskOptions{.context = ctx, .eager_start = true});
    EXPECT_TRUE(h.done());
    EXPECT_EQ(co_await h, 5);
  });
}

// Outside a running loop eager_start = true cannot step (asyncio: it is scheduled).
TEST(EagerTask, EagerStartOnALoopThatIsNotRunning) {
  auto loop = aio::new_event_loop(aio::testing::virtual_time);
  bool ran = false;
  auto mark = [&]() -> aio::Coro<void> {
    ran = true;
    co_return;
  };
  auto t = loop->create_task(mark(), aio::TaskOptions{.eager_start = true});
  EXPECT_FALSE(ran);
  loop->run_until_complete(t);
  EXPECT_TRUE(ran);
  loop->close();
}

}  // namespace
