// The echo server's two handlers, for aio-bench's one-loop and several-loop servers.
#pragma once

#include <aio/aio.hpp>

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace aio_bench {

// The protocols variant: what asyncio's and uvloop's protocol echo servers do.
struct EchoProtocol final : aio::Protocol {
  std::shared_ptr<aio::Transport> transport;
  void connection_made(std::shared_ptr<aio::Transport> t) override { transport = std::move(t); }
  void data_received(std::string_view data) override { transport->write(data); }
  void connection_lost(std::exception_ptr) override { transport.reset(); }
};

// The streams variant: read what is there, write it back, drain.
inline aio::Coro<void> echo_stream(aio::StreamReader reader, aio::StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(65536);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
}

}  // namespace aio_bench
