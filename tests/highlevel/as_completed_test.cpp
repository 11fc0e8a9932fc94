// as_completed() (asyncio-behaviours.md ASC-*), on virtual time.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::now;
using aio::testing::run_virtual;

aio::Coro<std::string> sl(double d, std::string v) {
  co_await aio::sleep(d);
  co_return v;
}

TEST(AsCompleted, CompletionOrder) {  // ASC-01
  run_virtual([]() -> aio::Coro<void> {
    std::vector<aio::Coro<std::string>> in;
    in.push_back(sl(0.01, "b"));
    in.push_back(sl(0.15, "c"));
    in.push_back(sl(0.01, "a"));
    std::vector<std::string> res;
    for (auto next : aio::as_completed(std::move(in))) res.push_back(co_await std::move(next));
    EXPECT_EQ((std::set<std::string>{res[0], res[1]}), (std::set<std::string>{"a", "b"}));
    EXPECT_EQ(res[2], "c");
    EXPECT_DOUBLE_EQ(now(), 0.15);

    std::vector<aio::Coro<std::string>> in2;
    in2.push_back(sl(0.3, "x"));
    in2.push_back(sl(0.1, "y"));
    in2.push_back(sl(0.2, "z"));
    auto ac = aio::as_completed(std::move(in2));
    std::vector<std::string> res2;
    while (auto f = co_await ac.next()) res2.push_back(co_await *f);
    EXPECT_EQ(res2, (std::vector<std::string>{"y", "z", "x"}));
  });
}

TEST(AsCompleted, TimeoutOnThePlainIterator) {  // ASC-02
  run_virtual([]() -> aio::Coro<void> {
    auto a = aio::create_task(aio::sleep(0.1, std::string("a")));
    auto b = aio::create_task(aio::sleep(0.15, std::string("b")));
    std::vector<std::string> v;
    for (auto next : aio::as_completed(std::vector{a, b}, 0.12)) {
      try {
        v.push_back("1:" + co_await std::move(next));
      } catch (const aio::TimeoutError&) {
        v.push_back("2:TimeoutError");
      }
    }
    EXPECT_EQ(v, (std::vector<std::string>{"1:a", "2:TimeoutError"}));
    EXPECT_DOUBLE_EQ(now(), 0.12);
    EXPECT_FALSE(b.cancelled());
    EXPECT_EQ(co_await b, "b");
  });
}

TEST(AsCompleted, EachElementResolvesToTheNextCompletion) {  // ASC-03
  run_virtual([]() -> aio::Coro<void> {
    std::vector<aio::Coro<std::string>> in;
    in.push_back(sl(0.05, "a"));
    in.push_back(sl(0.10, "b"));
    auto ac = aio::as_completed(std::move(in));
    std::vector<aio::Coro<std::string>> futs(ac.begin(), ac.end());
    EXPECT_EQ(futs.size(), 2u);
    EXPECT_EQ(co_await std::move(futs.at(1)), "a");
    EXPECT_DOUBLE_EQ(now(), 0.05);
    EXPECT_EQ(co_await std::move(futs.at(0)), "b");
    EXPECT_DOUBLE_EQ(now(), 0.10);
  });
}

TEST(AsCompleted, NextYieldsTheOriginalTasksAndTheIteratorResumes) {  // ASC-04
  run_virtual([]() -> aio::Coro<void> {
    std::vector<aio::Task<std::string>> tasks;
    for (int i = 0; i < 4; ++i) tasks.push_back(aio::create_task(sl(0.1 * (i + 1), "t")));
    auto ac = aio::as_completed(tasks);
    int seen = 0;
    for (int i = 0; i < 2; ++i) {
      auto f = co_await ac.next();
      EXPECT_TRUE(f.has_value());
      EXPECT_TRUE(*f == tasks[i]);
      ++seen;
    }
    while (auto f = co_await ac.next()) ++seen;  // the same iterator, resumed
    EXPECT_EQ(seen, 4);
    // Duplicates count once.
    auto dup = aio::as_completed(std::vector{tasks[0], tasks[0], tasks[1]});
    int n = 0;
    for (auto next : dup) {
      co_await std::move(next);
      ++n;
    }
    EXPECT_EQ(n, 2);
  });
}

TEST(AsCompleted, TimeoutWithNext) {  // ASC-05
  run_virtual([]() -> aio::Coro<void> {
    auto a = aio::create_task(aio::sleep(0.1, std::string("a")));
    auto b = aio::create_task(aio::sleep(0.15, std::string("b")));
    auto ac = aio::as_completed(std::vector{a, b}, 0.12);
    auto first = co_await ac.next();
    EXPECT_EQ(co_await *first, "a");
    EXPECT_THROW(co_await ac.next(), aio::TimeoutError);
    EXPECT_DOUBLE_EQ(now(), 0.12);
    co_await b;
  });
}

TEST(AsCompleted, ExceptionsComeOutOfTheElement) {
  run_virtual([]() -> aio::Coro<void> {
    auto fail = []() -> aio::Coro<std::string> {
      co_await aio::sleep(0.1);
      throw std::runtime_error("bad");
    };
    std::vector<aio::Coro<std::string>> in;
    in.push_back(fail());
    in.push_back(sl(0.2, "ok"));
    std::vector<std::string> got;
    for (auto next : aio::as_completed(std::move(in))) {
      try {
        got.push_back(co_await std::move(next));
      } catch (const std::runtime_error& e) {
        got.push_back(e.what());
      }
    }
    EXPECT_EQ(got, (std::vector<std::string>{"bad", "ok"}));
  });
}

}  // namespace
