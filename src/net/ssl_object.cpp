// aio::SSLObject (Python's ssl.SSLObject) and the peer certificate's fields, read with OpenSSL.
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include "aio/ssl.hpp"

namespace aio {

namespace {

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(n > 0 ? n : 0));
  BIO_free(bio);
  return text;
}

std::string asn1_string(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return {};
  std::string text(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return text;
}

PeerCertificate::Pairs name_pairs(const X509_NAME* name) {
  PeerCertificate::Pairs pairs;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    const char* key = nid == NID_undef ? "UNDEF" : OBJ_nid2ln(nid);
    pairs.emplace_back(key, asn1_string(X509_NAME_ENTRY_get_data(entry)));
  }
  return pairs;
}

std::string time_text(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, t);
  return bio_text(bio);
}

// Python's forms: dotted IPv4, and IPv6 as eight upper-case hex groups, uncompressed.
std::string ip_text(const ASN1_OCTET_STRING* ip) {
  const unsigned char* b = ASN1_STRING_get0_data(ip);
  const int n = ASN1_STRING_length(ip);
  char buf[64];
  if (n == 4) {
    std::snprintf(buf, sizeof buf, "%d.%d.%d.%d", b[0], b[1], b[2], b[3]);
    return buf;
  }
  if (n == 16) {
    std::string text;
    for (int i = 0; i < 16; i += 2) {
      std::snprintf(buf, sizeof buf, "%s%X", i ? ":" : "", (b[i] << 8) | b[i + 1]);
      text += buf;
    }
    return text;
  }
  return "<invalid>";
}

PeerCertificate::Pairs alt_names(X509* cert) {
  PeerCertificate::Pairs pairs;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return pairs;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    switch (g->type) {
      case GEN_DNS:
        pairs.emplace_back("DNS", asn1_string(g->d.dNSName));
        break;
      case GEN_IPADD:
        pairs.emplace_back("IP Address", ip_text(g->d.iPAddress));
        break;
      case GEN_EMAIL:
        pairs.emplace_back("email", asn1_string(g->d.rfc822Name));
        break;
      case GEN_URI:
        pairs.emplace_back("URI", asn1_string(g->d.uniformResourceIdentifier));
        break;
      default:
        break;
    }
  }
  GENERAL_NAMES_free(names);
  return pairs;
}

}  // namespace

std::string PeerCertificate::common_name() const {
  for (const auto& [key, value] : subject) {
    if (key == "commonName") return value;
  }
  return {};
}

SSLObject::SSLObject(ssl_st* ssl, std::optional<std::string> server_hostname)
    : ssl_(ssl), server_hostname_(std::move(server_hostname)) {
  if (ssl_) SSL_up_ref(ssl_);
}

SSLObject::SSLObject(const SSLObject& other)
    : ssl_(other.ssl_), server_hostname_(other.server_hostname_) {
  if (ssl_) SSL_up_ref(ssl_);
}

SSLObject& SSLObject::operator=(const SSLObject& other) {
  if (this != &other) {
    SSLObject copy(other);
    *this = std::move(copy);
  }
  return *this;
}

SSLObject::SSLObject(SSLObject&& other) noexcept
    : ssl_(std::exchange(other.ssl_, nullptr)),
      server_hostname_(std::move(other.server_hostname_)) {}

SSLObject& SSLObject::operator=(SSLObject&& other) noexcept {
  std::swap(ssl_, other.ssl_);
  std::swap(server_hostname_, other.server_hostname_);
  return *this;
}

SSLObject::~SSLObject() {
  if (ssl_) SSL_free(ssl_);
}

std::string SSLObject::version() const {
  return ssl_ ? SSL_get_version(ssl_) : "";
}

std::optional<CipherInfo> SSLObject::cipher() const {
  const SSL_CIPHER* c = ssl_ ? SSL_get_current_cipher(ssl_) : nullptr;
  if (!c) return std::nullopt;
  return CipherInfo(SSL_CIPHER_get_name(c), SSL_CIPHER_get_version(c),
                    SSL_CIPHER_get_bits(c, nullptr));
}

std::optional<std::string> SSLObject::selected_alpn_protocol() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  if (ssl_) SSL_get0_alpn_selected(ssl_, &data, &len);
  if (!data || len == 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::optional<PeerCertificate> SSLObject::getpeercert() const {
  X509* cert = ssl_ ? SSL_get1_peer_certificate(ssl_) : nullptr;
  if (!cert) return std::nullopt;
  PeerCertificate pc;
  // Fields nobody checked are not to be trusted: Python gives an empty dict for them.
  const bool verified = (SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER) != 0 &&
                        SSL_get_verify_result(ssl_) == X509_V_OK;
  if (!verified) {
    X509_free(cert);
    return pc;
  }
  pc.subject = name_pairs(X509_get_subject_name(cert));
  pc.issuer = name_pairs(X509_get_issuer_name(cert));
  pc.version = static_cast<int>(X509_get_version(cert)) + 1;
  BIO* serial = BIO_new(BIO_s_mem());
  i2a_ASN1_INTEGER(serial, X509_get0_serialNumber(cert));
  pc.serial_number = bio_text(serial);
  pc.not_before = time_text(X509_get0_notBefore(cert));
  pc.not_after = time_text(X509_get0_notAfter(cert));
  pc.subject_alt_name = alt_names(cert);
  X509_free(cert);
  return pc;
}

std::string SSLObject::getpeercert_der() const {
  X509* cert = ssl_ ? SSL_get1_peer_certificate(ssl_) : nullptr;
  if (!cert) return {};
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  std::string out;
  if (n > 0) out.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

bool SSLObject::server_side() const noexcept {
  return ssl_ && SSL_is_server(ssl_) == 1;
}

}  // namespace aio
