// Name resolution: getaddrinfo(3) on the loop's default executor, as asyncio does (it blocks).
// A numeric host needs no thread: it is parsed on the spot (asyncio's _ipaddr_info).
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

#include "aio/loop.hpp"
#include "aio/socket.hpp"
#include "net/socket_util.hpp"

namespace aio {

namespace {

class GaiCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

const std::error_category& gai_category() {
  static const GaiCategory category;
  return category;
}

// `service` is a port number, or a name from /etc/services ("http") when not `numeric`.
std::vector<AddressInfo> resolve(const std::string& host, const std::string& service, bool numeric,
                                 AddressFamily family, SocketType type, bool passive) {
  addrinfo hints{};
  hints.ai_family = detail::native_family(family);
  hints.ai_socktype = type == SocketType::stream ? SOCK_STREAM : SOCK_DGRAM;
  hints.ai_flags = (passive ? AI_PASSIVE : 0) | (numeric ? AI_NUMERICSERV : 0);
  addrinfo* list = nullptr;
  const int rc =
      ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    const int code = rc == EAI_SYSTEM ? errno : rc;
    const auto& category = rc == EAI_SYSTEM ? std::system_category() : gai_category();
    throw std::system_error(code, category, "getaddrinfo(" + host + ":" + service + ")");
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(list, ::freeaddrinfo);
  std::vector<AddressInfo> out;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    SocketAddress address = SocketAddress::from_raw(ai->ai_addr, ai->ai_addrlen);
    if (address.family() != AddressFamily::ipv4 && address.family() != AddressFamily::ipv6) {
      continue;
    }
    out.push_back({address.family(), type, address});
  }
  return out;
}

// asyncio's _ipaddr_info: "" is port 0 and digits are a number; anything else is a service name
// for the resolver.
std::optional<std::uint16_t> numeric_port(const std::string& port) {
  if (port.empty()) return 0;
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const unsigned long n = std::stoul(port);
  if (n > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(n);
}

// asyncio's _ipaddr_info: a literal address resolves to itself.
std::optional<SocketAddress> numeric(const std::string& host, std::uint16_t port,
                                     AddressFamily family) {
  if (host.empty()) return std::nullopt;
  try {
    SocketAddress a = SocketAddress::ip(host, port);
    if (family != AddressFamily::unspecified && a.family() != family) return std::nullopt;
    return a;
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

}  // namespace

Coro<std::vector<AddressInfo>> EventLoop::getaddrinfo(std::string host, std::string port,
                                                      AddressFamily family, SocketType type,
                                                      bool passive) {
  const std::optional<std::uint16_t> number = numeric_port(port);
  if (number) {
    if (auto a = numeric(host, *number, family)) {
      std::vector<AddressInfo> out;
      out.push_back({a->family(), type, *a});
      co_return out;
    }
    port = std::to_string(*number);
  }
  // The Future is made in its own statement: GCC 12 mishandles temporaries (here, the lambda)
  // that live across a co_await in the same full-expression.
  auto resolved = run_in_executor(nullptr, [host = std::move(host), port = std::move(port),
                                            by_number = number.has_value(), family, type, passive] {
    return resolve(host, port, by_number, family, type, passive);
  });
  std::vector<AddressInfo> infos = co_await resolved;
  co_return infos;
}

Coro<std::vector<AddressInfo>> EventLoop::getaddrinfo(std::string host, std::uint16_t port,
                                                      AddressFamily family, SocketType type,
                                                      bool passive) {
  return getaddrinfo(std::move(host), std::to_string(port), family, type, passive);
}

Coro<std::vector<AddressInfo>> getaddrinfo(std::string host, std::uint16_t port,
                                           AddressFamily family, SocketType type, bool passive) {
  return get_running_loop().getaddrinfo(std::move(host), port, family, type, passive);
}

Coro<std::vector<AddressInfo>> getaddrinfo(std::string host, std::string port, AddressFamily family,
                                           SocketType type, bool passive) {
  return get_running_loop().getaddrinfo(std::move(host), std::move(port), family, type, passive);
}

}  // namespace aio
