// aio/detail/connection_templates.hpp — the definitions of EventLoop's connection factories
// (create_connection & co., declared in aio/loop.hpp), which give the protocol as their factory
// made it. aio/protocols.hpp includes this at its end: the loop's header declares them with
// the networking types incomplete, and whoever makes a protocol has included protocols.hpp.
#pragma once

#include "aio/detail/protocol_factory.hpp"
#include "aio/loop.hpp"
#include "aio/protocols.hpp"
#include "aio/socket.hpp"

namespace aio {

template <detail::FactoryOf<BaseProtocol> F>
Coro<detail::FactoryPair<Transport, F>> EventLoop::create_connection(F factory, std::string host,
                                                                     std::uint16_t port,
                                                                     ConnectOptions options) {
  return create_connection(std::move(factory), std::move(host), std::to_string(port),
                           std::move(options));
}

template <detail::FactoryOf<BaseProtocol> F>
Coro<detail::FactoryPair<Transport, F>> EventLoop::create_connection(F factory, std::string host,
                                                                     std::string port,
                                                                     ConnectOptions options) {
  return detail::with_made_protocol<BaseProtocol>(std::move(factory), [&](ProtocolFactory f) {
    return open_connection_to(std::move(f), std::move(host), std::move(port), std::move(options));
  });
}

template <detail::FactoryOf<BaseProtocol> F>
Coro<detail::FactoryPair<Transport, F>> EventLoop::create_unix_connection(F factory,
                                                                          std::string path,
                                                                          ConnectOptions options) {
  return detail::with_made_protocol<BaseProtocol>(std::move(factory), [&](ProtocolFactory f) {
    return open_unix_connection_to(std::move(f), std::move(path), std::move(options));
  });
}

template <detail::FactoryOf<DatagramProtocol> F>
Coro<detail::FactoryPair<DatagramTransport, F>> EventLoop::create_datagram_endpoint(
    F factory, DatagramOptions options) {
  return detail::with_made_protocol<DatagramProtocol>(
      std::move(factory), [&](DatagramProtocolFactory f) {
        return open_datagram_endpoint(std::move(f), std::move(options));
      });
}

template <detail::FactoryOf<BaseProtocol> F>
Coro<detail::FactoryPair<Transport, F>> EventLoop::connect_read_pipe(F factory, int fd) {
  return detail::with_made_protocol<BaseProtocol>(
      std::move(factory), [&](ProtocolFactory f) { return open_pipe(std::move(f), fd, true); });
}

template <detail::FactoryOf<BaseProtocol> F>
Coro<detail::FactoryPair<Transport, F>> EventLoop::connect_write_pipe(F factory, int fd) {
  return detail::with_made_protocol<BaseProtocol>(
      std::move(factory), [&](ProtocolFactory f) { return open_pipe(std::move(f), fd, false); });
}

template <detail::FactoryOf<BaseProtocol> F>
Coro<detail::FactoryPair<Transport, F>> EventLoop::connect_accepted_socket(
    F factory, Socket sock, AcceptedSocketOptions options) {
  return detail::with_made_protocol<BaseProtocol>(std::move(factory), [&](ProtocolFactory f) {
    return open_accepted_socket(std::move(f), std::move(sock), std::move(options));
  });
}

}  // namespace aio
