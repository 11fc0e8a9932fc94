// A pipeline over two cores: loop 0 reads "records" and sends them through an aio::Channel to
// loop 1, which checks them and counts; then loop 0 asks loop 1 for its totals with run_on().
// Each loop runs asyncio's model (one thread, no locks in this code); only the Channel and the
// run_on() call cross between them. docs/guide.md, "Several cores", explains the pieces.
//
//   pipeline [RECORDS]      (default 100000)
#include <aio/aio.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

namespace {

struct Record {
  std::int64_t id;
  std::string payload;
};

struct Totals {
  std::int64_t records = 0;
  std::int64_t bytes = 0;
  std::int64_t bad = 0;
};

// Loop 0: makes the records (a real program would read them from a file or a socket).
aio::Coro<void> produce(aio::Channel<Record>& records, std::int64_t count) {
  for (std::int64_t id = 0; id < count; ++id) {
    std::string payload = "record " + std::to_string(id);
    if (id % 1000 == 999) payload.clear();     // a bad one now and then
    Record record{id, std::move(payload)};     // named: GCC 12 mishandles a braced temporary
    co_await records.send(std::move(record));  // inside a co_await (docs/guide.md, Compilers)
  }
  records.close();  // Queue.shutdown(): the consumer drains what is left, then stops
}

// Loop 1: checks and counts until the channel is closed and drained.
aio::Coro<void> consume(aio::Channel<Record>& records, Totals& totals) {
  for (;;) {
    std::optional<Record> record = co_await records.next();
    if (!record) break;
    ++totals.records;
    totals.bytes += static_cast<std::int64_t>(record->payload.size());
    if (record->payload.empty()) ++totals.bad;
  }
}

// Runs on loop 1 (through run_on): its totals, read on the loop that owns them.
aio::Coro<Totals> report(const Totals& totals) {
  co_return totals;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t count = argc > 1 ? std::atoll(argv[1]) : 100000;
  aio::Channel<Record> records(256);
  Totals totals;  // loop 1's
  aio::run_parallel(2, [&](int shard, aio::LoopGroup& loops) -> aio::Coro<void> {
    if (shard == 1) {
      co_await consume(records, totals);
      co_return;
    }
    co_await produce(records, count);
    // Wait until loop 1 has seen everything: a Watch would say so; here, ask until it has.
    Totals seen;
    for (;;) {
      seen = co_await aio::run_on(loops[1], report(totals));
      if (seen.records == count) break;
      co_await aio::sleep(0.001);
    }
    std::printf("loop 1 counted %lld records, %lld bytes, %lld bad\n",
                static_cast<long long>(seen.records), static_cast<long long>(seen.bytes),
                static_cast<long long>(seen.bad));
  });
}
