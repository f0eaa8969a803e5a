// The owner's task submitter: lease requests, batches to leased executors,
// leases kept for reuse and given back.

#include <doctest/doctest.h>

#include "owner/task_submitter.hpp"

#include <map>

using namespace caraway;
using namespace caraway::owner;
using namespace std::chrono_literals;

namespace {

const wire::unique_id local{1, 1};
const wire::unique_id other{2, 2};

wire::task_spec task(uint64_t n, uint32_t depth = 0, double cpus = 1) {
  wire::task_spec spec;
  spec.id = {7, n};
  spec.depth = depth;
  spec.resources = {{"CPU", cpus}};
  return spec;
}

std::vector<uint64_t> ids(const task_submitter::batch& b) {
  std::vector<uint64_t> result;
  for (auto& spec : b.tasks)
    result.push_back(spec.id.lo);
  return result;
}

struct fixture {
  task_submitter::options opts;
  task_submitter sub;
  task_submitter::actions out;

  explicit fixture(uint32_t max_requests = 10) {
    opts.max_pending_requests = max_requests;
    opts.linger = 5ms;
    sub = task_submitter{opts};
    sub.local_node(local, out);
  }

  void submit(uint64_t first, uint64_t last, uint32_t depth = 0) {
    for (auto n = first; n <= last; ++n)
      sub.submit(task(n, depth), out);
  }

  task_submitter::actions take() {
    auto result = std::move(out);
    out = {};
    return result;
  }
};

} // namespace

TEST_CASE("task_submitter asks for a lease per waiting task, up to a bound") {
  fixture f;
  f.submit(1, 3);
  auto acts = f.take();
  REQUIRE(acts.requests.size() == 3);
  for (auto& r : acts.requests) {
    CHECK(r.node == local);
    CHECK_FALSE(r.spilled);
    CHECK(r.shape.resources == wire::resource_set{{"CPU", 1}});
  }
  CHECK(acts.batches.empty());
  f.submit(4, 40);
  CHECK(f.take().requests.size() == 7); // 10 in flight at most
  CHECK(f.sub.requests() == 10);
  CHECK(f.sub.queued() == 40);
}

TEST_CASE("task_submitter sends batches to leased executors and reuses "
          "them") {
  fixture f{2};
  f.submit(1, 40);
  auto acts = f.take();
  REQUIRE(acts.requests.size() == 2);
  auto t1 = acts.requests[0].token;
  auto t2 = acts.requests[1].token;
  // First lease: half the queue over the leases held, at most 16 tasks.
  f.sub.granted(t1, {}, 100, local, f.out);
  acts = f.take();
  REQUIRE(acts.batches.size() == 1);
  CHECK(acts.batches[0].lease == 100);
  CHECK(acts.batches[0].node == local);
  CHECK(acts.batches[0].tasks.size() == 16);
  CHECK(ids(acts.batches[0]).front() == 1);
  // The queue still holds tasks: another request replaces the granted one.
  CHECK(acts.requests.size() == 1);
  // Second lease, on another node: half the rest over two leases.
  f.sub.granted(t2, {}, 200, other, f.out);
  acts = f.take();
  REQUIRE(acts.batches.size() == 1);
  CHECK(acts.batches[0].node == other);
  CHECK(acts.batches[0].tasks.size() == 6);
  CHECK(ids(acts.batches[0]).front() == 17);
  // A lease whose batch ran takes the next one: no new request (the two
  // in flight stay).
  auto now = task_submitter::clock::now();
  f.sub.done(100, now, f.out);
  acts = f.take();
  REQUIRE(acts.batches.size() == 1);
  CHECK(acts.batches[0].lease == 100);
  CHECK(ids(acts.batches[0]).front() == 23);
  CHECK(acts.requests.empty());
  CHECK(acts.returns.empty());
}

TEST_CASE("task_submitter keeps an idle lease briefly, then gives it back") {
  fixture f{1};
  f.submit(1, 1);
  auto token = f.take().requests.at(0).token;
  f.sub.granted(token, {}, 100, local, f.out);
  CHECK(f.take().batches.size() == 1);
  auto now = task_submitter::clock::now();
  f.sub.done(100, now, f.out);
  CHECK(f.take().returns.empty());
  // The next task of the shape within the linger time reuses the lease.
  f.submit(2, 2);
  auto acts = f.take();
  CHECK(acts.requests.empty());
  REQUIRE(acts.batches.size() == 1);
  CHECK(acts.batches[0].lease == 100);
  f.sub.done(100, now, f.out);
  // Not yet due: nothing goes back, and the timer is for the due time.
  CHECK(f.sub.expire(now + 1ms, f.out) == now + 5ms);
  CHECK(f.take().returns.empty());
  CHECK(f.sub.expire(now + 5ms, f.out) == task_submitter::clock::time_point::max());
  acts = f.take();
  REQUIRE(acts.returns.size() == 1);
  CHECK(acts.returns[0].lease == 100);
  CHECK(acts.returns[0].node == local);
  CHECK(f.sub.leases() == 0);
}

TEST_CASE("task_submitter gives back a lease granted with nothing to run") {
  fixture f{2};
  f.submit(1, 2);
  auto acts = f.take();
  REQUIRE(acts.requests.size() == 2);
  f.sub.granted(acts.requests[0].token, {}, 100, local, f.out);
  CHECK(f.take().batches.at(0).tasks.size() == 1);
  f.sub.done(100, task_submitter::clock::now(), f.out);
  CHECK(f.take().batches.at(0).tasks.size() == 1);
  // Both tasks went out on the first lease: the second comes too late.
  f.sub.granted(acts.requests[1].token, {}, 200, local, f.out);
  acts = f.take();
  CHECK(acts.batches.empty());
  REQUIRE(acts.returns.size() == 1);
  CHECK(acts.returns[0].lease == 200);
  // A grant for a request given up on goes back too.
  f.sub.granted(12345, {}, 300, other, f.out);
  acts = f.take();
  REQUIRE(acts.returns.size() == 1);
  CHECK(acts.returns[0].node == other);
}

TEST_CASE("task_submitter follows a spillback to the node named") {
  fixture f{1};
  f.submit(1, 1);
  auto token = f.take().requests.at(0).token;
  f.sub.spilled(token, other, f.out);
  auto acts = f.take();
  REQUIRE(acts.requests.size() == 1);
  CHECK(acts.requests[0].token == token);
  CHECK(acts.requests[0].node == other);
  CHECK(acts.requests[0].spilled);
  CHECK(f.sub.requests() == 1);
  f.sub.granted(token, {}, 100, other, f.out);
  acts = f.take();
  REQUIRE(acts.batches.size() == 1);
  CHECK(acts.batches[0].node == other);
}

TEST_CASE("task_submitter drops the leases and requests of a dead node") {
  fixture f{2};
  f.submit(1, 40);
  auto acts = f.take();
  auto t1 = acts.requests.at(0).token;
  auto t2 = acts.requests.at(1).token;
  f.sub.granted(t1, {}, 100, other, f.out);
  f.sub.spilled(t2, other, f.out);
  f.take();
  CHECK(f.sub.leases() == 1);
  f.sub.node_died(other, f.out);
  CHECK(f.sub.leases() == 0);
  // The request sent on to the dead node is gone; one to the local node
  // replaces it (the other in flight was asked when the lease came).
  acts = f.take();
  REQUIRE(acts.requests.size() == 1);
  CHECK(acts.requests[0].node == local);
  CHECK_FALSE(f.sub.waiting(t2));
  CHECK(f.sub.requests() == 2);
  // The dead node's executor saying done changes nothing.
  f.sub.done(100, task_submitter::clock::now(), f.out);
  CHECK(f.take().batches.empty());
}

TEST_CASE("task_submitter runs deeper tasks and handed-back tasks first") {
  fixture f{1};
  f.submit(1, 2);
  f.submit(3, 3, 2); // nested: runs before the driver's tasks
  auto token = f.take().requests.at(0).token;
  f.sub.hand_back({task(9), task(8)}, f.out);
  f.sub.granted(token, {}, 100, local, f.out);
  auto acts = f.take();
  REQUIRE(acts.batches.size() == 1);
  // Half of five over one lease is two: the deeper task, then the first
  // handed back.
  CHECK(ids(acts.batches[0]) == std::vector<uint64_t>{3, 9});
  f.sub.done(100, task_submitter::clock::now(), f.out);
  acts = f.take();
  REQUIRE(acts.batches.size() == 1);
  CHECK(ids(acts.batches[0]).front() == 8);
}

TEST_CASE("task_submitter retries failed requests only when resumed") {
  fixture f{1};
  f.submit(1, 1);
  auto token = f.take().requests.at(0).token;
  f.sub.failed(token);
  CHECK(f.take().requests.empty());
  CHECK(f.sub.requests() == 0);
  f.sub.resume(f.out);
  CHECK(f.take().requests.size() == 1);
}

TEST_CASE("task_submitter waits a moment for a busy lease before asking for "
          "another") {
  fixture f{4};
  f.submit(1, 1);
  auto token = f.take().requests.at(0).token;
  f.sub.granted(token, {}, 100, local, f.out);
  CHECK(f.take().batches.size() == 1);
  // Submit-then-get: the next task finds the lease busy, no request goes
  // out, and the lease's done takes it.
  f.submit(2, 2);
  auto acts = f.take();
  CHECK(acts.requests.empty());
  CHECK(acts.recheck);
  f.sub.done(100, task_submitter::clock::now(), f.out);
  acts = f.take();
  REQUIRE(acts.batches.size() == 1);
  CHECK(ids(acts.batches[0]) == std::vector<uint64_t>{2});
  // A long task: the lease stays busy, and the recheck asks for another.
  f.submit(3, 3);
  CHECK(f.take().recheck);
  f.sub.resume(f.out);
  acts = f.take();
  REQUIRE(acts.requests.size() == 1);
  CHECK_FALSE(acts.recheck);
}

TEST_CASE("task_submitter keeps strategies apart and spreads one task per "
          "lease") {
  fixture f{4};
  auto spread = task(1);
  spread.scheduling = wire::strategy::spread;
  auto pinned = task(2);
  pinned.scheduling = wire::strategy::node_affinity;
  pinned.affinity_node = other;
  f.sub.submit(spread, f.out);
  f.sub.submit(task(3), f.out);
  f.sub.submit(pinned, f.out);
  auto acts = f.take();
  // Three keys, one request each, each with its strategy.
  REQUIRE(acts.requests.size() == 3);
  std::map<wire::strategy, task_submitter::request> by;
  for (auto& r : acts.requests)
    by.emplace(r.shape.strategy, r);
  REQUIRE(by.size() == 3);
  CHECK(by.at(wire::strategy::node_affinity).shape.node == other);
  // More spread tasks: a lease takes one at a time.
  for (uint64_t n = 4; n <= 9; ++n) {
    auto more = task(n);
    more.scheduling = wire::strategy::spread;
    f.sub.submit(more, f.out);
  }
  f.take();
  f.sub.granted(by.at(wire::strategy::spread).token, {}, 100, local, f.out);
  acts = f.take();
  REQUIRE(acts.batches.size() == 1);
  CHECK(acts.batches[0].tasks.size() == 1);
  // A refused request hands back every queued task of its key, to fail.
  auto refused = f.sub.refused(by.at(wire::strategy::node_affinity).token);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].id == pinned.id);
  CHECK(f.sub.refused(by.at(wire::strategy::node_affinity).token).empty());
}

TEST_CASE("task_submitter asks where the arguments are, while that node "
          "lives") {
  fixture f{1};
  auto near = task(1);
  near.locality_node = other;
  f.sub.submit(near, f.out);
  f.sub.submit(task(2), f.out);
  auto acts = f.take();
  // Two keys: the task over data on `other` asks there, the other here.
  REQUIRE(acts.requests.size() == 2);
  std::map<wire::unique_id, task_submitter::request> by;
  for (auto& r : acts.requests)
    by.emplace(r.node, r);
  REQUIRE(by.count(other) == 1);
  REQUIRE(by.count(local) == 1);
  CHECK(by.at(other).shape.locality == other);
  CHECK(by.at(local).shape.locality.nil());
  // Once that node is dead, its tasks ask the local raylet again.
  f.sub.node_died(other, f.out);
  acts = f.take();
  REQUIRE(acts.requests.size() == 1);
  CHECK(acts.requests[0].node == local);
  CHECK(acts.requests[0].shape.locality == other);
}

TEST_CASE("scheduling keys are ordered strictly, equal exactly when ==") {
  std::vector<scheduling_key> keys;
  for (auto strategy : {wire::strategy::hybrid, wire::strategy::spread})
    for (bool soft : {false, true})
      for (auto node : {wire::unique_id{}, local, other})
        for (auto& resources :
             std::vector<wire::resource_set>{{},
                                             {{"CPU", 1}},
                                             {{"CPU", 2}},
                                             {{"CPU", 1}, {"GPU", 1}},
                                             {{"GPU", 1}},
                                             {{"CPU", 1}, {"pool", 0.5}}})
          keys.push_back({resources, strategy, node, soft, other});
  keys.push_back({{{"CPU", 1}}, wire::strategy::hybrid, {}, false, local});
  for (auto& a : keys)
    for (auto& b : keys) {
      auto same = !(a < b) && !(b < a);
      CHECK(same == (a == b));
      CHECK_FALSE((a < b && b < a));
      for (auto& c : keys)
        if (a < b && b < c)
          CHECK(a < c);
    }
}
