// Subprocesses with real programs: exit codes, pipes as streams, redirections, signals,
// cancellation, and no zombies or leaked descriptors afterwards.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <aio/aio.hpp>

#include "support/descriptors.hpp"

namespace {

using aio::Coro;
using aio::Process;
using aio::Redirect;
using aio::SubprocessOptions;
using aio::testing::open_descriptors;

SubprocessOptions pipes(bool in, bool out, bool err = false) {
  SubprocessOptions o;
  if (in) o.input = Redirect::pipe;
  if (out) o.output = Redirect::pipe;
  if (err) o.error = Redirect::pipe;
  return o;
}

// Arguments built outside the co_await expression: GCC 12 cannot keep a braced list's array
// across a co_await in the same full-expression.
template <class... Args>
std::vector<std::string> argv(Args... args) {
  return {std::string(args)...};
}

// A zombie keeps its /proc entry until it is reaped. (Not waitpid(): that would reap it here,
// in the loop's place.)
bool reaped(int pid) {
  return ::access(("/proc/" + std::to_string(pid)).c_str(), F_OK) != 0;
}

// This thread's children, zombies included (the loop spawns from the thread that runs it).
std::set<int> children() {
  std::ifstream in("/proc/self/task/" + std::to_string(::gettid()) + "/children");
  std::set<int> pids;
  for (int pid = 0; in >> pid;) pids.insert(pid);
  return pids;
}

TEST(Subprocess, EchoToAPipe) {
  auto body = []() -> Coro<void> {
    Process p =
        co_await aio::create_subprocess_exec("echo", argv("hello", "world"), pipes(false, true));
    EXPECT_GT(p.pid(), 0);
    EXPECT_EQ(co_await p.stdout_stream().read(), "hello world\n");
    EXPECT_EQ(co_await p.wait(), 0);
    EXPECT_EQ(p.returncode(), 0);
    EXPECT_THROW(p.stdin_stream(), aio::RuntimeError);
  };
  aio::run(body());
}

TEST(Subprocess, ExitCodes) {
  auto body = []() -> Coro<void> {
    Process t = co_await aio::create_subprocess_exec("true", {});  // `{}` is fine on GCC 12
    EXPECT_EQ(co_await t.wait(), 0);
    Process f = co_await aio::create_subprocess_exec("false", argv());
    EXPECT_EQ(co_await f.wait(), 1);
    Process s = co_await aio::create_subprocess_shell("exit 3");
    EXPECT_EQ(co_await s.wait(), 3);
    EXPECT_EQ(co_await s.wait(), 3);  // again: the same answer at once
  };
  aio::run(body());
}

TEST(Subprocess, CatRoundTripsAMegabyteThroughCommunicate) {
  auto body = []() -> Coro<void> {
    std::string input;
    for (int i = 0; input.size() < (1 << 20); ++i) input += "line " + std::to_string(i) + "\n";
    Process p = co_await aio::create_subprocess_exec("cat", argv(), pipes(true, true));
    auto [out, err] = co_await p.communicate(input);
    EXPECT_EQ(out.size(), input.size());
    EXPECT_TRUE(out == input);
    EXPECT_EQ(err, "");
    EXPECT_EQ(p.returncode(), 0);
  };
  aio::run(body());
}

TEST(Subprocess, CatByHandWithDrainAndReadline) {
  auto body = []() -> Coro<void> {
    Process p = co_await aio::create_subprocess_exec("cat", argv(), pipes(true, true));
    aio::StreamWriter& in = p.stdin_stream();
    aio::StreamReader& out = p.stdout_stream();
    for (int i = 0; i < 100; ++i) {
      in.write("ping " + std::to_string(i) + "\n");
      co_await in.drain();
      EXPECT_EQ(co_await out.readline(), "ping " + std::to_string(i) + "\n");
    }
    in.close();
    EXPECT_EQ(co_await out.read(), "");
    EXPECT_EQ(co_await p.wait(), 0);
  };
  aio::run(body());
}

TEST(Subprocess, CatRoundTripsAMegabyteByHandWithBackpressureBothWays) {
  auto body = []() -> Coro<void> {
    std::string input;
    for (int i = 0; input.size() < (1 << 20); ++i) input += std::to_string(i) + ",";
    // A small limit: our reader pauses the stdout pipe while cat blocks on writing to it, and
    // cat stops reading stdin while our writer waits in drain().
    SubprocessOptions o = pipes(true, true);
    o.limit = 4096;
    Process p = co_await aio::create_subprocess_exec("cat", argv(), o);
    auto feed = [](Process p, const std::string& data) -> Coro<void> {
      aio::StreamWriter& in = p.stdin_stream();
      for (std::size_t at = 0; at < data.size(); at += 65536) {
        in.write(std::string_view(data).substr(at, 65536));
        co_await in.drain();
      }
      in.close();
    };
    auto writer = aio::create_task(feed(p, input));
    std::string out;
    for (int reads = 0;; ++reads) {
      std::string chunk = co_await p.stdout_stream().read(3000);
      if (chunk.empty()) break;
      out += chunk;
      if (reads % 16 == 0) co_await aio::sleep(0.001);  // a slow reader now and then
    }
    co_await writer;
    EXPECT_EQ(out.size(), input.size());
    EXPECT_TRUE(out == input);
    EXPECT_EQ(co_await p.wait(), 0);
  };
  aio::run(body());
}

TEST(Subprocess, EveryWaiterGetsTheCode) {
  auto body = []() -> Coro<void> {
    Process p = co_await aio::create_subprocess_shell("sleep 0.05; exit 7");
    auto cancelled = aio::create_task(p.wait());
    co_await aio::sleep(0);
    cancelled.cancel();
    auto [a, b, c] = co_await aio::gather(p.wait(), p.wait(), p.wait());
    EXPECT_EQ(a, 7);
    EXPECT_EQ(b, 7);
    EXPECT_EQ(c, 7);
    EXPECT_TRUE(cancelled.cancelled());
    EXPECT_EQ(p.returncode(), 7);
  };
  aio::run(body());
}

TEST(Subprocess, StderrSeparatelyAndMergedIntoStdout) {
  auto body = []() -> Coro<void> {
    Process a =
        co_await aio::create_subprocess_shell("echo out; echo err >&2", pipes(false, true, true));
    auto [out, err] = co_await a.communicate();
    EXPECT_EQ(out, "out\n");
    EXPECT_EQ(err, "err\n");
    SubprocessOptions merged = pipes(false, true);
    merged.error = Redirect::to_output;
    Process b = co_await aio::create_subprocess_shell("echo out; echo err >&2", merged);
    auto both = co_await b.communicate();
    EXPECT_EQ(both.first, "out\nerr\n");
    EXPECT_THROW(b.stderr_stream(), aio::RuntimeError);
  };
  aio::run(body());
}

TEST(Subprocess, DevnullCwdAndEnv) {
  auto body = []() -> Coro<void> {
    SubprocessOptions o = pipes(false, true);
    o.input = Redirect::devnull;
    o.cwd = "/tmp";
    o.env.emplace();
    (*o.env)["FOO"] = "bar baz";
    (*o.env)["PATH"] = "/usr/bin:/bin";
    Process p = co_await aio::create_subprocess_shell("pwd; echo \"$FOO\"; cat; echo done", o);
    auto result = co_await p.communicate();
    EXPECT_EQ(result.first, "/tmp\nbar baz\ndone\n");
    SubprocessOptions quiet = pipes(false, false, true);
    quiet.output = Redirect::devnull;
    Process q = co_await aio::create_subprocess_shell("echo out; echo err >&2", quiet);
    auto errors_only = co_await q.communicate();
    EXPECT_EQ(errors_only, std::make_pair(std::string(), std::string("err\n")));
    EXPECT_THROW(q.stdout_stream(), aio::RuntimeError);
  };
  aio::run(body());
}

TEST(Subprocess, WithAnEnvTheProgramIsFoundInItsPath) {
  auto body = []() -> Coro<void> {
    // Python's subprocess searches the child's PATH, or /bin:/usr/bin when it has none.
    SubprocessOptions no_path = pipes(false, true);
    no_path.env.emplace();
    (*no_path.env)["FOO"] = "bar";
    Process p = co_await aio::create_subprocess_exec("sh", argv("-c", "echo $FOO"), no_path);
    auto result = co_await p.communicate();
    EXPECT_EQ(result.first, "bar\n");
    SubprocessOptions elsewhere;
    elsewhere.env.emplace();
    (*elsewhere.env)["PATH"] = "/nonexistent-aio";
    try {
      co_await aio::create_subprocess_exec("true", argv(), elsewhere);
      ADD_FAILURE() << "found true outside its PATH";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
      EXPECT_NE(std::string(e.what()).find("true"), std::string::npos) << e.what();
    }
  };
  aio::run(body());
}

TEST(Subprocess, AMissingProgramIsAnErrorNamingIt) {
  auto body = []() -> Coro<void> {
    try {
      co_await aio::create_subprocess_exec("no-such-program-aio", argv());
      ADD_FAILURE() << "spawned";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
      EXPECT_NE(std::string(e.what()).find("no-such-program-aio"), std::string::npos) << e.what();
    }
    SubprocessOptions nowhere;
    nowhere.cwd = "/nonexistent-aio-dir";
    EXPECT_THROW(co_await aio::create_subprocess_exec("true", argv(), nowhere), std::system_error);
    SubprocessOptions bad;
    bad.output = Redirect::to_output;
    EXPECT_THROW(co_await aio::create_subprocess_exec("true", argv(), bad), std::invalid_argument);
  };
  aio::run(body());
}

TEST(Subprocess, TerminateKillAndSignalsAfterExit) {
  auto body = []() -> Coro<void> {
    Process a = co_await aio::create_subprocess_exec("sleep", argv("10"));
    a.terminate();
    EXPECT_EQ(co_await a.wait(), -SIGTERM);
    Process b = co_await aio::create_subprocess_exec("sleep", argv("10"));
    b.kill();
    EXPECT_EQ(co_await b.wait(), -SIGKILL);
    try {
      b.send_signal(SIGTERM);
      ADD_FAILURE() << "signalled a reaped process";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::no_such_process);
    }
  };
  aio::run(body());
}

TEST(Subprocess, CancellingWaitLeavesNoZombie) {
  int pid = 0;
  auto body = [&pid]() -> Coro<void> {
    Process p = co_await aio::create_subprocess_exec("sleep", argv("0.5"));
    pid = p.pid();
    auto waiting = aio::create_task(p.wait());
    co_await aio::sleep(0.01);
    waiting.cancel();
    EXPECT_THROW(co_await waiting, aio::CancelledError);
    EXPECT_FALSE(p.returncode().has_value());
    // Nobody waits now; the loop still reaps the child when it exits.
    for (int i = 0; i < 1000 && !p.returncode(); ++i) co_await aio::sleep(0.01);
    EXPECT_EQ(p.returncode(), 0);
  };
  aio::run(body());
  EXPECT_TRUE(reaped(pid));
}

TEST(Subprocess, CancellingCreationKillsTheChildAndClosesItsPipes) {
  const std::set<int> before = children();
  auto body = [&]() -> Coro<void> {
    const int fds = open_descriptors();  // the loop's own included
    // cat would wait on its stdin forever: only the kill ends it.
    auto creating =
        aio::create_task(aio::create_subprocess_exec("cat", argv(), pipes(true, true, true)));
    co_await aio::sleep(0);  // it has spawned cat and waits for the pipes to connect
    EXPECT_NE(children(), before);
    creating.cancel();
    EXPECT_THROW(co_await creating, aio::CancelledError);
    for (int i = 0; i < 1000 && children() != before; ++i) co_await aio::sleep(0.01);
    EXPECT_EQ(children(), before);  // killed and reaped
    EXPECT_EQ(open_descriptors(), fds);
  };
  aio::run(body());
}

// test_subprocess test_cancel_make_subprocess_transport_exec: without pipes too, creation
// takes a loop turn, so a cancel that comes with the call lands, and the child is killed.
TEST(Subprocess, CancellingCreationWithoutPipesKillsTheChild) {
  const std::set<int> before = children();
  auto body = [&]() -> Coro<void> {
    auto creating = aio::create_task(aio::create_subprocess_exec("sleep", argv("30")));
    co_await aio::sleep(0);  // it has spawned sleep and takes its turn
    EXPECT_NE(children(), before);
    creating.cancel();
    bool cancelled = false;
    try {
      co_await creating;
    } catch (const aio::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    for (int i = 0; i < 1000 && children() != before; ++i) co_await aio::sleep(0.01);
    EXPECT_EQ(children(), before);  // killed and reaped
  };
  aio::run(body());
}

// asyncio takes a file object or descriptor for stdin/stdout/stderr: Redirect::fd(n) gives the
// child a copy of the parent's descriptor, which the parent keeps.
TEST(Subprocess, RedirectToAndFromFileDescriptors) {
  const std::string in_path = "/tmp/aio_redirect_in_" + std::to_string(::getpid());
  const std::string out_path = "/tmp/aio_redirect_out_" + std::to_string(::getpid());
  std::ofstream(in_path) << "from a file\n";
  const int in_fd = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(in_fd, 0);
  ASSERT_GE(out_fd, 0);
  auto body = [&]() -> Coro<void> {
    SubprocessOptions o;
    o.input = Redirect::fd(in_fd);
    o.output = Redirect::fd(out_fd);
    o.error = Redirect::to_output;
    Process p = co_await aio::create_subprocess_shell("cat; echo err >&2", o);
    EXPECT_EQ(co_await p.wait(), 0);
    // The parent's own stdout (descriptor 1) as the child's stderr: the dup2s onto 0-2 must not
    // clobber it first.
    SubprocessOptions to_stdout = pipes(false, true);
    to_stdout.error = Redirect::fd(1);
    Process q = co_await aio::create_subprocess_shell("echo out; echo err >&2", to_stdout);
    auto result = co_await q.communicate();
    EXPECT_EQ(result.first, "out\n");  // "err" went to the test's own stdout
  };
  aio::run(body());
  EXPECT_EQ(::fcntl(in_fd, F_GETFD), FD_CLOEXEC);  // still the parent's, still open
  EXPECT_EQ(::close(in_fd), 0);
  EXPECT_EQ(::close(out_fd), 0);
  std::ifstream out(out_path);
  std::string all((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "from a file\nerr\n");
  std::filesystem::remove(in_path);
  std::filesystem::remove(out_path);
  EXPECT_THROW(Redirect::fd(-1), std::invalid_argument);
  // A descriptor that is not open: the spawn fails, clearly.
  auto bad = []() -> Coro<void> {
    SubprocessOptions o;
    o.output = Redirect::fd(987);
    try {
      co_await aio::create_subprocess_exec("true", argv(), o);
      ADD_FAILURE() << "spawned with a closed descriptor";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::bad_file_descriptor);
    }
  };
  aio::run(bad());
}

TEST(Subprocess, ADroppedProcessIsStillReaped) {
  int pid = 0;
  auto body = [&pid]() -> Coro<void> {
    {
      Process p = co_await aio::create_subprocess_exec("true", argv());
      pid = p.pid();
    }
    // Nobody holds the Process: the loop reaps the child when it exits (give a loaded machine
    // up to 10 s).
    for (int i = 0; i < 1000 && !reaped(pid); ++i) co_await aio::sleep(0.01);
  };
  aio::run(body());
  EXPECT_TRUE(reaped(pid));
}

TEST(Subprocess, AChildStillRunningWhenTheLoopClosesIsLeftRunning) {
  int pid = 0;
  auto body = [&pid]() -> Coro<void> {
    Process p = co_await aio::create_subprocess_exec("sleep", argv("10"));
    pid = p.pid();
  };
  aio::run(body());
  EXPECT_FALSE(reaped(pid));  // as asyncio leaves it; the loop's watch on it is gone
  ::kill(pid, SIGKILL);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);  // ours to reap now
  EXPECT_TRUE(WIFSIGNALED(status));
}

TEST(Subprocess, AChildThatDiesMidPipe) {
  auto body = []() -> Coro<void> {
    const std::string big(1 << 20, 'x');
    // head reads 10 bytes and exits: the rest of our writes hit a closed pipe.
    Process a = co_await aio::create_subprocess_shell("head -c 10", pipes(true, true));
    auto result = co_await a.communicate(big);  // the broken pipe is not an error here
    EXPECT_EQ(result.first, std::string(10, 'x'));
    EXPECT_EQ(a.returncode(), 0);
    Process b = co_await aio::create_subprocess_shell("head -c 10 >/dev/null", pipes(true, false));
    bool broken = false;
    try {
      for (int i = 0; i < 64; ++i) {
        b.stdin_stream().write(big);
        co_await b.stdin_stream().drain();
      }
    } catch (const std::system_error& e) {
      broken = e.code() == std::errc::broken_pipe;
    }
    EXPECT_TRUE(broken) << "writing to a dead child's stdin surfaces as a broken pipe";
    co_await b.wait();
  };
  aio::run(body());
}

TEST(Subprocess, NoDescriptorLeaksAcrossManyChildren) {
  const int before = open_descriptors();
  auto body = []() -> Coro<void> {
    for (int i = 0; i < 20; ++i) {
      Process p = co_await aio::create_subprocess_exec("cat", argv(), pipes(true, true, true));
      auto result = co_await p.communicate("x");
      EXPECT_EQ(result.first, "x");
    }
    // A child inherits none of our descriptors: hold a pipe open to one child and look for
    // its descriptor in another.
    Process holder = co_await aio::create_subprocess_exec("cat", argv(), pipes(true, false));
    const int ours = std::any_cast<int>(holder.stdin_stream().get_extra_info("pipe"));
    Process probe = co_await aio::create_subprocess_shell(
        "test -e /proc/$$/fd/" + std::to_string(ours) + " && echo leaked || echo clean",
        pipes(false, true));
    auto seen = co_await probe.communicate();
    EXPECT_EQ(seen.first, "clean\n");
    co_await holder.communicate();
  };
  aio::run(body());
  EXPECT_EQ(open_descriptors(), before);
}

}  // namespace
