// stream_reader_fuzzer: aio::StreamReader against a model of asyncio 3.13's StreamReader.
//
// The input is a small header, then the stream's bytes:
//   byte 0      limit = 1 + b % 16; bit 6 set: no feed_eof() after the data
//   byte 1      k = 1 + b % 8 chunk specs follow, used in turn until all the data is fed
//   k bytes     a chunk spec: size = b & 31 (0: an empty feed_data, then one byte);
//               pause = b >> 5 (0: none, 1: sleep(0), n: n ms of virtual time)
//   byte        n = b % 33 operations follow, two bytes each: kind, argument
//   the rest    the data
// A feeder task feeds the data in those chunks while a reader task runs the operations:
// readline, readuntil (one separator or several), readexactly, read, at_eof, next_line.
//
// The model is computed from the whole data and says what asyncio returns or raises whatever
// the chunking. Where asyncio's outcome does depend on the chunking (how much an over-long line
// drops; the `consumed` of a LimitOverrunError, "not found" or "found" past the limit), the model
// gives the bounds. Returned bytes must be the next bytes of the data, and after every operation
// the bytes fed minus the bytes still buffered must be where the model says the reader stands.
// An operation that can never complete (no EOF) must still be waiting when everything else has
// run, and then ends cancelled.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <aio/aio.hpp>

namespace {

struct Op {
  std::uint8_t kind;
  std::uint8_t arg;
};

struct Input {
  std::int64_t limit = 1;
  bool eof = true;
  std::vector<std::uint8_t> chunks;
  std::vector<Op> ops;
  std::string data;
};

Input parse(const std::uint8_t* bytes, std::size_t size) {
  std::size_t i = 0;
  auto next = [&]() -> std::uint8_t { return i < size ? bytes[i++] : 0; };
  Input in;
  const std::uint8_t flags = next();
  in.limit = 1 + flags % 16;
  in.eof = (flags & 0x40) == 0;
  const int chunk_specs = 1 + next() % 8;
  for (int j = 0; j < chunk_specs; ++j) in.chunks.push_back(next());
  const int ops = next() % 33;
  for (int j = 0; j < ops; ++j) {
    const std::uint8_t kind = next();
    in.ops.push_back(Op{kind, next()});
  }
  if (i < size) in.data.assign(reinterpret_cast<const char*>(bytes) + i, size - i);
  return in;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "stream_reader_fuzzer: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// Small separators over a small alphabet, so that random data matches them; "" is invalid.
constexpr std::array<std::string_view, 8> kSeparators = {"\n", "\r\n", "a",    "ab",
                                                         "ba", "aaa",  "\n\n", ""};

enum class Kind { readline, readuntil_one, readuntil_many, readexactly, read, at_eof, next_line };

Kind kind_of(const Op& op) {
  return static_cast<Kind>(op.kind % 7);
}

std::vector<std::string_view> separators_of(const Op& op) {
  std::vector<std::string_view> seps;
  if (kind_of(op) == Kind::readuntil_one) {
    seps.push_back(kSeparators[op.arg % kSeparators.size()]);
  } else {
    for (std::size_t b = 0; b < kSeparators.size(); ++b) {
      if (op.arg & (1u << b)) seps.push_back(kSeparators[b]);
    }
  }
  return seps;
}

std::int64_t readexactly_size(const Op& op) {
  return op.arg == 255 ? -1 : op.arg % 40;
}

std::int64_t read_size(const Op& op) {
  return op.arg % 41 - 1;
}

// ---- the model ----

enum class Outcome {
  bytes,        // exactly `hi` bytes returned
  some_bytes,   // between 1 and `hi` bytes returned
  incomplete,   // IncompleteReadError holding the rest of the data
  overrun,      // LimitOverrunError, consumed in [lo, hi]; nothing is consumed
  value_error,  // readline's ValueError; the reader moved on by [lo, hi] bytes
  invalid,      // std::invalid_argument for bad arguments; nothing is consumed
  blocks,       // never completes: the data it needs never comes
};

struct Expect {
  Outcome outcome;
  std::size_t lo = 0;
  std::size_t hi = 0;
};

// The occurrence asyncio's readuntil() picks in `rest`: the one that ends first, the shortest of
// those ending at the same byte. {start, end}.
std::optional<std::pair<std::size_t, std::size_t>> first_match(
    std::string_view rest, const std::vector<std::string_view>& seps) {
  for (std::size_t end = 1; end <= rest.size(); ++end) {
    std::optional<std::size_t> best;
    for (std::string_view s : seps) {
      if (s.size() <= end && rest.substr(end - s.size(), s.size()) == s &&
          (!best || s.size() < *best)) {
        best = s.size();
      }
    }
    if (best) return std::pair(end - *best, end);
  }
  return std::nullopt;
}

Expect model_readuntil(std::string_view rest, const std::vector<std::string_view>& seps,
                       std::size_t limit, bool eof) {
  if (seps.empty()) return {Outcome::invalid};
  std::size_t max_len = 0;
  for (std::string_view s : seps) {
    if (s.empty()) return {Outcome::invalid};
    max_len = std::max(max_len, s.size());
  }
  if (const auto m = first_match(rest, seps)) {
    if (m->first > limit) return {Outcome::overrun, limit + 1, m->first};
    return {Outcome::bytes, 0, m->second};
  }
  // No separator ever: past limit + max_len - 1 bytes the search gives up.
  if (rest.size() >= limit + max_len) {
    return {Outcome::overrun, limit + 1, rest.size() + 1 - max_len};
  }
  return {eof ? Outcome::incomplete : Outcome::blocks};
}

Expect model_readline(std::string_view rest, std::size_t limit, bool eof) {
  const std::size_t nl = rest.find('\n');
  if (nl != std::string_view::npos) {
    // Too long: the line is dropped up to its '\n' if that was buffered, else what was buffered.
    if (nl > limit) return {Outcome::value_error, limit + 1, nl + 1};
    return {Outcome::bytes, 0, nl + 1};
  }
  if (rest.size() > limit) return {Outcome::value_error, limit + 1, rest.size()};
  return eof ? Expect{Outcome::bytes, 0, rest.size()} : Expect{Outcome::blocks};
}

Expect model(const Op& op, std::string_view rest, std::size_t limit, bool eof) {
  switch (kind_of(op)) {
    case Kind::readline:
    case Kind::next_line:
      return model_readline(rest, limit, eof);
    case Kind::readuntil_one:
    case Kind::readuntil_many:
      return model_readuntil(rest, separators_of(op), limit, eof);
    case Kind::readexactly: {
      const std::int64_t n = readexactly_size(op);
      if (n < 0) return {Outcome::invalid};
      if (rest.size() >= static_cast<std::size_t>(n)) {
        return {Outcome::bytes, 0, static_cast<std::size_t>(n)};
      }
      return {eof ? Outcome::incomplete : Outcome::blocks};
    }
    case Kind::read: {
      const std::int64_t n = read_size(op);
      if (n == 0) return {Outcome::bytes, 0, 0};
      if (n < 0) return eof ? Expect{Outcome::bytes, 0, rest.size()} : Expect{Outcome::blocks};
      if (!rest.empty()) {
        return {Outcome::some_bytes, 1, std::min(rest.size(), static_cast<std::size_t>(n))};
      }
      return eof ? Expect{Outcome::bytes, 0, 0} : Expect{Outcome::blocks};
    }
    case Kind::at_eof:
      return {Outcome::bytes, 0, 0};
  }
  fail("unknown operation");
}

// ---- running it ----

struct Shared {
  std::size_t fed = 0;
  bool eof_fed = false;
  bool expect_block = false;  // the running operation must wait until it is cancelled
};

aio::Coro<void> feed(aio::StreamReader reader, const Input& in, Shared& sh) {
  std::size_t next_spec = 0;
  while (sh.fed < in.data.size()) {
    const std::uint8_t spec = in.chunks[next_spec++ % in.chunks.size()];
    std::size_t n = spec & 31;
    if (n == 0) {
      reader.feed_data("");
      n = 1;
    }
    n = std::min(n, in.data.size() - sh.fed);
    reader.feed_data(std::string_view(in.data).substr(sh.fed, n));
    sh.fed += n;
    const int pause = spec >> 5;
    if (pause == 1) {
      co_await aio::sleep(0);
    } else if (pause > 1) {
      co_await aio::sleep(pause * 0.001);
    }
  }
  if (in.eof) {
    reader.feed_eof();
    sh.eof_fed = true;
  }
}

struct Result {
  Outcome outcome = Outcome::bytes;
  std::string bytes;
  std::int64_t consumed = 0;
  std::optional<std::int64_t> expected;
};

aio::Coro<Result> perform(aio::StreamReader reader, Op op, const Shared& sh) {
  Result r;
  try {
    switch (kind_of(op)) {
      case Kind::readline:
        r.bytes = co_await reader.readline();
        break;
      case Kind::next_line: {
        std::optional<std::string> line = co_await reader.next_line();
        check(!line || !line->empty(), "next_line() gave an empty line");
        r.bytes = line.value_or("");
        break;
      }
      case Kind::readuntil_one: {
        const std::string_view sep = separators_of(op).front();
        r.bytes = co_await reader.readuntil(sep);
        break;
      }
      case Kind::readuntil_many: {
        const std::vector<std::string_view> seps = separators_of(op);
        const std::span<const std::string_view> view(seps);
        r.bytes = co_await reader.readuntil(view);
        break;
      }
      case Kind::readexactly:
        r.bytes = co_await reader.readexactly(readexactly_size(op));
        break;
      case Kind::read:
        r.bytes = co_await reader.read(read_size(op));
        break;
      case Kind::at_eof:
        check(reader.at_eof() == (sh.eof_fed && reader.buffered() == 0), "at_eof()");
        break;
    }
  } catch (aio::IncompleteReadError& e) {
    r.outcome = Outcome::incomplete;
    r.bytes = std::move(e.partial);
    r.expected = e.expected;
  } catch (const aio::LimitOverrunError& e) {
    r.outcome = Outcome::overrun;
    r.consumed = e.consumed;
  } catch (const std::invalid_argument&) {
    const Kind k = kind_of(op);
    r.outcome =
        k == Kind::readline || k == Kind::next_line ? Outcome::value_error : Outcome::invalid;
  }
  co_return r;
}

aio::Coro<void> read_program(aio::StreamReader reader, const Input& in, Shared& sh) {
  const std::string_view data = in.data;
  const auto limit = static_cast<std::size_t>(in.limit);
  std::size_t pos = 0;  // how much of the data the reader has consumed, by the model
  for (const Op& op : in.ops) {
    const Expect e = model(op, data.substr(pos), limit, in.eof);
    sh.expect_block = e.outcome == Outcome::blocks;
    const Result r = co_await perform(reader, op, sh);
    check(e.outcome != Outcome::blocks, "an operation completed that the model says never can");
    switch (e.outcome) {
      case Outcome::bytes:
        check(r.outcome == Outcome::bytes, "bytes expected");
        check(r.bytes == data.substr(pos, e.hi), "wrong bytes returned");
        pos += e.hi;
        break;
      case Outcome::some_bytes:
        check(r.outcome == Outcome::bytes, "bytes expected (read)");
        check(!r.bytes.empty() && r.bytes.size() <= e.hi, "read(n) returned a wrong size");
        check(r.bytes == data.substr(pos, r.bytes.size()), "wrong bytes returned (read)");
        pos += r.bytes.size();
        break;
      case Outcome::incomplete:
        check(r.outcome == Outcome::incomplete, "IncompleteReadError expected");
        check(r.bytes == data.substr(pos), "IncompleteReadError.partial is not the rest");
        if (kind_of(op) == Kind::readexactly) {
          check(r.expected == readexactly_size(op), "IncompleteReadError.expected");
        } else {
          check(!r.expected, "IncompleteReadError.expected from readuntil()");
        }
        pos = data.size();
        break;
      case Outcome::overrun:
        check(r.outcome == Outcome::overrun, "LimitOverrunError expected");
        check(r.consumed >= static_cast<std::int64_t>(e.lo) &&
                  r.consumed <= static_cast<std::int64_t>(e.hi),
              "LimitOverrunError.consumed out of bounds");
        break;
      case Outcome::value_error: {
        check(r.outcome == Outcome::value_error, "readline() ValueError expected");
        const std::size_t now = sh.fed - reader.buffered();
        check(now >= pos + e.lo && now <= pos + e.hi, "readline() dropped a wrong amount");
        pos = now;
        break;
      }
      case Outcome::invalid:
        check(r.outcome == Outcome::invalid, "std::invalid_argument expected");
        break;
      case Outcome::blocks:
        break;
    }
    check(sh.fed >= pos && sh.fed - reader.buffered() == pos,
          "bytes fed - bytes buffered is not what was consumed");
  }
}

aio::Coro<void> fuzz_main(const Input& in) {
  aio::StreamReader reader(in.limit);
  Shared sh;
  aio::Task<void> feeder = aio::create_task(feed(reader, in, sh));
  aio::Task<void> reading = aio::create_task(read_program(reader, in, sh));
  co_await feeder;
  co_await aio::sleep(1);  // virtual time moves only once everything runnable has run
  if (!reading.done()) {
    check(sh.expect_block, "an operation hangs that the model says completes");
    reading.cancel();
  }
  bool cancelled = false;
  try {
    co_await reading;
  } catch (const aio::CancelledError&) {
    cancelled = true;
  }
  check(cancelled == sh.expect_block, "cancelled, or not, against the model");
  check(sh.fed == in.data.size(), "not everything was fed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input in = parse(data, size);
  aio::run(fuzz_main(in), aio::RunOptions{.virtual_time = true, .backend = aio::Backend::epoll});
  return 0;
}
