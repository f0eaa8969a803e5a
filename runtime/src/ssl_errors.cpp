// Flaws of CAF 0.17's TLS sessions, worked around by taking the place of
// some of libssl's (and libc's) functions for the whole process (this
// library is loaded before them) and calling the real ones.
//
// The error queue: CAF reads OpenSSL's per-thread error queue through
// SSL_get_error without clearing it first. A peer that closes a TLS
// connection without close_notify leaves an "unexpected EOF" error on the
// I/O thread, and the next SSL_read of any other connection on that thread
// that merely wants more data is then taken as fatal: CAF drops a healthy
// link (remote_link_unreachable). Any client that disconnects, a failed
// handshake or a port probe would cut a node off its peers. The same holds
// for handshakes: after a refused peer, the next connection that thread
// set up (a node dialing a driver to return a result, say) failed silently
// and the driver waited forever. Newer CAF clears the queue before each
// call; these wrappers do the same.
//
// Handshakes: a side with data queued before its handshake is done (CAF
// writes its own greeting at once) retries the handshake each time the
// socket is writable, which it always is: the I/O thread spins while the
// peer is silent, and forever if the peer never answers (a silent or frozen
// process, a plaintext client that says nothing). Such a connection is never
// closed, so the actor system cannot even shut down. Newer CAF stops
// writing until the handshake is done. Here, a handshake retried at once
// waits up to 1 ms for the peer's data instead of spinning, and one not
// done within the handshake timeout fails, which makes CAF close the
// connection.
//
// CAF reports any failed handshake as a disconnect; the wrappers keep
// OpenSSL's reason for the peer's port (`tls_failure`), so that errors and
// logs can say what went wrong. Only CAF's calls: the data path reports its
// own failures.
//
// SIGPIPE: around every read and write CAF blocks SIGPIPE, polls for a
// pending one and restores the signal mask, three system calls that took
// about 15% of all CPU time in a task benchmark over TLS, because OpenSSL's
// socket BIO writes with write(2). CAF's sessions get a socket BIO that
// sends with MSG_NOSIGNAL instead (SSL_set_fd called from libcaf_openssl),
// so no SIGPIPE can arise there, and CAF's calls of pthread_sigmask and
// sigtimedwait return at once. Calls from anywhere else are untouched.

#include <dlfcn.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "caraway/log.hpp"
#include "caraway/node/data_tls.hpp"
#include "caraway/runtime/connect.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

template <class F>
F next_symbol(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

std::atomic<int64_t> handshake_timeout_ms{10000};

// Where libcaf_openssl's code lies; empty until `find_caf_openssl`.
std::atomic<uintptr_t> caf_openssl_begin{0};
std::atomic<uintptr_t> caf_openssl_end{0};

void find_caf_openssl() {
  if (caf_openssl_end.load() != 0)
    return;
  dl_iterate_phdr(
    [](dl_phdr_info* info, size_t, void*) {
      if (info->dlpi_name == nullptr
          || std::string{info->dlpi_name}.find("libcaf_openssl")
               == std::string::npos)
        return 0;
      for (int i = 0; i < info->dlpi_phnum; ++i) {
        auto& ph = info->dlpi_phdr[i];
        if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) != 0) {
          caf_openssl_begin = info->dlpi_addr + ph.p_vaddr;
          caf_openssl_end = info->dlpi_addr + ph.p_vaddr + ph.p_memsz;
        }
      }
      return 1;
    },
    nullptr);
}

// Whether the call returning to `address` came from libcaf_openssl.
bool from_caf_openssl(void* address) {
  auto at = reinterpret_cast<uintptr_t>(address);
  return at >= caf_openssl_begin.load(std::memory_order_relaxed)
         && at < caf_openssl_end.load(std::memory_order_relaxed);
}

// A handshake under way, kept with its SSL object until it is done.
struct handshake {
  clock_type::time_point started;
  clock_type::time_point last_try;
  bool expired = false;
};

void free_handshake(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<handshake*>(ptr);
}

int handshake_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr,
                                                &free_handshake);
  return index;
}

handshake* handshake_of(const SSL* ssl) {
  return static_cast<handshake*>(SSL_get_ex_data(ssl, handshake_index()));
}

// The peer's address and port (0 if unknown).
std::pair<std::string, uint16_t> peer_of(const SSL* ssl) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  int fd = SSL_get_fd(ssl);
  if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0
      || addr.ss_family != AF_INET)
    return {"a peer", 0};
  auto& in = reinterpret_cast<sockaddr_in&>(addr);
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
  return {text, ntohs(in.sin_port)};
}

// "host:port", or "a peer" once the socket has no peer any more.
std::string peer_text(const std::pair<std::string, uint16_t>& peer) {
  return peer.second == 0 ? peer.first
                          : peer.first + ":" + std::to_string(peer.second);
}

std::mutex failures_mtx;
// The latest failure reason per peer port, a few dozen at most.
std::map<uint16_t, std::string> failures;

// What OpenSSL's latest error says, in words for a user.
std::string reason_text(unsigned long code) {
  auto reason = ERR_GET_REASON(code);
  const char* text = ERR_reason_error_string(code);
  std::string raw = text != nullptr ? text : "unknown error";
  switch (reason) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_HTTP_REQUEST:
      return "it speaks another protocol, not TLS (" + raw + ")";
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
      return "its certificate is not signed by this process' CA, or not "
             "valid now ("
             + raw + ")";
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return "it refused this process' certificate (" + raw + ")";
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return "it showed no certificate (" + raw + ")";
    default:
      return raw;
  }
}

// Empties this thread's error queue, which is nearly always empty already.
void clear_errors() {
  if (ERR_peek_error() != 0)
    ERR_clear_error();
}

// After CAF's call on `ssl` returned `rc`: keeps the reason if it failed
// for good.
void note_failure(const SSL* ssl, int rc, bool accepting) {
  if (rc > 0)
    return;
  auto code = ERR_peek_last_error();
  if (code == 0)
    return;
  auto peer = peer_of(ssl);
  auto why = reason_text(code);
  if (accepting)
    CARAWAY_LOG(warning, runtime) << "refusing a TLS connection"
                                  << caraway::log::kv("peer", peer_text(peer))
                                  << caraway::log::kv("why", why);
  std::lock_guard<std::mutex> guard{failures_mtx};
  if (failures.size() >= 64)
    failures.erase(failures.begin());
  failures[peer.second] = std::move(why);
}

// One step of SSL_connect or SSL_accept (`real`), called by CAF if `caf`.
int handshake_step(int (*real)(SSL*), SSL* ssl, bool accepting, bool caf) {
  clear_errors();
  auto now = clock_type::now();
  auto* state = handshake_of(ssl);
  if (state == nullptr) {
    state = new handshake{now, now};
    if (SSL_set_ex_data(ssl, handshake_index(), state) != 1) {
      delete state;
      return real(ssl);
    }
  } else if (state->expired) {
    return -1;
  } else if (now - state->started
             > std::chrono::milliseconds(handshake_timeout_ms.load())) {
    state->expired = true;
    CARAWAY_LOG(warning, runtime)
      << "closing a connection whose TLS handshake did not finish in time"
      << caraway::log::kv("peer", peer_text(peer_of(ssl)))
      << caraway::log::kv("timeout_ms", handshake_timeout_ms.load());
    return -1;
  } else if (now - state->last_try < std::chrono::microseconds(100)) {
    // Retried at once: wait a little for the peer instead of spinning.
    pollfd p{SSL_get_rfd(ssl), POLLIN, 0};
    if (p.fd >= 0)
      ::poll(&p, 1, 1);
  }
  auto rc = real(ssl);
  if (rc == 1) {
    SSL_set_ex_data(ssl, handshake_index(), nullptr);
    delete state;
  } else {
    state->last_try = clock_type::now();
    if (caf)
      note_failure(ssl, rc, accepting);
  }
  return rc;
}

} // namespace

namespace caraway::runtime {

void set_tls_handshake_timeout(std::chrono::milliseconds timeout) {
  handshake_timeout_ms = std::max<int64_t>(timeout.count(), 1);
  find_caf_openssl();
}

std::string tls_failure(uint16_t port) {
  std::lock_guard<std::mutex> guard{failures_mtx};
  auto i = failures.find(port);
  if (i == failures.end())
    return {};
  auto why = std::move(i->second);
  failures.erase(i);
  return why;
}

} // namespace caraway::runtime

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  using fn = int (*)(SSL*, void*, int);
  static const fn real = next_symbol<fn>("SSL_read");
  clear_errors();
  auto rc = real(ssl, buf, num);
  // In TLS 1.3 a server refuses the client's certificate after the
  // client's handshake is done: the client reads the alert.
  if (rc <= 0 && from_caf_openssl(__builtin_return_address(0)))
    note_failure(ssl, rc, false);
  return rc;
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  using fn = int (*)(SSL*, const void*, int);
  static const fn real = next_symbol<fn>("SSL_write");
  clear_errors();
  return real(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  using fn = int (*)(SSL*);
  static const fn real = next_symbol<fn>("SSL_connect");
  return handshake_step(real, ssl, false,
                        from_caf_openssl(__builtin_return_address(0)));
}

int SSL_accept(SSL* ssl) {
  using fn = int (*)(SSL*);
  static const fn real = next_symbol<fn>("SSL_accept");
  return handshake_step(real, ssl, true,
                        from_caf_openssl(__builtin_return_address(0)));
}

int SSL_set_fd(SSL* ssl, int fd) {
  using fn = int (*)(SSL*, int);
  static const fn real = next_symbol<fn>("SSL_set_fd");
  if (!from_caf_openssl(__builtin_return_address(0)))
    return real(ssl, fd);
  auto* bio = caraway::node::data::make_socket_bio(fd);
  if (bio == nullptr)
    return 0;
  // One BIO both ways: SSL_set_bio takes the one reference.
  SSL_set_bio(ssl, bio, bio);
  return 1;
}

int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  using fn = int (*)(int, const sigset_t*, sigset_t*);
  static const fn real = next_symbol<fn>("pthread_sigmask");
  if (from_caf_openssl(__builtin_return_address(0))) {
    // Only CAF's restore reads this.
    if (old != nullptr)
      sigemptyset(old);
    return 0;
  }
  return real(how, set, old);
}

int sigtimedwait(const sigset_t* set, siginfo_t* info,
                 const struct timespec* timeout) {
  using fn = int (*)(const sigset_t*, siginfo_t*, const struct timespec*);
  static const fn real = next_symbol<fn>("sigtimedwait");
  if (from_caf_openssl(__builtin_return_address(0))) {
    errno = EAGAIN;
    return -1;
  }
  return real(set, info, timeout);
}

// A handshake that ran out of time is an error, not a wait for more data.
int SSL_get_error(const SSL* ssl, int ret) {
  using fn = int (*)(const SSL*, int);
  static const fn real = next_symbol<fn>("SSL_get_error");
  if (ret <= 0) {
    auto* state = handshake_of(ssl);
    if (state != nullptr && state->expired)
      return SSL_ERROR_SSL;
  }
  return real(ssl, ret);
}

} // extern "C"
