// CAF 0.17's TLS sessions read OpenSSL's per-thread error queue through
// SSL_get_error without clearing it first. A peer that closes a TLS
// connection without close_notify leaves an "unexpected EOF" error on the
// I/O thread, and the next SSL_read of any other connection on that thread
// that merely wants more data is then taken as fatal: CAF drops a healthy
// link (remote_link_unreachable). Any client that disconnects, a failed
// handshake or a port probe would cut a node off its peers. The same holds
// for handshakes: after a refused peer, the next connection that thread
// set up (a node dialing a driver to return a result, say) failed silently
// and the driver waited forever. Newer CAF clears the queue before each
// call; these wrappers do the same for the CAF that Debian ships. They take
// the place of libssl's SSL_read, SSL_write, SSL_connect and SSL_accept for
// the whole process, since this library is loaded before libssl, and call
// the real ones.

#include <dlfcn.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

template <class F>
F next_symbol(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  using fn = int (*)(SSL*, void*, int);
  static const fn real = next_symbol<fn>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  using fn = int (*)(SSL*, const void*, int);
  static const fn real = next_symbol<fn>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  using fn = int (*)(SSL*);
  static const fn real = next_symbol<fn>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

int SSL_accept(SSL* ssl) {
  using fn = int (*)(SSL*);
  static const fn real = next_symbol<fn>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"
