// Test support: certificates for the TLS tests, made once per process with the openssl command
// (Debian's openssl package) into a temporary directory that is removed at exit: a CA, a
// server certificate it signed for localhost and 127.0.0.1, an expired one, a self-signed one,
// one for another host, and one from a CA nobody trusts. EC P-256 keys: quick to make.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace aio::testing {

class TlsCerts {
 public:
  /// The process's certificates (made on first use; std::runtime_error if openssl fails).
  static const TlsCerts& get() {
    static const TlsCerts certs;
    return certs;
  }

  std::string dir;
  std::string ca() const { return dir + "/ca.pem"; }
  std::string key() const { return dir + "/server.key"; }  // every server cert's key
  std::string cert() const { return dir + "/server.pem"; }
  std::string expired() const { return dir + "/expired.pem"; }
  std::string self_signed() const { return dir + "/self_signed.pem"; }
  std::string self_signed_key() const { return dir + "/self_signed.key"; }
  std::string wrong_host() const { return dir + "/wrong_host.pem"; }
  std::string untrusted() const { return dir + "/untrusted.pem"; }

  TlsCerts(const TlsCerts&) = delete;
  TlsCerts& operator=(const TlsCerts&) = delete;
  ~TlsCerts() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

 private:
  TlsCerts() {
    char pattern[] = "/tmp/aio-tls-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    dir = pattern;
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    const std::string ca_ext =
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign";
    write("localhost.ext",
          "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
    write("wrong.ext", "subjectAltName=DNS:wrong.example\nbasicConstraints=CA:FALSE\n");
    // `openssl ca` signs with any validity, in the past too (x509 -req only counts days ahead).
    write("ca.cnf", "[ ca ]\ndefault_ca = own\n[ own ]\ndatabase = " + dir +
                        "/index.txt\nnew_certs_dir = " + dir + "\nserial = " + dir +
                        "/serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n"
                        "[ any ]\ncommonName = supplied\n");
    write("index.txt", "");
    write("serial", "1000\n");
    run("req -x509" + ec + "-keyout ca.key -out ca.pem -days 3650 -subj '/CN=aio test CA'" +
        ca_ext);
    run("req -x509" + ec +
        "-keyout other_ca.key -out other_ca.pem -days 3650 -subj '/CN=other CA'" + ca_ext);
    run("req" + ec + "-keyout server.key -out server.csr -subj /CN=localhost");
    run("x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 "
        "-extfile localhost.ext -out server.pem");
    run("ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in server.csr -notext "
        "-startdate 20200101000000Z -enddate 20200102000000Z -extfile localhost.ext "
        "-out expired.pem");
    run("x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 "
        "-extfile wrong.ext -out wrong_host.pem");
    run("x509 -req -in server.csr -CA other_ca.pem -CAkey other_ca.key -CAcreateserial -days 365 "
        "-extfile localhost.ext -out untrusted.pem");
    run("req -x509" + ec +
        "-keyout self_signed.key -out self_signed.pem -days 365 "
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1");
  }

  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir + "/" + name) << text;
  }

  void run(const std::string& args) const {
    const std::string command = "cd " + dir + " && openssl " + args + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("certificate setup failed: openssl " + args);
    }
  }
};

}  // namespace aio::testing
