#include "owner/core_worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>

#include <caf/all.hpp>

#include "caraway/error.hpp"
#include "caraway/log.hpp"
#include "metric_registry.hpp"
#include "owner/service.hpp"
#include "spec_helpers.hpp"
#include "wall_clock.hpp"

namespace caraway::owner {

namespace {

thread_local thread_context* tls_context = nullptr;

uint64_t random_worker_id() {
  std::random_device rd;
  uint64_t result = 0;
  while (result == 0)
    result = (static_cast<uint64_t>(rd()) << 32) | rd();
  return result;
}

} // namespace

thread_context* current_context() {
  return tls_context;
}

context_guard::context_guard(thread_context* ctx) : prev_(tls_context) {
  tls_context = ctx;
}

context_guard::~context_guard() {
  tls_context = prev_;
}

core_worker::core_worker(caf::actor_system& sys, const config& cfg)
  : sys_(sys), cfg_(cfg), worker_id_(random_worker_id()) {
  // nop
}

core_worker::~core_worker() {
  // nop
}

void core_worker::connect(cluster_handles handles) {
  handles_ = std::move(handles);
  service_ = caf::actor_cast<service_actor>(handles_.owner);
  // Only in a cluster can a task's node die while this process lives on.
  tasks_.keep_specs(!handles_.data_address.empty());
  tasks_.lineage_budget(cfg_.lineage_bytes);
  caf::anon_send(service_, watch_atom::value);
  // Borrowers of this process' objects find its owner through the gcs.
  if (handles_.gcs)
    caf::anon_send(handles_.gcs, wire::owner_atom::value, worker_id_,
                   handles_.owner);
}

void core_worker::end_if_unused(const wire::actor_id& actor, effects& fx) {
  auto entry = actors_.find(actor);
  if (entry == nullptr || !entry->out_of_scope || !entry->idle())
    return;
  entry->out_of_scope = false;
  if (entry->state != wire::actor_state::dead)
    fx.out_of_scope.push_back(actor);
}

void core_worker::switch_raylet(wire::raylet_actor raylet,
                                const wire::unique_id& node) {
  {
    std::lock_guard<short_mutex> guard{mtx_};
    handles_.raylet = std::move(raylet);
    handles_.raylet_node = node;
  }
  caf::anon_send(service_, watch_atom::value);
}

std::vector<wire::task_spec> core_worker::take_ready() {
  std::vector<wire::task_spec> ready;
  std::lock_guard<std::mutex> guard{outbox_mtx_};
  ready.swap(outbox_);
  return ready;
}

wire::object_id core_worker::next_id() {
  return {worker_id_, next_seq_.fetch_add(1, std::memory_order_relaxed)};
}

void core_worker::apply(lock_type& lock, effects& fx) {
  lock.unlock();
  if (fx.empty())
    return;
  // Freed store memory goes back first, so that a woken reader sees it back.
  fx.garbage.clear();
  memory_store::wake(fx.wakeups);
  if (!fx.to_submit.empty()) {
    bool ring = false;
    {
      std::lock_guard<std::mutex> guard{outbox_mtx_};
      ring = outbox_.empty();
      if (ring)
        outbox_.swap(fx.to_submit);
      else
        std::move(fx.to_submit.begin(), fx.to_submit.end(),
                  std::back_inserter(outbox_));
    }
    if (ring)
      caf::anon_send(service_, queue_atom::value);
  }
  for (auto& actor : fx.out_of_scope)
    caf::anon_send(handles_.gcs, wire::kill_atom::value, actor,
                   wire::error_info{wire::error_kind::actor_died, "",
                                    "every handle to the actor is gone"});
  for (auto& [store, id] : fx.frees)
    caf::anon_send(store, wire::free_atom::value,
                   std::vector<wire::object_id>{id});
  for (auto& [owner, id] : fx.releases)
    caf::anon_send(owner, wire::release_atom::value, id);
  for (auto& [id, recursive] : fx.cancels)
    caf::anon_send(service_, wire::cancel_atom::value, id, recursive);
  for (auto& [owner, id] : fx.unpins)
    caf::anon_send(owner, wire::unpin_atom::value, id);
  auto& service = service_;
  for (auto& [id, pinned_by] : fx.borrows)
    caf::anon_send(service, wire::adopt_atom::value, id, pinned_by);
  for (auto& id : fx.borrower_ready)
    caf::anon_send(service, wire::ready_atom::value, id);
}

void core_worker::add_pending_locked(const wire::object_id& id) {
  refs_.add_owned(id, ref_kind::local);
  memory_.add_pending(id);
}


void core_worker::add_task_locked(pending_task task,
                                  std::vector<wire::object_id>& arg_refs) {
  count_holds(task.holds, arg_refs);
  add_pending_locked(task.spec.id);
  tasks_.add(std::move(task));
}

pending_task core_worker::make_task(wire::task_spec spec,
                                    std::vector<detail::call_arg>& args,
                                    std::vector<wire::object_id> nested,
                                    std::vector<wire::object_id>& arg_refs) {
  // Receivers drop a connection whose message is above max-message-bytes:
  // a task whose inline arguments would make one fails here, saying why.
  // Room is left for the rest of the spec.
  constexpr uint64_t spec_room = 64 * 1024;
  uint64_t inline_bytes = 0;
  for (auto& arg : args)
    if (!arg.is_ref && !arg.in_store && arg.value)
      inline_bytes += arg.value->size();
  if (inline_bytes + spec_room > cfg_.max_message_bytes)
    throw invalid_argument_error(
      "the arguments of " + spec.function + " hold "
      + std::to_string(inline_bytes) + " bytes inline, more than one message "
      + "may carry (max-message-bytes " + std::to_string(cfg_.max_message_bytes)
      + "): pass large values through caraway::put");
  pending_task task;
  task.holds = std::move(nested);
  spec.args.reserve(args.size());
  for (auto& arg : args)
    spec.args.emplace_back(make_arg(arg, task.holds, arg_refs));
  task.spec = std::move(spec);
  return task;
}

wire::object_id core_worker::resolve(pending_task& task,
                                     wire::error_info& err) {
  for (auto& arg : task.spec.args) {
    if (!arg.is_ref || arg.value || !arg.location.empty())
      continue;
    auto snap = memory_.lookup(arg.ref);
    if (!snap.known) {
      err = {wire::error_kind::object_lost, "",
             "argument object " + wire::to_string(arg.ref) + " is unknown"};
      return {};
    }
    switch (snap.st) {
      case memory_store::state::pending:
        return arg.ref;
      case memory_store::state::failed:
        err = snap.error;
        return {};
      case memory_store::state::ready:
        fill_arg(arg, snap);
        break;
    }
  }
  return {};
}

void core_worker::try_submit(const wire::task_id& id, effects& fx,
                             std::vector<wire::object_id>& settled) {
  auto task = tasks_.find(id);
  if (task == nullptr || task->sent)
    return;
  wire::error_info err;
  auto waiting = resolve(*task, err);
  if (err.kind != wire::error_kind::none) {
    fail_task(id, std::move(err), fx, settled);
  } else if (!waiting.nil()) {
    deps_.add_task(waiting, id);
  } else if (auto dead = dead_nodes_.empty() || handles_.raylet_node.nil()
                           ? dead_nodes_.end()
                           : dead_nodes_.find(handles_.raylet_node);
             dead != dead_nodes_.end()) {
    fail_task(id,
              {wire::error_kind::node_died, "",
               "task " + wire::to_string(id) + " cannot be sent: node "
                 + wire::to_string(dead->first) + " (" + dead->second
                 + "), which this process submits to, died"},
              fx, settled);
  } else {
    // Queued in this process until a lease takes it: no node holds it yet.
    task->sent = true;
    task->node = {};
    if (task->spec.scheduling == wire::strategy::hybrid)
      task->spec.locality_node = locality_of(task->spec.args);
    fx.to_submit.emplace_back(tasks_.spec_to_send(*task));
  }
}

wire::unique_id
core_worker::locality_of(const std::vector<wire::task_arg>& args) const {
  std::vector<wire::object_id> elsewhere;
  uint64_t here = 0;
  for (auto& arg : args) {
    if (!arg.is_ref || !arg.in_store)
      continue;
    if (arg.value)
      here += arg.value->size(); // in this process' store
    else
      elsewhere.push_back(arg.ref);
  }
  if (elsewhere.empty())
    return {};
  return directory_.heaviest(elsewhere, handles_.raylet_node, here);
}

void core_worker::lost_attempt(pending_task& task, wire::error_kind kind,
                               const std::string& why, effects& fx,
                               std::vector<wire::object_id>& settled) {
  auto id = task.spec.id;
  auto max_retries = task.spec.max_retries;
  if (cancelled_.count(id) > 0) {
    fail_task(id, cancelled_error_info(id), fx, settled);
    return;
  }
  if (task_manager::retry_lost(task)) {
    try_submit(id, fx, settled);
    return;
  }
  fail_task(id,
            {kind, "",
             "task " + wire::to_string(id) + " was lost: " + why
               + "; no retries left (max_retries " + std::to_string(max_retries)
               + ")"},
            fx, settled);
}

void core_worker::lost_with_node(pending_task& task,
                                 const wire::unique_id& node, effects& fx,
                                 std::vector<wire::object_id>& settled) {
  auto i = dead_nodes_.find(node);
  auto where = wire::to_string(node)
               + (i != dead_nodes_.end() && !i->second.empty()
                    ? " (" + i->second + ")"
                    : std::string{});
  lost_attempt(task, wire::error_kind::node_died, "node " + where + " died", fx,
               settled);
}

void core_worker::on_worker_died(uint64_t lease, const std::string& why) {
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  if (memory_.stopped())
    return;
  auto lost = tasks_.on_lease(lease);
  if (!lost.empty())
    CARAWAY_LOG(warning, owner)
      << "a worker process died; running its tasks again" << log::kv("why", why)
      << log::kv("tasks", lost.size());
  for (auto& id : lost)
    if (auto task = tasks_.find(id))
      lost_attempt(*task, wire::error_kind::worker_died, why, fx, settled);
  settle(settled, fx);
  apply(lock, fx);
}

bool core_worker::rebuild_locked(const wire::object_id& id,
                                 const std::string& why, effects& fx,
                                 std::vector<wire::object_id>& settled) {
  directory_.take(id);
  auto kept = tasks_.take_lineage(id);
  if (!memory_.reopen(id)) {
    // Freed meanwhile, or already being made again.
    if (kept)
      release_holds(kept->holds, fx);
    return false;
  }
  wire::error_info lost{wire::error_kind::object_lost, "",
                        "object " + wire::to_string(id) + " was lost: " + why};
  if (!kept) {
    lost.message += "; it cannot be made again (made by put, by a task "
                    "without retries, or its lineage was dropped past "
                    "lineage-bytes)";
  } else if (!task_manager::retry_lost(*kept)) {
    lost.message += "; its task has no retries left (max_retries "
                    + std::to_string(kept->spec.max_retries) + ")";
    release_holds(kept->holds, fx);
    kept.reset();
  }
  if (!kept) {
    if (memory_.fail(id, std::move(lost), &fx.wakeups))
      note_settled(id, settled);
    return false;
  }
  CARAWAY_LOG(warning, owner)
    << "rebuilding a lost object by running its task again"
    << log::kv("id", wire::to_string(id)) << log::kv("why", why)
    << log::kv("attempt", kept->attempts);
  forget_resolved(*kept);
  tasks_.add(std::move(*kept)); // its holds are still counted
  try_submit(id, fx, settled);
  return true;
}

void core_worker::forget_resolved(pending_task& task) {
  // Arguments are looked up afresh: lost ones are being made again too.
  for (auto& arg : task.spec.args) {
    if (!arg.is_ref)
      continue;
    arg.value = nullptr;
    arg.location.clear();
    arg.in_store = false;
  }
}

bool core_worker::retry_after_lost_arg(pending_task& task,
                                       const wire::error_info& err,
                                       effects& fx,
                                       std::vector<wire::object_id>& settled) {
  if (err.kind != wire::error_kind::object_lost || err.object.nil()
      || !tasks_.can_rerun(task))
    return false;
  // Made here: make it again, unless that began already.
  if (err.object.hi == worker_id_)
    rebuild_locked(err.object, "a task reading it could not pull it: "
                                 + err.message,
                   fx, settled);
  if (memory_.lookup(err.object).st == memory_store::state::failed
      || !task_manager::retry_lost(task))
    return false;
  auto id = task.spec.id;
  forget_resolved(task);
  tasks_.add(std::move(task));
  try_submit(id, fx, settled);
  return true;
}

bool core_worker::rebuild(const wire::object_id& id,
                          const std::string& location, const std::string& why) {
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  // Made again elsewhere meanwhile: the caller reads the new copy.
  auto snap = memory_.lookup(id);
  if (snap.st == memory_store::state::ready && snap.location != location)
    return true;
  auto started = rebuild_locked(id, why, fx, settled);
  settle(settled, fx);
  apply(lock, fx);
  return started;
}

wire::error_info core_worker::cancelled_error_info(const wire::task_id& id) {
  return {wire::error_kind::cancelled, "",
          "task " + wire::to_string(id) + " was cancelled"};
}

void core_worker::cancel(const wire::task_id& id, bool recursive) {
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  auto task = tasks_.find(id);
  if (task == nullptr || !task->spec.actor.nil())
    return;
  if (!task->sent) {
    // Waits for its arguments: it never runs.
    fail_task(id, cancelled_error_info(id), fx, settled);
  } else {
    // With the submitter (which fails it, if it still holds it) or on a
    // node (flagged there).
    cancelled_.insert(id);
    fx.cancels.emplace_back(id, recursive);
  }
  settle(settled, fx);
  apply(lock, fx);
}

void core_worker::cancel_here(const wire::task_id& id, bool recursive) {
  {
    std::lock_guard<std::mutex> guard{cancel_mtx_};
    if (cancelled_here_.insert(id).second)
      cancelled_count_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!recursive)
    return;
  std::vector<wire::task_id> children;
  {
    std::lock_guard<short_mutex> guard{mtx_};
    tasks_.for_each([&](const pending_task& task) {
      if (task.parent == id)
        children.push_back(task.spec.id);
    });
  }
  for (auto& child : children)
    cancel(child, true);
}

bool core_worker::cancel_requested(const wire::task_id& id) const {
  if (cancelled_count_.load(std::memory_order_relaxed) == 0 || id.nil())
    return false;
  std::lock_guard<std::mutex> guard{cancel_mtx_};
  return cancelled_here_.count(id) > 0;
}

void core_worker::run_started(const wire::task_spec& spec,
                              int64_t started_ns) {
  if (!cfg_.task_events || !handles_.gcs || !spec.actor.nil())
    return;
  std::lock_guard<std::mutex> guard{running_mtx_};
  auto slot = std::find_if(running_.begin(), running_.end(),
                           [](const running_task& x) { return x.id.nil(); });
  if (slot == running_.end())
    slot = running_.emplace(running_.end());
  slot->id = spec.id;
  slot->function = spec.function;
  slot->started_ns = started_ns;
  slot->attempts = spec.attempt + 1;
  slot->reported = false;
}

void core_worker::run_ended(const wire::task_id& id) {
  if (cfg_.task_events && handles_.gcs) {
    std::lock_guard<std::mutex> guard{running_mtx_};
    for (auto& x : running_)
      if (x.id == id)
        x.id = {};
  }
  if (cancelled_count_.load(std::memory_order_relaxed) == 0)
    return;
  std::lock_guard<std::mutex> guard{cancel_mtx_};
  if (cancelled_here_.erase(id) > 0)
    cancelled_count_.fetch_sub(1, std::memory_order_relaxed);
}

std::optional<wire::unique_id>
core_worker::node_of(const wire::task_id& id) const {
  std::lock_guard<short_mutex> guard{mtx_};
  auto task = tasks_.find(id);
  if (task == nullptr || !task->sent)
    return std::nullopt;
  return task->node;
}

void core_worker::fail_unsent(const std::vector<wire::task_spec>& tasks,
                              const wire::error_info& err) {
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  for (auto& spec : tasks) {
    auto task = tasks_.find(spec.id);
    if (task != nullptr && static_cast<uint32_t>(task->attempts) == spec.attempt)
      fail_task(spec.id, err, fx, settled);
  }
  settle(settled, fx);
  apply(lock, fx);
}

namespace {

// A bound on the events buffered between two flushes: a burst beyond it is
// counted, not kept.
constexpr size_t max_task_events = 100000;

// A task still pending or running this long after it was submitted shows in
// the task table before it ends.
constexpr int64_t task_events_age_ns = 500'000'000;

} // namespace

void core_worker::record_locked(wire::task_info x) {
  if (task_events_.size() >= max_task_events) {
    ++task_events_dropped_;
    return;
  }
  task_events_.emplace_back(std::move(x));
}

wire::task_info core_worker::task_info_locked(const pending_task& task) const {
  wire::task_info x;
  x.id = task.spec.id;
  x.function = task.spec.function;
  x.state = task.sent ? wire::task_state::scheduled : wire::task_state::pending;
  // Embedded, sent tasks are not tracked by node: they ran on this one.
  x.node = task.node.nil() && task.sent ? handles_.raylet_node : task.node;
  x.submitted_ns = task.submitted_ns;
  x.scheduled_ns = task.scheduled_ns;
  x.attempts = static_cast<uint32_t>(task.attempts) + (task.sent ? 1 : 0);
  return x;
}

namespace {

// The owner's own metrics: how long its tasks waited for their arguments
// and a worker, and how long they ran.
struct task_latency_metrics {
  size_t scheduling;
  size_t execution;

  static const task_latency_metrics& get() {
    static const task_latency_metrics x = [] {
      std::vector<double> bounds{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05,
                                 0.1,    0.5,    1,     5,     10,   60};
      auto& registry = detail::metric_registry::instance();
      return task_latency_metrics{
        registry.define("caraway_task_scheduling_seconds",
                        "Time from a task's submission until it was sent to "
                        "a worker (its arguments ready and a worker leased)",
                        wire::metric_kind::histogram, bounds, {}),
        registry.define("caraway_task_execution_seconds",
                        "Time a task ran in its worker",
                        wire::metric_kind::histogram, bounds, {})};
    }();
    return x;
  }
};

double seconds_between(int64_t from_ns, int64_t to_ns) {
  return static_cast<double>(to_ns - from_ns) / 1e9;
}

} // namespace

void core_worker::send_metrics() {
  auto& registry = detail::metric_registry::instance();
  // Records and pulls change what there is to send.
  auto version = registry.version()
                 + (handles_.puller ? handles_.puller->pulled_objects() : 0);
  auto raylet = this->raylet();
  if (!ships_metrics_ || !raylet
      || metrics_sent_version_.exchange(version) == version)
    return;
  auto samples = registry.snapshot();
  if (handles_.puller)
    detail::metric_registry::add_pulls(*handles_.puller, samples);
  // As the owner actor: the node drops the samples once it is gone.
  caf::send_as(handles_.owner, raylet, wire::metrics_atom::value,
               static_cast<int32_t>(::getpid()), std::move(samples));
}

void core_worker::record_end_locked(const pending_task& task,
                                    const wire::error_info& err,
                                    const wire::task_result* ran) {
  if (!cfg_.task_events || !task.spec.actor.nil())
    return;
  {
    auto& latency = task_latency_metrics::get();
    auto& registry = detail::metric_registry::instance();
    if (task.submitted_ns > 0 && task.scheduled_ns >= task.submitted_ns)
      registry.record(latency.scheduling,
                      seconds_between(task.submitted_ns, task.scheduled_ns),
                      {});
    if (ran != nullptr && ran->started_ns > 0
        && ran->ran_until_ns >= ran->started_ns)
      registry.record(latency.execution,
                      seconds_between(ran->started_ns, ran->ran_until_ns), {});
  }
  auto x = task_info_locked(task);
  x.state = err.kind == wire::error_kind::none ? wire::task_state::finished
                                               : wire::task_state::failed;
  x.error = err.message;
  x.ended_ns = core::wall_clock_ns();
  if (ran != nullptr) {
    x.started_ns = ran->started_ns;
    x.ran_until_ns = ran->ran_until_ns;
    x.pid = ran->pid;
  }
  record_locked(std::move(x));
}

void core_worker::flush_task_events() {
  std::vector<wire::task_info> events;
  uint64_t dropped = 0;
  {
    std::lock_guard<short_mutex> guard{mtx_};
    // Tasks submitted before the last flush and still not ended show as
    // they are now; the others were (or will be) reported when they ended.
    auto cutoff = core::wall_clock_ns() - task_events_age_ns;
    while (!unreported_.empty() && unreported_.front().second < cutoff) {
      auto id = unreported_.front().first;
      unreported_.pop_front();
      if (auto task = tasks_.find(id))
        record_locked(task_info_locked(*task));
    }
    events.swap(task_events_);
    std::swap(dropped, task_events_dropped_);
  }
  {
    // Tasks of any owner running here since before the last report.
    auto cutoff = core::wall_clock_ns() - task_events_age_ns;
    auto node = own_node();
    std::lock_guard<std::mutex> guard{running_mtx_};
    for (auto& run : running_) {
      if (run.id.nil() || run.reported || run.started_ns > cutoff)
        continue;
      run.reported = true;
      wire::task_info x;
      x.id = run.id;
      x.function = run.function;
      x.state = wire::task_state::running;
      x.node = node;
      x.attempts = run.attempts;
      x.started_ns = run.started_ns;
      x.pid = static_cast<int32_t>(::getpid());
      events.push_back(std::move(x));
    }
  }
  if (dropped > 0)
    CARAWAY_LOG(warning, owner)
      << "task events dropped: more than the buffer holds between reports"
      << log::kv("dropped", dropped) << log::kv("kept", max_task_events);
  if (!events.empty() && handles_.gcs)
    caf::anon_send(handles_.gcs, wire::events_atom::value, std::move(events));
}

void core_worker::on_sent(const std::vector<wire::task_spec>& sent,
                          const wire::unique_id& node, uint64_t lease) {
  // In an embedded cluster no node dies alone: nothing to track (and the
  // task table has no time for when a task was sent).
  if (handles_.data_address.empty())
    return;
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  auto now = cfg_.task_events ? core::wall_clock_ns() : 0;
  for (auto& spec : sent) {
    auto task = tasks_.find(spec.id);
    if (task == nullptr || !task->sent
        || static_cast<uint32_t>(task->attempts) != spec.attempt)
      continue;
    task->node = node;
    task->lease = lease;
    task->scheduled_ns = now;
    // Sent to a node that died meanwhile.
    if (dead_nodes_.count(node) > 0)
      lost_with_node(*task, node, fx, settled);
  }
  settle(settled, fx);
  apply(lock, fx);
}

void core_worker::on_node_died(const wire::unique_id& node,
                               const std::string& address) {
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  // After shutdown began, the nodes go down with this process: nothing
  // runs again, and waiting readers hear of the shutdown, not of a death.
  if (memory_.stopped() || !dead_nodes_.emplace(node, address).second)
    return;
  // Objects first: their tasks run again, and tasks of the node that read
  // them wait for them instead of reading a lost copy.
  for (auto& id : directory_.on_node(node))
    rebuild_locked(id, "its only copy was on node " + wire::to_string(node)
                         + (address.empty() ? "" : " (" + address + ")")
                         + ", which died",
                   fx, settled);
  auto lost = tasks_.on_node(node);
  if (!lost.empty())
    CARAWAY_LOG(warning, owner)
      << "node died; running its tasks again"
      << log::kv("node", wire::to_string(node)) << log::kv("address", address)
      << log::kv("tasks", lost.size());
  for (auto& id : lost)
    if (auto task = tasks_.find(id))
      lost_with_node(*task, node, fx, settled);
  settle(settled, fx);
  apply(lock, fx);
}

void core_worker::fail_task(const wire::task_id& id, wire::error_info err,
                            effects& fx,
                            std::vector<wire::object_id>& settled) {
  auto task = tasks_.take(id);
  if (!task)
    return;
  record_end_locked(*task, err);
  if (!cancelled_.empty())
    cancelled_.erase(id);
  // Arguments go first, so that a reader woken by the result sees them freed.
  release_holds(task->holds, fx);
  if (!task->spec.actor.nil()) {
    actors_.finished(task->spec.actor, id);
    end_if_unused(task->spec.actor, fx);
  }
  if (memory_.fail(id, std::move(err), &fx.wakeups))
    note_settled(id, settled);
}

void core_worker::note_settled(const wire::object_id& id,
                               std::vector<wire::object_id>& settled) {
  // Most objects settle with nothing waiting for them: no list then.
  if (deps_.waited_for(id) || borrower_waits_.count(id) > 0)
    settled.push_back(id);
}

void core_worker::settle(std::vector<wire::object_id>& settled, effects& fx) {
  while (!settled.empty()) {
    auto id = settled.back();
    settled.pop_back();
    if (borrower_waits_.erase(id) > 0)
      fx.borrower_ready.push_back(id);
    auto waiting = deps_.take(id);
    for (auto& task : waiting.tasks)
      try_submit(task, fx, settled);
    for (auto& actor : waiting.actors) {
      if (auto entry = actors_.find(actor); entry && entry->blocked_on == id)
        entry->blocked_on = {};
      flush_actor(actor, fx, settled);
    }
  }
}

wire::object_id core_worker::submit_task(const std::string& function,
                                         std::vector<detail::call_arg> args,
                                         std::vector<wire::object_id> nested,
                                         const detail::task_options& opts) {
  wire::task_spec spec;
  spec.id = next_id();
  spec.function = function;
  spec.resources = core::make_resources(opts);
  auto ctx = current_context();
  spec.depth = ctx != nullptr ? ctx->depth + 1 : 0;
  spec.max_retries = opts.max_retries;
  spec.retry_exceptions = opts.retry_exceptions;
  core::set_strategy(spec, opts.scheduling);
  spec.owner = handles_.owner;
  spec.ns = current_namespace();
  auto id = spec.id;
  std::vector<wire::object_id> arg_refs;
  auto task = make_task(std::move(spec), args, std::move(nested), arg_refs);
  if (ctx != nullptr)
    task.parent = ctx->task;
  effects fx;
  std::vector<wire::object_id> settled;
  if (cfg_.task_events)
    task.submitted_ns = core::wall_clock_ns();
  lock_type lock{mtx_};
  if (cfg_.task_events)
    unreported_.emplace_back(id, task.submitted_ns);
  add_task_locked(std::move(task), arg_refs);
  try_submit(id, fx, settled);
  settle(settled, fx);
  apply(lock, fx);
  return id;
}

void core_worker::on_result(wire::task_result& result) {
  effects fx;
  std::vector<wire::object_id> settled;
  std::optional<pending_task> task;
  lock_type lock{mtx_};
  auto verdict = tasks_.on_result(result, task);
  if (verdict == task_manager::verdict::stale) {
    // Its node was declared dead and the task runs again elsewhere; a value
    // in that node's store is not this process' to keep.
    if (result.in_store && result.store && result.store != handles_.store_actor)
      fx.frees.emplace_back(result.store, result.id);
    // Nor are the refs in it: the sender stops pinning them for this process.
    bool local = !result.sender || is_own(result.sender);
    for (auto& id : result.contained) {
      if (local)
        remove_ref_locked(id, ref_kind::local, fx);
      else
        fx.unpins.emplace_back(result.sender, id);
    }
    apply(lock, fx);
    return;
  }
  if (verdict == task_manager::verdict::retry) {
    CARAWAY_LOG(info, owner)
      << "retrying task" << log::kv("id", wire::to_string(result.id));
    try_submit(result.id, fx, settled);
    settle(settled, fx);
    apply(lock, fx);
    return;
  }
  // An argument's copy was gone when the task ran (its node died): the
  // argument is made again and the task runs again once it is there.
  if (task && retry_after_lost_arg(*task, result.error, fx, settled)) {
    settle(settled, fx);
    apply(lock, fx);
    return;
  }
  // Refs in a value from another process: held here from now on, and the
  // sender, which kept them alive meanwhile, lets go. A value from this
  // process hands over the refs its executor collected.
  if (!result.contained.empty()) {
    bool local = !result.sender || is_own(result.sender);
    auto sender = result.sender;
    for (auto& id : result.contained) {
      if (local)
        refs_.convert(id, ref_kind::local, ref_kind::contained);
      else
        hold_received(id, ref_kind::contained, sender, fx);
    }
  }
  // A result in another node's store may have to be made again if that
  // node dies: the task stays, with its arguments (lineage).
  bool lineage = task && result.error.kind == wire::error_kind::none
                 && result.in_store && result.store
                 && result.store != handles_.store_actor
                 && tasks_.can_rerun(*task);
  if (task)
    record_end_locked(*task, result.error, &result);
  // Arguments go first, so that a reader woken by the result sees them freed.
  if (task) {
    if (!lineage)
      release_holds(task->holds, fx);
    if (!task->spec.actor.nil()) {
      actors_.finished(task->spec.actor, result.id);
      end_if_unused(task->spec.actor, fx);
    }
  }
  bool kept = false;
  if (result.error.kind != wire::error_kind::none) {
    kept = memory_.fail(result.id, std::move(result.error), &fx.wakeups);
  } else {
    bool in_store = result.in_store;
    auto store = result.store;
    auto location = result.location;
    kept = memory_.complete(result.id, std::move(result.value), in_store,
                            std::move(result.location), &fx.wakeups);
    if (kept) {
      refs_.set_contains(result.id, result.contained);
      if (store)
        directory_.set_primary(result.id, std::move(location), store,
                               task ? task->node : wire::unique_id{},
                               result.size);
      if (lineage) {
        std::vector<pending_task> dropped;
        tasks_.keep_lineage(std::move(*task), dropped);
        for (auto& old : dropped)
          release_holds(old.holds, fx);
        lineage = false;
      }
    } else if (in_store) {
      // Nobody wants the value any more (or it came twice): its store lets
      // go of it.
      if (handles_.store)
        handles_.store->release(result.id);
      if (store && store != handles_.store_actor)
        fx.frees.emplace_back(store, result.id);
    }
  }
  if (lineage) // not kept: nobody wants the value
    release_holds(task->holds, fx);
  if (kept) {
    note_settled(result.id, settled);
  } else {
    for (auto& id : result.contained)
      remove_ref_locked(id, ref_kind::contained, fx);
  }
  settle(settled, fx);
  apply(lock, fx);
}

void core_worker::shutdown() {
  // The last events, while the gcs may still hear them.
  flush_task_events();
  send_metrics();
  // A detached actor's thread lives until the last handle to it is gone.
  std::lock_guard<short_mutex> guard{mtx_};
  memory_.shutdown();
  actors_.drop_hosts();
}

core_worker::part_sizes core_worker::sizes() {
  std::lock_guard<short_mutex> guard{mtx_};
  return {memory_.size(), refs_.size(),   directory_.size(),
          tasks_.size(),  actors_.size(), deps_.size()};
}

ref_counts core_worker::refs_of(const wire::object_id& id) {
  std::lock_guard<short_mutex> guard{mtx_};
  return refs_.counts(id);
}

wire::unique_id core_worker::own_node() const {
  wire::unique_id node;
  if (node_id_.empty() || !wire::from_string(node_id_, node))
    node = handles_.raylet_node;
  return node;
}

uint64_t core_worker::size_locked(const wire::object_id& id) const {
  if (auto value = memory_.ready_value(id))
    return value->size();
  auto loc = directory_.find(id);
  return loc != nullptr ? loc->size : 0;
}

wire::object_info core_worker::describe_locked(
  const wire::object_id& id,
  const std::unordered_map<wire::task_id, const std::string*>& ended) const {
  auto refs = refs_.counts(id);
  wire::object_info x;
  x.id = id;
  x.job = job();
  x.pid = static_cast<int32_t>(::getpid());
  x.owner_node = own_node();
  auto snap = memory_.lookup(id);
  auto loc = directory_.find(id);
  switch (snap.st) {
    case memory_store::state::pending:
      x.state = wire::object_state::pending;
      break;
    case memory_store::state::ready:
      x.state = wire::object_state::ready;
      break;
    case memory_store::state::failed:
      x.state = wire::object_state::failed;
      x.error = snap.error.message;
      break;
  }
  // As `size_locked` has it, from what was looked up already.
  x.size = snap.st == memory_store::state::ready && snap.value
             ? snap.value->size()
             : (loc != nullptr ? loc->size : 0);
  // A driver's store is its own, in its process; a node's processes share
  // the node's.
  x.in_store = snap.in_store && !node_id_.empty();
  x.node = x.owner_node;
  if (loc != nullptr) {
    if (loc->primary) {
      x.in_store = true;
      x.node = loc->node;
    }
    x.copies = static_cast<uint32_t>(loc->copies.size());
  }
  // A task's return object has the task's id. The gcs names the function
  // of tasks reported already.
  x.put = refs_.owned_put(id);
  if (!x.put) {
    if (auto task = tasks_.find(id)) {
      x.function = task->spec.function;
    } else {
      auto i = ended.find(id);
      if (i != ended.end())
        x.function = *i->second;
    }
  }
  x.local_refs = refs[ref_kind::local];
  x.submitted_refs = refs[ref_kind::submitted];
  x.contained_refs = refs[ref_kind::contained];
  x.borrowers = refs[ref_kind::borrower];
  return x;
}

std::vector<wire::object_info> core_worker::objects(size_t limit,
                                                    uint64_t& total) {
  struct candidate {
    wire::object_id id;
    uint64_t size;
  };
  std::lock_guard<short_mutex> guard{mtx_};
  std::vector<candidate> all;
  refs_.for_each_owned([&](const wire::object_id& id) {
    if (!wire::is_actor_id(id))
      all.push_back({id, size_locked(id)});
  });
  total = all.size();
  auto keep = std::min(limit, all.size());
  // Largest first; ids break ties, so that the order is stable.
  std::partial_sort(all.begin(), all.begin() + keep, all.end(),
                    [](const candidate& x, const candidate& y) {
                      return x.size != y.size ? x.size > y.size : x.id < y.id;
                    });
  std::unordered_map<wire::task_id, const std::string*> ended;
  for (auto& x : task_events_)
    ended[x.id] = &x.function;
  std::vector<wire::object_info> result;
  result.reserve(keep);
  for (size_t i = 0; i < keep; ++i)
    result.push_back(describe_locked(all[i].id, ended));
  return result;
}

std::optional<wire::object_info>
core_worker::object(const wire::object_id& id) {
  std::lock_guard<short_mutex> guard{mtx_};
  if (wire::is_actor_id(id) || !refs_.has(id) || id.hi != worker_id_)
    return std::nullopt;
  std::unordered_map<wire::task_id, const std::string*> ended;
  for (auto& x : task_events_)
    if (x.id == id)
      ended[x.id] = &x.function;
  return describe_locked(id, ended);
}

} // namespace caraway::owner
