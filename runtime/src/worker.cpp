// The worker role: a process a node starts for one job. It loads the job's
// libraries, runs the job's tasks on one executor leased out by its node's
// raylet, and owns the tasks and objects its tasks make, like a driver. It
// ends when its raylet is gone.

#include <unistd.h>

#include <mutex>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "caraway/error.hpp"
#include "caraway/log.hpp"
#include "caraway/node/executor.hpp"
#include "caraway/runtime/connect.hpp"
#include "caraway/wire/address.hpp"
#include "current_core.hpp"
#include "output_forwarder.hpp"
#include "process.hpp"
#include "runner.hpp"
#include "tls.hpp"

namespace caraway::runtime {

std::unique_ptr<process> start_worker_process(const config& cfg,
                                              const worker_options& opts) {
  return start_process([&](process& p) {
    node_options timing;
    make_system(p, cfg, /*networked=*/true, timing);
    // Its objects live in the node's store, in shared memory that this
    // process maps: another worker of the node reads them with no copy.
    std::string why;
    auto store = node::connect_store(opts.store_socket, why);
    if (!store)
      throw error(why);
    make_owner_core(p, cfg, cfg.cluster_get_spin_us, cfg.task_events,
                    /*shared=*/false, std::move(store));
    std::string host;
    uint16_t port = 0;
    if (!wire::split_address(opts.raylet_address, host, port, why))
      throw invalid_argument_error("invalid raylet address: " + why);
    wire::unique_id node;
    if (!wire::from_string(opts.node_id, node))
      throw invalid_argument_error("invalid node id: " + opts.node_id);
    connect_head(p, opts.head_address, cfg.connect_timeout_ms,
                 cfg.head_reconnect_timeout_ms, head_link::worker_process);
    std::string head_host;
    uint16_t head_port = 0;
    wire::split_address(opts.head_address, head_host, head_port, why);
    // The node serves what its store holds to other nodes.
    start_puller(p, cfg);
    p.data_address = opts.data_address;
    auto raylet = connect_raylet(
      *p.sys, host, port, std::chrono::milliseconds(cfg.connect_timeout_ms));
    if (!raylet)
      throw error("cannot reach the raylet of node " + opts.node_id + " at "
                  + opts.raylet_address + ": "
                  + render(*p.sys, raylet.error()));
    p.raylet = std::move(*raylet);
    p.owns_raylet = false;
    // Objects this process makes are freed in the node's store, even once
    // it is gone.
    wire::object_store_actor node_store;
    caf::scoped_actor self{*p.sys};
    self
      ->request(p.raylet, std::chrono::milliseconds(cfg.connect_timeout_ms),
                wire::get_atom::value)
      .receive([&](wire::object_store_actor& x) { node_store = std::move(x); },
               [&](caf::error& err) {
                 throw error("the raylet of node " + opts.node_id
                             + " did not name its object store: "
                             + render(*p.sys, err));
               });
    // What its tasks record shows on its node's metrics endpoint.
    p.core->ships_metrics(true);
    spawn_owner(p, cfg, std::string{});
    p.core->connect({p.gcs, p.raylet, p.owner, p.store, node_store, p.puller,
                     p.data_address, node});
    p.core->node_id(opts.node_id);
    p.core->job(opts.job);
    caf::anon_send(p.gcs, wire::subscribe_atom::value, p.owner);
    // The worker ends with its raylet: the node stopped or died.
    p.raylet_stopped = std::make_shared<std::promise<std::string>>();
    p.raylet_stopped_future = p.raylet_stopped->get_future().share();
    // ... or with the actor it hosts, whichever ends first.
    auto stop = [stopped = p.raylet_stopped,
                 once = std::make_shared<std::once_flag>()](std::string why) {
      std::call_once(*once, [&] { stopped->set_value(std::move(why)); });
    };
    auto where = opts.raylet_address;
    caf::actor_cast<caf::abstract_actor*>(p.raylet)->attach_functor(
      [stop, where](const caf::error&) {
        stop("lost the raylet at " + where);
      });
    auto run = std::make_shared<core::runner>(*p.core);
    std::string libs;
    for (auto& lib : opts.libraries)
      libs += (libs.empty() ? "" : ", ") + lib;
    run->where("a worker process of job " + std::to_string(opts.job)
               + " on node " + opts.node_id + ", which loaded "
               + (libs.empty() ? std::string{"no libraries"} : libs));
    // What tasks print reaches their owners (the driver shows it).
    static output_forwarder output{"pid=" + std::to_string(getpid())
                                   + " node=" + opts.node_id.substr(0, 8)};
    output.start();
    run->on_start = [](const wire::task_spec& spec) {
      output.task_started(spec);
    };
    p.core->on_output(
      [](std::vector<std::string> lines) { output.pass_on(std::move(lines)); });
    // A task waiting for its children runs those not leased yet itself;
    // what they print carries their name, then the waiting task's again.
    p.core->run_inline(
      [run](const wire::task_spec& spec, const node::worker_context& ctx) {
        auto waiting = output.current();
        run->deliver(spec, run->run_task(spec, ctx));
        output.restore(std::move(waiting));
      });
    // Owners and callers of its actor connect here directly instead of
    // going through the node (what is published matters not: the
    // connection does).
    auto listen_host = node::local_address_towards(head_host);
    auto published = listen(*p.sys, p.owner, 0, listen_host);
    if (!published)
      throw error("cannot listen on " + listen_host + ": "
                  + render(*p.sys, published.error()));
    auto address = listen_host + ":" + std::to_string(*published);
    // It may end while idle unless it owns objects or tasks (Ray's workers
    // decline to exit likewise). What it made stays in the node's store.
    std::weak_ptr<owner::core_worker> weak = p.core;
    node::worker_hooks hosting{p.gcs, address, [stop] { stop(std::string{}); },
                               [weak] {
                                 auto core = weak.lock();
                                 if (!core)
                                   return false;
                                 auto sizes = core->sizes();
                                 return sizes.refs == 0 && sizes.tasks == 0;
                               }};
    auto exec = p.sys->spawn<caf::detached>(node::executor, p.raylet, run,
                                            std::move(hosting));
    p.others.emplace_back(caf::actor_cast<caf::actor>(exec));
    // Tasks may arrive as soon as it registers, and submit tasks of their
    // own: the API must find this process' owner by then.
    core::set_current_core(p.core.get());
    caf::send_as(p.owner, p.raylet, wire::register_atom::value, opts.token,
                 exec, static_cast<int32_t>(getpid()), address);
  });
}

} // namespace caraway::runtime
