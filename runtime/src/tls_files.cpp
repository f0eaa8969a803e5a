#include "caraway/runtime/tls_files.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "caraway/error.hpp"

namespace caraway::runtime::tls {

namespace {

template <class T, void (*Free)(T*)>
struct openssl_free {
  void operator()(T* x) const noexcept {
    Free(x);
  }
};

template <class T, void (*Free)(T*)>
using openssl_ptr = std::unique_ptr<T, openssl_free<T, Free>>;

using bignum_ptr = openssl_ptr<BIGNUM, BN_free>;
using bio_ptr = openssl_ptr<BIO, BIO_free_all>;
using extension_ptr = openssl_ptr<X509_EXTENSION, X509_EXTENSION_free>;
using key_ptr = openssl_ptr<EVP_PKEY, EVP_PKEY_free>;
using store_ptr = openssl_ptr<X509_STORE, X509_STORE_free>;
using store_ctx_ptr = openssl_ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using x509_ptr = openssl_ptr<X509, X509_free>;

constexpr char ca_name[] = "caraway cluster CA";

// Far beyond any use, and within what certificates' dates can say.
constexpr int64_t max_days = 100000;

// What was being done, and what OpenSSL queued about why it failed.
[[noreturn]] void fail(const std::string& doing) {
  std::string what = "cannot " + doing;
  if (auto code = ERR_peek_last_error(); code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    what += ": ";
    what += text;
  }
  ERR_clear_error();
  throw error(what);
}

[[noreturn]] void fail_errno(const std::string& doing) {
  throw error("cannot " + doing + ": " + std::strerror(errno));
}

// OpenSSL's "1 (or more) on success".
void ensure(int rc, const std::string& doing) {
  if (rc <= 0)
    fail(doing);
}

void check_name(const std::string& name) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  };
  // "CA" too: ca.pem and CA.pem are one file on some file systems.
  auto is_ca = name.size() == 2 && (name[0] == 'c' || name[0] == 'C')
               && (name[1] == 'a' || name[1] == 'A');
  if (name.empty() || name.size() > 64 || name[0] == '.' || is_ca
      || !std::all_of(name.begin(), name.end(), allowed))
    throw invalid_argument_error(
      "invalid certificate name '" + name
      + "': a name is 1 to 64 letters, digits, '.', '_' or '-', not starting "
        "with '.', and not 'ca'");
}

void check_validity(const validity& v) {
  auto within = [](int64_t day) { return day >= -max_days && day <= max_days; };
  if (v.days < 1 || v.days > 2 * max_days || !within(v.not_before_days)
      || !within(v.not_before_days + v.days))
    throw invalid_argument_error(
      "a certificate is valid for a day or more, within "
      + std::to_string(max_days) + " days of today");
}

// "dir/" and "dir" name one directory: files are "dir/x" either way.
std::string trimmed(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  return dir;
}

key_ptr make_key() {
  key_ptr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  if (!key)
    fail("make an EC P-256 key");
  return key;
}

void add_extension(X509* cert, X509V3_CTX& ctx, int nid,
                   const std::string& value) {
  extension_ptr ext{X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str())};
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    fail(std::string{"add the extension "} + OBJ_nid2sn(nid) + " = " + value);
}

// The certificate of `key` for `cn`: the CA's when `issuer` is null (then
// self-signed), else a leaf signed by `issuer` and its key.
x509_ptr make_cert(const std::string& cn, EVP_PKEY* key, const validity& v,
                   X509* issuer, EVP_PKEY* issuer_key) {
  auto of = " of the certificate for " + cn;
  x509_ptr cert{X509_new()};
  if (!cert)
    fail("make a certificate for " + cn);
  auto* x = cert.get();
  ensure(X509_set_version(x, X509_VERSION_3), "set the version" + of);
  // Random and positive: 159 bits fit the 20 bytes RFC 5280 allows.
  bignum_ptr serial{BN_new()};
  if (!serial
      || BN_rand(serial.get(), 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1
      || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x)) == nullptr)
    fail("make the serial number" + of);
  auto from = static_cast<int>(v.not_before_days);
  auto until = static_cast<int>(v.not_before_days + v.days);
  if (X509_time_adj_ex(X509_getm_notBefore(x), from, 0, nullptr) == nullptr
      || X509_time_adj_ex(X509_getm_notAfter(x), until, 0, nullptr) == nullptr)
    fail("set the validity" + of);
  auto* subject = X509_get_subject_name(x);
  ensure(X509_NAME_add_entry_by_txt(
           subject, "CN", MBSTRING_UTF8,
           reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0),
         "set the subject" + of);
  ensure(X509_set_issuer_name(
           x, issuer != nullptr ? X509_get_subject_name(issuer) : subject),
         "set the issuer" + of);
  ensure(X509_set_pubkey(x, key), "set the public key" + of);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
  if (issuer == nullptr) {
    add_extension(x, ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(x, ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(x, ctx, NID_subject_key_identifier, "hash");
  } else {
    add_extension(x, ctx, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(x, ctx, NID_key_usage,
                  "critical,digitalSignature");
    // Each process is TLS server to some peers and client to others.
    add_extension(x, ctx, NID_ext_key_usage, "serverAuth,clientAuth");
    in_addr ip;
    auto alt = inet_pton(AF_INET, cn.c_str(), &ip) == 1 ? "IP:" + cn
                                                        : "DNS:" + cn;
    if (cn != "localhost")
      alt += ",DNS:localhost";
    if (cn != "127.0.0.1")
      alt += ",IP:127.0.0.1";
    add_extension(x, ctx, NID_subject_alt_name, alt);
    add_extension(x, ctx, NID_subject_key_identifier, "hash");
    add_extension(x, ctx, NID_authority_key_identifier, "keyid:always");
  }
  ensure(X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()),
         "sign the certificate for " + cn);
  return cert;
}

// A file's text, in a memory BIO (which clears its buffer when freed).
struct pem_file {
  std::string name;
  bio_ptr text;
  mode_t mode;
};

pem_file pem_of(const std::string& name, X509* cert) {
  pem_file result{name + ".pem", bio_ptr{BIO_new(BIO_s_mem())}, 0644};
  if (!result.text || PEM_write_bio_X509(result.text.get(), cert) != 1)
    fail("write the certificate " + result.name);
  return result;
}

pem_file pem_of(const std::string& name, EVP_PKEY* key) {
  pem_file result{name + ".key", bio_ptr{BIO_new(BIO_s_mem())}, 0600};
  if (!result.text
      || PEM_write_bio_PKCS8PrivateKey(result.text.get(), key, nullptr, nullptr,
                                       0, nullptr, nullptr)
           != 1)
    fail("write the key " + result.name);
  return result;
}

// A leaf's key and certificate, signed by the CA.
void add_leaf(std::vector<pem_file>& files, const std::string& name, X509* ca,
              EVP_PKEY* ca_key, const validity& v) {
  auto key = make_key();
  auto cert = make_cert(name, key.get(), v, ca, ca_key);
  files.push_back(pem_of(name, key.get()));
  files.push_back(pem_of(name, cert.get()));
}

void refuse_existing(const std::string& dir,
                     const std::vector<pem_file>& files) {
  for (auto& file : files) {
    auto path = dir + "/" + file.name;
    struct stat st;
    if (lstat(path.c_str(), &st) == 0)
      throw error(path + " exists already: not overwriting it");
  }
}

void make_dir(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      throw error("cannot write certificates into " + dir
                  + ": not a directory");
    return;
  }
  // Parents as `mkdir -p` makes them; the directory itself for us alone.
  auto parent = std::filesystem::path{dir}.parent_path();
  std::error_code ec;
  if (!parent.empty())
    std::filesystem::create_directories(parent, ec);
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    fail_errno("create the directory " + dir);
}

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    auto n = write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Written aside, then renamed, so that a reader sees the whole file or none.
// The file aside is created 0600: a key is never readable by others. Without
// `force`, link() instead of rename() keeps a file that appeared meanwhile.
std::string write_file(const std::string& dir, const pem_file& file,
                       bool force) {
  auto path = dir + "/" + file.name;
  auto aside = dir + "/." + file.name + ".XXXXXX";
  auto fd = mkostemp(aside.data(), O_CLOEXEC);
  if (fd < 0)
    fail_errno("create a file in " + dir);
  char* data = nullptr;
  auto size = BIO_get_mem_data(file.text.get(), &data);
  auto ok = fchmod(fd, file.mode) == 0
            && write_all(fd, data, static_cast<size_t>(size)) && fsync(fd) == 0;
  auto err = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok) {
    ok = (force ? rename(aside.c_str(), path.c_str())
                : link(aside.c_str(), path.c_str()))
         == 0;
    err = errno;
  }
  if (!ok || !force)
    unlink(aside.c_str());
  if (!ok) {
    if (err == EEXIST && !force)
      throw error(path + " exists already: not overwriting it");
    errno = err;
    fail_errno("write " + path);
  }
  return path;
}

std::vector<std::string> write_files(const std::string& dir,
                                     const std::vector<pem_file>& files,
                                     bool force) {
  make_dir(dir);
  std::vector<std::string> paths;
  for (auto& file : files)
    paths.push_back(write_file(dir, file, force));
  return paths;
}

bio_ptr open_file(const std::string& path) {
  auto fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    fail_errno("read " + path);
  bio_ptr bio{BIO_new_fd(fd, BIO_CLOSE)};
  if (!bio) {
    close(fd);
    fail("read " + path);
  }
  return bio;
}

x509_ptr load_cert(const std::string& path) {
  auto bio = open_file(path);
  x509_ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
  if (!cert)
    fail("read a PEM certificate from " + path);
  return cert;
}

// Never asks for a passphrase: caraway's keys have none.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

key_ptr load_key(const std::string& path) {
  auto bio = open_file(path);
  key_ptr key{
    PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)};
  if (!key)
    fail("read an unencrypted PEM private key from " + path);
  return key;
}

} // namespace

std::vector<std::string> init(const std::string& dir, const validity& v,
                              bool force) {
  check_validity(v);
  auto ca_key = make_key();
  auto ca = make_cert(ca_name, ca_key.get(), v, nullptr, nullptr);
  std::vector<pem_file> files;
  files.push_back(pem_of("ca", ca_key.get()));
  files.push_back(pem_of("ca", ca.get()));
  add_leaf(files, "node", ca.get(), ca_key.get(), v);
  add_leaf(files, "client", ca.get(), ca_key.get(), v);
  auto d = trimmed(dir);
  if (!force)
    refuse_existing(d, files);
  return write_files(d, files, force);
}

std::vector<std::string> issue(const std::string& dir, const std::string& name,
                               const validity& v, bool force) {
  check_name(name);
  check_validity(v);
  auto d = trimmed(dir);
  auto ca = load_cert(d + "/ca.pem");
  auto ca_key = load_key(d + "/ca.key");
  if (X509_check_private_key(ca.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    throw error(d + "/ca.key is not the key of " + d + "/ca.pem");
  }
  std::vector<pem_file> files;
  add_leaf(files, name, ca.get(), ca_key.get(), v);
  if (!force)
    refuse_existing(d, files);
  return write_files(d, files, force);
}

bool verify(const std::string& ca_file, const std::string& cert_file,
            std::string& why) {
  try {
    auto cert = load_cert(cert_file);
    store_ptr store{X509_STORE_new()};
    store_ctx_ptr ctx{X509_STORE_CTX_new()};
    if (!store || !ctx)
      fail("verify " + cert_file);
    // Every certificate in the CA file is trusted, as by the TLS
    // connections: while a cluster moves to a new CA, the file holds both.
    auto bio = open_file(ca_file);
    int cas = 0;
    while (auto* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      x509_ptr owned{ca};
      if (X509_STORE_add_cert(store.get(), ca) != 1)
        fail("read the CA certificates in " + ca_file);
      ++cas;
    }
    ERR_clear_error();
    if (cas == 0)
      fail("read a PEM certificate from " + ca_file);
    if (X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1)
      fail("verify " + cert_file);
    if (X509_verify_cert(ctx.get()) == 1) {
      why.clear();
      return true;
    }
    why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    ERR_clear_error();
    return false;
  } catch (const error& err) {
    why = err.what();
    return false;
  }
}

} // namespace caraway::runtime::tls
