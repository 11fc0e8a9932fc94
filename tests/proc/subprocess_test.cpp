// Subprocesses with real programs: exit codes, pipes as streams, redirections, signals,
// cancellation, and no zombies or leaked descriptors afterwards.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <aio/aio.hpp>

namespace {

using aio::Coro;
using aio::Process;
using aio::Redirect;
using aio::SubprocessOptions;

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

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A zombie keeps its /proc entry until it is reaped. (Not waitpid(): that would reap it here,
// in the loop's place.)
bool reaped(int pid) {
  return ::access(("/proc/" + std::to_string(pid)).c_str(), F_OK) != 0;
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
    Process t = co_await aio::create_subprocess_exec("true", argv());
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
  const std::size_t before = open_descriptors();
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
