// aio-ps and aio-pstree (tools/ps/): a child process is forked into a known state (tasks
// awaiting each other, waiting on a lock, spinning inside a step, ten thousand of them), then
// read from outside, by the reader library in this process and by the installed programs.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "aio/gather.hpp"
#include "aio/locks.hpp"
#include "aio/runners.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "aio/task_group.hpp"
#include "debug/debug_table.hpp"
#include "format.hpp"
#include "remote_memory.hpp"
#include "snapshot.hpp"

namespace ps_test {

// A forked child in a known state: it writes one byte to the pipe once there, and runs until
// killed (so that no exit path, LeakSanitizer's included, runs in it).
class PsChild {
 public:
  explicit PsChild(std::function<void(int ready_fd)> scenario) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    std::fflush(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[0]);
      try {
        scenario(fds[1]);
      } catch (...) {
      }
      _exit(1);
    }
    close(fds[1]);
    pollfd p{fds[0], POLLIN, 0};
    char byte = 0;
    ready_ = poll(&p, 1, 20'000) == 1 && read(fds[0], &byte, 1) == 1;
    close(fds[0]);
  }
  ~PsChild() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  PsChild(const PsChild&) = delete;
  PsChild& operator=(const PsChild&) = delete;
  pid_t pid() const noexcept { return pid_; }
  bool ready() const noexcept { return ready_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

void ps_signal_ready(int fd) {
  const char byte = 1;
  if (write(fd, &byte, 1) != 1) _exit(2);
}

// Tells the parent once every task has taken its first steps: from a callback, a while after
// they were made, so that no task is half-way through a step when the parent reads.
void ps_ready_soon(int fd) {
  aio::get_running_loop().call_later(0.05, [fd] { ps_signal_ready(fd); });
}

// ---- Two tasks awaiting each other (a deadlock) ----
struct PsPair {
  std::optional<aio::Task<void>> alpha;
  std::optional<aio::Task<void>> beta;
};

constexpr std::uint32_t ps_alpha_line = __LINE__ + 3;  // its co_await of beta
aio::Coro<void> ps_alpha(PsPair& pair) {
  co_await aio::sleep(0);
  co_await *pair.beta;
}

aio::Coro<void> ps_beta(PsPair& pair) {
  co_await aio::sleep(0);
  co_await *pair.alpha;
}

aio::Coro<void> ps_deadlock_main(int fd) {
  PsPair pair;
  pair.alpha = aio::create_task(ps_alpha(pair), "alpha");
  pair.beta = aio::create_task(ps_beta(pair), "beta");
  ps_ready_soon(fd);
  co_await *pair.alpha;
}

void ps_deadlock(int fd) {
  aio::run(ps_deadlock_main(fd));
}

// ---- Two tasks taking two locks in opposite orders (a deadlock through the locks) ----
struct PsLocks {
  aio::Lock first;
  aio::Lock second;
};

aio::Coro<void> ps_take_both(aio::Lock& a, aio::Lock& b) {
  co_await a.acquire();
  co_await aio::sleep(0.01);
  co_await b.acquire();
}

aio::Coro<void> ps_lock_deadlock_main(int fd) {
  PsLocks locks;
  auto one = aio::create_task(ps_take_both(locks.first, locks.second), "one");
  auto two = aio::create_task(ps_take_both(locks.second, locks.first), "two");
  ps_ready_soon(fd);
  co_await one;
}

void ps_lock_deadlock(int fd) {
  aio::run(ps_lock_deadlock_main(fd));
}

// ---- A tree: main awaits a parent, which gathers two workers waiting on a lock and an event,
// and runs a TaskGroup of one sleeper ----
struct PsTreeState {
  aio::Lock lock;
  aio::Event never;
};

aio::Coro<void> ps_lock_worker(PsTreeState& s) {
  co_await s.lock.acquire();
  s.lock.release();
}

aio::Coro<void> ps_event_worker(PsTreeState& s) {
  co_await s.never.wait();
}

aio::Coro<void> ps_sleeper() {
  co_await aio::sleep(3600);
}

aio::Coro<void> ps_group_parent() {
  co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Coro<void> {
    tg.create_task(ps_sleeper(), "sleeper");
    co_return;
  });
}

aio::Coro<void> ps_gather_parent(PsTreeState& s) {
  co_await aio::gather(aio::create_task(ps_lock_worker(s), "locked-out"),
                       aio::create_task(ps_event_worker(s), "event-waiter"));
}

aio::Coro<void> ps_lock_holder(PsTreeState& s) {
  co_await s.lock.acquire();  // held for ever: locked-out waits
  co_await s.never.wait();
}

aio::Coro<void> ps_tree_main(int fd) {
  PsTreeState s;
  auto holding = aio::create_task(ps_lock_holder(s), "holder");
  co_await aio::sleep(0);
  auto gathering = aio::create_task(ps_gather_parent(s), "gatherer");
  auto grouping = aio::create_task(ps_group_parent(), "grouper");
  ps_ready_soon(fd);
  co_await gathering;
  co_await grouping;
}

void ps_tree(int fd) {
  aio::run(ps_tree_main(fd));
}

// ---- A task that never gives the loop back ----
std::atomic<bool> ps_spin_forever{true};

aio::Coro<void> ps_spinner(int fd) {
  co_await aio::sleep(0);
  ps_signal_ready(fd);
  while (ps_spin_forever.load(std::memory_order_relaxed)) {
  }
}

aio::Coro<void> ps_spin_main(int fd) {
  auto spinner = aio::create_task(ps_spinner(fd), "spinner");
  co_await spinner;
}

void ps_spin(int fd) {
  aio::run(ps_spin_main(fd));
}

// ---- Ten thousand named tasks waiting on one event ----
constexpr int ps_many = 10'000;

aio::Coro<void> ps_many_worker(aio::Event& go) {
  co_await go.wait();
}

aio::Coro<void> ps_many_main(int fd) {
  aio::Event go;
  std::vector<aio::Task<void>> tasks;
  tasks.reserve(ps_many);
  for (int i = 0; i < ps_many; ++i) {
    tasks.push_back(aio::create_task(ps_many_worker(go), "worker-" + std::to_string(i)));
  }
  ps_ready_soon(fd);
  co_await go.wait();
}

void ps_many_tasks(int fd) {
  aio::run(ps_many_main(fd));
}

// ---- A loop that never stops making and finishing tasks ----
aio::Coro<void> ps_short_lived() {
  co_await aio::sleep(0);
}

aio::Coro<void> ps_churn_main(int fd) {
  std::vector<aio::Task<void>> batch;
  for (int round = 0;; ++round) {
    for (int i = 0; i < 50; ++i) batch.push_back(aio::create_task(ps_short_lived()));
    if (round == 10) ps_signal_ready(fd);
    for (auto& t : batch) co_await t;
    batch.clear();
  }
}

void ps_churn(int fd) {
  aio::run(ps_churn_main(fd));
}

// ---- Two threads, a loop each ----
aio::Coro<void> ps_thread_main(std::string name, aio::Event* never) {
  aio::current_task()->set_name(std::move(name));
  co_await never->wait();
}

void ps_two_threads(int fd) {
  std::atomic<int> running{0};
  std::thread other([&running] {
    aio::run([](std::atomic<int>& r) -> aio::Coro<void> {
      aio::Event never;
      ++r;
      co_await ps_thread_main("other-thread", &never);
    }(running));
  });
  aio::run([](std::atomic<int>& r, int ready) -> aio::Coro<void> {
    aio::Event never;
    while (r.load() == 0) co_await aio::sleep(0.001);
    ps_ready_soon(ready);
    co_await ps_thread_main("main-thread", &never);
  }(running, fd));
  other.join();
}

const aio::ps::TaskInfo* ps_find(const aio::ps::Snapshot& s, const std::string& name) {
  for (const auto& loop : s.loops) {
    for (const auto& task : loop.tasks) {
      if (task.name == name) return &task;
    }
  }
  return nullptr;
}

std::vector<std::string> ps_functions(const aio::ps::TaskInfo& task) {
  std::vector<std::string> names;
  for (const auto& f : task.stack) names.push_back(f.function);
  return names;
}

bool ps_has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs a program, its stderr with its stdout; returns the exit status.
int ps_run(const std::string& command, std::string& output) {
  output.clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(AioPs, ReadsTasksAwaitingEachOtherAndFindsTheCycle) {
  PsChild child(ps_deadlock);
  ASSERT_TRUE(child.ready());
  const aio::ps::Snapshot s = aio::ps::snapshot(child.pid());
  ASSERT_EQ(s.loops.size(), 1u);
  EXPECT_EQ(s.loops[0].tid, static_cast<std::uint64_t>(child.pid()));
  ASSERT_EQ(s.loops[0].tasks.size(), 3u);
  const auto* alpha = ps_find(s, "alpha");
  const auto* beta = ps_find(s, "beta");
  ASSERT_TRUE(alpha && beta);
  EXPECT_EQ(ps_functions(*alpha), std::vector<std::string>{"ps_alpha"});
  EXPECT_EQ(alpha->awaiting, "Task(name='beta')");
  EXPECT_EQ(beta->awaiting, "Task(name='alpha')");
  EXPECT_EQ(alpha->stack[0].line, ps_alpha_line);
  EXPECT_TRUE(ps_has(alpha->stack[0].file, "ps_test.cpp"));
  // alpha is awaited by beta and by the main task; beta by alpha.
  EXPECT_EQ(alpha->awaited_by.size(), 2u);
  EXPECT_EQ(beta->awaited_by, std::vector<std::uint64_t>{alpha->address});

  const auto cycles = aio::ps::find_cycles(s);
  ASSERT_EQ(cycles.size(), 1u);
  const std::string report = aio::ps::format_cycles(s, cycles);
  EXPECT_TRUE(ps_has(report, "ERROR: await-graph contains cycles - cannot print a tree!"));
  EXPECT_TRUE(ps_has(report, "cycle: alpha → beta → alpha") ||
              ps_has(report, "cycle: beta → alpha → beta"))
      << report;
}

TEST(AioPs, FindsACycleThroughLocksTakenInOppositeOrders) {
  PsChild child(ps_lock_deadlock);
  ASSERT_TRUE(child.ready());
  const aio::ps::Snapshot s = aio::ps::snapshot(child.pid());
  const auto* one = ps_find(s, "one");
  const auto* two = ps_find(s, "two");
  ASSERT_TRUE(one && two);
  EXPECT_EQ(one->awaiting, "Lock.acquire() (held by two)");
  EXPECT_EQ(two->awaiting, "Lock.acquire() (held by one)");
  const auto cycles = aio::ps::find_cycles(s);
  ASSERT_EQ(cycles.size(), 1u);
  const std::string report = aio::ps::format_cycles(s, cycles);
  EXPECT_TRUE(ps_has(report, "cycle: one → two → one") || ps_has(report, "cycle: two → one → two"))
      << report;
}

TEST(AioPs, ShowsGatherTaskGroupAndLockWaitsInTheTree) {
  PsChild child(ps_tree);
  ASSERT_TRUE(child.ready());
  const aio::ps::Snapshot s = aio::ps::snapshot(child.pid());
  const auto* locked = ps_find(s, "locked-out");
  const auto* waiting = ps_find(s, "event-waiter");
  const auto* gatherer = ps_find(s, "gatherer");
  const auto* grouper = ps_find(s, "grouper");
  const auto* sleeper = ps_find(s, "sleeper");
  ASSERT_TRUE(locked && waiting && gatherer && grouper && sleeper);
  const auto* holder = ps_find(s, "holder");
  ASSERT_TRUE(holder);
  // A lock wait is a wait on the task holding the lock.
  EXPECT_EQ(locked->awaiting, "Lock.acquire() (held by holder)");
  EXPECT_EQ(holder->awaited_by, std::vector<std::uint64_t>{locked->address});
  EXPECT_EQ(waiting->awaiting, "Event.wait()");
  EXPECT_EQ(ps_functions(*waiting), (std::vector<std::string>{"wait", "ps_event_worker"}));
  EXPECT_EQ(locked->awaited_by, std::vector<std::uint64_t>{gatherer->address});
  EXPECT_EQ(waiting->awaited_by, std::vector<std::uint64_t>{gatherer->address});
  EXPECT_EQ(sleeper->awaited_by, std::vector<std::uint64_t>{grouper->address});
  EXPECT_TRUE(aio::ps::find_cycles(s).empty());
  const std::string tree = aio::ps::format_tree(s);
  EXPECT_TRUE(ps_has(tree, "└── (T) Task-")) << tree;
  EXPECT_TRUE(ps_has(tree, "(T) gatherer")) << tree;
  EXPECT_TRUE(ps_has(tree, "(T) locked-out")) << tree;
  EXPECT_TRUE(ps_has(tree, "ps_tree_main (ps_test.cpp:")) << tree;
  std::printf("%s", tree.c_str());
}

TEST(AioPs, ReadsALoopStuckInsideAStep) {
  PsChild child(ps_spin);
  ASSERT_TRUE(child.ready());
  const aio::ps::Snapshot s = aio::ps::snapshot(child.pid());
  const auto* spinner = ps_find(s, "spinner");
  ASSERT_TRUE(spinner);
  EXPECT_TRUE(spinner->running);
  EXPECT_EQ(s.loops[0].tid, static_cast<std::uint64_t>(child.pid()));
  const std::string table = aio::ps::format_table(s);
  EXPECT_TRUE(ps_has(table, "(running)")) << table;
}

TEST(AioPs, ReadsALoopThatKeepsChangingOrSaysItCannot) {
  PsChild child(ps_churn);
  ASSERT_TRUE(child.ready());
  int read = 0;
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    try {
      const aio::ps::Snapshot s = aio::ps::snapshot(child.pid(), {.max_attempts = 5});
      ++read;
      ASSERT_EQ(s.loops.size(), 1u);
      for (const auto& task : s.loops[0].tasks) {
        ASSERT_FALSE(task.stack.empty());
        EXPECT_TRUE(task.stack.back().function == "ps_churn_main" ||
                    task.stack.back().function == "ps_short_lived")
            << task.stack.back().function;
      }
    } catch (const aio::ps::Error& e) {
      ++refused;
      EXPECT_TRUE(ps_has(e.what(), "never held still")) << e.what();
    }
  }
  std::printf("a loop that keeps changing: %d snapshots read, %d refused\n", read, refused);
}

TEST(AioPs, ReadsTenThousandTasksQuickly) {
  PsChild child(ps_many_tasks);
  ASSERT_TRUE(child.ready());
  const auto start = std::chrono::steady_clock::now();
  const aio::ps::Snapshot s = aio::ps::snapshot(child.pid());
  const std::string table = aio::ps::format_table(s);
  const std::string tree = aio::ps::format_tree(s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("10,000 tasks: snapshot, table and tree in %.3f s (%d attempt(s), %zu reads)\n",
              seconds, s.attempts, s.syscalls);
  ASSERT_EQ(s.loops.size(), 1u);
  EXPECT_EQ(s.loops[0].tasks.size(), static_cast<std::size_t>(ps_many + 1));
  const auto* last = ps_find(s, "worker-9999");
  ASSERT_TRUE(last);
  EXPECT_EQ(last->awaiting, "Event.wait()");
  EXPECT_LT(seconds, 5.0);

  const auto program_start = std::chrono::steady_clock::now();
  std::string out;
  EXPECT_EQ(ps_run(std::string(AIO_PS_PROGRAM) + " " + std::to_string(child.pid()), out), 0);
  const double program_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - program_start).count();
  std::printf("10,000 tasks: aio-ps printed %zu bytes in %.3f s\n", out.size(), program_seconds);
  EXPECT_TRUE(ps_has(out, "worker-9999")) << out.substr(0, 1000);
  EXPECT_LT(program_seconds, 5.0);
}

TEST(AioPs, ReadsEveryLoopOfEveryThread) {
  PsChild child(ps_two_threads);
  ASSERT_TRUE(child.ready());
  const aio::ps::Snapshot s = aio::ps::snapshot(child.pid());
  ASSERT_EQ(s.loops.size(), 2u);
  EXPECT_NE(s.loops[0].tid, s.loops[1].tid);
  EXPECT_TRUE(s.loops[0].tid == static_cast<std::uint64_t>(child.pid()) ||
              s.loops[1].tid == static_cast<std::uint64_t>(child.pid()));
  EXPECT_TRUE(ps_find(s, "main-thread"));
  EXPECT_TRUE(ps_find(s, "other-thread"));
}

TEST(AioPs, SaysSoWhenNotAllowedToRead) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to become someone else";
  const pid_t target = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    try {
      aio::ps::snapshot(target);
    } catch (const aio::ps::Error& e) {
      const std::string expected =
          "permission denied reading PID " + std::to_string(target) + " (ptrace_scope is ";
      _exit(std::string(e.what()).rfind(expected, 0) == 0 ? 0 : 1);
    }
    _exit(2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(AioPs, SaysSoWhenTheProcessHasNoAioRuntime) {
  std::string out;
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    _exit(127);
  }
  usleep(100'000);  // exec'd by then
  try {
    aio::ps::snapshot(pid);
    ADD_FAILURE() << "no error";
  } catch (const aio::ps::Error& e) {
    EXPECT_EQ(std::string(e.what()), "no aio runtime in PID " + std::to_string(pid));
  }
  EXPECT_EQ(ps_run(std::string(AIO_PS_PROGRAM) + " " + std::to_string(pid), out), 1);
  EXPECT_EQ(out, "aio-ps: no aio runtime in PID " + std::to_string(pid) + "\n");
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST(AioPs, SaysSoWhenTheProcessIsGone) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  try {
    aio::ps::snapshot(pid);
    ADD_FAILURE() << "no error";
  } catch (const aio::ps::Error& e) {
    EXPECT_EQ(std::string(e.what()), "no process " + std::to_string(pid));
  }
  std::string out;
  EXPECT_EQ(ps_run(std::string(AIO_PSTREE_PROGRAM) + " " + std::to_string(pid), out), 1);
  EXPECT_EQ(out, "aio-pstree: no process " + std::to_string(pid) + "\n");
}

TEST(AioPsProgram, PrintsTheTableAndTheMetrics) {
  PsChild child(ps_tree);
  ASSERT_TRUE(child.ready());
  const std::string pid = std::to_string(child.pid());
  std::string out;
  EXPECT_EQ(ps_run(std::string(AIO_PS_PROGRAM) + " " + pid, out), 0) << out;
  std::printf("%s", out.c_str());
  EXPECT_TRUE(ps_has(out, "tid")) << out;
  EXPECT_TRUE(ps_has(out, "coroutine stack")) << out;
  EXPECT_TRUE(ps_has(out, "wait (locks.cpp:")) << out;
  EXPECT_TRUE(ps_has(out, "Lock.acquire()")) << out;
  EXPECT_EQ(ps_run(std::string(AIO_PS_PROGRAM) + " --metrics " + pid, out), 0) << out;
  EXPECT_TRUE(ps_has(out, "  iterations: ")) << out;
  EXPECT_TRUE(ps_has(out, "  io_completed: ")) << out;
  EXPECT_EQ(ps_run(std::string(AIO_PSTREE_PROGRAM) + " " + pid, out), 0) << out;
  EXPECT_TRUE(ps_has(out, "└── (T) Task-")) << out;
}

TEST(AioPsProgram, PstreeReportsADeadlockAndFails) {
  PsChild child(ps_deadlock);
  ASSERT_TRUE(child.ready());
  std::string out;
  EXPECT_EQ(ps_run(std::string(AIO_PSTREE_PROGRAM) + " " + std::to_string(child.pid()), out), 1);
  std::printf("%s", out.c_str());
  EXPECT_TRUE(ps_has(out, "ERROR: await-graph contains cycles - cannot print a tree!")) << out;
  EXPECT_TRUE(ps_has(out, "cycle: ")) << out;
}

TEST(AioPsProgram, RefusesATableOfAnotherVersion) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    execl(AIO_PS_OTHER_VERSION, "ps_other_version", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  char line[8] = {};
  EXPECT_GT(read(fds[0], line, sizeof line), 0);  // "ready": its table is in place
  close(fds[0]);
  std::string out;
  EXPECT_EQ(ps_run(std::string(AIO_PS_PROGRAM) + " " + std::to_string(pid), out), 1);
  EXPECT_EQ(out, "aio-ps: version mismatch: PID " + std::to_string(pid) +
                     " has aio debug table version " +
                     std::to_string(aio::detail::debug_table_version + 1) + ", this aio-ps reads " +
                     std::to_string(aio::detail::debug_table_version) + "\n");
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST(AioPsProgram, RejectsABadArgument) {
  std::string out;
  EXPECT_EQ(ps_run(std::string(AIO_PS_PROGRAM) + " nonsense", out), 2);
  EXPECT_EQ(out, "usage: aio-ps [--metrics] PID\n");
}

}  // namespace ps_test
