// StreamReader (asyncio-behaviours.md ST-01 … ST-13), fed in memory, on virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <any>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <aio/streams.hpp>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::Record;
using aio::testing::run_virtual;
using aio::testing::yield0;

constexpr std::string_view kData = "line1\nline2\nline3\n";  // asyncio's DATA, 18 bytes

/// What `coro` throws as E (its what()), or nullopt when it throws nothing.
template <class E, class T>
aio::Coro<std::optional<std::string>> error_of(aio::Coro<T> coro) {
  std::optional<std::string> what;
  try {
    co_await std::move(coro);
  } catch (const E& e) {
    what = e.what();
  }
  co_return what;
}

/// Records the flow-control calls a StreamReader makes on its transport.
class FakeTransport final : public aio::Transport {
 public:
  explicit FakeTransport(Record& record) : record_(&record) {}
  void close() override { closing = true; }
  bool is_closing() const noexcept override { return closing; }
  std::any get_extra_info(std::string_view) const override { return {}; }
  void write(std::string_view) override {}
  void write_eof() override {}
  bool can_write_eof() const noexcept override { return false; }
  void abort() override { closing = true; }
  void pause_reading() override { (*record_)("pause"); }
  void resume_reading() override { (*record_)("resume"); }
  bool is_reading() const noexcept override { return true; }
  std::size_t get_write_buffer_size() const noexcept override { return 0; }
  void set_write_buffer_limits(std::optional<std::int64_t>, std::optional<std::int64_t>) override {}
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override {
    return {0, 0};
  }
  void set_protocol(std::shared_ptr<aio::BaseProtocol>) override {}
  std::shared_ptr<aio::BaseProtocol> get_protocol() const override { return nullptr; }

  bool closing = false;

 private:
  Record* record_;
};

TEST(StreamReader, FeedDataAndReadBufferedData) {  // ST-01
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader empty;
    empty.feed_data("");
    EXPECT_EQ(empty.buffered(), 0u);

    aio::StreamReader s;
    s.feed_data(kData);
    EXPECT_EQ(co_await s.read(0), "");
    EXPECT_EQ(s.buffered(), kData.size());

    aio::StreamReader t;
    t.feed_data("line1");
    t.feed_data("line2");
    EXPECT_EQ(co_await t.read(5), "line1");
    EXPECT_EQ(t.buffered(), 5u);
    EXPECT_EQ(co_await t.read(5), "line2");

    EXPECT_THROW(aio::StreamReader(std::int64_t{0}), std::invalid_argument);
    EXPECT_THROW(aio::StreamReader(-1), std::invalid_argument);
    try {
      aio::StreamReader bad(std::int64_t{0});
    } catch (const std::invalid_argument& e) {
      EXPECT_STREQ(e.what(), "Limit cannot be <= 0");
    }
  });
}

TEST(StreamReader, ReadWaitsForSomeDataOnly) {  // ST-02
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    auto read = aio::create_task(s.read(30));
    aio::get_running_loop().call_soon([&s] { s.feed_data(kData); });
    EXPECT_EQ(co_await read, kData);  // 18 bytes: it does not wait for 30
    EXPECT_EQ(s.buffered(), 0u);

    aio::StreamReader e;
    auto at_eof = aio::create_task(e.read(1024));
    aio::get_running_loop().call_soon([&e] { e.feed_eof(); });
    EXPECT_EQ(co_await at_eof, "");
    EXPECT_TRUE(e.at_eof());

    aio::StreamReader all;
    auto to_eof = aio::create_task(all.read(-1));
    aio::get_running_loop().call_soon([&all] {
      all.feed_data("chunk1\n");
      all.feed_data("chunk2");
      all.feed_eof();
    });
    EXPECT_EQ(co_await to_eof, "chunk1\nchunk2");

    aio::StreamReader small(3);  // the limit does not restrict read(n)
    small.feed_data("chunk");
    EXPECT_EQ(co_await small.read(5), "chunk");
    EXPECT_EQ(small.buffered(), 0u);
  });
}

TEST(StreamReader, ReadToEofInLimitSizedBlocks) {  // ST-02
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s(4);
    s.feed_data("abcdefghij");
    auto read = aio::create_task(s.read());
    co_await yield0();
    EXPECT_EQ(s.buffered(), 0u);  // read in blocks of 4, then waiting for more
    s.feed_data("klm");
    co_await yield0();
    s.feed_eof();
    EXPECT_EQ(co_await read, "abcdefghijklm");
  });
}

TEST(StreamReader, SetExceptionFailsEveryRead) {  // ST-03
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    EXPECT_EQ(s.exception(), nullptr);
    s.feed_data(kData);
    EXPECT_EQ(co_await s.read(2), "li");
    const auto error = std::make_exception_ptr(std::invalid_argument("boom"));
    s.set_exception(error);
    EXPECT_EQ(s.exception(), error);
    EXPECT_THROW(co_await s.read(2), std::invalid_argument);
    EXPECT_THROW(co_await s.readline(), std::invalid_argument);
    EXPECT_THROW(co_await s.readexactly(2), std::invalid_argument);
    EXPECT_THROW(co_await s.readuntil("\n"), std::invalid_argument);
    EXPECT_EQ(s.buffered(), kData.size() - 2);
  });
}

TEST(StreamReader, ReadlineAcrossChunksAndMixedWithRead) {  // ST-04
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    s.feed_data("chunk1 ");
    auto line = aio::create_task(s.readline());
    aio::get_running_loop().call_soon([&s] {
      s.feed_data("chunk2 ");
      s.feed_data("chunk3 ");
      s.feed_data("\n chunk4");
    });
    EXPECT_EQ(co_await line, "chunk1 chunk2 chunk3 \n");
    EXPECT_EQ(co_await s.read(7), " chunk4");

    aio::StreamReader d;
    d.feed_data(kData);
    EXPECT_EQ(co_await d.readline(), "line1\n");
    EXPECT_EQ(co_await d.read(7), "line2\nl");
    EXPECT_EQ(d.buffered(), 5u);
    EXPECT_EQ(co_await d.read(5), "ine3\n");
  });
}

TEST(StreamReader, ReadlineWithTheNewlineInALaterChunk) {
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    auto line = aio::create_task(s.readline());
    co_await yield0();
    s.feed_data("hello");
    co_await yield0();
    EXPECT_FALSE(line.done());
    s.feed_data("\n");
    s.feed_data("world");
    EXPECT_EQ(co_await line, "hello\n");
    EXPECT_EQ(s.buffered(), 5u);
    auto next = aio::create_task(s.readline());
    co_await yield0();
    s.feed_data("\nrest");
    EXPECT_EQ(co_await next, "world\n");
    EXPECT_EQ(co_await s.read(10), "rest");
  });
}

TEST(StreamReader, ReadlineAtEofAndAtEof) {  // ST-05
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    s.feed_data("some data");
    EXPECT_FALSE(s.at_eof());
    s.feed_eof();
    EXPECT_FALSE(s.at_eof());  // data remains
    EXPECT_EQ(co_await s.readline(), "some data");
    EXPECT_TRUE(s.at_eof());

    aio::StreamReader e;
    e.feed_eof();
    EXPECT_EQ(co_await e.readline(), "");

    aio::StreamReader d;
    d.feed_data("line1\nline2");
    d.feed_eof();
    EXPECT_EQ(co_await d.readline(), "line1\n");
    EXPECT_FALSE(d.at_eof());
    EXPECT_EQ(co_await d.readline(), "line2");
    EXPECT_TRUE(d.at_eof());
    EXPECT_THROW(d.feed_data("x"), aio::RuntimeError);
  });
}

TEST(StreamReader, ReadlineOverTheLimitDiscardsTheLine) {  // ST-06
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s(3);
    s.feed_data("li");
    s.feed_data("ne1\nline2\n");
    auto error = co_await error_of<std::invalid_argument>(s.readline());
    EXPECT_EQ(error, "Separator is found, but chunk is longer than limit");
    EXPECT_EQ(co_await s.read(100), "line2\n");

    aio::StreamReader t(3);
    t.feed_data("li");
    t.feed_data("ne1");
    t.feed_data("li");
    error = co_await error_of<std::invalid_argument>(t.readline());
    EXPECT_EQ(error, "Separator is not found, and chunk exceed the limit");
    EXPECT_EQ(t.buffered(), 0u);

    aio::StreamReader u(7);
    auto pending = aio::create_task(error_of<std::invalid_argument>(u.readline()));
    aio::get_running_loop().call_soon([&u] {
      u.feed_data("chunk1");
      u.feed_data("chunk2\n");
      u.feed_data("chunk3\n");
      u.feed_eof();
    });
    EXPECT_TRUE((co_await pending).has_value());
    EXPECT_EQ(co_await u.read(), "chunk3\n");

    aio::StreamReader ok(7);
    ok.feed_data("1234567\n");
    EXPECT_EQ(co_await ok.readline(), "1234567\n");  // the limit does not count the '\n'
    ok.feed_data("12345678\n");
    EXPECT_THROW(co_await ok.readline(), std::invalid_argument);
    EXPECT_EQ(ok.buffered(), 0u);
  });
}

TEST(StreamReader, ReadlineResumesAfterTheDiscardedLine) {  // ST-06
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s(3);
    s.feed_data("toolong\nok\n");
    s.feed_eof();
    EXPECT_THROW(co_await s.readline(), std::invalid_argument);
    EXPECT_EQ(co_await s.readline(), "ok\n");
    EXPECT_TRUE(s.at_eof());
  });
}

TEST(StreamReader, ReaduntilSeparatorsAndChunks) {  // ST-07
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    auto error = co_await error_of<std::invalid_argument>(s.readuntil(""));
    EXPECT_EQ(error, "Separator should be at least one-byte string");
    const std::array<std::string_view, 1> empty_one{""};
    error = co_await error_of<std::invalid_argument>(s.readuntil(empty_one));
    EXPECT_EQ(error, "Separator should be at least one-byte string");
    error =
        co_await error_of<std::invalid_argument>(s.readuntil(std::span<const std::string_view>()));
    EXPECT_EQ(error, "Separator should contain at least one element");

    s.feed_data("lineAAAxxx");
    EXPECT_EQ(co_await s.readuntil("AAA"), "lineAAA");
    EXPECT_EQ(s.buffered(), 3u);
    EXPECT_EQ(co_await s.read(3), "xxx");

    s.feed_data("QWEaa");
    s.feed_data("XYaa");
    s.feed_data("a");
    EXPECT_EQ(co_await s.readuntil("aaa"), "QWEaaXYaaa");
    EXPECT_EQ(s.buffered(), 0u);

    s.feed_data("XXX");
    s.feed_data("a");
    s.feed_data("a");
    s.feed_data("a");
    EXPECT_EQ(co_await s.readuntil("aaa"), "XXXaaa");
    EXPECT_EQ(s.buffered(), 0u);

    const std::string owned = "ZZ";  // any contiguous bytes work (asyncio: a bytearray)
    s.feed_data("abZZ");
    EXPECT_EQ(co_await s.readuntil(owned), "abZZ");
  });
}

TEST(StreamReader, ReaduntilSeparatorSpanningChunkBoundaries) {
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    auto until = aio::create_task(s.readuntil("<END>"));
    const std::array<std::string_view, 4> chunks{"abc<E", "N", "D", ">rest"};
    for (std::string_view chunk : chunks) {
      co_await yield0();
      EXPECT_FALSE(until.done());
      s.feed_data(chunk);
    }
    EXPECT_EQ(co_await until, "abc<END>");
    EXPECT_EQ(co_await s.read(4), "rest");

    // The same with several separators, the longer one split over three chunks.
    const std::array<std::string_view, 2> seps{"\r\n\r\n", "@@"};
    auto multi = aio::create_task(s.readuntil(seps));
    const std::array<std::string_view, 4> parts{"head\r", "\n\r", "\nbody@", "@"};
    for (std::string_view chunk : parts) {
      co_await yield0();
      s.feed_data(chunk);
    }
    EXPECT_EQ(co_await multi, "head\r\n\r\n");
    EXPECT_EQ(co_await s.readuntil(seps), "body@@");
  });
}

TEST(StreamReader, ReaduntilCopiesItsSeparatorsBeforeItRuns) {
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    auto one = s.readuntil(std::string("XY"));  // the temporary is gone before the body runs
    std::vector<std::string> owned{"PQ", "RS"};
    std::vector<std::string_view> views(owned.begin(), owned.end());
    auto many = s.readuntil(views);
    owned.assign({"--", "--"});
    views.clear();
    s.feed_data("abXYcdRSef");
    EXPECT_EQ(co_await std::move(one), "abXY");
    EXPECT_EQ(co_await std::move(many), "cdRS");
    EXPECT_EQ(s.buffered(), 2u);
  });
}

TEST(StreamReader, ReadsOutliveTheHandle) {
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader keep;
    std::optional<aio::Task<std::string>> line;
    {
      aio::StreamReader copy = keep;
      line.emplace(aio::create_task(copy.readline()));
    }
    co_await yield0();
    keep.feed_data("x\n");
    EXPECT_EQ(co_await *line, "x\n");
  });
}

TEST(StreamReader, ReaduntilAtEofRaisesIncompleteReadError) {  // ST-08
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    s.feed_data("some dataAA");
    s.feed_eof();
    std::optional<aio::IncompleteReadError> error;
    try {
      co_await s.readuntil("AAA");
    } catch (const aio::IncompleteReadError& e) {
      error = e;
    }
    EXPECT_TRUE(error.has_value());
    if (!error) co_return;
    EXPECT_EQ(error->partial, "some dataAA");
    EXPECT_EQ(error->expected, std::nullopt);
    EXPECT_STREQ(error->what(), "11 bytes read on a total of undefined expected bytes");
    EXPECT_EQ(s.buffered(), 0u);
  });
}

TEST(StreamReader, ReaduntilRaisesLimitOverrunErrorAndKeepsTheData) {  // ST-09
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s(3);
    s.feed_data("some dataAA");
    std::optional<aio::LimitOverrunError> error;
    try {
      co_await s.readuntil("AAA");
    } catch (const aio::LimitOverrunError& e) {
      error = e;
    }
    EXPECT_TRUE(error.has_value());
    if (!error) co_return;
    EXPECT_STREQ(error->what(), "Separator is not found, and chunk exceed the limit");
    EXPECT_EQ(error->consumed, 9);
    EXPECT_EQ(s.buffered(), 11u);

    s.feed_data("A");
    error.reset();
    try {
      co_await s.readuntil("AAA");
    } catch (const aio::LimitOverrunError& e) {
      error = e;
    }
    EXPECT_TRUE(error.has_value());
    if (!error) co_return;
    EXPECT_STREQ(error->what(), "Separator is found, but chunk is longer than limit");
    EXPECT_EQ(error->consumed, 9);
    EXPECT_EQ(co_await s.readexactly(12), "some dataAAA");
  });
}

TEST(StreamReader, ReaduntilWithSeveralSeparators) {  // ST-10
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    s.feed_data("line 1\nline 2\r");
    const std::array<std::string_view, 2> cr_lf{"\r", "\n"};
    EXPECT_EQ(co_await s.readuntil(cr_lf), "line 1\n");
    EXPECT_EQ(co_await s.readuntil(cr_lf), "line 2\r");

    s.feed_data("ABCDEFG");
    const std::array<std::string_view, 2> def_bcde{"DEF", "BCDE"};
    EXPECT_EQ(co_await s.readuntil(def_bcde), "ABCDE");  // the match that ends first
    EXPECT_EQ(co_await s.read(2), "FG");
    s.feed_data("xABCDEFy");
    const std::array<std::string_view, 2> starts_first{"ABCDEF", "CD"};
    EXPECT_EQ(co_await s.readuntil(starts_first), "xABCD");  // ends first, though it starts later
    EXPECT_EQ(co_await s.read(4), "EFy");

    s.feed_data("data");
    const std::array<std::string_view, 2> a_long{"A", "long sep"};
    auto until = aio::create_task(s.readuntil(a_long));
    co_await yield0();
    s.feed_data("Z");
    co_await yield0();
    EXPECT_FALSE(until.done());
    s.feed_data("Aaaa");
    EXPECT_EQ(co_await until, "dataZA");
    EXPECT_EQ(co_await s.read(3), "aaa");
  });
}

TEST(StreamReader, Readexactly) {  // ST-11
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    s.feed_data(kData);
    EXPECT_EQ(co_await s.readexactly(0), "");
    EXPECT_EQ(s.buffered(), kData.size());
    auto error = co_await error_of<std::invalid_argument>(s.readexactly(-1));
    EXPECT_EQ(error, "readexactly size can not be less than zero");
    EXPECT_EQ(s.buffered(), kData.size());

    aio::StreamReader t;
    auto exactly = aio::create_task(t.readexactly(36));
    aio::get_running_loop().call_soon([&t] {
      t.feed_data(kData);
      t.feed_data(kData);
      t.feed_data(kData);
    });
    EXPECT_EQ(co_await exactly, std::string(kData) + std::string(kData));
    EXPECT_EQ(co_await t.readexactly(18), kData);

    aio::StreamReader small(3);  // the limit does not restrict readexactly(n)
    small.feed_data("chunk");
    EXPECT_EQ(co_await small.readexactly(5), "chunk");

    aio::StreamReader e;
    auto incomplete = aio::create_task(e.readexactly(36));
    aio::get_running_loop().call_soon([&e] {
      e.feed_data(kData);
      e.feed_eof();
    });
    std::optional<aio::IncompleteReadError> got;
    try {
      co_await incomplete;
    } catch (const aio::IncompleteReadError& x) {
      got = x;
    }
    EXPECT_TRUE(got.has_value());
    if (!got) co_return;
    EXPECT_EQ(got->partial, kData);
    EXPECT_EQ(got->expected, 36);
    EXPECT_STREQ(got->what(), "18 bytes read on a total of 36 expected bytes");
    EXPECT_EQ(e.buffered(), 0u);
  });
}

TEST(StreamReader, LargeDataInManyChunks) {
  run_virtual([]() -> aio::Coro<void> {
    std::string data(std::size_t{1} << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + (i * 7) % 26);
    aio::StreamReader s;
    auto feeder = [&]() -> aio::Coro<void> {
      const std::size_t n = 1000;
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t from = data.size() * i / n;
        const std::size_t to = data.size() * (i + 1) / n;
        s.feed_data(std::string_view(data).substr(from, to - from));
        co_await yield0();
      }
      s.feed_eof();
    };
    auto feeding = aio::create_task(feeder());
    std::string got;
    const std::array<std::int64_t, 3> first_sizes{1, 4095, 65536};
    for (std::int64_t size : first_sizes) {
      got += co_await s.readexactly(size);
    }
    while (got.size() < data.size()) {
      const auto size = std::min<std::size_t>(100'000, data.size() - got.size());
      got += co_await s.readexactly(static_cast<std::int64_t>(size));
    }
    EXPECT_TRUE(got == data);
    co_await feeding;
    EXPECT_TRUE(s.at_eof());
    EXPECT_THROW(co_await s.readexactly(1), aio::IncompleteReadError);
  });
}

TEST(StreamReader, APendingReadlineIsWokenBySetException) {  // ST-12
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    auto line = aio::create_task(s.readline());
    aio::get_running_loop().call_soon(
        [&s] { s.set_exception(std::make_exception_ptr(std::invalid_argument("boom"))); });
    EXPECT_THROW(co_await line, std::invalid_argument);
  });
}

TEST(StreamReader, ACancelledReadLeavesNoWaiter) {  // ST-12
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    auto line = aio::create_task(s.readline());
    co_await yield0();
    EXPECT_NE(s.repr().find("waiter="), std::string::npos);
    line.cancel();
    co_await yield0();
    EXPECT_TRUE(line.cancelled());
    EXPECT_EQ(s.repr(), "<StreamReader>");
    s.set_exception(std::make_exception_ptr(aio::RuntimeError("message")));
    co_await yield0();
    EXPECT_EQ(s.repr(), "<StreamReader exception=RuntimeError('message')>");
  });
}

TEST(StreamReader, IsUsableAfterACancelledRead) {
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    s.feed_data("par");
    auto until = aio::create_task(s.readuntil("\n"));
    co_await yield0();
    until.cancel();
    EXPECT_THROW(co_await until, aio::CancelledError);
    EXPECT_EQ(s.buffered(), 3u);  // a cancelled read takes nothing
    auto line = aio::create_task(s.readline());
    co_await yield0();
    s.feed_data("tial\n");
    EXPECT_EQ(co_await line, "partial\n");

    // Cancelled after data woke it, before it ran: still cancelled, and the data stays.
    auto read = aio::create_task(s.read(10));
    co_await yield0();
    s.feed_data("data");
    read.cancel();
    EXPECT_THROW(co_await read, aio::CancelledError);
    EXPECT_EQ(co_await s.read(10), "data");
  });
}

TEST(StreamReader, TwoConcurrentReadersIsARuntimeError) {
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    auto first = aio::create_task(s.read(1));
    co_await yield0();
    auto error = co_await error_of<aio::RuntimeError>(s.readline());
    EXPECT_EQ(error,
              "readuntil() called while another coroutine is already waiting for incoming data");
    error = co_await error_of<aio::RuntimeError>(s.readexactly(3));
    EXPECT_EQ(error,
              "readexactly() called while another coroutine is already waiting for incoming data");
    error = co_await error_of<aio::RuntimeError>(s.read(3));
    EXPECT_EQ(error, "read() called while another coroutine is already waiting for incoming data");
    s.feed_data("xy");
    EXPECT_EQ(co_await first, "x");
    EXPECT_EQ(co_await s.read(5), "y");  // the waiter is gone: reading works again
  });
}

TEST(StreamReader, PausesAndResumesItsTransport) {
  run_virtual([]() -> aio::Coro<void> {
    Record record;
    FakeTransport transport(record);
    aio::StreamReader s(10);
    s.set_transport(&transport);
    s.feed_data(std::string(10, 'a'));
    s.feed_data(std::string(10, 'b'));
    EXPECT_TRUE(record.events.empty());  // 20 is not over 2 × limit
    s.feed_data(std::string(10, 'c'));
    EXPECT_EQ(record.events, std::vector<std::string>{"pause"});
    EXPECT_EQ(s.repr(), "<StreamReader 30 bytes limit=10 transport=<FakeTransport> paused>");
    s.feed_data("d");
    EXPECT_EQ(record.events, std::vector<std::string>{"pause"});  // once
    EXPECT_EQ(co_await s.read(15), std::string(10, 'a') + std::string(5, 'b'));
    EXPECT_EQ(record.events, std::vector<std::string>{"pause"});  // 16 left
    EXPECT_EQ(co_await s.read(6), std::string(5, 'b') + "c");
    EXPECT_EQ(record.events, (std::vector<std::string>{"pause", "resume"}));  // 10 left
    EXPECT_EQ(co_await s.read(10), std::string(9, 'c') + "d");

    // readexactly(n > 2 × limit): waiting resumes the paused transport, or it would deadlock.
    record.events.clear();
    s.feed_data(std::string(25, 'x'));
    auto exactly = aio::create_task(s.readexactly(40));
    co_await yield0();
    EXPECT_EQ(record.events, (std::vector<std::string>{"pause", "resume"}));
    s.feed_data(std::string(15, 'y'));
    EXPECT_EQ(record.events, (std::vector<std::string>{"pause", "resume", "pause"}));
    EXPECT_EQ((co_await exactly).size(), 40u);
    EXPECT_EQ(record.events, (std::vector<std::string>{"pause", "resume", "pause", "resume"}));

    // A closing transport is neither paused nor resumed; nullptr forgets the transport.
    record.events.clear();
    transport.closing = true;
    s.feed_data(std::string(30, 'z'));
    EXPECT_TRUE(record.events.empty());
    EXPECT_EQ(s.repr(), "<StreamReader 30 bytes limit=10 transport=<FakeTransport>>");
    s.set_transport(nullptr);
    EXPECT_EQ(s.repr(), "<StreamReader 30 bytes limit=10>");
  });
}

TEST(StreamReader, ReadlineOverTheLimitResumesTheTransport) {
  run_virtual([]() -> aio::Coro<void> {
    Record record;
    FakeTransport transport(record);
    aio::StreamReader s(3);
    s.set_transport(&transport);
    s.feed_data("0123456789\nab");
    EXPECT_EQ(record.events, std::vector<std::string>{"pause"});
    EXPECT_THROW(co_await s.readline(), std::invalid_argument);
    EXPECT_EQ(record.events, (std::vector<std::string>{"pause", "resume"}));
    EXPECT_EQ(co_await s.read(2), "ab");
  });
}

TEST(StreamReader, IteratesOverLines) {  // ST-13
  run_virtual([]() -> aio::Coro<void> {
    aio::StreamReader s;
    s.feed_data("line1\nline2\nline3");
    s.feed_eof();
    std::vector<std::string> lines;
    while (auto line = co_await s.next_line()) lines.push_back(*line);
    EXPECT_EQ(lines, (std::vector<std::string>{"line1\n", "line2\n", "line3"}));
  });
}

TEST(StreamReader, Repr) {  // ST-13
  run_virtual([]() -> aio::Coro<void> {
    EXPECT_EQ(aio::StreamReader().repr(), "<StreamReader>");
    EXPECT_EQ(aio::StreamReader(123).repr(), "<StreamReader limit=123>");
    aio::StreamReader e;
    e.feed_eof();
    EXPECT_EQ(e.repr(), "<StreamReader eof>");
    aio::StreamReader d;
    d.feed_data("data");
    EXPECT_EQ(d.repr(), "<StreamReader 4 bytes>");
    aio::StreamReader x;
    x.set_exception(std::make_exception_ptr(aio::RuntimeError("")));
    EXPECT_EQ(x.repr(), "<StreamReader exception=RuntimeError()>");
    aio::StreamReader w;
    auto read = aio::create_task(w.read());
    co_await yield0();
    EXPECT_EQ(w.repr(), "<StreamReader waiter=<Future pending>>");
    w.feed_data("data");
    w.feed_eof();
    EXPECT_EQ(w.repr(), "<StreamReader 4 bytes eof>");
    EXPECT_EQ(co_await read, "data");
  });
}

TEST(StreamReader, ErrorAttributes) {  // ST-13
  const aio::IncompleteReadError incomplete("abc", 10);
  EXPECT_EQ(incomplete.partial, "abc");
  EXPECT_EQ(incomplete.expected, 10);
  EXPECT_STREQ(incomplete.what(), "3 bytes read on a total of 10 expected bytes");
  const aio::LimitOverrunError overrun("message", 10);
  EXPECT_EQ(overrun.consumed, 10);
  EXPECT_STREQ(overrun.what(), "message");
}

}  // namespace
