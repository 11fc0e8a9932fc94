// Subprocesses: posix_spawn with pipes, a pidfd to learn of the exit, streams over the pipes.
//
// The child is started with posix_spawnp (glibc's uses CLONE_VFORK and reports a failed exec,
// so a missing program is an error of create_subprocess_exec). Its pipe ends are dup2'd onto
// 0/1/2; every descriptor of ours is close-on-exec, so the child inherits nothing else. A
// pidfd (pidfd_open, Linux 5.3) becomes readable when the child exits: a standing readiness
// operation on it reaps the child with waitpid(WNOHANG) and wakes wait(). The state keeps
// itself alive until then, so a Process dropped early still leaves no zombie.
//
// With an `env`, the program is looked up in that environment's PATH (or /bin:/usr/bin), as
// Python's subprocess does; posix_spawnp would search ours. If create_subprocess_* fails or
// is cancelled once the child exists, the child is killed and our pipe ends closed (asyncio
// closes the transport, which kills it); the loop reaps it as usual.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>

#include "aio/errors.hpp"
#include "aio/future.hpp"
#include "aio/gather.hpp"
#include "aio/loop.hpp"
#include "aio/sleep.hpp"
#include "aio/subprocess.hpp"
#include "core/loop_internals.hpp"
#include "io/backend.hpp"
#include "net/stream_protocol.hpp"
#include "net/stream_transport.hpp"
#include "posix/descriptors.hpp"
#include "posix/os_error.hpp"

extern char** environ;

namespace aio {

namespace detail {

class ProcessState final : public LoopResource, public std::enable_shared_from_this<ProcessState> {
 public:
  ProcessState(EventLoop& loop, pid_t pid, int pidfd) : loop_(loop), pid_(pid), pidfd_(pidfd) {
    exit_.owner = this;
    exit_.fd = pidfd;
    exit_.kind = IoKind::readable;
    exit_.try_first = false;
  }
  // Reaped, or the loop closed, the pidfd is closed already (the loop may be gone).
  ~ProcessState() {
    LoopInternals::remove_resource(loop_, this);
    close_pidfd();
  }

  // Starts watching for the exit; the state lives until the child is reaped.
  void watch() {
    self_ = shared_from_this();
    LoopInternals::add_resource(loop_, this);
    LoopInternals::backend(loop_).start(exit_);
  }

  void exited() {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) {  // not yet (a spurious wake-up): wait again
      LoopInternals::backend(loop_).start(exit_);
      return;
    }
    if (r == pid_) {
      returncode_ = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
    } else {
      returncode_ = 255;  // reaped by someone else (SIGCHLD ignored): the status is lost
    }
    close_pidfd();
    for (auto& w : waiters_) {
      if (!w.done()) w.set_result(*returncode_);
    }
    waiters_.clear();
    LoopInternals::remove_resource(loop_, this);
    auto last = std::move(self_);
  }

  void loop_closing() noexcept override {
    // The loop goes with the child still running: reap it if it is already gone; otherwise it
    // is left running, as asyncio leaves it (its pidfd is closed).
    LoopInternals::backend(loop_).cancel(exit_);
    int status = 0;
    if (!returncode_ && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      returncode_ = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
    }
    close_pidfd();
    waiters_.clear();
    auto last = std::move(self_);
  }

  Coro<int> wait() {
    auto keep = shared_from_this();
    if (returncode_) co_return *returncode_;
    std::erase_if(waiters_, [](const Future<int>& w) { return w.done(); });  // cancelled ones
    Future<int> f = loop_.create_future<int>();
    waiters_.push_back(f);
    co_return co_await f;
  }

  void send_signal(int sig) {
    if (returncode_ || pidfd_ < 0) {
      throw os_error(ESRCH, "send_signal to process " + std::to_string(pid_));
    }
    // Through the pidfd: never a recycled pid.
    if (::syscall(SYS_pidfd_send_signal, pidfd_, sig, nullptr, 0) < 0) {
      throw os_error(errno, "send_signal to process " + std::to_string(pid_));
    }
  }

  pid_t pid() const noexcept { return pid_; }
  std::optional<int> returncode() const noexcept { return returncode_; }

  std::optional<StreamWriter> input;
  std::optional<StreamReader> output;
  std::optional<StreamReader> error;

 private:
  struct ExitWatch final : IoOp {
    ProcessState* owner = nullptr;
    void run() override { owner->exited(); }
  };

  void close_pidfd() noexcept {
    if (pidfd_ < 0) return;
    LoopInternals::backend(loop_).cancel(exit_);
    LoopInternals::backend(loop_).forget(pidfd_);
    ::close(pidfd_);
    pidfd_ = -1;
  }

  EventLoop& loop_;
  pid_t pid_;
  int pidfd_;
  ExitWatch exit_;
  std::optional<int> returncode_;
  std::vector<Future<int>> waiters_;
  std::shared_ptr<ProcessState> self_;
};

}  // namespace detail

namespace {

// One of the child's standard streams as a pipe: the end the child gets (dup2'd onto its 0, 1
// or 2) and ours. Both are closed on every exit path until handed over.
struct Pipe {
  int child = -1;
  int ours = -1;
  Pipe() = default;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    for (int f : {child, ours}) {
      if (f >= 0) ::close(f);
    }
  }
  /// Opens the pipe if `how` asks for one; the child reads from it if `child_reads` (stdin).
  void open_if(Redirect how, bool child_reads, const char* which) {
    if (how != Redirect::pipe) return;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) throw detail::os_error(errno, std::string("pipe for ") + which);
    child = child_reads ? p[0] : p[1];
    ours = child_reads ? p[1] : p[0];
  }
  /// The child has its end now: ours only stays.
  void close_child_end() {
    if (child >= 0) ::close(std::exchange(child, -1));
  }
};

struct StdPipes {
  Pipe in, out, err;
};

void check(int rc, const char* what) {
  if (rc != 0) throw detail::os_error(rc, what);
}

// posix_spawn's attributes and file actions (destroyed on every path), and the copies of the
// caller's descriptors they use.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  std::vector<int> copies;

  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    // The child starts with default signal handling and an empty mask, whatever ours are.
    sigset_t all;
    sigset_t none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    for (int f : copies) ::close(f);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  /// The child's descriptor `target` (0, 1 or 2) as `how` says; `pipe` is its pipe, if any.
  void redirect(Redirect how, int target, const Pipe& pipe) {
    if (how == Redirect::pipe) {
      check(posix_spawn_file_actions_adddup2(&actions, pipe.child, target), "spawn: dup2");
    } else if (how == Redirect::devnull) {
      check(posix_spawn_file_actions_addopen(&actions, target, "/dev/null",
                                             target == 0 ? O_RDONLY : O_WRONLY, 0),
            "spawn: open /dev/null");
    } else if (how == Redirect::to_output) {
      check(posix_spawn_file_actions_adddup2(&actions, 1, 2), "spawn: dup2");
    } else if (how.descriptor() >= 0) {
      check(posix_spawn_file_actions_adddup2(&actions, above_standard(how.descriptor()), target),
            "spawn: dup2");
    }
  }

  void change_directory(const std::optional<std::string>& cwd) {
    if (cwd) check(posix_spawn_file_actions_addchdir_np(&actions, cwd->c_str()), "spawn: chdir");
  }

 private:
  // A descriptor given as one of 0-2 is copied above them first, so that the dup2s onto the
  // child's 0-2 can neither clobber it nor dup it onto itself (which keeps close-on-exec).
  int above_standard(int fd) {
    if (fd > 2) return fd;
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) throw detail::os_error(errno, "spawn: Redirect::fd(" + std::to_string(fd) + ")");
    copies.push_back(copy);
    return copy;
  }
};

// Python's os.get_exec_path(env) search: the first executable regular file named `program`
// in env's PATH (or /bin:/usr/bin); execvp's errors (EACCES if only unusable ones were found).
std::string find_in_path(const std::string& program,
                         const std::map<std::string, std::string>& env) {
  if (program.find('/') != std::string::npos) return program;
  const auto path = env.find("PATH");
  std::string_view dirs = path != env.end() ? std::string_view(path->second) : "/bin:/usr/bin";
  int err = ENOENT;
  while (true) {
    const std::size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      err = EACCES;
    }
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  throw detail::os_error(err, "spawn '" + program + "'");
}

// Starts the child (posix_spawnp) with `argv` and the options' environment and directory;
// returns its pid and a pidfd for it. A failure is thrown naming the program.
std::pair<pid_t, int> start_child(const std::string& program, std::vector<std::string>& argv,
                                  const SubprocessOptions& options, const SpawnSetup& setup,
                                  bool shell) {
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  std::vector<char*> env;
  char** envp = environ;
  if (options.env) {
    for (const auto& [k, v] : *options.env) env_strings.push_back(k + "=" + v);
    for (std::string& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    envp = env.data();
  }
  const std::string path = options.env ? find_in_path(program, *options.env) : program;
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, path.c_str(), &setup.actions, &setup.attr, args.data(), envp);
  if (rc != 0) {
    throw detail::os_error(rc, (shell ? "spawn /bin/sh for '" : "spawn '") + program + "'" +
                                   (options.cwd ? " in " + *options.cwd : std::string()));
  }
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    const int err = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw detail::os_error(err, "pidfd_open");
  }
  return {pid, pidfd};
}

// Until create_subprocess_* returns the Process, a failure or a cancel kills the child and
// closes our pipe ends. (Safe after the loop closed: closed transports and a closed pidfd are
// left alone.)
struct Abandon {
  std::shared_ptr<detail::ProcessState> state;
  std::vector<std::shared_ptr<detail::StreamTransport>> transports;
  bool armed = true;
  Abandon() = default;
  Abandon(const Abandon&) = delete;
  Abandon& operator=(const Abandon&) = delete;
  ~Abandon() {
    if (!armed) return;
    for (auto& t : transports) {
      try {
        if (!t->is_closing()) t->abort();
      } catch (...) {
      }
    }
    try {
      if (state && !state->returncode()) state->send_signal(SIGKILL);
    } catch (...) {
    }
  }
};

// A stream transport over our end of `pipe` (taken); the StreamReader it feeds, or for stdin
// the protocol whose connection_made makes the writer.
std::shared_ptr<detail::StreamProtocol> attach(EventLoop& loop, Pipe& pipe,
                                               detail::StreamTransport::Kind kind,
                                               StreamReader reader, Abandon& abandon) {
  detail::set_nonblocking(pipe.ours);
  auto protocol = kind == detail::StreamTransport::Kind::read_pipe
                      ? detail::StreamProtocol::reader_only(loop, std::move(reader))
                      : std::make_shared<detail::StreamProtocol>(loop, std::move(reader));
  auto transport = std::make_shared<detail::StreamTransport>(loop, pipe.ours, kind, protocol);
  pipe.ours = -1;
  transport->start();
  abandon.transports.push_back(std::move(transport));
  return protocol;
}

void check_options(const SubprocessOptions& options) {
  if (options.input == Redirect::to_output || options.output == Redirect::to_output) {
    throw std::invalid_argument("Redirect::to_output is only for the error stream");
  }
  if (options.limit <= 0) throw std::invalid_argument("Limit cannot be <= 0");
}

Coro<Process> spawn(std::string program, std::vector<std::string> argv, SubprocessOptions options,
                    bool shell) {
  EventLoop& loop = get_running_loop();
  check_options(options);
  detail::ignore_sigpipe();
  StdPipes pipes;
  pipes.in.open_if(options.input, true, "stdin");
  pipes.out.open_if(options.output, false, "stdout");
  pipes.err.open_if(options.error, false, "stderr");
  SpawnSetup setup;
  setup.redirect(options.input, 0, pipes.in);
  setup.redirect(options.output, 1, pipes.out);
  setup.redirect(options.error, 2, pipes.err);
  setup.change_directory(options.cwd);
  const std::pair<pid_t, int> child = start_child(program, argv, options, setup, shell);

  auto state = std::make_shared<detail::ProcessState>(loop, child.first, child.second);
  state->watch();
  Abandon abandon;
  abandon.state = state;
  for (Pipe* pipe : {&pipes.in, &pipes.out, &pipes.err}) pipe->close_child_end();
  std::shared_ptr<detail::StreamProtocol> input;
  if (options.input == Redirect::pipe) {
    input = attach(loop, pipes.in, detail::StreamTransport::Kind::write_pipe,
                   StreamReader(options.limit), abandon);
  }
  if (options.output == Redirect::pipe) {
    state->output.emplace(options.limit);
    attach(loop, pipes.out, detail::StreamTransport::Kind::read_pipe, *state->output, abandon);
  }
  if (options.error == Redirect::pipe) {
    state->error.emplace(options.limit);
    attach(loop, pipes.err, detail::StreamTransport::Kind::read_pipe, *state->error, abandon);
  }
  // connection_made runs one turn later (asyncio's order): then the stdin writer exists. The
  // turn is taken without pipes too, as asyncio's always is: a cancellation that came with
  // the call lands here, and the child is killed (Abandon) instead of left running.
  co_await aio::sleep(0);
  if (input) {
    if (!input->writer) throw RuntimeError("create_subprocess: the stdin pipe closed at once");
    state->input.emplace(std::move(input->writer));
  }
  abandon.armed = false;
  co_return Process(std::move(state));
}

Coro<std::string> feed_stdin(StreamWriter writer, std::string input) {
  try {
    if (!input.empty()) {
      writer.write(input);
      co_await writer.drain();
    }
  } catch (const std::system_error& e) {
    // The child exited without reading it all: not an error (asyncio ignores it too).
    if (e.code() != std::errc::broken_pipe && e.code() != std::errc::connection_reset) throw;
  }
  writer.close();
  co_return std::string();
}

Coro<std::string> read_all(StreamReader reader) {
  co_return co_await reader.read();
}

Coro<std::string> nothing() {
  co_return std::string();
}

std::vector<Coro<std::string>> three(Coro<std::string> a, Coro<std::string> b,
                                     Coro<std::string> c) {
  std::vector<Coro<std::string>> v;
  v.push_back(std::move(a));
  v.push_back(std::move(b));
  v.push_back(std::move(c));
  return v;
}

detail::ProcessState& checked(const std::shared_ptr<detail::ProcessState>& s) {
  if (!s) throw RuntimeError("Process: no process (default-constructed)");
  return *s;
}

}  // namespace

int Process::pid() const {
  return checked(state_).pid();
}
std::optional<int> Process::returncode() const {
  return checked(state_).returncode();
}

StreamWriter& Process::stdin_stream() {
  auto& s = checked(state_);
  if (!s.input) throw RuntimeError("Process: stdin is not a pipe (Redirect::pipe)");
  return *s.input;
}
StreamReader& Process::stdout_stream() {
  auto& s = checked(state_);
  if (!s.output) throw RuntimeError("Process: stdout is not a pipe (Redirect::pipe)");
  return *s.output;
}
StreamReader& Process::stderr_stream() {
  auto& s = checked(state_);
  if (!s.error) throw RuntimeError("Process: stderr is not a pipe (Redirect::pipe)");
  return *s.error;
}

Coro<int> Process::wait() {
  return checked(state_).wait();
}

Coro<std::pair<std::string, std::string>> Process::communicate(std::string input) {
  auto state = state_;
  checked(state);
  Coro<std::string> in = state->input ? feed_stdin(*state->input, std::move(input)) : nothing();
  Coro<std::string> out = state->output ? read_all(*state->output) : nothing();
  Coro<std::string> err = state->error ? read_all(*state->error) : nothing();
  std::vector<std::string> results =
      co_await gather(three(std::move(in), std::move(out), std::move(err)));
  co_await state->wait();
  co_return std::pair<std::string, std::string>(std::move(results[1]), std::move(results[2]));
}

void Process::send_signal(int sig) {
  checked(state_).send_signal(sig);
}
void Process::terminate() {
  send_signal(SIGTERM);
}
void Process::kill() {
  send_signal(SIGKILL);
}

Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args,
                                     SubprocessOptions options) {
  std::vector<std::string> argv;
  argv.push_back(program);
  for (std::string& a : args) argv.push_back(std::move(a));
  return spawn(std::move(program), std::move(argv), std::move(options), false);
}

Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options) {
  std::vector<std::string> argv = {"/bin/sh", "-c", std::move(cmd)};
  return spawn("/bin/sh", std::move(argv), std::move(options), true);
}

}  // namespace aio
