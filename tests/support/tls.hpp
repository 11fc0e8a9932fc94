// Test support: the TLS contexts and options the TLS tests share (certificates from
// tls_certs.hpp), and get_extra_info() read as a given type.
#pragma once

#include <gtest/gtest.h>

#include <any>
#include <memory>
#include <string>
#include <string_view>

#include <aio/aio.hpp>

#include "support/tls_certs.hpp"

namespace aio::testing {

/// A server context with the certificate signed by the test CA for localhost and 127.0.0.1.
inline std::shared_ptr<SSLContext> server_context(const std::string& cert = TlsCerts::get().cert(),
                                                  const std::string& key = TlsCerts::get().key()) {
  auto ctx = std::make_shared<SSLContext>(TLSProtocol::tls_server);
  ctx->load_cert_chain(cert, key);
  return ctx;
}

/// A client context that trusts the test CA and checks host names.
inline std::shared_ptr<SSLContext> client_context() {
  return create_default_context(Purpose::server_auth, TlsCerts::get().ca());
}

inline ServerOptions tls_server(std::shared_ptr<SSLContext> ctx) {
  ServerOptions o;
  o.ssl = std::move(ctx);
  return o;
}

inline ConnectOptions tls_client(std::shared_ptr<SSLContext> ctx = client_context()) {
  ConnectOptions o;
  o.ssl = std::move(ctx);
  return o;
}

/// writer.get_extra_info(key) as a T (a failure, and T{}, when it is not one).
template <class T>
T extra(const StreamWriter& w, std::string_view key) {
  std::any a = w.get_extra_info(key);
  const T* p = std::any_cast<T>(&a);
  EXPECT_NE(p, nullptr) << key;
  return p ? *p : T{};
}

}  // namespace aio::testing
