// examples/mini_redis without a network: the RESP2 parser (whole, byte by byte, in random
// chunks, malformed), the reply encoders, and every command's replies, with Redis 7.0's error
// wording (each expected reply was checked against redis-server 7.0.15). Time is a number the
// test sets: expiry is tested without a clock.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "buffers.hpp"
#include "commands.hpp"
#include "resp.hpp"
#include "store.hpp"

namespace {

using mini_redis::Command;
using mini_redis::Parser;
using Status = mini_redis::Parser::Status;

/// Everything `parser` can give now: the commands, then "<incomplete>" or "<error: ...>".
std::vector<Command> drain(Parser& parser) {
  std::vector<Command> commands;
  Command command;
  while (true) {
    const Status status = parser.next(command);
    if (status == Status::command) {
      commands.push_back(command);
    } else {
      commands.push_back(
          {status == Status::incomplete ? "<incomplete>" : "<error: " + parser.error() + ">"});
      return commands;
    }
  }
}

std::vector<Command> parse(std::string_view input) {
  Parser parser;
  parser.feed(input);
  return drain(parser);
}

/// The commands parsed when `input` arrives one byte at a time.
std::vector<Command> parse_bytewise(std::string_view input) {
  Parser parser;
  std::vector<Command> commands;
  for (const char byte : input) {
    parser.feed(std::string_view(&byte, 1));
    std::vector<Command> got = drain(parser);
    commands.insert(commands.end(), got.begin(), got.end() - 1);
    if (parser.failed()) commands.push_back(got.back());
  }
  if (!parser.failed()) commands.push_back({"<incomplete>"});
  return commands;
}

const Command incomplete{"<incomplete>"};

Command error(const std::string& message) {
  return {"<error: " + message + ">"};
}

// --- the parser ---------------------------------------------------------------------------

TEST(MiniRedisParser, ParsesAnArrayOfBulkStrings) {
  const std::string get = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
  const std::vector<Command> expected{{"GET", "k"}, incomplete};
  EXPECT_EQ(parse(get), expected);
  EXPECT_EQ(parse_bytewise(get), expected);
}

TEST(MiniRedisParser, ParsesInlineCommandsEndedByCrLfOrLf) {
  EXPECT_EQ(parse("PING\r\n"), (std::vector<Command>{{"PING"}, incomplete}));
  EXPECT_EQ(parse("SET k  v\n"), (std::vector<Command>{{"SET", "k", "v"}, incomplete}));
  EXPECT_EQ(parse_bytewise(" PING \r\n"), (std::vector<Command>{{"PING"}, incomplete}));
  EXPECT_EQ(parse("PING"), (std::vector<Command>{incomplete}));
}

TEST(MiniRedisParser, SkipsEmptyRequestsAsRedisDoes) {
  EXPECT_EQ(parse("\r\n\n   \r\n*0\r\n*-1\r\nPING\r\n"),
            (std::vector<Command>{{"PING"}, incomplete}));
}

TEST(MiniRedisParser, ReturnsPipelinedCommandsInOrder) {
  const std::string input =
      "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\nPING\r\n*1\r\n$4\r\nPING\r\n"
      "ECHO \"x y\"\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n";
  const std::vector<Command> expected{{"SET", "a", "1"}, {"PING"},     {"PING"},
                                      {"ECHO", "x y"},   {"GET", "a"}, incomplete};
  EXPECT_EQ(parse(input), expected);
  EXPECT_EQ(parse_bytewise(input), expected);
}

TEST(MiniRedisParser, BulkStringsAreBinarySafe) {
  const std::string value("a\r\nb\0c*$", 8);
  const std::string input = "*2\r\n$4\r\nECHO\r\n$8\r\n" + value + "\r\n";
  const std::vector<Command> expected{{"ECHO", value}, incomplete};
  EXPECT_EQ(parse(input), expected);
  EXPECT_EQ(parse_bytewise(input), expected);
  EXPECT_EQ(parse("*1\r\n$0\r\n\r\n"), (std::vector<Command>{{""}, incomplete}));
}

TEST(MiniRedisParser, GivesTheSameCommandsForAnyChunking) {
  std::string input;
  std::vector<Command> expected;
  for (int i = 0; i < 200; ++i) {
    const std::string key = "key:" + std::to_string(i);
    const std::string value(static_cast<std::size_t>(i * 37 % 1000),
                            static_cast<char>('a' + i % 26));
    input += "*3\r\n$3\r\nSET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n$" +
             std::to_string(value.size()) + "\r\n" + value + "\r\n";
    expected.push_back({"SET", key, value});
    if (i % 7 == 0) {
      input += "INCR " + key + "\r\n";
      expected.push_back({"INCR", key});
    }
  }
  expected.push_back(incomplete);
  EXPECT_EQ(parse(input), expected);
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    Parser parser;
    std::vector<Command> got;
    for (std::size_t at = 0; at < input.size();) {
      const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 3000)(random);
      parser.feed(std::string_view(input).substr(at, n));
      at += n;
      std::vector<Command> now = drain(parser);
      got.insert(got.end(), now.begin(), now.end() - 1);
    }
    got.push_back(incomplete);
    EXPECT_EQ(got, expected) << "round " << round;
    EXPECT_EQ(parser.buffered(), 0u);
  }
}

// A connection that once sent a large value does not keep a buffer that size while it idles
// (nor while it goes on with small commands, or leaves a partial one buffered).
TEST(MiniRedisParser, GivesBackWhatALargeCommandGrewItsBufferTo) {
  const std::string value(4 << 20, 'v');
  const std::string set =
      "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
  for (const std::string tail : {"", "*1\r\n$4\r\nPI", "PING\r\n"}) {
    Parser parser;
    const std::string input = set + tail;
    for (std::size_t at = 0; at < input.size(); at += 65536) {
      parser.feed(std::string_view(input).substr(at, 65536));
    }
    EXPECT_GE(parser.capacity(), value.size());
    Command command;
    ASSERT_EQ(parser.next(command), Status::command);
    EXPECT_EQ(command.at(2).size(), value.size());
    if (tail == "PING\r\n") {
      ASSERT_EQ(parser.next(command), Status::command);
      EXPECT_EQ(command, Command{"PING"});
    }
    ASSERT_EQ(parser.next(command), Status::incomplete);
    EXPECT_LE(parser.capacity(), mini_redis::kept_capacity) << "after " << tail.size();
    EXPECT_EQ(parser.buffered(), tail == "*1\r\n$4\r\nPI" ? 2u : 0u);  // "PI"
    parser.feed("NG\r\n");
    EXPECT_EQ(drain(parser).front(), tail == "*1\r\n$4\r\nPI" ? Command{"PING"} : Command{"NG"});
  }
}

TEST(MiniRedisParser, IsAsLenientAsRedisAboutLineEnds) {
  // Redis skips the two bytes after a bulk string without looking at them.
  EXPECT_EQ(parse("*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"),
            (std::vector<Command>{{"PING"}, {"PING"}, incomplete}));
  // An inline line is split on \r too.
  EXPECT_EQ(parse("PING\rPING\r\n"), (std::vector<Command>{{"PING", "PING"}, incomplete}));
}

TEST(MiniRedisParser, SplitsInlineWordsWithRedisQuoting) {
  EXPECT_EQ(parse("SET a \"hello world\"\r\n"),
            (std::vector<Command>{{"SET", "a", "hello world"}, incomplete}));
  EXPECT_EQ(parse("ECHO 'x\\'y'\r\n"), (std::vector<Command>{{"ECHO", "x'y"}, incomplete}));
  EXPECT_EQ(parse("ECHO \"a\\x41\\n\\t\\\"\"\r\n"),
            (std::vector<Command>{{"ECHO", "aA\n\t\""}, incomplete}));
  EXPECT_EQ(parse("ECHO a\"b c\"\r\n"), (std::vector<Command>{{"ECHO", "ab c"}, incomplete}));
  EXPECT_EQ(parse("ECHO ''\r\n"), (std::vector<Command>{{"ECHO", ""}, incomplete}));
}

TEST(MiniRedisParser, RejectsUnbalancedQuotes) {
  const std::string unbalanced = "Protocol error: unbalanced quotes in request";
  EXPECT_EQ(parse("SET a \"unbal\r\n"), (std::vector<Command>{error(unbalanced)}));
  EXPECT_EQ(parse("ECHO \"a\"b\r\n"), (std::vector<Command>{error(unbalanced)}));
  EXPECT_EQ(parse("ECHO 'a'b\r\n"), (std::vector<Command>{error(unbalanced)}));
}

TEST(MiniRedisParser, RejectsABadMultibulkLength) {
  const Command invalid = error("Protocol error: invalid multibulk length");
  for (const char* input : {"*\r\n", "*abc\r\n", "*01\r\n", "*+1\r\n", "*1x\r\n", "* 1\r\n",
                            "*1048577\r\n", "*99999999999999999999\r\n"}) {
    EXPECT_EQ(parse(input), (std::vector<Command>{invalid})) << input;
    EXPECT_EQ(parse_bytewise(input), (std::vector<Command>{invalid})) << input;
  }
  EXPECT_EQ(parse("*1048576\r\n"), (std::vector<Command>{incomplete}));  // the limit itself
}

TEST(MiniRedisParser, RejectsABadBulkLength) {
  const Command invalid = error("Protocol error: invalid bulk length");
  for (const char* input : {"*1\r\n$-1\r\n", "*1\r\n$abc\r\n", "*1\r\n$04\r\n", "*1\r\n$\r\n",
                            "*1\r\n$536870913\r\n"}) {
    EXPECT_EQ(parse(input), (std::vector<Command>{invalid})) << input;
    EXPECT_EQ(parse_bytewise(input), (std::vector<Command>{invalid})) << input;
  }
  EXPECT_EQ(parse("*1\r\n$536870912\r\n"), (std::vector<Command>{incomplete}));  // 512 MiB
  EXPECT_EQ(parse("*2\r\n$1\r\na\r\n+b\r\n"),
            (std::vector<Command>{error("Protocol error: expected '$', got '+'")}));
}

TEST(MiniRedisParser, RejectsOverlongLines) {
  const std::string long_line(Parser::max_inline_length, 'a');
  EXPECT_EQ(parse(long_line), (std::vector<Command>{incomplete}));
  EXPECT_EQ(parse(long_line + "a"),
            (std::vector<Command>{error("Protocol error: too big inline request")}));
  EXPECT_EQ(parse("*1" + long_line),
            (std::vector<Command>{error("Protocol error: too big mbulk count string")}));
  EXPECT_EQ(parse("*1\r\n$1" + long_line),
            (std::vector<Command>{error("Protocol error: too big bulk count string")}));
  // A line up to the limit is fine once it ends.
  const std::string fits(Parser::max_inline_length - 6, 'a');  // "ECHO " + fits + '\r': the limit
  EXPECT_EQ(parse("ECHO " + fits + "\r\n"), (std::vector<Command>{{"ECHO", fits}, incomplete}));
}

// Found by fuzz/resp_fuzzer: a line over the limit was rejected when it came in pieces but
// accepted when its end came in the same read, so the same bytes gave different answers.
TEST(MiniRedisParser, RejectsOverlongLinesHoweverTheyArrive) {
  const std::string long_line(Parser::max_inline_length, 'a');
  for (const std::string& input :
       {"ECHO " + long_line + "\r\n", "*1" + long_line + "\r\n", "*1\r\n$1" + long_line + "\r\n"}) {
    Parser bytewise;
    for (std::size_t i = 0; i < input.size() && !bytewise.failed(); ++i) {
      bytewise.feed(std::string_view(input).substr(i, 1));
      Command command;
      while (bytewise.next(command) == Status::command) ADD_FAILURE() << "an overlong line passed";
    }
    EXPECT_TRUE(bytewise.error().starts_with("Protocol error: too big"));
    EXPECT_EQ(parse(input), (std::vector<Command>{error(bytewise.error())}));
  }
}

TEST(MiniRedisParser, GivesTheCommandsBeforeAnErrorThenOnlyTheError) {
  Parser parser;
  parser.feed("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$x\r\nPING\r\n");
  const std::vector<Command> expected{
      {"PING"}, {"PING"}, error("Protocol error: invalid bulk length")};
  EXPECT_EQ(drain(parser), expected);
  EXPECT_TRUE(parser.failed());
  parser.feed("PING\r\n");
  EXPECT_EQ(drain(parser), (std::vector<Command>{error("Protocol error: invalid bulk length")}));
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(MiniRedisParser, ParseInt64IsRedisString2ll) {
  std::int64_t v = 7;
  EXPECT_TRUE(mini_redis::parse_int64("0", v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(mini_redis::parse_int64("-42", v));
  EXPECT_EQ(v, -42);
  EXPECT_TRUE(mini_redis::parse_int64("9223372036854775807", v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_TRUE(mini_redis::parse_int64("-9223372036854775808", v));
  EXPECT_EQ(v, INT64_MIN);
  for (const char* bad : {"", "-", "+1", "01", "-0", " 1", "1 ", "1.5", "9223372036854775808",
                          "-9223372036854775809", "18446744073709551616", "abc"}) {
    EXPECT_FALSE(mini_redis::parse_int64(bad, v)) << bad;
  }
}

// --- the encoders -------------------------------------------------------------------------

TEST(MiniRedisEncoder, WritesEachKindOfReply) {
  std::string out;
  mini_redis::resp::simple_string(out, "OK");
  mini_redis::resp::error(out, "ERR bad\r\nthing");
  mini_redis::resp::integer(out, -12);
  mini_redis::resp::integer(out, INT64_MIN);
  mini_redis::resp::bulk_string(out, std::string("a\0b", 3));
  mini_redis::resp::bulk_string(out, "");
  mini_redis::resp::null_bulk(out);
  const std::vector<std::string> items{"x", "yz"};
  mini_redis::resp::array(out, items);
  mini_redis::resp::array_header(out, 0);
  using namespace std::string_literals;
  EXPECT_EQ(out,
            "+OK\r\n-ERR bad  thing\r\n:-12\r\n:-9223372036854775808\r\n"
            "$3\r\na\0b\r\n$0\r\n\r\n$-1\r\n*2\r\n$1\r\nx\r\n$2\r\nyz\r\n*0\r\n"s);
}

// --- the commands -------------------------------------------------------------------------

/// One client of a store, on a clock the test moves: `now` is in seconds, as loop.time() is;
/// the store's clock reads Unix time 1'700'000'000 at now = 0.
struct Client {
  mini_redis::Store store{1'700'000'000.0};
  mini_redis::Session session{.id = 7, .name = {}, .quit = false};
  double now = 0;

  std::string operator()(const Command& command) {
    std::string out;
    mini_redis::execute(store, session, command, now, out);
    return out;
  }
};

constexpr const char* ok = "+OK\r\n";
constexpr const char* nil = "$-1\r\n";
constexpr const char* not_integer = "-ERR value is not an integer or out of range\r\n";
constexpr const char* syntax = "-ERR syntax error\r\n";

std::string arity(const std::string& name) {
  return "-ERR wrong number of arguments for '" + name + "' command\r\n";
}

TEST(MiniRedisCommands, PingAndEcho) {
  Client r;
  EXPECT_EQ(r({"PING"}), "+PONG\r\n");
  EXPECT_EQ(r({"ping", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(r({"PING", "a", "b"}), arity("ping"));
  EXPECT_EQ(r({"ECHO", "x"}), "$1\r\nx\r\n");
  EXPECT_EQ(r({"Echo"}), arity("echo"));
  EXPECT_EQ(r({"ECHO", "a", "b"}), arity("echo"));
}

TEST(MiniRedisCommands, NamesAreCaseInsensitiveAndUnknownOnesAreReportedLikeRedis) {
  Client r;
  EXPECT_EQ(r({"pInG"}), "+PONG\r\n");
  EXPECT_EQ(r({"FOO", "a", "b"}),
            "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
  EXPECT_EQ(r({"FOO"}), "-ERR unknown command 'FOO', with args beginning with: \r\n");
  EXPECT_EQ(r({"HELLO", "3"}), "-ERR unknown command 'HELLO', with args beginning with: '3' \r\n");
  // At most 128 characters of the name and of the arguments; newlines become spaces.
  const std::string a200(200, 'a');
  EXPECT_EQ(r({"FOO", a200, "b"}), "-ERR unknown command 'FOO', with args beginning with: '" +
                                       std::string(128, 'a') + "' \r\n");
  EXPECT_EQ(r({a200}),
            "-ERR unknown command '" + std::string(128, 'a') + "', with args beginning with: \r\n");
  Command many{"FOO"};
  std::string expected;
  for (char c = 'a'; c <= 'z'; ++c) {
    many.push_back(std::string(1, c));
    expected += std::string("'") + c + "' ";
  }
  for (const char* two : {"aa", "bb", "cc", "dd", "ee", "ff", "gg"}) many.push_back(two);
  expected += "'aa' 'bb' 'cc' 'dd' 'ee' ";  // stops once past 128 characters
  EXPECT_EQ(r(many), "-ERR unknown command 'FOO', with args beginning with: " + expected + "\r\n");
  EXPECT_EQ(r({"PI\r\n"}), "-ERR unknown command 'PI  ', with args beginning with: \r\n");
}

TEST(MiniRedisCommands, SetAndGet) {
  Client r;
  EXPECT_EQ(r({"GET", "k"}), nil);
  EXPECT_EQ(r({"SET", "k", "v"}), ok);
  EXPECT_EQ(r({"GET", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(r({"SET", "k", std::string("\0\r\n", 3)}), ok);
  EXPECT_EQ(r({"GET", "k"}), std::string("$3\r\n\0\r\n\r\n", 9));
  EXPECT_EQ(r({"GET"}), arity("get"));
  EXPECT_EQ(r({"GET", "a", "b"}), arity("get"));
  EXPECT_EQ(r({"SET", "k"}), arity("set"));
}

TEST(MiniRedisCommands, SetNxXxAndGet) {
  Client r;
  EXPECT_EQ(r({"SET", "k", "1", "XX"}), nil);
  EXPECT_EQ(r({"SET", "k", "1", "nx"}), ok);
  EXPECT_EQ(r({"SET", "k", "2", "NX"}), nil);
  EXPECT_EQ(r({"SET", "k", "2", "XX"}), ok);
  EXPECT_EQ(r({"SET", "k", "3", "GET"}), "$1\r\n2\r\n");
  EXPECT_EQ(r({"SET", "k", "4", "NX", "GET"}), "$1\r\n3\r\n");  // not set, old value
  EXPECT_EQ(r({"GET", "k"}), "$1\r\n3\r\n");
  EXPECT_EQ(r({"SET", "new", "1", "GET"}), nil);
  EXPECT_EQ(r({"GET", "new"}), "$1\r\n1\r\n");
  EXPECT_EQ(r({"SET", "k", "v", "nx", "nx"}), nil);
  EXPECT_EQ(r({"SET", "k", "v", "get", "get"}), "$1\r\n3\r\n");
}

TEST(MiniRedisCommands, SetSyntaxErrors) {
  Client r;
  for (const Command& command : std::vector<Command>{
           {"SET", "k", "v", "NX", "XX"},
           {"SET", "k", "v", "XX", "NX"},
           {"SET", "k", "v", "FOO"},
           {"SET", "k", "v", "EX"},
           {"SET", "k", "v", "EX", "10", "PX", "10"},
           {"SET", "k", "v", "PXAT", "10", "EXAT", "10"},
           {"SET", "k", "v", "KEEPTTL", "EX", "5"},
           {"SET", "k", "v", "EX", "5", "KEEPTTL"},
           {"SET", "k", "v", "EX", "abc", "FOO"},  // options are checked before numbers
       }) {
    EXPECT_EQ(r(command), syntax) << command.size();
  }
  EXPECT_EQ(r({"GET", "k"}), nil);
}

TEST(MiniRedisCommands, SetExpiryArguments) {
  Client r;
  const std::string invalid = "-ERR invalid expire time in 'set' command\r\n";
  EXPECT_EQ(r({"SET", "k", "v", "EX", "0"}), invalid);
  EXPECT_EQ(r({"SET", "k", "v", "EX", "-1"}), invalid);
  EXPECT_EQ(r({"SET", "k", "v", "PX", "0"}), invalid);
  EXPECT_EQ(r({"SET", "k", "v", "EXAT", "0"}), invalid);
  EXPECT_EQ(r({"SET", "k", "v", "EX", "abc"}), not_integer);
  EXPECT_EQ(r({"SET", "k", "v", "PX", "1.5"}), not_integer);
  EXPECT_EQ(r({"SET", "k", "v", "EX", "9223372036854775"}), invalid);  // overflows with now
  EXPECT_EQ(r({"SET", "k", "v", "EX", "9223372036854776"}), invalid);  // overflows in ms
  EXPECT_EQ(r({"SET", "k", "v", "PX", "9223372036854775807"}), invalid);
  EXPECT_EQ(r({"GET", "k"}), nil);
  EXPECT_EQ(r({"SET", "k", "v", "EX", "9223372036854"}), ok);
  EXPECT_EQ(r({"SET", "k", "v", "EXAT", "9223372036854775"}), ok);
  EXPECT_EQ(r({"SET", "k", "v", "PXAT", "9223372036854775807"}), ok);
  EXPECT_EQ(r({"SET", "k", "v", "ex", "5", "EX", "6"}), ok);  // the last one wins
  EXPECT_EQ(r({"TTL", "k"}), ":6\r\n");
}

TEST(MiniRedisCommands, SetWithExpiryExpiresOnTime) {
  Client r;
  EXPECT_EQ(r({"SET", "k", "v", "PX", "100"}), ok);
  EXPECT_EQ(r({"PTTL", "k"}), ":100\r\n");
  r.now = 0.1;  // Unix 1'700'000'000'100 ms: the deadline itself, the key still lives
  EXPECT_EQ(r({"GET", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(r({"PTTL", "k"}), ":0\r\n");
  r.now = 0.102;
  EXPECT_EQ(r({"GET", "k"}), nil);
  EXPECT_EQ(r({"DBSIZE"}), ":0\r\n");  // deleted when looked up
  EXPECT_EQ(r({"SET", "k", "v", "EX", "10"}), ok);
  EXPECT_EQ(r({"TTL", "k"}), ":10\r\n");
  EXPECT_EQ(r({"SET", "k", "w"}), ok);  // a plain SET drops the deadline
  EXPECT_EQ(r({"TTL", "k"}), ":-1\r\n");
}

TEST(MiniRedisCommands, SetAtAnAbsoluteTimeAndKeepTtl) {
  Client r;
  EXPECT_EQ(r({"SET", "k", "v", "EXAT", "1700000010"}), ok);
  EXPECT_EQ(r({"TTL", "k"}), ":10\r\n");
  EXPECT_EQ(r({"SET", "k", "w", "KEEPTTL"}), ok);
  EXPECT_EQ(r({"PTTL", "k"}), ":10000\r\n");
  EXPECT_EQ(r({"GET", "k"}), "$1\r\nw\r\n");
  EXPECT_EQ(r({"SET", "k", "v", "PXAT", "1700000000500"}), ok);
  EXPECT_EQ(r({"PTTL", "k"}), ":500\r\n");
  EXPECT_EQ(r({"SET", "k", "v", "EXAT", "1"}), ok);  // in the past: set, and gone at once
  EXPECT_EQ(r({"GET", "k"}), nil);
  EXPECT_EQ(r({"SET", "fresh", "v", "KEEPTTL"}), ok);
  EXPECT_EQ(r({"TTL", "fresh"}), ":-1\r\n");
}

TEST(MiniRedisCommands, DelAndExists) {
  Client r;
  EXPECT_EQ(r({"DEL"}), arity("del"));
  EXPECT_EQ(r({"EXISTS"}), arity("exists"));
  r({"SET", "a", "1"});
  r({"SET", "b", "2"});
  EXPECT_EQ(r({"EXISTS", "a", "a", "b", "c"}), ":3\r\n");  // duplicates count
  EXPECT_EQ(r({"DEL", "a", "a", "c"}), ":1\r\n");
  EXPECT_EQ(r({"EXISTS", "a"}), ":0\r\n");
  EXPECT_EQ(r({"DEL", "b"}), ":1\r\n");
  EXPECT_EQ(r({"DBSIZE"}), ":0\r\n");
}

TEST(MiniRedisCommands, IncrementsAndDecrements) {
  Client r;
  EXPECT_EQ(r({"INCR", "c"}), ":1\r\n");
  EXPECT_EQ(r({"INCR", "c"}), ":2\r\n");
  EXPECT_EQ(r({"DECR", "c"}), ":1\r\n");
  EXPECT_EQ(r({"DECR", "d"}), ":-1\r\n");
  EXPECT_EQ(r({"INCRBY", "c", "10"}), ":11\r\n");
  EXPECT_EQ(r({"DECRBY", "c", "20"}), ":-9\r\n");
  EXPECT_EQ(r({"INCRBY", "c", "-1"}), ":-10\r\n");
  EXPECT_EQ(r({"GET", "c"}), "$3\r\n-10\r\n");
  EXPECT_EQ(r({"INCR"}), arity("incr"));
  EXPECT_EQ(r({"DECR", "a", "b"}), arity("decr"));
  EXPECT_EQ(r({"INCRBY", "c"}), arity("incrby"));
  EXPECT_EQ(r({"DECRBY"}), arity("decrby"));
  EXPECT_EQ(r({"INCRBY", "c", "abc"}), not_integer);
  EXPECT_EQ(r({"DECRBY", "c", "1.0"}), not_integer);
}

TEST(MiniRedisCommands, IncrementRejectsNonIntegersAndOverflow) {
  Client r;
  for (const char* value : {"v", "01", " 1", "+1", "-0", "1.5", "", "99999999999999999999"}) {
    r({"SET", "k", value});
    EXPECT_EQ(r({"INCR", "k"}), not_integer) << value;
  }
  EXPECT_EQ(r({"GET", "k"}), "$20\r\n99999999999999999999\r\n");  // left as it was
  r({"SET", "big", "9223372036854775807"});
  const std::string overflow = "-ERR increment or decrement would overflow\r\n";
  EXPECT_EQ(r({"INCR", "big"}), overflow);
  EXPECT_EQ(r({"INCRBY", "c", "9223372036854775807"}), ":9223372036854775807\r\n");
  EXPECT_EQ(r({"INCRBY", "c", "1"}), overflow);
  r({"SET", "small", "-9223372036854775808"});
  EXPECT_EQ(r({"DECR", "small"}), overflow);
  EXPECT_EQ(r({"DECRBY", "small", "-9223372036854775808"}), "-ERR decrement would overflow\r\n");
  EXPECT_EQ(r({"DECRBY", "small", "-9223372036854775807"}), ":-1\r\n");
}

TEST(MiniRedisCommands, IncrementKeepsTheDeadline) {
  Client r;
  r({"SET", "c", "1", "EX", "100"});
  EXPECT_EQ(r({"INCR", "c"}), ":2\r\n");
  EXPECT_EQ(r({"TTL", "c"}), ":100\r\n");
  r.now = 101;
  EXPECT_EQ(r({"INCR", "c"}), ":1\r\n");  // expired: starts again from 0, with no deadline
  EXPECT_EQ(r({"TTL", "c"}), ":-1\r\n");
}

TEST(MiniRedisCommands, ExpireAndTtl) {
  Client r;
  EXPECT_EQ(r({"EXPIRE", "k"}), arity("expire"));
  EXPECT_EQ(r({"PEXPIRE", "k"}), arity("pexpire"));
  EXPECT_EQ(r({"TTL"}), arity("ttl"));
  EXPECT_EQ(r({"PTTL", "a", "b"}), arity("pttl"));
  EXPECT_EQ(r({"EXPIRE", "k", "abc"}), not_integer);
  EXPECT_EQ(r({"EXPIRE", "k", "10"}), ":0\r\n");  // no such key
  EXPECT_EQ(r({"TTL", "k"}), ":-2\r\n");
  EXPECT_EQ(r({"PTTL", "k"}), ":-2\r\n");
  r({"SET", "k", "v"});
  EXPECT_EQ(r({"TTL", "k"}), ":-1\r\n");
  EXPECT_EQ(r({"PTTL", "k"}), ":-1\r\n");
  EXPECT_EQ(r({"EXPIRE", "k", "100"}), ":1\r\n");
  EXPECT_EQ(r({"TTL", "k"}), ":100\r\n");
  r.now = 0.25;
  EXPECT_EQ(r({"PTTL", "k"}), ":99750\r\n");
  EXPECT_EQ(r({"TTL", "k"}), ":100\r\n");  // rounded to the nearest second
  r.now = 0.75;
  EXPECT_EQ(r({"TTL", "k"}), ":99\r\n");
  EXPECT_EQ(r({"PEXPIRE", "k", "1500"}), ":1\r\n");
  EXPECT_EQ(r({"PTTL", "k"}), ":1500\r\n");
  r.now = 2.25;
  EXPECT_EQ(r({"PTTL", "k"}), ":0\r\n");
  r.now = 2.5;
  EXPECT_EQ(r({"TTL", "k"}), ":-2\r\n");
  EXPECT_EQ(r({"EXISTS", "k"}), ":0\r\n");
}

TEST(MiniRedisCommands, ExpireInThePastDeletesTheKey) {
  Client r;
  r({"SET", "k", "v"});
  EXPECT_EQ(r({"EXPIRE", "k", "-1"}), ":1\r\n");
  EXPECT_EQ(r({"DBSIZE"}), ":0\r\n");
  r({"SET", "k", "v"});
  EXPECT_EQ(r({"PEXPIRE", "k", "0"}), ":1\r\n");
  EXPECT_EQ(r({"GET", "k"}), nil);
}

TEST(MiniRedisCommands, ExpireRejectsOutOfRangeTimes) {
  Client r;
  r({"SET", "k", "v"});
  EXPECT_EQ(r({"EXPIRE", "k", "9999999999999999"}),
            "-ERR invalid expire time in 'expire' command\r\n");
  EXPECT_EQ(r({"EXPIRE", "k", "-9223372036854775808"}),
            "-ERR invalid expire time in 'expire' command\r\n");
  EXPECT_EQ(r({"PEXPIRE", "k", "9223372036854775807"}),
            "-ERR invalid expire time in 'pexpire' command\r\n");
  EXPECT_EQ(r({"PEXPIRE", "nokey", "9223372036854775807"}),
            "-ERR invalid expire time in 'pexpire' command\r\n");  // checked before the key
  EXPECT_EQ(r({"TTL", "k"}), ":-1\r\n");
}

TEST(MiniRedisCommands, ExpireOptions) {
  Client r;
  r({"SET", "k", "v"});
  EXPECT_EQ(r({"EXPIRE", "k", "abc", "FOO"}), "-ERR Unsupported option FOO\r\n");
  EXPECT_EQ(r({"EXPIRE", "k", "10", "NX", "XX"}),
            "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
  EXPECT_EQ(r({"EXPIRE", "k", "10", "NX", "GT"}),
            "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
  EXPECT_EQ(r({"EXPIRE", "k", "10", "GT", "LT"}),
            "-ERR GT and LT options at the same time are not compatible\r\n");
  EXPECT_EQ(r({"EXPIRE", "k", "10", "XX"}), ":0\r\n");  // has no deadline
  EXPECT_EQ(r({"EXPIRE", "k", "10", "GT"}), ":0\r\n");  // none counts as infinite
  EXPECT_EQ(r({"EXPIRE", "k", "10", "nx"}), ":1\r\n");
  EXPECT_EQ(r({"EXPIRE", "k", "20", "NX"}), ":0\r\n");
  EXPECT_EQ(r({"EXPIRE", "k", "5", "GT"}), ":0\r\n");
  EXPECT_EQ(r({"EXPIRE", "k", "20", "GT"}), ":1\r\n");
  EXPECT_EQ(r({"EXPIRE", "k", "30", "LT"}), ":0\r\n");
  EXPECT_EQ(r({"EXPIRE", "k", "15", "lt", "xx"}), ":1\r\n");
  EXPECT_EQ(r({"TTL", "k"}), ":15\r\n");
  r({"SET", "p", "v"});
  EXPECT_EQ(r({"EXPIRE", "p", "15", "LT"}), ":1\r\n");  // any deadline is below infinite
}

TEST(MiniRedisCommands, DbsizeAndFlushall) {
  Client r;
  EXPECT_EQ(r({"DBSIZE"}), ":0\r\n");
  EXPECT_EQ(r({"DBSIZE", "x"}), arity("dbsize"));
  r({"SET", "a", "1"});
  r({"SET", "b", "1", "PX", "10"});
  EXPECT_EQ(r({"DBSIZE"}), ":2\r\n");
  r.now = 1;
  EXPECT_EQ(r({"DBSIZE"}), ":2\r\n");  // as in Redis: expired, not yet reclaimed
  EXPECT_EQ(r({"FLUSHALL", "x"}), syntax);
  EXPECT_EQ(r({"FLUSHALL", "ASYNC", "SYNC"}), syntax);
  EXPECT_EQ(r({"FLUSHALL"}), ok);
  EXPECT_EQ(r({"DBSIZE"}), ":0\r\n");
  r({"SET", "a", "1", "EX", "5"});
  EXPECT_EQ(r({"FLUSHALL", "async"}), ok);
  EXPECT_EQ(r({"FLUSHALL", "SYNC"}), ok);
  EXPECT_EQ(r.store.size(), 0u);
  EXPECT_EQ(r.store.volatile_size(), 0u);
}

TEST(MiniRedisCommands, QuitRepliesOkAndMarksTheSession) {
  Client r;
  EXPECT_FALSE(r.session.quit);
  EXPECT_EQ(r({"QUIT", "ignored"}), ok);
  EXPECT_TRUE(r.session.quit);
}

TEST(MiniRedisCommands, ConfigGetAnswersSaveAndAppendonly) {
  Client r;
  EXPECT_EQ(r({"CONFIG", "GET", "save"}), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
  EXPECT_EQ(r({"config", "get", "appendonly"}), "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  EXPECT_EQ(r({"CONFIG", "GET", "SAVE"}), "*2\r\n$4\r\nSAVE\r\n$0\r\n\r\n");  // as spelled
  EXPECT_EQ(r({"CONFIG", "GET", "nope"}), "*0\r\n");
  EXPECT_EQ(r({"CONFIG", "GET", "app*"}), "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  EXPECT_EQ(r({"CONFIG", "GET", "*", "save"}),
            "*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  EXPECT_EQ(r({"CONFIG", "GET", "save", "appendonly"}),
            "*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  EXPECT_EQ(r({"CONFIG"}), arity("config"));
  EXPECT_EQ(r({"CONFIG", "GET"}), arity("config|get"));
  EXPECT_EQ(r({"CONFIG", "FOO"}), "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n");
  EXPECT_EQ(r({"config", "set", "x", "y"}), "-ERR unknown subcommand 'set'. Try CONFIG HELP.\r\n");
  const std::string help = r({"CONFIG", "HELP"});
  EXPECT_EQ(help.substr(0, 70),
            "*5\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n");
}

TEST(MiniRedisCommands, CommandAnswersEmptyDocs) {
  Client r;
  EXPECT_EQ(r({"COMMAND"}), "*0\r\n");
  EXPECT_EQ(r({"COMMAND", "DOCS"}), "*0\r\n");
  EXPECT_EQ(r({"command", "docs", "get", "set"}), "*0\r\n");
  EXPECT_EQ(r({"COMMAND", "COUNT"}), ":20\r\n");
  EXPECT_EQ(r({"COMMAND", "COUNT", "x"}), arity("command|count"));
  EXPECT_EQ(r({"COMMAND", "FOO"}), "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n");
}

TEST(MiniRedisCommands, ClientNamesAndId) {
  Client r;
  EXPECT_EQ(r({"CLIENT"}), arity("client"));
  EXPECT_EQ(r({"CLIENT", "SETNAME"}), arity("client|setname"));
  EXPECT_EQ(r({"CLIENT", "GETNAME"}), nil);
  EXPECT_EQ(r({"CLIENT", "SETNAME", "worker-1"}), ok);
  EXPECT_EQ(r({"client", "getname"}), "$8\r\nworker-1\r\n");
  EXPECT_EQ(r({"CLIENT", "SETNAME", "a b"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(r({"CLIENT", "SETNAME", "caf\xc3\xa9"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(r({"CLIENT", "SETNAME", ""}), ok);  // removes the name
  EXPECT_EQ(r({"CLIENT", "GETNAME"}), nil);
  EXPECT_EQ(r({"CLIENT", "ID"}), ":7\r\n");
  EXPECT_EQ(r({"CLIENT", "SETINFO", "lib-name", "redis-py"}), ok);
  EXPECT_EQ(r({"CLIENT", "SETINFO", "LIB-VER", "5.0"}), ok);
  EXPECT_EQ(r({"CLIENT", "SETINFO", "x", "y"}), "-ERR Unrecognized option 'x'\r\n");
  EXPECT_EQ(r({"CLIENT", "FOO"}), "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n");
}

// --- the key space and its expiry ----------------------------------------------------------

TEST(MiniRedisStore, ConvertsTheCallersClockToUnixMilliseconds) {
  mini_redis::Store store(1'700'000'000.0);
  EXPECT_EQ(store.unix_ms(0), 1'700'000'000'000);
  EXPECT_EQ(store.unix_ms(2.5), 1'700'000'002'500);
  EXPECT_EQ(store.unix_ms(2.0009), 1'700'000'002'000);  // rounded down, as mstime() is
}

TEST(MiniRedisStore, ActiveExpiryReclaimsKeysNobodyReads) {
  mini_redis::Store store;
  for (int i = 0; i < 500; ++i) store.set("volatile:" + std::to_string(i), "v", 1000);
  for (int i = 0; i < 500; ++i) store.set("stays:" + std::to_string(i), "v");
  EXPECT_EQ(store.size(), 1000u);
  EXPECT_EQ(store.volatile_size(), 500u);
  EXPECT_EQ(store.expire_some(1000), 0u);    // the deadline itself: nothing has expired
  EXPECT_EQ(store.expire_some(1001), 500u);  // all sampled keys expired: it goes on to the end
  EXPECT_EQ(store.size(), 500u);
  EXPECT_EQ(store.volatile_size(), 0u);
  EXPECT_EQ(store.expire_some(5000), 0u);
}

TEST(MiniRedisStore, ActiveExpiryStopsEarlyWhenFewKeysAreStaleButGetsThemEventually) {
  mini_redis::Store store(0, 42);
  for (int i = 0; i < 1000; ++i) store.set("late:" + std::to_string(i), "v", 1'000'000);
  for (int i = 0; i < 10; ++i) store.set("early:" + std::to_string(i), "v", 10);
  EXPECT_LE(store.expire_some(20, 1), 10u);  // one sample of 20 keys at most
  int sweeps = 1;
  while (store.volatile_size() > 1000 && sweeps < 10'000) {
    store.expire_some(20);
    ++sweeps;
  }
  EXPECT_EQ(store.volatile_size(), 1000u);
  EXPECT_EQ(store.size(), 1000u);
  EXPECT_GT(sweeps, 1);  // Redis's cycle leaves a few stale keys for later sweeps
}

TEST(MiniRedisStore, KeepsItsSampleOfDeadlinesConsistent) {
  mini_redis::Store store;
  std::mt19937 random(3);
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back(std::string("k").append(std::to_string(i)));
  for (int step = 0; step < 5'000; ++step) {
    const std::string& key = keys[random() % keys.size()];
    switch (random() % 5) {
      case 0:
        store.set(key, "v", 100 + random() % 100);
        break;
      case 1:
        store.set(key, "v");
        break;
      case 2:
        store.set_expiry(key, random() % 2 ? mini_redis::Store::no_expiry : 150);
        break;
      case 3:
        store.erase(key, 0);
        break;
      case 4:
        store.set(key, "w", mini_redis::Store::keep_expiry);
        break;
    }
    std::size_t with_deadline = 0;
    for (const std::string& k : keys) {
      const std::optional<mini_redis::UnixMillis> e = store.expiry(k, 0);
      with_deadline += e && *e != mini_redis::Store::no_expiry;
    }
    ASSERT_EQ(with_deadline, store.volatile_size()) << "step " << step;
  }
  store.expire_some(1000);
  EXPECT_EQ(store.volatile_size(), 0u);
}

}  // namespace
