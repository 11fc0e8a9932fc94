// A chat server on streams: every line a client sends reaches all the other clients, prefixed
// with the sender's name; joins and leaves are announced. A slow client cannot hold up the
// others: each one has its own queue of lines and its own writer task, and a client whose
// queue overflows is disconnected at once (its writer may be stuck waiting for it to read, so
// the connection is aborted, not just its queue shut down) and nothing more it sent is relayed.
// A client that resets the connection simply leaves.
//
//   chat_server [--port N]      (default 8888; 0 picks a free port)
//   then: nc 127.0.0.1 8888     (several of them)
#include <aio/aio.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <memory>
#include <string>

#include "serve_until_cancelled.hpp"

namespace {

struct Client {
  std::string name;
  aio::StreamWriter writer;
  aio::Queue<std::string> outbox{256};  // lines waiting to be written to this client
  bool dropped = false;                 // too slow: cut off, its lines no longer relayed
};

std::list<std::shared_ptr<Client>> clients;
int next_id = 1;

void broadcast(const Client* from, const std::string& line) {
  for (auto it = clients.begin(); it != clients.end();) {
    auto& c = *it;
    if (c.get() == from) {
      ++it;
      continue;
    }
    try {
      c->outbox.put_nowait(line);
      ++it;
    } catch (const aio::QueueFull&) {
      // Too slow. Its writer task may be stuck in drain(), so ending its queue would not reach
      // it: abort the connection, which wakes the writer and the reader with the loss.
      std::printf("%s is too slow: dropped\n", c->name.c_str());
      std::fflush(stdout);
      c->dropped = true;
      c->outbox.shutdown(true);
      c->writer.transport().abort();
      it = clients.erase(it);
    }
  }
}

aio::Coro<void> write_lines(std::shared_ptr<Client> client, aio::StreamWriter writer) {
  try {
    for (;;) {
      writer.write(co_await client->outbox.get());
      co_await writer.drain();
    }
  } catch (const aio::QueueShutDown&) {
  } catch (const std::system_error&) {
    // The client went away.
  }
  writer.close();
}

aio::Coro<void> handle_client(aio::StreamReader reader, aio::StreamWriter writer) {
  auto client = std::make_shared<Client>();
  client->name = "user" + std::to_string(next_id++);
  client->writer = writer;
  clients.push_back(client);
  std::printf("%s joined from %s\n", client->name.c_str(), writer.peername().to_string().c_str());
  std::fflush(stdout);
  client->outbox.put_nowait("Welcome, " + client->name + "!\n");
  broadcast(client.get(), "* " + client->name + " joined\n");
  aio::Task<void> writer_task = aio::create_task(write_lines(client, writer));
  try {
    for (;;) {
      std::string line = co_await reader.readline();
      if (line.empty() || client->dropped) break;  // EOF, or cut off
      if (line.back() != '\n') line += '\n';
      broadcast(client.get(), client->name + ": " + line);
    }
  } catch (const std::invalid_argument&) {
    // A line over the reader's limit: drop the client.
  } catch (const std::system_error&) {
    // The connection was reset, or aborted because the client was too slow: it has left.
  }
  clients.remove(client);
  broadcast(client.get(), "* " + client->name + " left\n");
  std::printf("%s left\n", client->name.c_str());
  std::fflush(stdout);
  client->outbox.shutdown();  // lets the writer flush what is queued, then close
  co_await writer_task;
}

aio::Coro<void> main_(std::uint16_t port) {
  aio::Server server = co_await aio::start_server(handle_client, "127.0.0.1", port);
  std::printf("Chat server on %s\n", server.sockets().front().to_string().c_str());
  std::fflush(stdout);
  co_await serve_until_cancelled(server);  // Ctrl+C: stops even with clients connected
}

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 8888;
  if (argc == 3 && std::strcmp(argv[1], "--port") == 0) {
    port = static_cast<std::uint16_t>(std::atoi(argv[2]));
  } else if (argc != 1) {
    std::fprintf(stderr, "usage: %s [--port N]\n", argv[0]);
    return 2;
  }
  try {
    aio::run(main_(port));
  } catch (const aio::KeyboardInterrupt&) {
    return 130;
  }
}
