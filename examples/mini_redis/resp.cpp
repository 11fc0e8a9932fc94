// RESP2 parsing and encoding; resp.hpp says what is accepted. The parser follows Redis's
// networking.c closely, including its leniencies: a header line ends at its '\r' (the byte after
// it is skipped unchecked) and the two bytes after a bulk string are skipped, not checked.
// One thing it does not copy: Redis rejects a line over the limit only while its end has not
// arrived, so whether a long line passes depends on how the bytes were cut. Here a line longer
// than the limit is rejected however it arrives (fuzz/resp_fuzzer checks that chunking never
// matters).
#include "resp.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "buffers.hpp"

namespace mini_redis {

namespace {

bool is_blank(char c) {  // C's isspace in the "C" locale
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool parse_int64(std::string_view text, std::int64_t& value) {
  // string2ll: at most 20 characters ("-9223372036854775808"), "0" alone may start with 0.
  if (text.empty() || text.size() > 20) return false;
  if (text == "0") {
    value = 0;
    return true;
  }
  const bool negative = text[0] == '-';
  std::size_t i = negative ? 1 : 0;
  if (i == text.size() || text[i] < '1' || text[i] > '9') return false;
  std::uint64_t v = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  const std::uint64_t max = static_cast<std::uint64_t>(INT64_MAX) + (negative ? 1 : 0);
  if (v > max) return false;
  value = negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
  return true;
}

void Parser::feed(std::string_view data) {
  if (failed()) return;
  // Drop what was parsed once it is at least half the buffer, so compaction stays amortised O(1).
  if (pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  } else if (pos_ >= 4096 && pos_ * 2 >= buffer_.size()) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(data);
}

Parser::Status Parser::incomplete() {
  // A burst (a large argument, a long pipeline) may have grown the buffer far past what is
  // still unparsed: keep only that, so a connection idle between commands holds at most
  // kept_capacity beyond its unparsed bytes. (While a large argument arrives, the unparsed
  // bytes fill most of the buffer and nothing is copied.)
  if (buffer_.capacity() > kept_capacity && buffered() <= buffer_.capacity() / 4) {
    if (pos_ == buffer_.size()) {
      empty_buffer(buffer_);
    } else {
      std::string(buffer_, pos_).swap(buffer_);  // (assigning a short string would keep the memory)
    }
    pos_ = 0;
  }
  return Status::incomplete;
}

Parser::Status Parser::next(Command& command) {
  while (!failed()) {
    if (kind_ == Kind::unknown) {
      if (pos_ == buffer_.size()) return incomplete();
      kind_ = buffer_[pos_] == '*' ? Kind::multibulk : Kind::inline_command;
    }
    const Status status = kind_ == Kind::multibulk ? next_multibulk(command) : next_inline(command);
    if (status != Status::command || !command.empty()) return status;
    // An empty request: Redis ignores it; go on with the next one.
  }
  return Status::error;
}

Parser::Status Parser::fail(std::string message) {
  error_ = std::move(message);
  buffer_.clear();
  buffer_.shrink_to_fit();
  partial_.clear();
  pos_ = scan_ = 0;
  return Status::error;
}

std::size_t Parser::find_from_pos(char what) {
  const std::size_t at = buffer_.find(what, pos_ + scan_);
  if (at == std::string::npos) {
    scan_ = buffer_.size() - pos_;
    return std::string::npos;
  }
  scan_ = at - pos_;  // found again at once if the caller must wait for the byte after it
  return at - pos_;
}

Parser::Status Parser::next_multibulk(Command& command) {
  if (arguments_left_ == 0) {  // the "*<count>\r\n" header
    const std::size_t cr = find_from_pos('\r');
    if (cr == std::string::npos ? buffered() > max_inline_length : cr > max_inline_length) {
      return fail("Protocol error: too big mbulk count string");
    }
    if (cr == std::string::npos) return incomplete();
    if (cr + 2 > buffered()) return incomplete();  // the '\n' is yet to come
    std::int64_t count = 0;
    if (!parse_int64(std::string_view(buffer_).substr(pos_ + 1, cr - 1), count) ||
        count > max_arguments) {
      return fail("Protocol error: invalid multibulk length");
    }
    pos_ += cr + 2;
    scan_ = 0;
    if (count <= 0) {  // *0 and *-1: nothing to run
      kind_ = Kind::unknown;
      command.clear();
      return Status::command;
    }
    arguments_left_ = count;
    partial_.clear();
    partial_.reserve(static_cast<std::size_t>(std::min<std::int64_t>(count, 1024)));
    bulk_length_ = -1;
  }
  while (arguments_left_ > 0) {
    if (bulk_length_ < 0) {  // the "$<length>\r\n" header
      const std::size_t cr = find_from_pos('\r');
      if (cr == std::string::npos ? buffered() > max_inline_length : cr > max_inline_length) {
        return fail("Protocol error: too big bulk count string");
      }
      if (cr == std::string::npos) return incomplete();
      if (cr + 2 > buffered()) return incomplete();
      if (buffer_[pos_] != '$') {
        return fail(std::string("Protocol error: expected '$', got '") + buffer_[pos_] + "'");
      }
      std::int64_t length = 0;
      if (!parse_int64(std::string_view(buffer_).substr(pos_ + 1, cr - 1), length) || length < 0 ||
          length > max_bulk_length) {
        return fail("Protocol error: invalid bulk length");
      }
      pos_ += cr + 2;
      scan_ = 0;
      bulk_length_ = length;
    }
    const auto length = static_cast<std::size_t>(bulk_length_);
    // Nothing is reserved for the declared length: a client that promises 512 MiB gets
    // buffer space only as it sends them.
    if (buffered() < length + 2) return incomplete();
    partial_.emplace_back(buffer_, pos_, length);
    pos_ += length + 2;
    bulk_length_ = -1;
    --arguments_left_;
  }
  kind_ = Kind::unknown;
  command.swap(partial_);
  return Status::command;
}

Parser::Status Parser::next_inline(Command& command) {
  const std::size_t lf = find_from_pos('\n');
  if (lf == std::string::npos ? buffered() > max_inline_length : lf > max_inline_length) {
    return fail("Protocol error: too big inline request");
  }
  if (lf == std::string::npos) return incomplete();
  std::size_t length = lf;
  if (length > 0 && buffer_[pos_ + length - 1] == '\r') --length;
  if (!split_inline(std::string_view(buffer_).substr(pos_, length), command)) {
    return fail("Protocol error: unbalanced quotes in request");
  }
  pos_ += lf + 1;
  scan_ = 0;
  kind_ = Kind::unknown;
  return Status::command;
}

bool split_inline(std::string_view line, Command& words) {
  words.clear();
  line = line.substr(0, line.find('\0'));  // Redis splits a C string: a NUL ends it
  const std::size_t n = line.size();
  auto at = [&](std::size_t k) { return k < n ? line[k] : '\0'; };
  std::size_t i = 0;
  while (true) {
    while (i < n && is_blank(line[i])) ++i;
    if (i == n) return true;
    std::string word;
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    while (!done) {
      const char c = at(i);
      if (in_double) {
        if (c == '\\' && at(i + 1) == 'x' && hex_value(at(i + 2)) >= 0 &&
            hex_value(at(i + 3)) >= 0) {
          word += static_cast<char>(hex_value(at(i + 2)) * 16 + hex_value(at(i + 3)));
          i += 3;
        } else if (c == '\\' && at(i + 1) != '\0') {
          ++i;
          switch (at(i)) {
            case 'n':
              word += '\n';
              break;
            case 'r':
              word += '\r';
              break;
            case 't':
              word += '\t';
              break;
            case 'b':
              word += '\b';
              break;
            case 'a':
              word += '\a';
              break;
            default:
              word += at(i);
              break;
          }
        } else if (c == '"') {
          if (at(i + 1) != '\0' && !is_blank(at(i + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          word += c;
        }
      } else if (in_single) {
        if (c == '\\' && at(i + 1) == '\'') {
          ++i;
          word += '\'';
        } else if (c == '\'') {
          if (at(i + 1) != '\0' && !is_blank(at(i + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          word += c;
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_double = true;
            break;
          case '\'':
            in_single = true;
            break;
          default:
            word += c;
            break;
        }
      }
      if (at(i) != '\0') ++i;
    }
    words.push_back(std::move(word));
  }
}

namespace resp {

void simple_string(std::string& out, std::string_view text) {
  out += '+';
  out += text;
  out += "\r\n";
}

void error(std::string& out, std::string_view message) {
  out += '-';
  const std::size_t start = out.size();
  out += message;
  std::replace_if(
      out.begin() + static_cast<std::ptrdiff_t>(start), out.end(),
      [](char c) { return c == '\r' || c == '\n'; }, ' ');
  out += "\r\n";
}

namespace {
void tagged_number(std::string& out, char tag, std::int64_t value) {
  char digits[24];
  digits[0] = tag;
  const auto result = std::to_chars(digits + 1, digits + sizeof digits, value);
  out.append(digits, result.ptr);
  out += "\r\n";
}
}  // namespace

void integer(std::string& out, std::int64_t value) {
  tagged_number(out, ':', value);
}

void bulk_string(std::string& out, std::string_view value) {
  tagged_number(out, '$', static_cast<std::int64_t>(value.size()));
  out += value;
  out += "\r\n";
}

void null_bulk(std::string& out) {
  out += "$-1\r\n";
}

void array_header(std::string& out, std::size_t count) {
  tagged_number(out, '*', static_cast<std::int64_t>(count));
}

void array(std::string& out, std::span<const std::string> items) {
  array_header(out, items.size());
  for (const std::string& item : items) bulk_string(out, item);
}

}  // namespace resp

}  // namespace mini_redis
