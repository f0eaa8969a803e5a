// Mutual TLS on the object data path: pulls between stores that hold
// certificates of one CA, and what a server does with every other peer.

#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "caraway/node/data_server.hpp"
#include "caraway/node/data_tls.hpp"
#include "caraway/node/object_puller.hpp"
#include "caraway/node/store_memory.hpp"
#include "caraway/runtime/tls_files.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

using namespace caraway;
namespace tls = caraway::runtime::tls;

namespace {

constexpr uint64_t mib = uint64_t{1} << 20;

// A context of the files `name`.pem and `name`.key in `dir`, signed by the
// CA in `dir`.
node::data::tls_context_ptr context(const test::temp_dir& dir,
                                    const std::string& name) {
  std::string why;
  auto ctx = node::data::make_tls_context(
    dir.file("ca.pem"), dir.file(name + ".pem"), dir.file(name + ".key"), why);
  INFO(why);
  REQUIRE(static_cast<bool>(ctx));
  return ctx;
}

// The cluster's CA and, in `rogue`, another one.
struct pki {
  test::temp_dir cluster;
  test::temp_dir rogue;

  pki() {
    tls::init(cluster.tls);
    tls::init(rogue.tls);
  }
};

// A store serving with the cluster's node certificate, and an object in it.
struct tls_server {
  node::store_memory_ptr store = node::make_store_memory(64 * mib, 64 * mib);
  node::data_server server;
  wire::object_id id{9, 1};
  wire::buffer_ptr original;

  explicit tls_server(node::data::tls_context_ptr ctx)
    : server(store, [&] {
        node::data_server::options opts;
        opts.chunk_bytes = 1 * mib;
        opts.tls = std::move(ctx);
        return opts;
      }()) {
    original = store->allocate(5 * mib + 3);
    REQUIRE(static_cast<bool>(original));
    for (size_t i = 0; i < original->size(); ++i)
      original->data()[i] = static_cast<char>(i % 253);
    store->seal(id, original);
  }

  // Pulls the object with `ctx` (null: plain TCP) into a fresh store.
  wire::buffer_ptr pull(node::data::tls_context_ptr ctx, std::string& why) {
    node::object_puller::options opts;
    opts.timeout = std::chrono::milliseconds(5000);
    opts.tls = std::move(ctx);
    node::object_puller puller{node::make_store_memory(64 * mib, 64 * mib),
                               opts};
    return puller.fetch(id, server.address(), why);
  }

  bool intact(const wire::buffer_ptr& copy) const {
    return copy && copy->size() == original->size()
           && std::memcmp(copy->data(), original->data(), copy->size()) == 0;
  }
};

} // namespace

TEST_CASE("pullers with a certificate of the cluster copy objects over TLS") {
  pki keys;
  tls_server node{context(keys.cluster, "node")};
  std::string why;
  // Nodes pull from nodes; workers and drivers hold client certificates.
  for (auto name : {"node", "client"}) {
    CAPTURE(name);
    auto copy = node.pull(context(keys.cluster, name), why);
    CHECK(why.empty());
    CHECK(node.intact(copy));
  }
  CHECK(test::wait_until([&] { return node.server.served_objects() == 2; }));
  CHECK(node.server.refused_connections() == 0);
}

TEST_CASE("a TLS data server refuses peers of no certificate or another CA") {
  pki keys;
  tls_server node{context(keys.cluster, "node")};
  std::string why;
  SUBCASE("a plaintext puller") {
    CHECK_FALSE(static_cast<bool>(node.pull(nullptr, why)));
    CHECK(why.find("no answer") != std::string::npos);
  }
  SUBCASE("a puller whose certificate another CA signed") {
    CHECK_FALSE(static_cast<bool>(node.pull(context(keys.rogue, "node"), why)));
    CHECK(why.find("TLS handshake failed") != std::string::npos);
  }
  SUBCASE("a puller with an expired certificate") {
    tls::issue(keys.cluster.tls, "expired", {-10, 1});
    CHECK_FALSE(
      static_cast<bool>(node.pull(context(keys.cluster, "expired"), why)));
    // TLS 1.3 checks the client's certificate after the client's side of
    // the handshake is done: the puller learns it at its first read.
    CHECK(why.find("certificate expired") != std::string::npos);
  }
  CHECK(
    test::wait_until([&] { return node.server.refused_connections() == 1; }));
  CHECK(node.server.served_objects() == 0);
  // The server serves on.
  why.clear();
  CHECK(node.intact(node.pull(context(keys.cluster, "client"), why)));
  CHECK(why.empty());
}

TEST_CASE("a TLS puller refuses a server of another CA or of none") {
  pki keys;
  std::string why;
  SUBCASE("another CA") {
    tls_server rogue{context(keys.rogue, "node")};
    CHECK_FALSE(
      static_cast<bool>(rogue.pull(context(keys.cluster, "client"), why)));
    CHECK(why.find("TLS handshake failed") != std::string::npos);
    CHECK(why.find("certificate") != std::string::npos);
    CHECK(rogue.server.served_objects() == 0);
  }
  SUBCASE("plain TCP") {
    tls_server plain{nullptr};
    CHECK_FALSE(
      static_cast<bool>(plain.pull(context(keys.cluster, "client"), why)));
    CHECK(why.find("TLS handshake failed") != std::string::npos);
    CHECK(plain.server.served_objects() == 0);
  }
}

TEST_CASE("a data TLS context names the file it cannot use") {
  pki keys;
  auto& dir = keys.cluster;
  std::string why;
  SUBCASE("a missing certificate") {
    CHECK_FALSE(static_cast<bool>(node::data::make_tls_context(
      dir.file("ca.pem"), dir.file("none.pem"), dir.file("node.key"), why)));
    CHECK(why.find("none.pem") != std::string::npos);
  }
  SUBCASE("a key of another certificate") {
    CHECK_FALSE(static_cast<bool>(node::data::make_tls_context(
      dir.file("ca.pem"), dir.file("node.pem"), dir.file("client.key"), why)));
    CHECK(why.find("client.key") != std::string::npos);
  }
  SUBCASE("a missing CA") {
    CHECK_FALSE(static_cast<bool>(node::data::make_tls_context(
      dir.file("none.pem"), dir.file("node.pem"), dir.file("node.key"), why)));
    CHECK(why.find("none.pem") != std::string::npos);
  }
}
