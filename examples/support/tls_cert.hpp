// A throwaway self-signed certificate for localhost and 127.0.0.1, made with OpenSSL's API (an
// EC P-256 key, valid for a day) and written as PEM files into a new temporary directory: for
// the TLS examples and bench/aio-bench when no certificate is given. Not for production use.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace aio_examples {

struct CertFiles {
  std::string cert;  // PEM certificate (it is its own CA: give it as the client's cafile)
  std::string key;   // PEM private key
};

inline CertFiles make_self_signed_cert() {
  char pattern[] = "/tmp/aio-cert-XXXXXX";
  if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  const std::string dir = pattern;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (!key || !cert) throw std::runtime_error("cannot make a key");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  for (const char* ext :
       {"subjectAltName=DNS:localhost,IP:127.0.0.1", "basicConstraints=critical,CA:TRUE"}) {
    const std::string text = ext;
    const std::string field = text.substr(0, text.find('='));
    const std::string value = text.substr(text.find('=') + 1);
    if (X509_EXTENSION* e = X509V3_EXT_nconf(nullptr, &ctx, field.c_str(), value.c_str())) {
      X509_add_ext(cert, e, -1);
      X509_EXTENSION_free(e);
    }
  }
  X509_sign(cert, key, EVP_sha256());
  CertFiles files{dir + "/cert.pem", dir + "/key.pem"};
  FILE* f = std::fopen(files.cert.c_str(), "w");
  if (f) {
    PEM_write_X509(f, cert);
    std::fclose(f);
  }
  f = std::fopen(files.key.c_str(), "w");
  if (f) {
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

}  // namespace aio_examples
