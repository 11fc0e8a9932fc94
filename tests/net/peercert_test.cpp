// SSLObject::getpeercert() and get_extra_info("peercert"): the fields of a certificate only when
// it was verified, as Python's ssl module gives them (an empty dict otherwise); the DER form
// whatever was checked.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include <aio/aio.hpp>

#include "support/descriptors.hpp"
#include "support/tls.hpp"

namespace {

using aio::Coro;
using aio::StreamReader;
using aio::StreamWriter;
using aio::testing::client_context;
using aio::testing::extra;
using aio::testing::server_context;
using aio::testing::tls_client;
using aio::testing::tls_server;
using aio::testing::TlsCerts;

bool has_no_fields(const aio::PeerCertificate& cert) {
  return cert.subject.empty() && cert.issuer.empty() && cert.subject_alt_name.empty() &&
         cert.version == 0 && cert.serial_number.empty() && cert.not_before.empty() &&
         cert.not_after.empty();
}

// The server's handler keeps what the server side sees of the client's certificate.
struct ServerView {
  std::optional<aio::SSLObject> ssl_object;
};

Coro<void> serve_once(ServerView& view, StreamReader reader, StreamWriter writer) {
  view.ssl_object = extra<aio::SSLObject>(writer, "ssl_object");
  writer.write(co_await reader.readline());
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
}

// Connects to a TLS server of `server_ctx` with `client_ctx`, sends a line and gives what the
// client saw; the server's side goes to `view`.
Coro<aio::SSLObject> exchange(std::shared_ptr<aio::SSLContext> server_ctx,
                              std::shared_ptr<aio::SSLContext> client_ctx, ServerView& view,
                              std::optional<aio::PeerCertificate>& peercert_extra) {
  aio::ClientConnected handler = [&view](StreamReader r, StreamWriter w) {
    return serve_once(view, std::move(r), std::move(w));
  };
  auto server_options = tls_server(std::move(server_ctx));
  aio::Server server =
      co_await aio::start_server(std::move(handler), "127.0.0.1", 0, std::move(server_options));
  auto options = tls_client(std::move(client_ctx));
  auto [reader, writer] =
      co_await aio::open_connection("127.0.0.1", server.port(), std::move(options));
  writer.write("hello\n");
  EXPECT_EQ(co_await reader.readline(), "hello\n");
  aio::SSLObject seen = extra<aio::SSLObject>(writer, "ssl_object");
  peercert_extra = extra<aio::PeerCertificate>(writer, "peercert");
  writer.close();
  co_await writer.wait_closed();
  server.close();
  co_await server.wait_closed();
  co_return seen;
}

TEST(PeerCert, AnUnverifiedCertificateGivesNoFieldsButItsDerForm) {
  // test_ssl.SimpleBackgroundTests.test_connect: with CERT_NONE, getpeercert() == {}.
  const int before = (TlsCerts::get(), aio::testing::open_descriptors());
  auto body = []() -> Coro<void> {
    auto client = client_context();
    client->set_check_hostname(false);
    client->set_verify_mode(aio::VerifyMode::none);
    ServerView view;
    std::optional<aio::PeerCertificate> peercert;
    aio::SSLObject seen = co_await exchange(server_context(), client, view, peercert);
    std::optional<aio::PeerCertificate> cert = seen.getpeercert();
    // A certificate came, and nothing of it was checked.
    EXPECT_TRUE(cert.has_value() && has_no_fields(*cert));
    EXPECT_TRUE(peercert.has_value() && has_no_fields(*peercert));
    EXPECT_FALSE(seen.getpeercert_der().empty());  // binary_form=True: the DER all the same
    // The server asked for no certificate: none came.
    EXPECT_TRUE(view.ssl_object.has_value() && !view.ssl_object->getpeercert());
  };
  aio::run(body());
  EXPECT_EQ(aio::testing::open_descriptors(), before);
}

TEST(PeerCert, AVerifiedCertificateGivesItsFieldsOnEitherSide) {
  auto body = []() -> Coro<void> {
    // The server asks for a client certificate (CERT_OPTIONAL) and checks it against the CA.
    auto server = server_context();
    server->load_verify_locations(TlsCerts::get().ca());
    server->set_verify_mode(aio::VerifyMode::optional);
    auto client = client_context();
    client->load_cert_chain(TlsCerts::get().cert(), TlsCerts::get().key());
    ServerView view;
    std::optional<aio::PeerCertificate> peercert;
    aio::SSLObject seen = co_await exchange(server, client, view, peercert);
    EXPECT_EQ(seen.getpeercert().value_or(aio::PeerCertificate{}).common_name(), "localhost");
    EXPECT_EQ(peercert.value_or(aio::PeerCertificate{}).common_name(), "localhost");
    std::optional<aio::PeerCertificate> client_cert;
    if (view.ssl_object) client_cert = view.ssl_object->getpeercert();
    EXPECT_EQ(client_cert.value_or(aio::PeerCertificate{}).common_name(), "localhost");
  };
  aio::run(body());
}

}  // namespace
