// asyncio 3.13's StreamReader (Lib/asyncio/streams.py), rule for rule.
//
// The handle's coroutines are lazy, so each is a plain function that hands a coroutine below
// what it must own: the shared state (the handle may be gone before the read runs) and copies of
// the separators (a string_view may dangle by then).
#include <algorithm>
#include <any>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "aio/detail/value_repr.hpp"
#include "aio/errors.hpp"
#include "aio/streams.hpp"
#include "net/buffer_memory.hpp"
#include "net/stream_reader_state.hpp"

namespace aio {

namespace detail {

// ---- StreamReaderState ----

std::string StreamReaderState::take(std::size_t n) {
  std::string chunk(data().substr(0, n));
  discard(n);
  return chunk;
}

void StreamReaderState::discard(std::size_t n) noexcept {
  start_ += n;
  if (start_ == buffer_.size()) {
    empty_buffer(buffer_);
    start_ = 0;
  } else if (start_ > buffer_.size() / 2) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
}

void StreamReaderState::feed_data(std::string_view data) {
  if (eof_) throw RuntimeError("feed_data after feed_eof");
  if (data.empty()) return;
  buffer_.append(data);
  waiter_.wake_one();
  if (transport_ && !paused_ && size() > 2 * static_cast<std::size_t>(limit_)) {
    if (transport_->is_closing()) return;  // asyncio's pause_reading() does nothing then
    try {
      transport_->pause_reading();
      paused_ = true;
    } catch (const std::exception&) {
      // asyncio: a transport that cannot pause (NotImplementedError) is forgotten, and
      // everything is buffered.
      transport_ = nullptr;
    }
  }
}

void StreamReaderState::feed_eof() {
  eof_ = true;
  waiter_.wake_one();
}

void StreamReaderState::set_exception(std::exception_ptr error) {
  exception_ = error;
  if (waiting()) {
    *wake_error_ = std::move(error);
    waiter_.wake_one();
  }
}

void StreamReaderState::set_transport(Transport* transport) noexcept {
  transport_ = transport;
  if (!transport_) paused_ = false;
}

void StreamReaderState::maybe_resume_transport() {
  if (paused_ && size() <= static_cast<std::size_t>(limit_)) {
    paused_ = false;
    resume_reading();
  }
}

void StreamReaderState::resume_reading() {
  // asyncio's resume_reading() does nothing on a closing transport.
  if (transport_ && !transport_->is_closing()) transport_->resume_reading();
}

Coro<void> StreamReaderState::wait_for_data(const char* func_name) {
  if (waiting()) {
    throw RuntimeError(std::string(func_name) +
                       "() called while another coroutine is already waiting for incoming data");
  }
  // Waiting while paused would deadlock (readexactly(n) with n > limit needs this).
  if (paused_) {
    paused_ = false;
    resume_reading();
  }
  std::exception_ptr woken_with;
  wake_error_ = &woken_with;
  waiting_in_ = func_name;
  WaitIn w(waiter_);
  std::exception_ptr error = co_await w;
  wake_error_ = nullptr;
  if (error) std::rethrow_exception(error);  // cancelled: that wins, as in asyncio
  if (woken_with) std::rethrow_exception(woken_with);
}

std::string StreamReaderState::describe_wait() const {
  std::string text = std::string("StreamReader.") + waiting_in_ + "()";
  if (transport_) {
    const std::any peer = transport_->get_extra_info("peername");
    if (const auto* address = std::any_cast<SocketAddress>(&peer)) {
      text += " from " + address->to_string();
    }
  }
  return text;
}

std::string StreamReaderState::repr() const {
  std::string info = "<StreamReader";
  if (size() > 0) info += ' ' + std::to_string(size()) + " bytes";
  if (eof_) info += " eof";
  if (limit_ != StreamReader::default_limit) info += " limit=" + std::to_string(limit_);
  if (waiting()) info += " waiter=<Future pending>";
  if (exception_) info += " exception=" + exception_repr(exception_);
  if (transport_) info += " transport=<" + short_type_name(typeid(*transport_)) + '>';
  if (paused_) info += " paused";
  return info + '>';
}

}  // namespace detail

namespace {

using StatePtr = std::shared_ptr<detail::StreamReaderState>;

void check_exception(const detail::StreamReaderState& s) {
  if (std::exception_ptr e = s.exception()) std::rethrow_exception(e);
}

Coro<std::string> read_some(StatePtr s, std::int64_t n) {
  check_exception(*s);
  if (n == 0) co_return std::string();
  if (n < 0) {
    // Reading limit-sized blocks until EOF, not everything at once: one waiter collecting more
    // than the limit would deadlock a paused transport.
    std::string all;
    for (;;) {
      std::string block = co_await read_some(s, s->limit());
      if (block.empty()) break;
      all += block;
    }
    co_return all;
  }
  if (s->size() == 0 && !s->eof()) co_await s->wait_for_data("read");
  std::string data = s->take(std::min(static_cast<std::size_t>(n), s->size()));
  s->maybe_resume_transport();
  co_return data;
}

Coro<std::string> read_exactly(StatePtr s, std::int64_t n) {
  if (n < 0) throw std::invalid_argument("readexactly size can not be less than zero");
  check_exception(*s);
  if (n == 0) co_return std::string();
  const auto want = static_cast<std::size_t>(n);
  while (s->size() < want) {
    if (s->eof()) throw IncompleteReadError(s->take(s->size()), n);
    co_await s->wait_for_data("readexactly");
  }
  std::string data = s->take(want);
  s->maybe_resume_transport();
  co_return data;
}

Coro<std::string> read_until(StatePtr s, std::vector<std::string> separators) {
  // Shortest first, so that of two matches ending at the same byte the shorter wins.
  std::stable_sort(separators.begin(), separators.end(),
                   [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
  if (separators.empty()) {
    throw std::invalid_argument("Separator should contain at least one element");
  }
  const std::size_t min_len = separators.front().size();
  const std::size_t max_len = separators.back().size();
  if (min_len == 0) throw std::invalid_argument("Separator should be at least one-byte string");
  check_exception(*s);

  // `offset`: how many leading bytes are known to hold no separator. Everything but the last
  // max_len - 1 bytes is skipped on the next scan, since a separator may end in later data.
  std::size_t offset = 0;
  std::optional<std::size_t> match_start;
  std::size_t match_end = 0;
  for (;;) {
    const std::string_view buffer = s->data();
    if (buffer.size() >= offset + min_len) {
      for (const std::string& separator : separators) {
        const std::size_t at = buffer.find(separator, offset);
        if (at == std::string_view::npos) continue;
        if (!match_start || at + separator.size() < match_end) {
          match_start = at;
          match_end = at + separator.size();
        }
      }
      if (match_start) break;
      offset = buffer.size() + 1 > max_len ? buffer.size() + 1 - max_len : 0;
      if (static_cast<std::int64_t>(offset) > s->limit()) {
        throw LimitOverrunError("Separator is not found, and chunk exceed the limit",
                                static_cast<std::int64_t>(offset));
      }
    }
    // A separator may have come with the last data before EOF: the buffer is searched first.
    if (s->eof()) throw IncompleteReadError(s->take(s->size()), std::nullopt);
    co_await s->wait_for_data("readuntil");
  }
  if (static_cast<std::int64_t>(*match_start) > s->limit()) {
    throw LimitOverrunError("Separator is found, but chunk is longer than limit",
                            static_cast<std::int64_t>(*match_start));
  }
  std::string chunk = s->take(match_end);
  s->maybe_resume_transport();
  co_return chunk;
}

Coro<std::string> read_line(StatePtr s) {
  std::vector<std::string> newline(1, "\n");
  std::string line;
  std::optional<std::string> overrun;  // LimitOverrunError's message
  std::int64_t consumed = 0;
  try {
    line = co_await read_until(s, std::move(newline));
  } catch (IncompleteReadError& e) {
    line = std::move(e.partial);
  } catch (const LimitOverrunError& e) {
    overrun = e.what();
    consumed = e.consumed;
  }
  if (overrun) {
    // The over-long line is dropped: up to its newline if that is buffered, else everything.
    const auto at = static_cast<std::size_t>(consumed);
    const std::string_view buffer = s->data();
    s->discard(buffer.substr(at, 1) == "\n" ? at + 1 : buffer.size());
    s->maybe_resume_transport();
    throw std::invalid_argument(*overrun);
  }
  co_return line;
}

Coro<std::optional<std::string>> read_next_line(StatePtr s) {
  std::string line = co_await read_line(std::move(s));
  if (line.empty()) co_return std::nullopt;
  co_return line;
}

}  // namespace

// ---- StreamReader ----

StreamReader::StreamReader(std::int64_t limit) {
  if (limit <= 0) throw std::invalid_argument("Limit cannot be <= 0");
  state_ = std::make_shared<detail::StreamReaderState>(limit, get_event_loop());
}

Coro<std::string> StreamReader::read(std::int64_t n) {
  return read_some(state_, n);
}

Coro<std::string> StreamReader::readline() {
  return read_line(state_);
}

Coro<std::string> StreamReader::readexactly(std::int64_t n) {
  return read_exactly(state_, n);
}

Coro<std::string> StreamReader::readuntil(std::string_view separator) {
  std::vector<std::string> separators;
  separators.emplace_back(separator);
  return read_until(state_, std::move(separators));
}

Coro<std::string> StreamReader::readuntil(std::span<const std::string_view> separators) {
  return read_until(state_, std::vector<std::string>(separators.begin(), separators.end()));
}

Coro<std::optional<std::string>> StreamReader::next_line() {
  return read_next_line(state_);
}

bool StreamReader::at_eof() const noexcept {
  return state_->at_eof();
}

void StreamReader::feed_data(std::string_view data) {
  state_->feed_data(data);
}

void StreamReader::feed_eof() {
  state_->feed_eof();
}

void StreamReader::set_exception(std::exception_ptr error) {
  state_->set_exception(std::move(error));
}

std::exception_ptr StreamReader::exception() const noexcept {
  return state_->exception();
}

std::int64_t StreamReader::limit() const noexcept {
  return state_->limit();
}

std::size_t StreamReader::buffered() const noexcept {
  return state_->size();
}

std::string StreamReader::repr() const {
  return state_->repr();
}

void StreamReader::set_transport(Transport* transport) noexcept {
  state_->set_transport(transport);
}

}  // namespace aio
