// TaskGroup (asyncio-behaviours.md TG-*), on virtual time.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::now;
using aio::testing::run_virtual;
using aio::testing::yield0;

aio::Coro<int> sleep_then(double d, int v) {
  co_await aio::sleep(d);
  co_return v;
}

aio::Coro<void> crash_after(double d) {
  co_await aio::sleep(d);
  throw std::domain_error("zero division");
}

// Children that outlive the body are plain functions: a lambda's captures would die with the
// body's frame (docs/guide.md, "Lambdas as coroutines").
aio::Coro<void> spawner(aio::TaskGroup g) {
  co_await aio::sleep(0.1);
  g.create_task(aio::sleep(0.1));
  g.create_task(aio::sleep(0.2));
}

aio::Coro<void> create_when_cancelled(aio::TaskGroup g, bool* refused) {
  try {
    co_await aio::sleep(1);
  } catch (const aio::CancelledError&) {
    try {
      g.create_task(aio::sleep(0));
    } catch (const aio::RuntimeError& e) {
      *refused = std::string(e.what()).find("shutting down") != std::string::npos;
    }
    throw;
  }
}

// How many leaves of each kind an ExceptionGroup holds (nested groups counted as "group").
std::vector<std::string> leaves(const aio::ExceptionGroup& eg) {
  std::vector<std::string> out;
  for (const auto& e : eg.exceptions()) {
    try {
      std::rethrow_exception(e);
    } catch (const aio::ExceptionGroup&) {
      out.push_back("group");
    } catch (const std::domain_error&) {
      out.push_back("domain_error");
    } catch (const std::invalid_argument&) {
      out.push_back("invalid_argument");
    } catch (...) {
      out.push_back("other");
    }
  }
  return out;
}

TEST(TaskGroup, WaitsForAllChildrenIncludingLateOnes) {  // TG-01
  run_virtual([]() -> aio::Coro<void> {
    std::optional<aio::Task<int>> t1, t2;
    co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
      t1 = g.create_task(sleep_then(0.1, 42));
      co_await aio::sleep(0.15);
      t2 = g.create_task(sleep_then(0.05, 11));
    });
    EXPECT_EQ(t1->result(), 42);
    EXPECT_EQ(t2->result(), 11);
    EXPECT_DOUBLE_EQ(now(), 0.2);
  });
}

TEST(TaskGroup, CancellingOneChildIsNotAnError) {  // TG-02
  run_virtual([]() -> aio::Coro<void> {
    std::optional<aio::Task<int>> t1, t2;
    co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
      t1 = g.create_task(sleep_then(1, 42));
      co_await aio::sleep(0.15);
      t1->cancel();
      t2 = g.create_task(sleep_then(0.2, 11));
    });
    EXPECT_TRUE(t1->cancelled());
    EXPECT_EQ(t2->result(), 11);
  });
}

TEST(TaskGroup, AChildFailureCancelsTheSiblingsAndTheBody) {  // TG-03
  run_virtual([]() -> aio::Coro<void> {
    int num = 0;
    bool runner_cancel = false, t2_cancel = false;
    std::optional<aio::Task<void>> t2;
    auto foo2 = [&]() -> aio::Coro<void> {
      try {
        co_await aio::sleep(5);
      } catch (const aio::CancelledError&) {
        t2_cancel = true;
        throw;
      }
    };
    auto runner = [&]() -> aio::Coro<void> {
      co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
        g.create_task(crash_after(0.1));
        t2 = g.create_task(foo2());
        try {
          co_await aio::sleep(10);
        } catch (const aio::CancelledError&) {
          runner_cancel = true;
          throw;
        }
      });
      num += 10;
    };
    auto r = aio::create_task(runner());
    try {
      co_await r;
      ADD_FAILURE();
    } catch (const aio::ExceptionGroup& eg) {
      EXPECT_EQ(leaves(eg), std::vector<std::string>{"domain_error"});
    }
    EXPECT_DOUBLE_EQ(now(), 0.1);
    EXPECT_TRUE(t2_cancel);
    EXPECT_TRUE(t2->cancelled());
    EXPECT_TRUE(runner_cancel);
    EXPECT_EQ(num, 0);
    EXPECT_FALSE(r.cancelled());
  });
}

TEST(TaskGroup, TheParentCancelledFromOutside) {  // TG-04, TG-13
  for (bool waiting_body : {false, true}) {
    run_virtual([waiting_body]() -> aio::Coro<void> {
      int num = 0;
      auto foo = [&]() -> aio::Coro<void> {
        try {
          co_await aio::sleep(10);
        } catch (const aio::CancelledError&) {
          num += 1;
          throw;
        }
      };
      auto runner = [&]() -> aio::Coro<void> {
        co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
          for (int i = 0; i < 5; ++i) g.create_task(foo());
          if (waiting_body) {
            try {
              co_await aio::sleep(10);
            } catch (const aio::CancelledError&) {
              num += 10;
              throw;
            }
          }
        });
      };
      auto r = aio::create_task(runner());
      co_await aio::sleep(0.1);
      r.cancel();
      EXPECT_THROW(co_await r, aio::CancelledError);
      EXPECT_TRUE(r.cancelled());
      EXPECT_EQ(num, waiting_body ? 15 : 5);
    });
  }
}

TEST(TaskGroup, ChildrenFailingInCleanupTurnTheCancelIntoAGroup) {  // TG-05
  run_virtual([]() -> aio::Coro<void> {
    auto foo = []() -> aio::Coro<void> {
      try {
        co_await aio::sleep(10);
      } catch (...) {
      }
      throw std::domain_error("zero division");
    };
    auto runner = [&]() -> aio::Coro<void> {
      co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
        for (int i = 0; i < 5; ++i) g.create_task(foo());
        co_await aio::sleep(10);
      });
    };
    auto r = aio::create_task(runner());
    co_await aio::sleep(0.1);
    r.cancel();
    try {
      co_await r;
      ADD_FAILURE();
    } catch (const aio::ExceptionGroup& eg) {
      EXPECT_EQ(leaves(eg), std::vector<std::string>(5, "domain_error"));
    }
  });
}

TEST(TaskGroup, TheBodyRaisesChildrenCancelledErrorWrapped) {  // TG-06
  for (bool wait_first : {true, false}) {
    run_virtual([wait_first]() -> aio::Coro<void> {
      std::optional<aio::Task<int>> t1, t2;
      try {
        co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
          t1 = g.create_task(sleep_then(1, 1));
          t2 = g.create_task(sleep_then(2, 2));
          if (wait_first) co_await aio::sleep(0.1);
          throw std::domain_error("zero division");
        });
        ADD_FAILURE();
      } catch (const aio::ExceptionGroup& eg) {
        EXPECT_EQ(leaves(eg), std::vector<std::string>{"domain_error"});
      }
      EXPECT_TRUE(t1->cancelled());
      EXPECT_TRUE(t2->cancelled());
    });
  }
}

TEST(TaskGroup, NestedGroupsWhichLevelYouGet) {  // TG-08
  for (bool inner_first : {false, true}) {
    run_virtual([inner_first]() -> aio::Coro<void> {
      try {
        co_await aio::task_group([&](aio::TaskGroup& g1) -> aio::Coro<void> {
          g1.create_task(crash_after(inner_first ? 10 : 0.1));
          co_await aio::task_group([&](aio::TaskGroup& g2) -> aio::Coro<void> {
            g2.create_task(crash_after(inner_first ? 0.1 : 10));
            co_return;
          });
        });
        ADD_FAILURE();
      } catch (const aio::ExceptionGroup& eg) {
        if (inner_first) {
          EXPECT_EQ(leaves(eg), std::vector<std::string>{"group"});
          try {
            std::rethrow_exception(eg.exceptions().at(0));
          } catch (const aio::ExceptionGroup& inner) {
            EXPECT_EQ(leaves(inner), std::vector<std::string>{"domain_error"});
          }
        } else {
          EXPECT_EQ(leaves(eg), std::vector<std::string>{"domain_error"});
        }
      }
    });
  }
}

TEST(TaskGroup, AChildCrashDuringAnOuterCancellation) {  // TG-09
  run_virtual([]() -> aio::Coro<void> {
    auto runner = [&]() -> aio::Coro<void> {
      co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
        g.create_task(crash_after(0.3));
        bool cancelled = false;
        try {
          co_await aio::sleep(10);
        } catch (const aio::CancelledError&) {
          cancelled = true;
        }
        if (cancelled) {
          co_await aio::sleep(0.5);
          throw aio::CancelledError();
        }
      });
    };
    auto r = aio::create_task(runner());
    co_await aio::sleep(0.1);
    r.cancel();
    try {
      co_await r;
      ADD_FAILURE();
    } catch (const aio::ExceptionGroup& eg) {
      EXPECT_EQ(leaves(eg), std::vector<std::string>{"domain_error"});
    }
  });
}

TEST(TaskGroup, TheBodyConvertsTheParentsCancel) {  // TG-10
  run_virtual([]() -> aio::Coro<void> {
    auto runner = [&]() -> aio::Coro<void> {
      co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
        g.create_task(aio::sleep(10));
        try {
          co_await aio::sleep(10);
        } catch (const aio::CancelledError&) {
          throw std::invalid_argument("my exc");
        }
      });
    };
    auto r = aio::create_task(runner());
    co_await aio::sleep(0.1);
    r.cancel();
    try {
      co_await r;
      ADD_FAILURE();
    } catch (const aio::ExceptionGroup& eg) {
      EXPECT_EQ(leaves(eg), std::vector<std::string>{"invalid_argument"});
    }
  });
}

TEST(TaskGroup, BodyErrorPlusChildErrorAndKeyboardInterrupt) {  // TG-11
  run_virtual([]() -> aio::Coro<void> {
    auto nested = []() -> aio::Coro<void> {
      try {
        co_await aio::sleep(10);
      } catch (...) {
      }
      throw std::invalid_argument("my exc");
    };
    try {
      co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
        g.create_task(crash_after(0.1));
        co_await nested();
      });
      ADD_FAILURE();
    } catch (const aio::ExceptionGroup& eg) {
      auto l = leaves(eg);
      std::sort(l.begin(), l.end());
      EXPECT_EQ(l, (std::vector<std::string>{"domain_error", "invalid_argument"}));
    }
    auto interrupting = []() -> aio::Coro<void> {
      try {
        co_await aio::sleep(10);
      } catch (...) {
      }
      throw aio::KeyboardInterrupt();
    };
    EXPECT_THROW(co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
                   g.create_task(crash_after(0.1));
                   co_await interrupting();
                 }),
                 aio::KeyboardInterrupt);
  });
}

TEST(TaskGroup, ChildrenMaySpawnChildren) {  // TG-14
  run_virtual([]() -> aio::Coro<void> {
    co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
      g.create_task(spawner(g));
      co_return;
    });
    EXPECT_DOUBLE_EQ(now(), 0.3);
  });
}

TEST(TaskGroup, CreateTaskWhileShuttingDownOrFinished) {  // TG-16, TG-18
  run_virtual([]() -> aio::Coro<void> {
    bool refused = false;
    std::optional<aio::TaskGroup> kept;
    try {
      co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
        kept = g;
        g.create_task(crash_after(0));
        g.create_task(create_when_cancelled(g, &refused));
        co_return;
      });
      ADD_FAILURE();
    } catch (const aio::ExceptionGroup& eg) {
      EXPECT_EQ(leaves(eg), std::vector<std::string>{"domain_error"});
    }
    EXPECT_TRUE(refused);
    co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
      kept = g;
      co_return;
    });
    try {
      kept->create_task(aio::sleep(0));
      ADD_FAILURE();
    } catch (const aio::RuntimeError& e) {
      EXPECT_NE(std::string(e.what()).find("finished"), std::string::npos);
    }
  });
}

TEST(TaskGroup, CancellingIsRestored) {  // TG-19
  run_virtual([]() -> aio::Coro<void> {
    try {
      co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
        g.create_task(crash_after(0));
        co_await aio::sleep(1);
      });
    } catch (const aio::ExceptionGroup&) {
      EXPECT_EQ(aio::current_task()->cancelling(), 0);
    }
    EXPECT_EQ(aio::current_task()->cancelling(), 0);
  });
}

TEST(TaskGroup, AnExternalCancelAndAnInternalErrorAtOnce) {  // TG-20
  run_virtual([]() -> aio::Coro<void> {
    std::vector<std::int64_t> log;
    aio::Future<void> event;
    auto raise_error = [&]() -> aio::Coro<void> {
      event.set_result();
      throw std::runtime_error("error");
      co_return;
    };
    auto inner = [&]() -> aio::Coro<void> {
      try {
        co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
          tg.create_task(raise_error());
          co_await aio::sleep(1);
        });
      } catch (const aio::ExceptionGroup&) {
        log.push_back(aio::current_task()->cancelling());
      }
      log.push_back(aio::current_task()->cancelling());
      co_await aio::sleep(1);
    };
    auto t = aio::create_task(inner());
    co_await event;
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(log, (std::vector<std::int64_t>{1, 1}));
  });
}

// asyncio 3.13: a group that ends with errors while its parent is being cancelled from outside
// re-cancels the parent (TG-20). A timeout() entered before that cancellation is delivered, and
// expiring at once, takes the one CancelledError as its own and raises TimeoutError: the task
// goes on, with cancelling() still counting the outside request. (Found by scheduler_fuzzer.)
aio::Coro<void> cancel_task(aio::TaskRef target) {
  target.cancel();
  co_return;
}

TEST(TaskGroup, AnExpiringTimeoutTakesTheReCancelAfterAGroupError) {
  run_virtual([]() -> aio::Coro<void> {
    std::vector<std::string> log;
    auto body = [&]() -> aio::Coro<void> {
      aio::TaskRef self = *aio::current_task();
      try {
        co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
          tg.create_task(crash_after(0));
          tg.create_task(cancel_task(self));
          co_return;
        });
      } catch (const aio::ExceptionGroup&) {
        log.push_back("group, cancelling " + std::to_string(self.cancelling()));
      }
      try {
        co_await aio::timeout(0, yield0());
      } catch (const aio::TimeoutError&) {
        log.push_back("timeout, cancelling " + std::to_string(self.cancelling()));
      }
      co_await aio::sleep(1);
      log.push_back("finished");
    };
    auto t = aio::create_task(body());
    co_await t;
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(log, (std::vector<std::string>{"group, cancelling 1", "timeout, cancelling 1",
                                             "finished"}));
  });
}

TEST(TaskGroup, TaskNames) {  // TG-21
  run_virtual([]() -> aio::Coro<void> {
    co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
      auto t = g.create_task(aio::sleep(0), "yolo");
      EXPECT_EQ(t.get_name(), "yolo");
      co_return;
    });
  });
}

TEST(TaskGroup, AChildFailsAfterTheBodyFinished) {  // TG-22
  run_virtual([]() -> aio::Coro<void> {
    std::vector<std::string> log;
    auto ok = [&](double d) -> aio::Coro<void> {
      try {
        co_await aio::sleep(d);
        log.push_back("ok " + std::to_string(d).substr(0, 3));
      } catch (const aio::CancelledError&) {
        log.push_back("cancelled " + std::to_string(d).substr(0, 3));
        throw;
      }
    };
    auto bad = []() -> aio::Coro<void> {
      co_await aio::sleep(0.2);
      throw std::invalid_argument("bad");
    };
    try {
      co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
        g.create_task(ok(0.1));
        g.create_task(bad());
        g.create_task(ok(0.3));
        co_return;
      });
      ADD_FAILURE();
    } catch (const aio::ExceptionGroup& eg) {
      EXPECT_EQ(leaves(eg), std::vector<std::string>{"invalid_argument"});
    }
    EXPECT_DOUBLE_EQ(now(), 0.2);
    EXPECT_EQ(log, (std::vector<std::string>{"ok 0.1", "cancelled 0.3"}));
  });
}

TEST(TaskGroup, OutsideATaskThereIsNoParent) {  // TG-18
  aio::EventLoop loop({.virtual_time = true});
  EXPECT_THROW(aio::detail::TaskGroupState(), aio::RuntimeError);
}

// The runner is cancelled from outside; the inner group's children crash as they are cancelled.
// The outer group reports the inner group's ExceptionGroup as its one leaf, with or without a
// child of its own.
TEST(TaskGroup, NestedGroupsParentCancelledInnerChildrenCrash) {  // TG-07
  for (const bool outer_child : {false, true}) {
    run_virtual([outer_child]() -> aio::Coro<void> {
      auto runner = [&]() -> aio::Coro<void> {
        co_await aio::task_group([&](aio::TaskGroup& g1) -> aio::Coro<void> {
          if (outer_child) g1.create_task(aio::sleep(10));
          co_await aio::task_group([&](aio::TaskGroup& g2) -> aio::Coro<void> {
            for (int i = 0; i < 5; ++i) g2.create_task(aio::testing::crash_when_cancelled(10));
            co_await aio::sleep(10);
          });
        });
      };
      auto r = aio::create_task(runner());
      co_await aio::sleep(0.1);
      EXPECT_FALSE(r.done());
      r.cancel();
      try {
        co_await r;
        ADD_FAILURE() << "no ExceptionGroup";
      } catch (const aio::ExceptionGroup& eg) {
        EXPECT_EQ(leaves(eg), std::vector<std::string>{"group"}) << "outer_child=" << outer_child;
        try {
          std::rethrow_exception(eg.exceptions().at(0));
        } catch (const aio::ExceptionGroup& inner) {
          EXPECT_EQ(leaves(inner), std::vector<std::string>(5, "domain_error"));
        } catch (...) {
          ADD_FAILURE() << "the leaf is not a group";
        }
      }
    });
  }
}

// An exception that is not an error in asyncio's sense (a BaseException subclass other than
// cancellation or KeyboardInterrupt) is still one of the group's errors.
struct MyBaseExc : aio::BaseException {
  MyBaseExc() : aio::BaseException("my base exception") {}
};

aio::Coro<void> crash_soon_base() {
  co_await aio::sleep(0.1);
  throw MyBaseExc();
}

TEST(TaskGroup, AChildRaisesABaseExceptionSubclass) {  // TG-12
  run_virtual([]() -> aio::Coro<void> {
    try {
      co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
        g.create_task(crash_soon_base());
        try {
          co_await aio::sleep(10);
        } catch (const aio::CancelledError&) {
        }
        throw std::invalid_argument("type error");  // asyncio's `finally: raise TypeError`
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const aio::ExceptionGroup& eg) {
      int base = 0, type_error = 0;
      for (const auto& e : eg.exceptions()) {
        try {
          std::rethrow_exception(e);
        } catch (const MyBaseExc&) {
          ++base;
        } catch (const std::invalid_argument&) {
          ++type_error;
        } catch (...) {
        }
      }
      EXPECT_EQ(eg.exceptions().size(), 2u);
      EXPECT_EQ(base, 1);
      EXPECT_EQ(type_error, 1);
    }
    EXPECT_DOUBLE_EQ(now(), 0.1);
  });
}

aio::Coro<void> hydra(aio::TaskGroup g, int* nhydras) {
  ++*nhydras;
  co_await aio::sleep(0.01);
  if (*nhydras > 100000) co_return;  // a bound hercules never lets it reach (and not infinite)
  g.create_task(hydra(g, nhydras));
  g.create_task(hydra(g, nhydras));
}

aio::Coro<void> hercules(const int* nhydras) {
  while (*nhydras < 10) co_await aio::sleep(0.015);
  throw std::domain_error("zero division");
}

TEST(TaskGroup, DynamicSpawningPlusAFailure) {  // TG-15
  run_virtual([]() -> aio::Coro<void> {
    int nhydras = 0;
    try {
      co_await aio::task_group([&](aio::TaskGroup& g) -> aio::Coro<void> {
        g.create_task(hydra(g, &nhydras));
        g.create_task(hercules(&nhydras));
        co_return;
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const aio::ExceptionGroup& eg) {
      EXPECT_EQ(leaves(eg), std::vector<std::string>{"domain_error"});
    }
    EXPECT_GE(nhydras, 10);
  });
}

struct CustomException : std::runtime_error {
  CustomException() : std::runtime_error("custom") {}
};

aio::Coro<void> raise_custom() {
  throw CustomException();
  co_return;
}

// gh-95289: an `async with` inside the group whose exit raises while the body is being
// cancelled. Both errors come out, and the group leaves the task's cancel count as it was.
TEST(TaskGroup, AContextManagerInsideRaisesInItsExit) {  // TG-17
  run_virtual([]() -> aio::Coro<void> {
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        // `async with database():` whose exit raises CustomException.
        try {
          tg.create_task(raise_custom());
          co_await aio::sleep(1);
        } catch (const aio::CancelledError&) {
        }
        throw CustomException();
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const aio::ExceptionGroup& eg) {
      EXPECT_EQ(aio::current_task()->cancelling(), 0);
      int custom = 0;
      for (const auto& e : eg.exceptions()) {
        try {
          std::rethrow_exception(e);
        } catch (const CustomException&) {
          ++custom;
        } catch (...) {
        }
      }
      EXPECT_EQ(custom, 2);
    }
  });
}

}  // namespace
