// Happy eyeballs (RFC 8305) as asyncio's staggered_race runs it: the attempts are tasks, the
// first starts at once, each next one when its predecessor fails or `delay` after it started;
// the racer waits for whichever comes first (an attempt ending, the next start's time) with
// asyncio.wait(), so a virtual clock jumps straight to the next start.
#include "net/happy_eyeballs.hpp"

#include <cstddef>
#include <exception>
#include <system_error>
#include <utility>

#include "aio/errors.hpp"
#include "aio/task.hpp"
#include "aio/wait.hpp"

namespace aio::detail {

namespace {

// One attempt: a socket of the address's family, bound to `local` if given, connected.
Coro<Socket> attempt(EventLoop& loop, AddressInfo info, std::optional<SocketAddress> local) {
  Socket sock(info.family, SocketType::stream);
  if (local) {
    sock.set_reuse_address();
    sock.bind(*local);
  }
  co_await loop.sock_connect(sock, info.address);
  co_return sock;
}

// asyncio's OSError("Multiple exceptions: ..."): the text as asyncio words it (a plain
// system_error would add the first code's message), the first error's code to compare.
class MultipleErrors final : public std::system_error {
 public:
  MultipleErrors(std::error_code code, std::string text)
      : std::system_error(code), text_(std::move(text)) {}
  const char* what() const noexcept override { return text_.c_str(); }

 private:
  std::string text_;
};

// asyncio's create_connection when no address took: one error if they all read the same.
[[noreturn]] void throw_connect_errors(const std::vector<std::system_error>& errors) {
  if (errors.empty()) throw TimeoutError("create_connection failed");
  bool same = true;
  for (const auto& e : errors) same = same && std::string_view(e.what()) == errors.front().what();
  if (same) throw errors.front();
  std::string all = "Multiple exceptions: ";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    all += (i ? ", " : "") + std::string(errors[i].what());
  }
  throw MultipleErrors(errors.front().code(), std::move(all));
}

Coro<Socket> one_at_a_time(EventLoop& loop, const std::vector<AddressInfo>& infos,
                           const std::optional<SocketAddress>& local) {
  std::vector<std::system_error> errors;
  for (const AddressInfo& info : infos) {
    std::optional<Socket> connected;
    try {
      connected = co_await attempt(loop, info, local);
    } catch (const std::system_error& e) {
      errors.push_back(e);
      continue;
    }
    co_return std::move(*connected);
  }
  throw_connect_errors(errors);
}

// The racer's state: the attempts started so far, in address order, and what each ended with.
class Race {
 public:
  Race(EventLoop& loop, const std::vector<AddressInfo>& infos,
       const std::optional<SocketAddress>& local, double delay)
      : loop_(loop), infos_(infos), local_(local), delay_(delay) {}

  Coro<Socket> run() {
    std::exception_ptr interrupted;  // our own cancellation, or an attempt's unexpected error
    std::optional<Socket> winner;
    try {
      start_next();
      for (;;) {
        winner = co_await take_outcomes();
        if (winner) break;
        const bool more = attempts_.size() < infos_.size();
        if (more && latest_failed_) {
          start_next();
          continue;
        }
        std::vector<Task<Socket>> running;
        for (const auto& t : attempts_) {
          if (!t.done()) running.push_back(t);
        }
        if (running.empty()) break;  // nothing running, nothing left to start: all failed
        std::optional<Duration> until_next;
        if (more) until_next = Duration(next_start_ - loop_.time());
        WaitResult<Task<Socket>> waited =
            co_await wait(running, ReturnWhen::first_completed, until_next);
        // Nothing ended within the delay: the next attempt starts (asyncio's wait_for on the
        // previous attempt's failure timing out).
        if (waited.done.empty() && more) start_next();
      }
    } catch (...) {
      interrupted = std::current_exception();
    }
    // The losers (and, interrupted, everyone): their sockets close as they unwind.
    for (auto& t : attempts_) {
      if (!t.done()) t.cancel();
    }
    if (interrupted) std::rethrow_exception(interrupted);
    if (winner) co_return std::move(*winner);
    std::vector<std::system_error> errors;
    for (const auto& e : failures_) {
      if (e) errors.push_back(*e);
    }
    throw_connect_errors(errors);
  }

 private:
  void start_next() {
    const AddressInfo& info = infos_[attempts_.size()];
    attempts_.push_back(loop_.create_task(attempt(loop_, info, local_)));
    failures_.emplace_back();
    seen_.push_back(false);
    latest_failed_ = false;
    next_start_ = loop_.time() + delay_;
  }

  // Looks at the attempts that ended since last time, in address order: the first success is
  // the winner; a failure is kept, and when it is the latest attempt's the next may start.
  Coro<std::optional<Socket>> take_outcomes() {
    for (std::size_t i = 0; i < attempts_.size(); ++i) {
      if (seen_[i] || !attempts_[i].done()) continue;
      seen_[i] = true;
      std::exception_ptr error = attempts_[i].exception();
      if (!error) {
        Socket sock = co_await std::move(attempts_[i]);
        co_return std::optional<Socket>(std::move(sock));
      }
      try {
        std::rethrow_exception(error);
      } catch (const std::system_error& e) {
        failures_[i] = e;
      }
      if (i + 1 == attempts_.size()) latest_failed_ = true;
    }
    co_return std::nullopt;
  }

  EventLoop& loop_;
  const std::vector<AddressInfo>& infos_;
  const std::optional<SocketAddress>& local_;
  double delay_;
  std::vector<Task<Socket>> attempts_;
  std::vector<std::optional<std::system_error>> failures_;
  std::vector<bool> seen_;
  bool latest_failed_ = false;
  double next_start_ = 0;
};

}  // namespace

std::vector<AddressInfo> interleave_addresses(const std::vector<AddressInfo>& infos,
                                              int first_family_count) {
  // Grouped by family, in the order the families first appear.
  std::vector<std::vector<AddressInfo>> families;
  for (const AddressInfo& info : infos) {
    std::vector<AddressInfo>* group = nullptr;
    for (auto& f : families) {
      if (f.front().family == info.family) group = &f;
    }
    if (group) {
      group->push_back(info);
    } else {
      families.push_back({info});
    }
  }
  std::vector<AddressInfo> out;
  std::vector<std::size_t> next(families.size(), 0);
  if (!families.empty()) {
    for (int i = 1; i < first_family_count && next[0] < families[0].size(); ++i) {
      out.push_back(families[0][next[0]++]);
    }
  }
  for (bool any = true; any;) {
    any = false;
    for (std::size_t f = 0; f < families.size(); ++f) {
      if (next[f] < families[f].size()) {
        out.push_back(families[f][next[f]++]);
        any = true;
      }
    }
  }
  return out;
}

Coro<Socket> connect_first(EventLoop& loop, std::vector<AddressInfo> infos,
                           std::optional<SocketAddress> local, std::optional<double> delay) {
  if (!delay) {
    Socket sock = co_await one_at_a_time(loop, infos, local);
    co_return sock;
  }
  Race race(loop, infos, local, *delay > 0 ? *delay : 0.0);
  Socket sock = co_await race.run();
  co_return sock;
}

}  // namespace aio::detail
