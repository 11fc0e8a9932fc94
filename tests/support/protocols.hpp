// Test support: protocols that record what asyncio's protocol state machine calls, or echo, and
// the helpers the transport tests share.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <aio/aio.hpp>

namespace aio::testing {

/// Records every call, so tests can check asyncio's protocol state machine.
struct Recorder : Protocol {
  std::shared_ptr<Transport> transport;
  std::vector<std::string> calls;
  std::string data;
  bool keep_open_on_eof = false;       // what eof_received() answers
  bool pause_reading_at_once = false;  // pause_reading() in connection_made
  std::optional<Future<void>> lost;    // set when connection_lost comes

  void connection_made(std::shared_ptr<Transport> t) override {
    transport = std::move(t);
    calls.push_back("made");
    if (pause_reading_at_once) transport->pause_reading();
  }
  void data_received(std::string_view d) override { data += d; }
  bool eof_received() override {
    calls.push_back("eof");
    return keep_open_on_eof;
  }
  void connection_lost(std::exception_ptr e) override {
    calls.push_back(e ? "lost(error)" : "lost");
    transport.reset();
    if (lost && !lost->done()) lost->set_result();
  }
  void pause_writing() override { calls.push_back("pause"); }
  void resume_writing() override { calls.push_back("resume"); }
};

/// Echoes everything back, closing when the peer does.
struct Echo : Protocol {
  std::shared_ptr<Transport> transport;
  void connection_made(std::shared_ptr<Transport> t) override { transport = std::move(t); }
  void data_received(std::string_view d) override { transport->write(d); }
  void connection_lost(std::exception_ptr) override { transport.reset(); }
};

// Factories made outside the co_await expression: GCC 12 destroys a lambda twice when it is
// converted to a std::function parameter inside one (see docs/guide.md).
template <class P>
ProtocolFactory share(std::shared_ptr<P> p) {
  return [p] { return p; };
}
template <class P>
ProtocolFactory fresh() {
  return [] { return std::make_shared<P>(); };
}

/// Polls `done` every millisecond, for up to `tries` of them, and expects it to come true.
inline Coro<void> wait_until(const std::function<bool()>& done, int tries = 2000) {
  for (int i = 0; i < tries && !done(); ++i) co_await sleep(0.001);
  EXPECT_TRUE(done());
}

}  // namespace aio::testing
