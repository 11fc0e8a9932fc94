// mini_redis — RESP2, the Redis protocol: an incremental request parser and the reply encoders.
//
// Requests come in two forms, told apart by their first byte, as Redis does
// (networking.c, processMultibulkBuffer and processInlineBuffer):
//   *2\r\n$3\r\nGET\r\n$1\r\nk\r\n   an array of bulk strings (what every client library sends)
//   GET k\r\n                       an inline command (telnet, redis-cli typed by hand), split
//                                   into words with Redis's quoting rules ("a b", 'x', \x41)
// Bytes may arrive in any chunks; feed() them and call next() until it says incomplete.
// Malformed input ends the stream: next() says error and error() holds the message the server
// sends as `-ERR Protocol error: ...` before it closes the connection, as Redis does. The limits
// are Redis's: a bulk string up to 512 MiB, a header or inline line up to 64 KiB, and (Redis
// 6.0's, where 7 allows INT_MAX) at most 1024 × 1024 arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mini_redis {

/// A command and its arguments, as the client sent them (not lower-cased).
using Command = std::vector<std::string>;

class Parser {
 public:
  static constexpr std::int64_t max_bulk_length = 512LL * 1024 * 1024;  // proto-max-bulk-len
  static constexpr std::int64_t max_arguments = 1024 * 1024;
  static constexpr std::size_t max_inline_length = 64 * 1024;  // PROTO_INLINE_MAX_SIZE

  enum class Status { command, incomplete, error };

  /// Appends bytes to what is buffered (ignored after an error).
  void feed(std::string_view data);
  /// Parses the next complete command into `command` (its old contents are replaced).
  /// incomplete: feed more. error: the stream is unusable; error() says why, for good.
  /// Empty requests (a blank line, *0, *-1) are skipped, as Redis skips them.
  Status next(Command& command);

  bool failed() const noexcept { return !error_.empty(); }
  /// "Protocol error: invalid bulk length" and the like; empty while all is well.
  const std::string& error() const noexcept { return error_; }
  /// Bytes received and not yet part of a returned command.
  std::size_t buffered() const noexcept { return buffer_.size() - pos_; }
  /// The memory the buffer holds: whenever next() waits for more bytes, at most the larger of
  /// kept_capacity (buffers.hpp) and four times what is buffered, however large the commands
  /// before were.
  std::size_t capacity() const noexcept { return buffer_.capacity(); }

 private:
  Status next_multibulk(Command& command);
  Status next_inline(Command& command);
  Status fail(std::string message);
  /// Status::incomplete, after giving back buffer memory a burst left unused.
  Status incomplete();
  /// The offset of the next `what` in the buffer from pos_, resuming the search where the
  /// last one stopped (so byte-by-byte input is not rescanned); npos if absent.
  std::size_t find_from_pos(char what);

  std::string buffer_;
  std::size_t pos_ = 0;   // start of the unparsed bytes
  std::size_t scan_ = 0;  // bytes after pos_ already searched for a line end
  enum class Kind { unknown, multibulk, inline_command } kind_ = Kind::unknown;
  std::int64_t arguments_left_ = 0;  // of the array being read
  std::int64_t bulk_length_ = -1;    // of the bulk string being read; -1: its header is next
  Command partial_;                  // arguments of the array read so far
  std::string error_;
};

/// Splits an inline request into words as Redis's sdssplitargs does: blanks separate words;
/// "double quotes" take \n \r \t \b \a \xHH and \<char> escapes, 'single quotes' take \';
/// a closing quote must be followed by a blank or the end. False on unbalanced quotes.
bool split_inline(std::string_view line, Command& words);

/// Reply encoders: each appends one RESP2 value to `out`.
namespace resp {
/// +OK
void simple_string(std::string& out, std::string_view text);
/// -ERR syntax error: `message` starts with the error code ("ERR", "WRONGTYPE"); any \r or \n
/// in it becomes a space, as Redis does, so a client's bytes cannot break the framing.
void error(std::string& out, std::string_view message);
/// :42
void integer(std::string& out, std::int64_t value);
/// $5\r\nhello
void bulk_string(std::string& out, std::string_view value);
/// $-1, the null bulk string (a missing key)
void null_bulk(std::string& out);
/// *3, the header of an array whose `count` elements the caller appends next
void array_header(std::string& out, std::size_t count);
/// An array of bulk strings.
void array(std::string& out, std::span<const std::string> items);
}  // namespace resp

/// Redis's string2ll: a decimal integer with no sign but '-', no blanks, no leading zero, no
/// "-0", in range; what INCR, EXPIRE and the protocol's lengths accept.
bool parse_int64(std::string_view text, std::int64_t& value);

}  // namespace mini_redis
