#include "caraway/node/shared_store.hpp"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "caraway/log.hpp"
#include "socket_io.hpp"

namespace caraway::node {

// The store protocol between a worker and its node: fixed-size records in
// host byte order (both ends run on one machine). On connecting, the server
// sends the segment's size with its descriptor (SCM_RIGHTS).
namespace {

enum class op : uint32_t {
  create = 1,       // a = size -> a = offset; held by the connection
  seal = 2,         // id, a = offset, flag = primary
  get = 3,          // id -> a = offset, b = size; held by the connection
  unpin = 4,        // a = offset; no reply
  release = 5,      // id; no reply
  release_copy = 6, // id; no reply
  release_owned = 7, // a = worker -> a = count
  stats = 8,        // -> a = used, b = capacity, c = objects
};

enum class status : uint64_t { ok = 0, none = 1, refused = 2 };

struct request {
  op code;
  uint32_t flag;
  uint64_t hi;
  uint64_t lo;
  uint64_t a;
};

struct reply {
  status st;
  uint64_t a;
  uint64_t b;
  uint64_t c;
};

// What the server sends on connecting: a number, with room for one
// descriptor.
struct fd_message {
  uint64_t value = 0;
  iovec iov{&value, sizeof(value)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};

  fd_message() {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
  }

  fd_message(const fd_message&) = delete;
  fd_message& operator=(const fd_message&) = delete;
};

bool replies(op code) {
  return code != op::unpin && code != op::release
         && code != op::release_copy;
}

} // namespace

// -- shm_segment --------------------------------------------------------------

std::shared_ptr<shm_segment> shm_segment::attach(int fd, uint64_t size,
                                                 std::string& why) {
  auto addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) {
    why = "cannot map the object store's shared memory ("
          + std::to_string(size) + " bytes): " + data::last_error();
    ::close(fd);
    return nullptr;
  }
  return std::shared_ptr<shm_segment>{
    new shm_segment(fd, static_cast<char*>(addr), size)};
}

std::shared_ptr<shm_segment> shm_segment::create(uint64_t size,
                                                 std::string& why) {
  int fd = ::memfd_create("caraway-object-store", MFD_CLOEXEC);
  if (fd < 0) {
    why = "memfd_create failed: " + data::last_error();
    return nullptr;
  }
  // Sparse: the pages are taken as objects are written.
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    why = "cannot size the object store's shared memory to "
          + std::to_string(size) + " bytes: " + data::last_error();
    ::close(fd);
    return nullptr;
  }
  return attach(fd, size, why);
}

shm_segment::~shm_segment() {
  ::munmap(base_, size_);
  ::close(fd_);
}

// -- store_server -------------------------------------------------------------

bool same_user(const store_peer& peer, std::string& why) {
  if (peer.uid == ::getuid())
    return true;
  why = "it runs as user " + std::to_string(peer.uid) + ", not "
        + std::to_string(::getuid());
  return false;
}

namespace {

// The parent of `pid` (from /proc), or -1.
pid_t parent_of(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat;
  std::getline(in, stat);
  // The command name, in parentheses, may hold anything: the state and the
  // parent follow the last ')'.
  auto end = stat.rfind(')');
  if (end == std::string::npos)
    return -1;
  std::istringstream rest{stat.substr(end + 1)};
  char state = 0;
  pid_t parent = -1;
  rest >> state >> parent;
  return rest ? parent : -1;
}

} // namespace

bool own_child(const store_peer& peer, std::string& why) {
  if (!same_user(peer, why))
    return false;
  if (parent_of(peer.pid) == ::getpid())
    return true;
  why = "it is not a worker process this node started";
  return false;
}

store_server::store_server(store_memory_ptr store,
                           std::shared_ptr<shm_segment> segment,
                           std::string path, store_peer_check may_connect)
  : store_(std::move(store)),
    segment_(std::move(segment)),
    path_(std::move(path)),
    may_connect_(std::move(may_connect)) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(addr.sun_path))
    throw std::runtime_error("cannot serve the object store on " + path_
                             + ": the path is longer than "
                             + std::to_string(sizeof(addr.sun_path) - 1)
                             + " bytes (choose a shorter --data-dir)");
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw std::runtime_error("cannot serve the object store: "
                             + data::last_error());
  ::unlink(path_.c_str()); // left by a daemon that died
  // Only this user's processes may connect: the socket lends out every
  // object of the node.
  auto old_mask = ::umask(0077);
  bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
                 == 0;
  ::umask(old_mask);
  if (!bound || ::listen(fd, 64) != 0) {
    auto why = data::last_error();
    ::close(fd);
    throw std::runtime_error("cannot serve the object store on " + path_
                             + ": " + why);
  }
  acceptor_ = std::make_unique<data::acceptor>(
    fd, 1024, [this](int conn) { serve(conn); }, "object store");
}

store_server::~store_server() {
  stop();
}

size_t store_server::connections() const {
  return acceptor_->connections();
}

void store_server::stop() {
  acceptor_->stop();
  ::unlink(path_.c_str());
}

void store_server::serve(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  store_peer peer;
  std::string why = "the kernel did not tell who it is";
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    peer.pid = cred.pid;
    peer.uid = cred.uid;
    if (may_connect_(peer, why))
      why.clear();
  }
  if (!why.empty()) {
    CARAWAY_LOG(warning, object_store)
      << "refusing an object store connection: " << why
      << log::kv("pid", peer.pid) << log::kv("uid", peer.uid);
    return;
  }
  // The segment's size, with its descriptor.
  fd_message hello;
  hello.value = segment_->size();
  auto cmsg = CMSG_FIRSTHDR(&hello.msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  int seg_fd = segment_->fd();
  std::memcpy(CMSG_DATA(cmsg), &seg_fd, sizeof(int));
  if (::sendmsg(fd, &hello.msg, MSG_NOSIGNAL)
      != static_cast<ssize_t>(sizeof(hello.value)))
    return;
  // What this connection holds, by offset: memory it was given and has not
  // let go of (its unsealed objects among it). Dropped when it closes.
  std::unordered_map<uint64_t, std::pair<wire::buffer_ptr, uint64_t>> held;
  auto base = segment_->base();
  auto hold = [&](wire::buffer_ptr buf) {
    auto off = static_cast<uint64_t>(buf->data() - base);
    auto& entry = held[off];
    entry.first = std::move(buf);
    ++entry.second;
    return off;
  };
  request req;
  while (data::recv_all(fd, reinterpret_cast<char*>(&req), sizeof(req))) {
    reply rep{status::ok, 0, 0, 0};
    wire::object_id id{req.hi, req.lo};
    switch (req.code) {
      case op::create:
        if (auto buf = store_->allocate(req.a))
          rep.a = hold(std::move(buf));
        else
          rep.st = status::none;
        break;
      case op::seal: {
        auto i = held.find(req.a);
        if (i == held.end())
          rep.st = status::refused;
        else
          store_->seal(id, i->second.first, req.flag != 0);
        break;
      }
      case op::get:
        if (auto buf = store_->get(id)) {
          rep.b = buf->size();
          rep.a = hold(std::move(buf));
        } else {
          rep.st = status::none;
        }
        break;
      case op::unpin: {
        auto i = held.find(req.a);
        if (i != held.end() && --i->second.second == 0)
          held.erase(i);
        break;
      }
      case op::release:
        store_->release(id);
        break;
      case op::release_copy:
        store_->release_copy(id);
        break;
      case op::release_owned:
        rep.a = store_->release_owned_by(req.a);
        break;
      case op::stats: {
        auto st = store_->get_stats();
        rep.a = st.used_bytes;
        rep.b = st.capacity_bytes;
        rep.c = st.objects;
        break;
      }
      default:
        CARAWAY_LOG(warning, object_store)
          << "closing an object store connection that sent a malformed "
             "request";
        return;
    }
    if (replies(req.code)
        && !data::send_all(fd, reinterpret_cast<const char*>(&rep),
                           sizeof(rep)))
      return;
  }
}

// -- the client ---------------------------------------------------------------

namespace {

class store_client : public store_memory,
                     public std::enable_shared_from_this<store_client> {
public:
  store_client(int fd, std::shared_ptr<shm_segment> segment)
    : fd_(fd), segment_(std::move(segment)) {
  }

  ~store_client() override {
    ::close(fd_);
  }

  wire::buffer_ptr allocate(size_t size) override {
    reply rep;
    if (!call({op::create, 0, 0, 0, size}, rep) || rep.st != status::ok)
      return nullptr;
    return wrap(rep.a, size);
  }

  void seal(const wire::object_id& id, wire::buffer_ptr buf,
            bool primary) override {
    if (!buf || !segment_->holds(buf->data(), buf->size())) {
      // Memory from elsewhere: the node's store holds only its own.
      auto copy = allocate(buf ? buf->size() : 0);
      if (!copy)
        return;
      if (buf && buf->size() > 0)
        std::memcpy(copy->data(), buf->data(), buf->size());
      buf = std::move(copy);
    }
    reply rep;
    call({op::seal, primary ? 1u : 0u, id.hi, id.lo,
          static_cast<uint64_t>(buf->data() - segment_->base())},
         rep);
  }

  wire::buffer_ptr get(const wire::object_id& id) const override {
    reply rep;
    if (!call({op::get, 0, id.hi, id.lo, 0}, rep) || rep.st != status::ok
        || rep.b > segment_->size() || rep.a > segment_->size() - rep.b)
      return nullptr;
    return wrap(rep.a, rep.b);
  }

  void release(const wire::object_id& id) override {
    reply rep;
    call({op::release, 0, id.hi, id.lo, 0}, rep);
  }

  void release_copy(const wire::object_id& id) override {
    reply rep;
    call({op::release_copy, 0, id.hi, id.lo, 0}, rep);
  }

  size_t release_owned_by(uint64_t worker) override {
    reply rep;
    if (!call({op::release_owned, 0, 0, 0, worker}, rep))
      return 0;
    return rep.a;
  }

  stats get_stats() const override {
    stats result;
    reply rep;
    if (call({op::stats, 0, 0, 0, 0}, rep)) {
      result.used_bytes = rep.a;
      result.capacity_bytes = rep.b;
      result.objects = rep.c;
    }
    return result;
  }

private:
  // Sends `req` and waits for its reply if it has one; false once the
  // connection broke (the node is gone: the store then seems empty).
  bool call(const request& req, reply& rep) const {
    std::lock_guard<std::mutex> guard{mtx_};
    if (broken_)
      return false;
    if (!data::send_all(fd_, reinterpret_cast<const char*>(&req), sizeof(req))
        || (replies(req.code)
            && !data::recv_all(fd_, reinterpret_cast<char*>(&rep),
                               sizeof(rep)))) {
      broken_ = true;
      return false;
    }
    return true;
  }

  // Memory the node lent this process; given back when the last holder lets
  // go. The mapping outlives the client as long as such a buffer does.
  wire::buffer_ptr wrap(uint64_t off, size_t size) const {
    std::weak_ptr<const store_client> weak = shared_from_this();
    auto seg = segment_;
    return std::make_shared<wire::buffer>(
      seg->base() + off, size, [weak, seg, off](char*, size_t) {
        if (auto self = weak.lock()) {
          reply rep;
          self->call({op::unpin, 0, 0, 0, off}, rep);
        }
      });
  }

  int fd_;
  std::shared_ptr<shm_segment> segment_;
  mutable std::mutex mtx_;
  mutable bool broken_ = false;
};

} // namespace

store_memory_ptr connect_store(const std::string& path, std::string& why) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    why = "the path " + path + " is too long for a Unix socket";
    return nullptr;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0
      || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
           != 0) {
    why = "cannot connect to the node's object store at " + path + ": "
          + data::last_error();
    if (fd >= 0)
      ::close(fd);
    return nullptr;
  }
  fd_message hello;
  auto n = ::recvmsg(fd, &hello.msg, MSG_CMSG_CLOEXEC);
  auto cmsg = CMSG_FIRSTHDR(&hello.msg);
  if (n != static_cast<ssize_t>(sizeof(hello.value)) || cmsg == nullptr
      || cmsg->cmsg_type != SCM_RIGHTS) {
    why = "the node's object store at " + path
          + " did not send its shared memory";
    ::close(fd);
    return nullptr;
  }
  int seg_fd = -1;
  std::memcpy(&seg_fd, CMSG_DATA(cmsg), sizeof(int));
  auto segment = shm_segment::attach(seg_fd, hello.value, why);
  if (!segment) {
    ::close(fd);
    return nullptr;
  }
  return std::make_shared<store_client>(fd, std::move(segment));
}

} // namespace caraway::node
