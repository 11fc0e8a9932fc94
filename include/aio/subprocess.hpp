// aio/subprocess.hpp — asyncio's subprocesses: create_subprocess_exec, create_subprocess_shell,
// Process.
//
// Pipes are streams (a StreamWriter for the child's stdin, StreamReaders for its stdout and
// stderr). Every child is reaped by the loop (it waits on a pidfd) whether or not anyone awaits
// wait(); no descriptor of the parent leaks into a child (all are close-on-exec).
//
//   asyncio                                    aio
//   p = await create_subprocess_exec(          Process p = co_await create_subprocess_exec(
//       "ls", "-l", stdout=PIPE)                   "ls", args, {.output = Redirect::pipe});
//   out, err = await p.communicate(b"in")      auto [out, err] = co_await p.communicate("in");
//   await p.wait(); p.returncode               co_await p.wait(); p.returncode()
//   p.stdin, p.stdout, p.stderr                p.stdin_stream(), stdout_stream(), stderr_stream()
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/streams.hpp"

namespace aio {

/// Where a child's standard stream goes (asyncio's None, PIPE, DEVNULL, STDOUT, or a file):
/// `Redirect::pipe`, or `Redirect::fd(n)` for a descriptor of the parent's.
class Redirect {
  enum class Kind : std::uint8_t { inherit, pipe, devnull, to_output, fd };

 public:
  static const Redirect inherit;    ///< the parent's own stream (asyncio's None)
  static const Redirect pipe;       ///< a pipe to the parent: a StreamWriter (stdin) or
                                    ///< StreamReader (stdout, stderr)
  static const Redirect devnull;    ///< /dev/null
  static const Redirect to_output;  ///< stderr only: wherever stdout goes (asyncio's STDOUT)
  /// The parent's open descriptor `fd` (asyncio's file object or descriptor): the child gets
  /// a copy of it; the parent's stays open and its own. std::invalid_argument if negative.
  static Redirect fd(int fd);

  /// The descriptor of Redirect::fd(n); -1 for the others.
  int descriptor() const noexcept { return fd_; }
  friend bool operator==(const Redirect& a, const Redirect& b) noexcept = default;

 private:
  constexpr Redirect(Kind kind, int fd) noexcept : kind_(kind), fd_(fd) {}
  Kind kind_;
  int fd_;
};
inline constexpr Redirect Redirect::inherit{Kind::inherit, -1};
inline constexpr Redirect Redirect::pipe{Kind::pipe, -1};
inline constexpr Redirect Redirect::devnull{Kind::devnull, -1};
inline constexpr Redirect Redirect::to_output{Kind::to_output, -1};
inline Redirect Redirect::fd(int fd) {
  if (fd < 0) throw std::invalid_argument("Redirect::fd(): a negative file descriptor");
  return Redirect(Kind::fd, fd);
}

struct SubprocessOptions {
  Redirect input = Redirect::inherit;   ///< stdin ("stdin" is a macro in C)
  Redirect output = Redirect::inherit;  ///< stdout
  Redirect error = Redirect::inherit;   ///< stderr
  std::optional<std::string> cwd;       ///< working directory of the child
  /// The child's whole environment; nullopt: the parent's. When given, the program is looked
  /// up in its PATH (or /bin:/usr/bin), as Python's subprocess does.
  std::optional<std::map<std::string, std::string>> env;
  std::int64_t limit = StreamReader::default_limit;  ///< the StreamReaders' buffer limit
};

namespace detail {
class ProcessState;
}

/// asyncio.subprocess.Process. A handle: copies share one child.
class Process {
 public:
  Process() = default;
  explicit Process(std::shared_ptr<detail::ProcessState> state) : state_(std::move(state)) {}

  int pid() const;
  /// The exit status once the child has been reaped; a negative signal number if a signal
  /// ended it (asyncio's convention); nullopt while it runs.
  std::optional<int> returncode() const;
  /// RuntimeError unless that stream was created with Redirect::pipe.
  StreamWriter& stdin_stream();
  StreamReader& stdout_stream();
  StreamReader& stderr_stream();
  /// Waits for the child to exit; its returncode. Any number of waiters all get it. Cancelling
  /// a wait leaves the child running; the loop still reaps it when it exits.
  Coro<int> wait();
  /// Writes `input` to stdin (if a pipe) and closes it, reads stdout and stderr (if pipes) to
  /// EOF, waits for the exit: {stdout, stderr}. A child that exits without reading all of its
  /// input is not an error (asyncio ignores the broken pipe too).
  Coro<std::pair<std::string, std::string>> communicate(std::string input = {});
  /// std::system_error (errc::no_such_process, asyncio's ProcessLookupError) once the child
  /// has been reaped.
  void send_signal(int sig);
  void terminate();  ///< SIGTERM
  void kill();       ///< SIGKILL

  detail::ProcessState* state() const noexcept { return state_.get(); }

 private:
  std::shared_ptr<detail::ProcessState> state_;
};

/// Runs `program` (looked up in PATH) with `args` (argv[1:]). Completes once the child runs
/// and its pipes are connected; a program that cannot be started is a std::system_error
/// naming it (ENOENT: asyncio's FileNotFoundError). Cancelled, it kills the child it started.
Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args,
                                     SubprocessOptions options = {});
/// Runs `cmd` with /bin/sh -c.
Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options = {});

}  // namespace aio
