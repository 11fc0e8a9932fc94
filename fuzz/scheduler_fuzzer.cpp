// scheduler_fuzzer: random programs of tasks under virtual time, checked against asyncio's rules.
//
// The input is a program. Byte 0 sizes a shared Queue<int> (b % 4, 0: unbounded); the rest is
// the main task's block. A block is a count byte (b % 6 operations), then per operation a kind
// byte, an argument byte and, for the kinds that have them, nested blocks (at most 4 deep and
// 64 operations in all):
//   sleep        sleep(arg % 8 × 10 ms), 0: one trip through the loop
//   spawn        create_task(block); arg & 1: its body catches CancelledError
//   cancel       cancel() the task numbered arg % tasks (it may be the running one)
//   await        co_await one of the running task's spawned children
//   gather       gather(1 + arg % 3 new tasks) (arg & 2: return_exceptions); results in order
//   wait_for     wait_for(block, arg % 8 × 10 ms; 7: no limit; 0: the zero-timeout path)
//   timeout      timeout(arg % 8 × 10 ms, block)
//   task_group   a TaskGroup: 1 + arg % 3 children, then an inline block
//   put, get     on the shared queue (arg & 1: put_nowait / get_nowait)
//   raise        sleep(0), then throws an error out of the block
//   callback     call_later(arg % 8 × 10 ms) with a run counter; arg & 0x80: cancel() the last
//                callback instead
// Every operation's failure (TimeoutError, QueueShutDown, ExceptionGroup, a child's error) is
// caught where it happens, except CancelledError, which always propagates, and `raise`.
//
// Checked, as asyncio has it: every task ends (a watchdog shuts the queue down after 1000 s of
// virtual time, so blocked gets and puts end too; 1000 s later every task must be done); each
// task's done callback runs exactly once; each call_later callback runs once unless cancelled
// first; a task that another task cancel()ed, and whose body does not catch CancelledError,
// ends cancelled; gather's results come in order; the queue hands items out in the order they
// went in; no task is destroyed while pending. (A body that caught CancelledError may still end
// cancelled, in asyncio too: the error it caught may have been another task's, from an await
// that did not suspend, with a cancellation of its own still pending when it returns. And a
// TaskGroup that ends with errors while its parent is cancelled from outside re-cancels the
// parent; a timeout that expires before that cancellation is delivered takes it as its own and
// raises TimeoutError, so the outside cancel is spent and the task may end normally.)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <aio/aio.hpp>

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "scheduler_fuzzer: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// ---- the program ----

enum class Kind {
  sleep,
  spawn,
  cancel,
  await_child,
  gather,
  wait_for,
  timeout,
  task_group,
  put,
  get,
  raise,
  callback
};
constexpr int kKinds = 12;

struct Node;
using Block = std::vector<Node>;

struct Node {
  Kind kind;
  std::uint8_t arg;
  std::vector<Block> blocks;
};

class Parser {
 public:
  Parser(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t next() { return pos_ < size_ ? data_[pos_++] : 0; }

  Block block(int depth) {
    Block b;
    if (depth > 4) return b;
    const int n = next() % 6;
    for (int i = 0; i < n && budget_ > 0; ++i) {
      --budget_;
      Node node{static_cast<Kind>(next() % kKinds), next(), {}};
      int nested = 0;
      switch (node.kind) {
        case Kind::spawn:
        case Kind::wait_for:
        case Kind::timeout:
          nested = 1;
          break;
        case Kind::gather:
          nested = 1 + node.arg % 3;
          break;
        case Kind::task_group:
          nested = 2 + node.arg % 3;
          break;
        default:
          break;
      }
      for (int j = 0; j < nested; ++j) node.blocks.push_back(block(depth + 1));
      b.push_back(std::move(node));
    }
    return b;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  int budget_ = 64;
};

// ---- the run ----

struct FuzzError : std::runtime_error {
  FuzzError() : std::runtime_error("raised by the program") {}
};

struct TaskInfo {
  TaskInfo(aio::Task<int> t, bool s) : task(std::move(t)), swallows(s) {}
  aio::Task<int> task;
  bool swallows = false;
  bool cancel_requested = false;  // another task's cancel() returned true
  // While it awaits a task, or a gather without return_exceptions, a cancel() goes to what it
  // awaits, and if that ends otherwise than cancelled (a child that fails or returns first),
  // asyncio hands over that outcome instead: such cancellations are not checked.
  int absorbing = 0;
  // A TaskGroup that ended with errors while this task was being cancelled from outside
  // re-cancelled it; a timeout that expires before that cancellation is delivered takes it as
  // its own and raises TimeoutError (asyncio 3.13 too): the outside cancel is then spent.
  bool recancelled = false;
  int done_callbacks = 0;
  std::vector<std::size_t> children;  // spawned ones whose bodies do not catch CancelledError
};

struct Callback {
  int runs = 0;
  bool cancelled_first = false;
  aio::TimerHandle handle;
};

struct World {
  explicit World(std::int64_t queue_size) : queue(queue_size) {}
  std::deque<TaskInfo> tasks;  // numbered in creation order; the main program is task 0
  aio::Queue<int> queue;
  int next_item = 0;
  std::vector<int> put_order;
  std::vector<int> got_order;
  std::deque<Callback> callbacks;
  bool all_done = false;
};

int g_destroyed_pending = 0;  // "Task was destroyed but it is pending!" reports

aio::Coro<void> run_block(World& w, const Block& block, std::size_t self);

aio::Coro<int> task_body(World& w, const Block& block, std::size_t self) {
  if (w.tasks[self].swallows) {
    try {
      co_await run_block(w, block, self);
    } catch (const aio::CancelledError&) {
    }
  } else {
    co_await run_block(w, block, self);
  }
  co_return static_cast<int>(self);
}

/// Registers a task made by `make(body)` (create_task or TaskGroup::create_task). Its body
/// first runs in a later step, when its TaskInfo is there.
template <class Make>
std::size_t spawn(World& w, const Block& block, bool swallows, Make make) {
  const std::size_t index = w.tasks.size();
  aio::Task<int> task = make(task_body(w, block, index));
  w.tasks.emplace_back(task, swallows);
  task.add_done_callback([&w, index](aio::Future<int>&) { ++w.tasks[index].done_callbacks; });
  return index;
}

/// Counts an await that may absorb a cancellation (TaskInfo::absorbing) while it lasts.
struct Absorbing {
  explicit Absorbing(TaskInfo& t) : task(&t) { ++task->absorbing; }
  ~Absorbing() { --task->absorbing; }
  Absorbing(const Absorbing&) = delete;
  Absorbing& operator=(const Absorbing&) = delete;
  TaskInfo* task;
};

std::optional<aio::Duration> delay_of(std::uint8_t arg) {
  return (arg % 8) * 0.01;
}

aio::Coro<void> gather_op(World& w, const Node& node, std::size_t self) {
  std::vector<aio::Task<int>> kids;
  std::vector<std::size_t> numbers;
  for (std::size_t i = 0; i < node.blocks.size(); ++i) {
    const bool swallows = (node.arg >> (2 + i)) & 1;
    numbers.push_back(spawn(w, node.blocks[i], swallows,
                            [](aio::Coro<int> c) { return aio::create_task(std::move(c)); }));
    kids.push_back(w.tasks[numbers.back()].task);
  }
  if (node.arg & 2) {
    auto all = aio::gather(aio::return_exceptions, kids);
    std::vector<aio::Outcome<int>> results = co_await all;
    check(results.size() == numbers.size(), "gather: wrong number of results");
    for (std::size_t i = 0; i < results.size(); ++i) {
      check(!results[i].has_value() || results[i].value() == static_cast<int>(numbers[i]),
            "gather(return_exceptions): results out of order");
    }
  } else {
    Absorbing absorbing{w.tasks[self]};
    auto all = aio::gather(kids);
    std::vector<int> results = co_await all;
    check(results.size() == numbers.size(), "gather: wrong number of results");
    for (std::size_t i = 0; i < results.size(); ++i) {
      check(results[i] == static_cast<int>(numbers[i]), "gather: results out of order");
    }
  }
}

aio::Coro<void> task_group_op(World& w, const Node& node, std::size_t self) {
  std::exception_ptr failure;
  try {
    co_await aio::task_group([&w, &node, self](aio::TaskGroup& tg) -> aio::Coro<void> {
      for (std::size_t i = 0; i + 1 < node.blocks.size(); ++i) {
        const bool swallows = (node.arg >> (2 + i)) & 1;
        spawn(w, node.blocks[i], swallows,
              [&tg](aio::Coro<int> c) { return tg.create_task(std::move(c)); });
      }
      co_await run_block(w, node.blocks.back(), self);
    });
  } catch (const aio::CancelledError&) {
    throw;
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    if (aio::current_task()->cancelling() > 0) w.tasks[self].recancelled = true;
    std::rethrow_exception(failure);
  }
}

/// A timeout (of more than zero) expired: if it took a TaskGroup's re-cancel, that outside
/// cancellation is spent (TaskInfo::recancelled).
void timed_out(TaskInfo& t) {
  if (!t.recancelled) return;
  t.recancelled = false;
  t.cancel_requested = false;
}

aio::Coro<void> run_op(World& w, const Node& node, std::size_t self) {
  switch (node.kind) {
    case Kind::sleep:
      co_await aio::sleep(node.arg % 8 * 0.01);
      break;
    case Kind::spawn: {
      const bool swallows = node.arg & 1;
      const std::size_t child = spawn(w, node.blocks[0], swallows, [](aio::Coro<int> c) {
        return aio::create_task(std::move(c));
      });
      if (!swallows) w.tasks[self].children.push_back(child);
      break;
    }
    case Kind::cancel: {
      const std::size_t target = node.arg % w.tasks.size();
      const bool requested = w.tasks[target].task.cancel();
      // A task that cancels itself may still end with an error it raises before it suspends
      // again, as in asyncio: only cancellations from elsewhere are checked.
      if (requested && target != self && w.tasks[target].absorbing == 0) {
        w.tasks[target].cancel_requested = true;
      }
      break;
    }
    case Kind::await_child: {
      const std::vector<std::size_t>& children = w.tasks[self].children;
      if (children.empty()) break;
      const std::size_t child = children[node.arg % children.size()];
      aio::Task<int> task = w.tasks[child].task;
      Absorbing absorbing{w.tasks[self]};
      const int value = co_await task;
      check(value == static_cast<int>(child), "await: a child's value is wrong");
      break;
    }
    case Kind::gather:
      co_await gather_op(w, node, self);
      break;
    case Kind::wait_for: {
      std::optional<aio::Duration> limit = delay_of(node.arg);
      if (node.arg % 8 == 7) limit.reset();
      aio::Coro<void> body = run_block(w, node.blocks[0], self);
      bool expired = false;
      try {
        co_await aio::wait_for(std::move(body), limit);
      } catch (const aio::TimeoutError&) {
        expired = true;
      }
      if (expired) {
        if (node.arg % 8 != 0) timed_out(w.tasks[self]);  // zero: the inner task is cancelled
        throw aio::TimeoutError();
      }
      break;
    }
    case Kind::timeout: {
      const std::optional<aio::Duration> limit = delay_of(node.arg);
      aio::Coro<void> body = run_block(w, node.blocks[0], self);
      bool expired = false;
      try {
        co_await aio::timeout(limit, std::move(body));
      } catch (const aio::TimeoutError&) {
        expired = true;
      }
      if (expired) {
        timed_out(w.tasks[self]);
        throw aio::TimeoutError();
      }
      break;
    }
    case Kind::task_group:
      co_await task_group_op(w, node, self);
      break;
    case Kind::put: {
      const int item = w.next_item++;
      if (node.arg & 1) {
        w.queue.put_nowait(item);
      } else {
        co_await w.queue.put(item);
      }
      w.put_order.push_back(item);
      break;
    }
    case Kind::get: {
      int item = 0;
      if (node.arg & 1) {
        item = w.queue.get_nowait();
      } else {
        item = co_await w.queue.get();
      }
      w.got_order.push_back(item);
      const std::size_t n = w.got_order.size();
      check(n <= w.put_order.size() && w.put_order[n - 1] == item, "the queue is not FIFO");
      break;
    }
    case Kind::raise:
      throw FuzzError();
    case Kind::callback: {
      if (node.arg & 0x80) {
        if (w.callbacks.empty()) break;
        Callback& last = w.callbacks.back();
        if (last.runs == 0 && !last.handle.cancelled()) last.cancelled_first = true;
        last.handle.cancel();
        break;
      }
      const std::size_t index = w.callbacks.size();
      w.callbacks.emplace_back();
      w.callbacks.back().handle = aio::get_running_loop().call_later(
          node.arg % 8 * 0.01, [&w, index] { ++w.callbacks[index].runs; });
      break;
    }
  }
}

aio::Coro<void> run_block(World& w, const Block& block, std::size_t self) {
  for (const Node& node : block) {
    if (node.kind == Kind::raise) {
      // One trip through the loop first: a cancellation still pending (a TaskGroup re-cancels
      // its parent that way) is delivered here. Raising without suspending would end the task
      // with this error instead, in asyncio as in aio, and the check would not hold.
      co_await aio::sleep(0);
      throw FuzzError();
    }
    try {
      co_await run_op(w, node, self);
    } catch (const aio::CancelledError&) {
      throw;
    } catch (...) {
      // TimeoutError, QueueShutDown, QueueFull, ExceptionGroup, a child's error: carry on.
    }
  }
}

aio::Coro<void> watchdog(World& w) {
  co_await aio::sleep(1000);
  w.queue.shutdown();  // wakes every blocked put and get
  co_await aio::sleep(1000);
  check(w.all_done, "a task never ended");
}

aio::Coro<void> fuzz_main(const Block& program, std::int64_t queue_size) {
  aio::get_running_loop().set_exception_handler(
      [](aio::EventLoop&, const aio::ExceptionContext& context) {
        if (context.message.find("destroyed but it is pending") != std::string::npos) {
          ++g_destroyed_pending;
        }
      });
  World w(queue_size);
  aio::Task<void> dog = aio::create_task(watchdog(w));
  spawn(w, program, false, [](aio::Coro<int> c) { return aio::create_task(std::move(c)); });
  // Wait for every task, including those made while waiting.
  for (std::size_t i = 0; i < w.tasks.size(); ++i) {
    aio::Task<int> task = w.tasks[i].task;
    try {
      co_await task;
    } catch (...) {
    }
  }
  w.all_done = true;
  co_await aio::sleep(1);  // every done callback, and every call_later, is due by then

  for (const TaskInfo& t : w.tasks) {
    check(t.task.done(), "a task is not done");
    check(t.done_callbacks == 1, "a done callback ran other than once");
    if (t.cancel_requested && !t.swallows) {
      check(t.task.cancelled(), "a cancelled task that did not catch it did not end cancelled");
    }
  }
  for (const Callback& c : w.callbacks) {
    check(c.runs == (c.cancelled_first ? 0 : 1),
          "a call_later callback ran a wrong number of times");
  }
  check(w.got_order.size() + w.queue.qsize() == w.put_order.size(), "the queue lost items");
  dog.cancel();
  try {
    co_await dog;
  } catch (const aio::CancelledError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Parser parser(data, size);
  const std::int64_t queue_size = parser.next() % 4;
  const Block program = parser.block(0);
  g_destroyed_pending = 0;
  aio::run(fuzz_main(program, queue_size),
           aio::RunOptions{.virtual_time = true, .backend = aio::Backend::epoll});
  check(g_destroyed_pending == 0, "a task was destroyed while pending");
  return 0;
}
