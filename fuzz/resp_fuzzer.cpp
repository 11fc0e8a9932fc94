// resp_fuzzer: mini_redis's RESP parser (examples/mini_redis/resp.hpp) must not care how the
// bytes are cut.
//
// The input is a small header, then the request bytes:
//   byte 0      b >= 192: all but the data's last byte is repeated 1 + (b - 192) times, then
//               the last byte follows (long lines and long pipelines from short inputs)
//   byte 1      k = 1 + b % 8 chunk specs follow, used in turn until all the data is fed
//   k bytes     a chunk spec: size = (b & 63) << (4 * (b >> 6)), at least 1
//   the rest    the data
// The data is parsed once in one piece and once fed in those chunks (next() called until it
// says incomplete after every feed). Both must give the same commands, then the same error or
// the same number of bytes left buffered. Every command must also survive a round trip through
// the encoder: resp::array() of it parses back to the same command.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "resp.hpp"

namespace {

using mini_redis::Command;
using mini_redis::Parser;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "resp_fuzzer: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

/// What a parser produced: the commands, then its error (or "" and the bytes left buffered).
struct Transcript {
  std::vector<Command> commands;
  std::string error;
  std::size_t buffered = 0;
};

void drain(Parser& parser, Transcript& t) {
  Command command;
  for (;;) {
    const Parser::Status status = parser.next(command);
    if (status == Parser::Status::incomplete) return;
    if (status == Parser::Status::error) {
      check(parser.failed() && !parser.error().empty(), "error without a message");
      t.error = parser.error();
      return;
    }
    check(!command.empty(), "an empty command was returned");
    t.commands.push_back(command);
  }
}

void check_round_trip(const Command& command) {
  std::string encoded;
  mini_redis::resp::array(encoded, command);
  Parser parser;
  parser.feed(encoded);
  Command back;
  check(parser.next(back) == Parser::Status::command, "an encoded command does not parse");
  check(back == command, "an encoded command parses to another one");
  check(parser.next(back) == Parser::Status::incomplete && parser.buffered() == 0,
        "bytes left after an encoded command");
  std::string error;
  mini_redis::resp::error(error, command.front());
  check(error.find_first_of("\r\n") == error.size() - 2, "an error reply breaks the framing");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  std::size_t i = 0;
  auto next = [&]() -> std::uint8_t { return i < size ? bytes[i++] : 0; };
  const std::uint8_t repeat_byte = next();
  const int repeat = repeat_byte >= 192 ? 1 + (repeat_byte - 192) : 1;
  std::vector<std::size_t> chunks(1 + next() % 8);
  for (std::size_t& c : chunks) {
    const std::uint8_t spec = next();
    c = static_cast<std::size_t>(spec & 63) << (4 * (spec >> 6));
    if (c == 0) c = 1;
  }
  const std::string_view once(reinterpret_cast<const char*>(bytes) + i, size - i);
  std::string data;
  if (!once.empty()) {
    for (int r = 0; r < repeat; ++r) data += once.substr(0, once.size() - 1);
    data += once.back();
  }

  Transcript whole;
  Parser one_piece;
  one_piece.feed(data);
  drain(one_piece, whole);
  if (whole.error.empty()) whole.buffered = one_piece.buffered();

  Transcript chunked;
  Parser parser;
  std::size_t fed = 0;
  for (std::size_t c = 0; fed < data.size() && chunked.error.empty(); ++c) {
    const std::size_t n = std::min(chunks[c % chunks.size()], data.size() - fed);
    parser.feed(std::string_view(data).substr(fed, n));
    fed += n;
    drain(parser, chunked);
    check(parser.buffered() <= fed, "more buffered than fed");
  }
  if (chunked.error.empty()) chunked.buffered = parser.buffered();

  check(chunked.commands == whole.commands, "chunking changed the commands");
  if (chunked.error != whole.error) {
    std::fprintf(stderr, "resp_fuzzer: one piece: \"%s\", in chunks: \"%s\"\n", whole.error.c_str(),
                 chunked.error.c_str());
    fail("chunking changed the error");
  }
  check(chunked.buffered == whole.buffered, "chunking changed what is left buffered");
  for (const Command& command : whole.commands) check_round_trip(command);
  return 0;
}
