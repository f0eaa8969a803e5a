// A driver for the cluster tests: each mode exercises one cross-node path
// and prints what it saw, for the test script to check.

#include <caraway/caraway.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

std::string where() {
  return caraway::node_id();
}

// Runs a task that needs `there` and waits for it: from a worker node, its
// lease request goes on from this node's raylet to that of another worker
// node. "<this node> <that task's node>".
std::string call_across(const std::string& there) {
  auto r = caraway::task(where).resources({{there, 1}}).remote();
  return caraway::node_id() + " " + caraway::get(r, std::chrono::seconds(20));
}

// Occupies a CPU for a while, so that work has to spread.
std::string slow_where(int64_t ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return caraway::node_id();
}

// Runs until it is cancelled (30 s at most); returns its node's id.
std::string until_cancelled() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!caraway::cancelled() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return caraway::node_id();
}

// Submits a task that runs until cancelled, and waits for it.
std::string parent_of_waiter() {
  return caraway::get(caraway::task(until_cancelled).remote());
}

std::vector<double> produce(int64_t n) {
  std::vector<double> result(static_cast<size_t>(n));
  std::iota(result.begin(), result.end(), 0.0);
  return result;
}

// Returns the sum and where it ran, so the test sees both ends.
std::string consume(const std::vector<double>& xs) {
  auto sum = std::accumulate(xs.begin(), xs.end(), 0.0);
  return std::to_string(static_cast<int64_t>(sum)) + " " + caraway::node_id();
}

using doubles_ref = caraway::object_ref<std::vector<double>>;

// Reads the objects behind refs nested in its argument, wherever they are.
std::string read_nested(const std::vector<doubles_ref>& refs) {
  double total = 0;
  for (auto& ref : refs) {
    auto xs = caraway::get(ref, std::chrono::seconds(30));
    total = std::accumulate(xs.begin(), xs.end(), total);
  }
  return std::to_string(static_cast<int64_t>(total)) + " " + caraway::node_id();
}

// Puts objects on this node and returns refs to them inside a value.
std::vector<doubles_ref> make_nested(int64_t n) {
  return {caraway::put(produce(n)), caraway::put(produce(3))};
}

// Objects this node's store copied in from other nodes so far.
int64_t pulled() {
  return static_cast<int64_t>(caraway::object_store_stats().pulled_objects);
}

class tally {
public:
  tally() = default;

  // Takes a while to start, so that its handle can reach a task on another
  // node before the actor is alive.
  explicit tally(int64_t start_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(start_ms));
  }

  int64_t add(int64_t n) {
    return total_ += n;
  }

  // "<total> first|restarted <node>".
  std::string describe() const {
    return std::to_string(total_)
           + (caraway::was_restarted() ? " restarted " : " first ")
           + caraway::node_id();
  }

private:
  int64_t total_ = 0;
};

// Calls the actor behind a handle it was given, on whatever node it runs;
// returns the total and the node, or the error.
std::string add_to(caraway::actor_handle<tally> t, int64_t n) {
  try {
    return std::to_string(caraway::get(t.task(&tally::add).remote(n))) + " "
           + caraway::node_id();
  } catch (const caraway::actor_died_error& e) {
    return std::string{"actor_died: "} + e.what();
  }
}

// "CPU:4 ssd:2", as the test script spells resources.
std::string spell(const std::map<std::string, double>& xs) {
  std::ostringstream out;
  for (auto& [name, amount] : xs)
    out << (out.tellp() > 0 ? " " : "") << name << ':' << amount;
  return out.str();
}

// The cluster's resources as a task on some node sees them.
std::string resources_seen() {
  return "total " + spell(caraway::cluster_resources()) + " available "
         + spell(caraway::available_resources());
}

// A square that takes 10 ms: long enough for a queue to build on each node.
int64_t slow_square(int64_t i) {
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return i * i;
}

CARAWAY_REMOTE(slow_square)

// Holds its node's resources until the file at `path` exists, at most a
// minute: a task the test can see running where it is about to kill it.
int64_t hold_until(const std::string& path) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!std::ifstream{path} && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return 0;
}

// The namespace a task sees, and a named actor it makes there (detached:
// it outlives the task's handle, for the driver to find).
std::string ns_seen() {
  auto t = caraway::actor<tally>()
             .name("made-in-task")
             .lifetime(caraway::detached)
             .remote();
  caraway::get(t.task(&tally::add).remote(int64_t{1}), std::chrono::seconds(30));
  return caraway::get_namespace();
}

// Waits as hold_until does, then returns the length of `s`: its argument
// stays held by the task meanwhile.
int64_t length_after(const std::string& path, const std::string& s) {
  hold_until(path);
  return static_cast<int64_t>(s.size());
}

// Records metrics of its own, reading `data` (made on another node) first;
// returns its pid.
int64_t record_metrics(int64_t n, const std::vector<double>& data) {
  static caraway::metrics::counter items{
    "app_items_total", "Items the test's task counted.", {"kind"}};
  static caraway::metrics::histogram sizes{"app_item_size",
                                           "Sizes the test's task saw.",
                                           {1, 10}};
  items.inc(static_cast<double>(n), {{"kind", "fruit"}});
  sizes.observe(5);
  sizes.observe(static_cast<double>(data.size()));
  return getpid();
}

int64_t fail_with(const std::string& why) {
  throw std::runtime_error(why);
}

CARAWAY_REMOTE(ns_seen, hold_until, length_after, fail_with, record_metrics)

// The program running the task and its pid: "caraway-worker 1234" in a
// worker process.
std::string process_name() {
  std::cout << "process_name ran" << std::endl;
  std::string comm;
  std::getline(std::ifstream{"/proc/self/comm"}, comm);
  return comm + " " + std::to_string(getpid());
}

// Ends its process as `how` says (abort, exit with code 3, segfault), unless
// the file `once` exists; it makes the file first, so that the task's retry
// returns. Returns its pid.
int64_t crash(const std::string& how, const std::string& once) {
  if (!once.empty()) {
    if (std::ifstream{once})
      return getpid();
    std::ofstream{once} << "crashed\n";
  }
  if (how == "abort")
    std::abort();
  if (how == "exit")
    std::exit(3);
  if (how == "segv")
    raise(SIGSEGV);
  return getpid();
}

int64_t own_pid() {
  std::cout << "own_pid ran" << std::endl;
  return getpid();
}

// "<its pid> <a child's> <a child's that needs two CPUs>". Holding both of
// its node's CPUs, it leaves its first child no lease to go to: waiting for
// it, it runs it itself. The second needs more than it holds.
std::string inline_pids() {
  auto small = caraway::task(own_pid).remote();
  auto big = caraway::task(own_pid).num_cpus(2).remote();
  auto first = caraway::get(small);
  std::cout << "inline_pids waited" << std::endl;
  return std::to_string(getpid()) + " " + std::to_string(first) + " "
         + std::to_string(caraway::get(big));
}

CARAWAY_REMOTE(process_name, crash, own_pid, inline_pids)

// An actor whose process a call can end.
class crasher {
public:
  std::string where() const {
    return process_name();
  }

  int64_t abort_now() {
    std::abort();
  }
};

CARAWAY_ACTOR(crasher, caraway::ctor<>, &crasher::where, &crasher::abort_now)

// An actor (a worker process of its own) that makes objects in its node's
// store or reads them there.
class store_user {
public:
  std::vector<doubles_ref> make(int64_t n) {
    return {caraway::put(produce(n))};
  }

  // "<pid> <sum> <objects pulled> <store bytes before> <after> <ns>": a view
  // in place pulls nothing and adds nothing to the store.
  std::string view(const std::vector<doubles_ref>& refs) {
    auto before = caraway::object_store_stats();
    auto start = std::chrono::steady_clock::now();
    auto xs = caraway::get_view(refs.at(0), std::chrono::seconds(30));
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
    auto after = caraway::object_store_stats();
    auto sum = std::accumulate(xs.begin(), xs.end(), 0.0);
    return std::to_string(getpid()) + " "
           + std::to_string(static_cast<int64_t>(sum)) + " "
           + std::to_string(after.pulled_objects - before.pulled_objects) + " "
           + std::to_string(before.used_bytes) + " "
           + std::to_string(after.used_bytes) + " " + std::to_string(ns);
  }

  int64_t pid() const {
    return getpid();
  }
};

CARAWAY_ACTOR(store_user, caraway::ctor<>, &store_user::make, &store_user::view,
              &store_user::pid)
CARAWAY_REMOTE(until_cancelled, parent_of_waiter)
CARAWAY_REMOTE(where, call_across, slow_where, produce, consume, pulled, add_to,
               resources_seen, read_nested, make_nested)

#ifndef CARAWAY_TASK_LIBRARY
// Left out of the task library on purpose: no node can run it.
int64_t driver_only() {
  return 1;
}

CARAWAY_REMOTE(driver_only)
#endif
CARAWAY_ACTOR(tally, caraway::ctor<>, caraway::ctor<int64_t>, &tally::add,
              &tally::describe)

#ifndef CARAWAY_TASK_LIBRARY
// Waits until the test script makes the file `path` (its signal that the
// cluster is in the state it wants); false, after saying so, past `bound`.
bool wait_for_file(const std::string& mode, const std::string& path,
                   std::chrono::seconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (!std::ifstream{path}) {
    if (std::chrono::steady_clock::now() >= deadline) {
      std::cerr << mode << ": " << path << " never appeared\n";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  caraway::session session;
  try {
    session = caraway::init(argc, argv);
  } catch (const caraway::error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  std::string mode = argc > 1 ? argv[1] : "";
  std::string arg = argc > 2 ? argv[2] : "";
  if (mode == "where") {
    auto ssd = caraway::task(where).resources({{"ssd", 1}}).remote();
    auto tpu = caraway::task(where).resources({{"tpu", 1}}).remote();
    std::cout << "ssd-task " << caraway::get(ssd, 30s) << '\n'
              << "tpu-task " << caraway::get(tpu, 30s) << '\n';
  } else if (mode == "spread") {
    // More work than the first node has CPUs: the rest moves on.
    std::vector<caraway::object_ref<std::string>> refs;
    for (int i = 0; i < 12; ++i)
      refs.emplace_back(caraway::task(slow_where).remote(int64_t{300}));
    std::set<std::string> nodes;
    for (auto& id : caraway::get(refs, 60s))
      nodes.insert(id);
    for (auto& id : nodes)
      std::cout << "spread-node " << id << '\n';
  } else if (mode == "share") {
    // share N MS [RESOURCE|-] [spread]: N tasks of MS ms each (each
    // needing one of RESOURCE, unless "-"), submitted at once, with the
    // spread strategy if asked; prints how many ran per node and how long
    // they took.
    // Arguments after the mode's own end at the first --caraway- flag.
    auto positional = [&](int i) -> std::string {
      for (int j = 1; j <= i; ++j)
        if (j >= argc || std::string{argv[j]}.rfind("--", 0) == 0)
          return "";
      return argv[i];
    };
    auto n = std::stoll(arg);
    auto ms_text = positional(3);
    auto ms = ms_text.empty() ? int64_t{10} : std::stoll(ms_text);
    auto resource = positional(4);
    auto spread = positional(5) == "spread";
    auto start = std::chrono::steady_clock::now();
    std::vector<caraway::object_ref<std::string>> refs;
    refs.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      auto t = caraway::task(slow_where);
      if (!resource.empty() && resource != "-")
        t.resources({{resource, 1}});
      if (spread)
        t.scheduling(caraway::spread());
      refs.emplace_back(t.remote(ms));
    }
    std::cout << "submitted " << n << std::endl;
    std::map<std::string, int64_t> per_node;
    for (auto& id : caraway::get(refs, 120s))
      ++per_node[id];
    for (auto& [id, count] : per_node)
      std::cout << "share " << id << ' ' << count << '\n';
    std::cout << "seconds "
              << std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - start)
                   .count()
              << '\n';
  } else if (mode == "pinned") {
    // pinned NODE hard|soft: 20 short tasks with a node affinity; prints
    // how many ran per node, or the error their gets threw.
    auto soft = argc > 3 && std::string{argv[3]} == "soft";
    std::vector<caraway::object_ref<std::string>> refs;
    for (int i = 0; i < 20; ++i)
      refs.emplace_back(caraway::task(slow_where)
                          .scheduling(caraway::node_affinity(arg, soft))
                          .remote(int64_t{10}));
    try {
      std::map<std::string, int64_t> per_node;
      for (auto& id : caraway::get(refs, 60s))
        ++per_node[id];
      for (auto& [id, count] : per_node)
        std::cout << "share " << id << ' ' << count << '\n';
    } catch (const caraway::unschedulable_error& e) {
      std::cout << "unschedulable_error " << e.what() << '\n';
    }
  } else if (mode == "one-by-one") {
    // one-by-one spread|hybrid: eight short tasks, each submitted once the
    // one before finished; prints the nodes they ran on.
    std::set<std::string> nodes;
    for (int i = 0; i < 8; ++i) {
      auto t = caraway::task(slow_where);
      if (arg == "spread")
        t.scheduling(caraway::spread());
      nodes.insert(caraway::get(t.remote(int64_t{10}), 60s));
    }
    for (auto& id : nodes)
      std::cout << "node " << id << '\n';
  } else if (mode == "cancel") {
    // A task running on a node, and one that waits for a child it
    // submitted there: both cancelled from here, their gets say so.
    auto running = caraway::task(until_cancelled).remote();
    auto parent = caraway::task(parent_of_waiter).remote();
    std::vector<caraway::object_ref<std::string>> both{running, parent};
    if (!caraway::wait(both, 1, 500ms).ready.empty()) {
      std::cout << "a task ended before it was cancelled\n";
      return 1;
    }
    caraway::cancel(running);
    caraway::cancel(parent);
    for (auto* ref : {&running, &parent}) {
      try {
        auto node = caraway::get(*ref, 20s);
        std::cout << "not cancelled " << node << '\n';
      } catch (const caraway::cancelled_error& e) {
        std::cout << "cancelled_error\n";
      }
    }
  } else if (mode == "locality") {
    // locality NODE: 64 MiB made on NODE (hard affinity), then read by a
    // task with the default strategy; prints where the reader ran and how
    // many objects NODE's store pulled meanwhile.
    auto on_node = [&](auto t) {
      return t.scheduling(caraway::node_affinity(arg, false));
    };
    auto data = on_node(caraway::task(produce)).remote(int64_t{8} << 20);
    caraway::wait(std::vector<doubles_ref>{data}, 1, 60s);
    auto before = caraway::get(on_node(caraway::task(pulled)).remote(), 30s);
    auto reader = caraway::task(consume).remote(data);
    auto ran = caraway::get(reader, 60s);
    auto after = caraway::get(on_node(caraway::task(pulled)).remote(), 30s);
    std::cout << "locality " << ran.substr(ran.find(' ') + 1) << " pulls "
              << after - before << '\n';
  } else if (mode == "pg") {
    // pg STRATEGY N RESOURCE WAIT_S [hold PATH AFTER_S]: a group "pg" of N
    // bundles of one RESOURCE; prints its state after waiting at most
    // WAIT_S, the node of each bundle and where a task in each ran. With
    // hold, waits for the file PATH, then up to AFTER_S for the group to be
    // created again, and prints the same. Removes the group at the end.
    static const std::map<std::string, caraway::strategy> strategies{
      {"pack", caraway::strategy::pack},
      {"spread", caraway::strategy::spread},
      {"strict_pack", caraway::strategy::strict_pack},
      {"strict_spread", caraway::strategy::strict_spread}};
    auto n = std::stoi(argv[3]);
    std::vector<caraway::bundle> bundles(static_cast<size_t>(n),
                                         {{argv[4], 1}});
    auto pg = caraway::placement_group(bundles, strategies.at(arg))
                .name("pg")
                .remote();
    auto report = [&](const char* label, bool created) {
      std::cout << label << ' ' << caraway::to_string(pg.state()) << '\n';
      std::cout << "nodes";
      for (auto& node : pg.bundle_nodes())
        std::cout << ' ' << (node.empty() ? "-" : node);
      std::cout << std::endl;
      if (!created)
        return;
      for (int i = 0; i < n; ++i)
        std::cout << "bundle " << i << ' '
                  << caraway::get(caraway::task(where)
                                    .num_cpus(0)
                                    .placement_group(pg, i)
                                    .remote(),
                                  30s)
                  << '\n';
    };
    report("state", pg.wait(std::chrono::seconds(std::stoi(argv[5]))));
    if (argc > 8 && std::string{argv[6]} == "hold") {
      std::cout << "holding" << std::endl;
      auto until = std::chrono::steady_clock::now() + 60s;
      while (!std::ifstream{argv[7]} && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(10ms);
      report("after", pg.wait(std::chrono::seconds(std::stoi(argv[8]))));
    }
    caraway::remove_placement_group(pg);
    std::cout << "removed " << caraway::to_string(pg.state()) << '\n';
  } else if (mode == "actor-spread") {
    // actor-spread N: N actors with spread(); prints the node of each.
    std::vector<caraway::actor_handle<tally>> actors;
    for (int i = 0; i < std::stoi(arg); ++i)
      actors.emplace_back(
        caraway::actor<tally>().scheduling(caraway::spread()).remote());
    for (auto& a : actors) {
      auto text = caraway::get(a.task(&tally::describe).remote(), 30s);
      std::cout << "actor-node " << text.substr(text.rfind(' ') + 1) << '\n';
    }
  } else if (mode == "actor-pinned") {
    // actor-pinned NODE hard|soft: an actor with a node affinity; prints
    // its node, or the error its creation threw.
    auto soft = argc > 3 && std::string{argv[3]} == "soft";
    try {
      auto a = caraway::actor<tally>()
                 .scheduling(caraway::node_affinity(arg, soft))
                 .remote();
      auto text = caraway::get(a.task(&tally::describe).remote(), 30s);
      std::cout << "actor-node " << text.substr(text.rfind(' ') + 1) << '\n';
    } catch (const caraway::unschedulable_error& e) {
      std::cout << "unschedulable_error " << e.what() << '\n';
    }
  } else if (mode == "nodes") {
    for (auto& node : caraway::nodes())
      std::cout << "node " << node.id << ' ' << node.address << ' '
                << (node.alive ? "alive" : "dead") << " CPU "
                << node.total["CPU"] << '\n';
  } else if (mode == "try-where") {
    // A task on the tpu node, whose outcome the script checks.
    try {
      auto r = caraway::task(where).resources({{"tpu", 1}}).remote();
      auto id = caraway::get(r, 30s);
      std::cout << "where " << id << '\n';
    } catch (const caraway::error& e) {
      std::cout << "where error: " << e.what() << '\n';
    }
  } else if (mode == "late") {
    auto r = caraway::task(where).resources({{"late", 1}}).remote();
    std::cout << "submitted" << std::endl;
    std::cout << "late-task " << caraway::get(r, 60s) << '\n';
  } else if (mode == "transfer") {
    // 10 MiB made on the ssd node, read on the tpu node.
    auto data = caraway::task(produce)
                  .resources({{"ssd", 1}})
                  .remote(int64_t{10} << 17);
    auto pulls = [] {
      return caraway::get(
        caraway::task(pulled).resources({{"tpu", 1}}).remote(), 30s);
    };
    auto before = pulls();
    auto out = caraway::task(consume).resources({{"tpu", 1}}).remote(data);
    std::cout << "transfer " << caraway::get(out, 60s) << '\n';
    // A second reader on the same node uses the local copy.
    auto again = caraway::task(consume).resources({{"tpu", 1}}).remote(data);
    caraway::get(again, 60s);
    std::cout << "transfer-pulls " << pulls() - before << '\n';
    // The driver's own put goes straight to the node that reads it.
    auto put = caraway::put(produce(int64_t{10} << 17));
    auto from_driver
      = caraway::task(consume).resources({{"tpu", 1}}).remote(put);
    std::cout << "put-transfer " << caraway::get(from_driver, 60s) << '\n';
    // And the driver reads what a node made.
    std::cout << "driver-get " << caraway::get(data, 60s).size() << '\n';
  } else if (mode == "survive") {
    // 2000 tasks only the workers can run (resource "pool") while the test
    // kills a worker that holds some of them: each result must still come
    // back, and be right.
    constexpr int64_t n = 2000;
    // Runs on the one node with "solo" until that node is killed (the test
    // waits for it to hold "solo"), without retries.
    auto once = caraway::task(hold_until)
                  .resources({{"solo", 1}})
                  .num_cpus(0)
                  .max_retries(0)
                  .remote(std::string{"/nonexistent/never"});
    std::vector<caraway::object_ref<int64_t>> refs;
    refs.reserve(n);
    for (int64_t i = 0; i < n; ++i)
      refs.emplace_back(
        caraway::task(slow_square).resources({{"pool", 1}}).remote(i));
    std::cout << "submitted " << n << std::endl;
    int64_t right = 0;
    for (int64_t i = 0; i < n; ++i)
      right += caraway::get(refs[static_cast<size_t>(i)], 120s) == i * i;
    std::cout << "survive-right " << right << " of " << n << '\n';
    try {
      caraway::get(once, 120s);
      std::cout << "no-retry ran\n";
    } catch (const caraway::node_died_error& e) {
      std::cout << "no-retry node_died_error " << e.what() << '\n';
    }
  } else if (mode == "lineage") {
    // A 4 MiB result that only a worker can make; once the test has killed
    // the worker holding it (and made the file `arg`), it is read.
    int64_t n = int64_t{4} << 17;
    auto made = caraway::task(produce).resources({{"pool", 1}}).remote(n);
    std::vector<doubles_ref> refs{made};
    if (caraway::wait(refs, 1, 60s).ready.size() != 1) {
      std::cerr << "lineage: the task did not finish\n";
      return 1;
    }
    std::cout << "made" << std::endl;
    if (!wait_for_file("lineage", arg, 60s))
      return 1;
    auto xs = caraway::get(made, 60s);
    std::cout << "lineage " << static_cast<int64_t>(std::accumulate(
      xs.begin(), xs.end(), 0.0))
              << '\n';
  } else if (mode == "restart") {
    // An actor that may restart once; the test kills its node once it is
    // ready (and makes the file `arg`), then it is called again.
    auto t = caraway::actor<tally>()
               .resources({{"pool", 1}})
               .max_restarts(1)
               .max_task_retries(-1)
               .remote();
    caraway::get(t.task(&tally::add).remote(int64_t{5}), 30s);
    std::cout << "ready " << caraway::get(t.task(&tally::describe).remote(), 30s)
              << std::endl;
    if (!wait_for_file("restart", arg, 60s))
      return 1;
    caraway::get(t.task(&tally::add).remote(int64_t{7}), 60s);
    std::cout << "after " << caraway::get(t.task(&tally::describe).remote(), 30s)
              << '\n';
  } else if (mode == "missing") {
    // Registered in this driver only: nodes load another library.
    try {
      caraway::get(caraway::task(driver_only).remote(), 30s);
    } catch (const caraway::registration_error& e) {
      std::cout << "missing: " << e.what() << '\n';
    }
  } else if (mode == "make-named") {
    auto t = caraway::actor<tally>().name(arg, "shared").remote();
    std::cout << "created " << arg << " total "
              << caraway::get(t.task(&tally::add).remote(int64_t{5}), 30s)
              << '\n';
  } else if (mode == "make-detached") {
    auto t = caraway::actor<tally>()
               .name(arg, "shared")
               .lifetime(caraway::detached)
               .remote();
    std::cout << "created " << arg << " total "
              << caraway::get(t.task(&tally::add).remote(int64_t{5}), 30s)
              << '\n';
  } else if (mode == "outlive-head") {
    // A detached named actor on the ssd worker; the test kills the head once
    // it is ready (and makes the file `arg`), then the actor is called while
    // the head is away. After the head is back (the file `arg`-back), a
    // task runs again once this driver has rejoined its job.
    auto t = caraway::actor<tally>()
               .name("keeper", "shared")
               .resources({{"ssd", 1}})
               .lifetime(caraway::detached)
               .remote();
    auto first = caraway::get(t.task(&tally::add).remote(int64_t{5}), 30s);
    auto on = caraway::get(caraway::task(where).resources({{"ssd", 1}}).remote(),
                           30s);
    // A placement group over both workers' "pool", to outlive the head too.
    auto pg = caraway::placement_group({{{"pool", 1}}, {{"pool", 1}}},
                                       caraway::strategy::strict_spread)
                .name("kept")
                .remote();
    auto print_group = [](const char* label,
                          const caraway::placement_group_handle& g) {
      std::cout << label << ' ' << caraway::to_string(g.state());
      for (auto& node : g.bundle_nodes())
        std::cout << ' ' << (node.empty() ? "-" : node);
      std::cout << std::endl;
    };
    pg.wait(30s);
    print_group("group", pg);
    std::cout << "ready " << first << " on " << on << std::endl;
    if (!wait_for_file(mode, arg, 60s))
      return 1;
    std::cout << "while-away "
              << caraway::get(t.task(&tally::add).remote(int64_t{7}), 30s)
              << std::endl;
    // The head's node is gone: tasks go to a worker's raylet meanwhile.
    std::cout << "task-while-away "
              << caraway::get(caraway::task(where).remote(), 30s)
              << std::endl;
    // The tpu worker ran nothing of this job yet: with worker processes,
    // its node starts one while the head is away.
    std::cout << "tpu-while-away "
              << caraway::get(
                   caraway::task(where).resources({{"tpu", 1}}).remote(), 30s)
              << std::endl;
    if (!wait_for_file(mode, arg + "-back", 60s))
      return 1;
    // Until the driver has rejoined, its tasks go to the head's node, which
    // died with the head.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      try {
        auto at = caraway::get(
          caraway::task(where).resources({{"tpu", 1}}).remote(), 30s);
        std::cout << "task-after " << at << std::endl;
        break;
      } catch (const caraway::node_died_error& e) {
        if (std::chrono::steady_clock::now() >= deadline) {
          std::cerr << "outlive-head: " << e.what() << '\n';
          return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    // The group came back with the head, where it was; then it goes.
    auto again = caraway::get_placement_group("kept");
    print_group("group-after", again);
    std::cout << "group-task "
              << caraway::get(caraway::task(where)
                                .num_cpus(0)
                                .placement_group(again, 1)
                                .remote(),
                              30s)
              << std::endl;
    caraway::remove_placement_group(again);
  } else if (mode == "lend") {
    // Makes the actor "lent", lets go of its handle once another driver
    // holds one (the file `arg`), then stays until the file `arg`-done.
    {
      auto t = caraway::actor<tally>().name("lent", "shared").remote();
      caraway::get(t.task(&tally::add).remote(int64_t{1}), 30s);
      std::cout << "ready" << std::endl;
      if (!wait_for_file(mode, arg, 60s))
        return 1;
    }
    std::cout << "dropped" << std::endl;
    if (!wait_for_file(mode, arg + "-done", 60s))
      return 1;
  } else if (mode == "borrow-named") {
    // Holds "lent" by name; calls it again after its creator let go (the
    // file `arg`-dropped).
    auto t = caraway::get_actor<tally>("lent", "shared");
    if (!t)
      return 1;
    std::cout << "holding "
              << caraway::get(t->task(&tally::add).remote(int64_t{2}), 30s)
              << std::endl;
    if (!wait_for_file(mode, arg + "-dropped", 60s))
      return 1;
    std::cout << "after-drop "
              << caraway::get(t->task(&tally::add).remote(int64_t{4}), 30s)
              << std::endl;
  } else if (mode == "lookup-after") {
    // Looks the actor "keeper" up once the file `arg` exists (the test has
    // taken the head away by then).
    if (!caraway::get_actor<tally>("keeper", "shared"))
      return 1;
    std::cout << "ready" << std::endl;
    if (!wait_for_file(mode, arg, 60s))
      return 1;
    try {
      caraway::get_actor<tally>("keeper", "shared");
      std::cout << "found" << std::endl;
    } catch (const caraway::error& e) {
      std::cout << "lookup-failed " << e.what() << std::endl;
    }
  } else if (mode == "get-or-make") {
    auto t = caraway::actor<tally>().name(arg, "shared").get_if_exists().remote();
    std::cout << "got " << arg << " total "
              << caraway::get(t.task(&tally::add).remote(int64_t{5}), 30s)
              << '\n';
  } else if (mode == "namespace") {
    auto seen = caraway::task(ns_seen).resources({{"tpu", 1}}).remote();
    std::cout << "driver-ns " << caraway::get_namespace() << '\n'
              << "task-ns " << caraway::get(seen, 30s) << '\n'
              << "found-in-ns "
              << caraway::get_actor<tally>("made-in-task").has_value() << '\n';
  } else if (mode == "hold-data") {
    // 32 MiB made on the tpu worker, kept there for this driver; then waits
    // to be killed.
    auto made = caraway::task(produce)
                  .resources({{"tpu", 1}})
                  .remote(int64_t{4} << 20);
    std::vector<doubles_ref> refs{made};
    if (caraway::wait(refs, 1, 60s).ready.size() != 1)
      return 1;
    std::cout << "ready" << std::endl;
    std::this_thread::sleep_for(120s);
    return 1;
  } else if (mode == "objects") {
    // Objects for the test to list while this driver holds them: 8 MiB put
    // here, 32 MiB made on the tpu worker, a failed task's, and a small put
    // that a task waiting for the file `arg` takes as its argument. Ends
    // once the file exists and that task returned.
    auto big = caraway::put(produce(int64_t{1} << 20));
    auto made = caraway::task(produce)
                  .resources({{"tpu", 1}})
                  .remote(int64_t{4} << 20);
    auto failed = caraway::task(fail_with).remote(std::string{"no luck"});
    auto small = caraway::put(std::string{"small"});
    auto waiting = caraway::task(length_after).remote(arg, small);
    std::vector<doubles_ref> refs{made};
    std::vector<caraway::object_ref<int64_t>> failing{failed};
    if (caraway::wait(refs, 1, 60s).ready.size() != 1
        || caraway::wait(failing, 1, 60s).ready.size() != 1)
      return 1;
    std::cout << "objects " << big.hex() << ' ' << made.hex() << ' '
              << failed.hex() << ' ' << small.hex() << std::endl;
    std::cout << "length " << caraway::get(waiting, 90s) << std::endl;
  } else if (mode == "metrics") {
    // A task on the tpu worker records metrics after reading 1 MiB made on
    // the ssd worker; this driver records a gauge. Ends once the file
    // `arg` exists.
    caraway::metrics::gauge waiting{"app_driver_waiting",
                                    "The test's driver waits."};
    waiting.set(1);
    auto data = caraway::task(produce)
                  .resources({{"ssd", 1}})
                  .remote(int64_t{1} << 17);
    auto pid = caraway::get(caraway::task(record_metrics)
                              .resources({{"tpu", 1}})
                              .remote(int64_t{3}, data),
                            30s);
    std::cout << "recorded " << pid << std::endl;
    if (!wait_for_file(mode, arg, 60s))
      return 1;
  } else if (mode == "dashboard") {
    // What the dashboard test looks for while this driver waits for the
    // file `arg`: a named actor, a failed task with its error, finished
    // tasks on the workers and 1 MiB put here.
    auto t = caraway::actor<tally>().name("dashboard_tally", "shared").remote();
    caraway::get(t.task(&tally::add).remote(int64_t{1}), 30s);
    auto failed = caraway::task(fail_with).remote(
      std::string{"the dashboard shows this"});
    auto data = caraway::put(produce(int64_t{1} << 17));
    std::vector<doubles_ref> made{
      caraway::task(produce).resources({{"ssd", 1}}).remote(int64_t{1}),
      caraway::task(produce).resources({{"tpu", 1}}).remote(int64_t{2})};
    std::vector<caraway::object_ref<int64_t>> failing{failed};
    if (caraway::wait(made, 2, 60s).ready.size() != 2
        || caraway::wait(failing, 1, 60s).ready.size() != 1)
      return 1;
    std::cout << "ready " << data.hex() << std::endl;
    if (!wait_for_file(mode, arg, 120s))
      return 1;
  } else if (mode == "hold") {
    // Makes a named actor, then waits to be killed.
    auto t = caraway::actor<tally>().name(arg, "shared").remote();
    caraway::get(t.task(&tally::add).remote(int64_t{1}), 30s);
    std::cout << "ready" << std::endl;
    std::this_thread::sleep_for(120s);
    return 1;
  } else if (mode == "use-named") {
    auto t = caraway::get_actor<tally>(arg, "shared");
    if (!t) {
      std::cout << "no actor " << arg << '\n';
      return 1;
    }
    std::cout << "found " << arg << " total "
              << caraway::get(t->task(&tally::add).remote(int64_t{7}), 30s)
              << '\n';
  } else if (mode == "resources") {
    std::cout << "driver total " << spell(caraway::cluster_resources())
              << "\ndriver available " << spell(caraway::available_resources())
              << '\n';
    // The task holds a CPU and the tpu of its node while it looks.
    auto seen = caraway::task(resources_seen).resources({{"tpu", 1}}).remote();
    std::cout << "task " << caraway::get(seen, 30s) << '\n';
  } else if (mode == "pass-handle") {
    // An anonymous actor, still starting, called through its handle by a
    // task on the tpu node; then a handle the cluster never heard of.
    auto t = caraway::actor<tally>(int64_t{500}).remote();
    auto first
      = caraway::task(add_to).resources({{"tpu", 1}}).remote(t, int64_t{7});
    std::cout << "pass-handle " << caraway::get(first, 30s) << '\n';
    std::cout << "driver sees "
              << caraway::get(t.task(&tally::add).remote(int64_t{5}), 30s)
              << '\n';
    caraway::actor_handle<tally> stranger{caraway::wire::actor_id{7, 7}};
    auto second = caraway::task(add_to)
                    .resources({{"tpu", 1}})
                    .remote(stranger, int64_t{1});
    std::cout << "stranger " << caraway::get(second, 30s) << '\n';
    caraway::kill(t);
  } else if (mode == "nested") {
    // Refs inside values cross processes: driver puts read by a task on
    // another node, refs a node owns returned to the driver, and those
    // passed on to a third process.
    int64_t n = int64_t{10} << 17;
    std::vector<doubles_ref> puts{caraway::put(produce(n)),
                                  caraway::put(produce(4))};
    auto seen = caraway::task(read_nested).resources({{"tpu", 1}}).remote(puts);
    std::cout << "nested-put " << caraway::get(seen, 60s) << '\n';
    auto made = caraway::task(make_nested)
                  .resources({{"ssd", 1}})
                  .remote(int64_t{1000});
    auto inner = caraway::get(made, 30s);
    double total = 0;
    for (auto& ref : inner) {
      auto xs = caraway::get(ref, 30s);
      total = std::accumulate(xs.begin(), xs.end(), total);
    }
    std::cout << "nested-result " << static_cast<int64_t>(total) << '\n';
    auto third
      = caraway::task(read_nested).resources({{"tpu", 1}}).remote(inner);
    std::cout << "nested-third " << caraway::get(third, 60s) << '\n';
  } else if (mode == "crash") {
    // In worker processes: tasks that abort, exit or segfault fail only
    // themselves, with the cause; one retried runs again in another worker.
    std::cout << "runs-in "
              << caraway::get(caraway::task(process_name).remote(), 30s)
              << std::endl;
    auto retried = caraway::task(crash).max_retries(1).remote(
      std::string{"abort"}, arg + "/once");
    std::cout << "retried " << caraway::get(retried, 60s) << std::endl;
    for (std::string how : {"abort", "exit", "segv"}) {
      try {
        caraway::get(
          caraway::task(crash).max_retries(0).remote(how, std::string{}), 60s);
        std::cout << how << "-returned\n";
      } catch (const caraway::worker_crashed_error& e) {
        std::cout << how << "-error " << e.what() << std::endl;
      }
    }
    std::cout << "after "
              << caraway::get(caraway::task(process_name).remote(), 30s)
              << std::endl;
  } else if (mode == "inline") {
    std::cout << "inline "
              << caraway::get(caraway::task(inline_pids).num_cpus(2).remote(),
                              60s)
              << std::endl;
  } else if (mode == "actor-crash") {
    // An actor in its own worker process: a call that aborts it ends only
    // that process; the actor restarts in a new one, then dies for good.
    auto a = caraway::actor<crasher>().max_restarts(1).remote();
    std::cout << "actor-in "
              << caraway::get(a.task(&crasher::where).remote(), 30s)
              << std::endl;
    auto crash_call = [&](const char* what) {
      try {
        caraway::get(a.task(&crasher::abort_now).remote(), 30s);
        std::cout << what << "-returned" << std::endl;
      } catch (const caraway::error& e) {
        std::cout << what << "-error " << e.what() << std::endl;
      }
    };
    crash_call("first");
    std::cout << "restarted-in "
              << caraway::get(a.task(&crasher::where).remote(), 30s)
              << std::endl;
    crash_call("second");
    try {
      caraway::get(a.task(&crasher::where).remote(), 30s);
      std::cout << "still-alive" << std::endl;
    } catch (const caraway::actor_died_error& e) {
      std::cout << "dead " << e.what() << std::endl;
    }
  } else if (mode == "zero-copy") {
    // Two workers of one node: one makes a large object, the other reads it
    // in place.
    auto maker = caraway::actor<store_user>().remote();
    auto reader = caraway::actor<store_user>().remote();
    auto refs = caraway::get(
      maker.task(&store_user::make).remote(int64_t{std::stoll(arg)}), 60s);
    std::cout << "zero-copy "
              << caraway::get(maker.task(&store_user::pid).remote(), 30s) << " "
              << caraway::get(reader.task(&store_user::view).remote(refs), 60s)
              << std::endl;
  } else if (mode == "busy") {
    // A task that runs for a minute, waited for: the cluster stops meanwhile.
    auto ref = caraway::task(slow_where).remote(int64_t{60000});
    std::cout << "submitted" << std::endl;
    try {
      caraway::get(ref, 90s);
    } catch (const caraway::error& e) {
      std::cout << "busy-error " << e.what() << std::endl;
    }
  } else if (mode == "across") {
    // Between the two worker nodes, both ways.
    auto from_ssd = caraway::task(call_across)
                      .resources({{"ssd", 1}})
                      .remote(std::string{"tpu"});
    std::cout << "across " << caraway::get(from_ssd, 30s) << std::endl;
    auto from_tpu = caraway::task(call_across)
                      .resources({{"tpu", 1}})
                      .remote(std::string{"ssd"});
    std::cout << "across " << caraway::get(from_tpu, 30s) << std::endl;
  } else if (mode == "direct") {
    // An actor on the tpu node; once the file `arg` exists (the test has
    // frozen the head by then), it is called again: straight to its host.
    auto t = caraway::actor<tally>().resources({{"tpu", 1}}).remote();
    caraway::get(t.task(&tally::add).remote(int64_t{5}), 30s);
    std::cout << "ready" << std::endl;
    if (!wait_for_file("direct", arg, 30s))
      return 1;
    std::cout << "direct "
              << caraway::get(t.task(&tally::add).remote(int64_t{7}), 30s)
              << std::endl;
  } else {
    std::cerr << "usage: " << argv[0]
              << " where|across|try-where|late|transfer|resources|pass-handle|"
                 "nested|direct FILE|make-named NAME|"
                 "use-named NAME\n";
    return 2;
  }
}
#endif
