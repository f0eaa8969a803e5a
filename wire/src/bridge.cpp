#include "caraway/wire/bridge.hpp"

#include <algorithm>
#include <limits>

#include <caf/actor_system_config.hpp>
#include <caf/deserializer.hpp>
#include <caf/serializer.hpp>

#include "caraway.pb.h"
#include "caraway/wire/errc.hpp"
#include "caraway/wire/gcs_records.hpp"
#include "caraway/wire/interfaces.hpp"

namespace caraway::wire {

namespace {

template <class Map>
void to_proto(const resource_set& xs, Map* out) {
  for (auto& [k, v] : xs)
    (*out)[k] = v;
}

template <class Map>
resource_set from_proto(const Map& xs) {
  return resource_set(xs.begin(), xs.end());
}

void to_proto(const error_info& x, rpc::ErrorInfo* out) {
  out->set_kind(static_cast<uint32_t>(x.kind));
  out->set_type_name(x.type_name);
  out->set_message(x.message);
  if (!x.object.nil())
    out->set_object(to_bytes(x.object));
}

error_info from_proto(const rpc::ErrorInfo& x) {
  return {static_cast<error_kind>(x.kind()), x.type_name(), x.message(),
          from_bytes(x.object())};
}

void to_proto(const task_arg& x, rpc::TaskArg* out) {
  out->set_is_ref(x.is_ref);
  if (x.is_ref)
    out->set_ref(to_bytes(x.ref));
  // Large values stay in their store; the reader pulls them.
  if (x.value && x.location.empty()) {
    out->set_has_value(true);
    out->set_value(x.value->data(), x.value->size());
  }
  out->set_in_store(x.in_store);
  out->set_location(x.location);
}

task_arg from_proto(const rpc::TaskArg& x) {
  task_arg result;
  result.is_ref = x.is_ref();
  if (result.is_ref)
    result.ref = from_bytes(x.ref());
  if (x.has_value())
    result.value = make_buffer(x.value().data(), x.value().size());
  result.in_store = x.in_store();
  result.location = x.location();
  return result;
}

strategy strategy_from(uint32_t x) {
  return x <= static_cast<uint32_t>(strategy::node_affinity)
           ? static_cast<strategy>(x)
           : strategy::hybrid;
}

void to_proto(const task_spec& x, rpc::TaskSpec* out) {
  out->set_id(to_bytes(x.id));
  if (!x.actor.nil())
    out->set_actor(to_bytes(x.actor));
  out->set_function(x.function);
  for (auto& arg : x.args)
    to_proto(arg, out->add_args());
  to_proto(x.resources, out->mutable_resources());
  out->set_depth(x.depth);
  out->set_max_retries(x.max_retries);
  out->set_retry_exceptions(x.retry_exceptions);
  out->set_scheduling(static_cast<uint32_t>(x.scheduling));
  out->set_affinity_node(to_bytes(x.affinity_node));
  out->set_affinity_soft(x.affinity_soft);
  if (!x.locality_node.nil())
    out->set_locality_node(to_bytes(x.locality_node));
  out->set_attempt(x.attempt);
  out->set_ns(x.ns);
}

void from_proto(const rpc::TaskSpec& x, task_spec& out) {
  out.id = from_bytes(x.id());
  out.actor = from_bytes(x.actor());
  out.function = x.function();
  out.args.clear();
  for (auto& arg : x.args())
    out.args.emplace_back(from_proto(arg));
  out.resources = from_proto(x.resources());
  out.depth = x.depth();
  out.max_retries = x.max_retries();
  out.retry_exceptions = x.retry_exceptions();
  out.scheduling = strategy_from(x.scheduling());
  out.affinity_node = from_bytes(x.affinity_node());
  out.affinity_soft = x.affinity_soft();
  out.locality_node = from_bytes(x.locality_node());
  out.attempt = x.attempt();
  out.ns = x.ns();
}

void to_proto(const task_result& x, rpc::TaskResult* out) {
  out->set_id(to_bytes(x.id));
  if (x.error.kind != error_kind::none)
    to_proto(x.error, out->mutable_error());
  if (x.value && (!x.in_store || x.location.empty())) {
    out->set_has_value(true);
    out->set_value(x.value->data(), x.value->size());
  }
  out->set_in_store(x.in_store);
  out->set_location(x.location);
  for (auto& id : x.contained)
    out->add_contained(to_bytes(id));
  out->set_attempt(x.attempt);
  out->set_lease_done(x.lease_done);
  out->set_size(x.size);
  out->set_started_ns(x.started_ns);
  out->set_ran_until_ns(x.ran_until_ns);
  out->set_pid(x.pid);
}

void from_proto(const rpc::TaskResult& x, task_result& out) {
  out.id = from_bytes(x.id());
  out.error = from_proto(x.error());
  out.value = x.has_value() ? make_buffer(x.value().data(), x.value().size())
                            : nullptr;
  out.in_store = x.in_store();
  out.location = x.location();
  out.contained.clear();
  for (auto& id : x.contained())
    out.contained.emplace_back(from_bytes(id));
  out.attempt = x.attempt();
  out.lease_done = x.lease_done();
  out.size = x.size();
  out.started_ns = x.started_ns();
  out.ran_until_ns = x.ran_until_ns();
  out.pid = x.pid();
}

void to_proto(const actor_spec& x, rpc::ActorSpec* out) {
  out->set_id(to_bytes(x.id));
  out->set_class_name(x.class_name);
  out->set_name(x.name);
  out->set_ns(x.ns);
  for (auto& key : x.ctor_key)
    out->add_ctor_key(key);
  for (auto& arg : x.args)
    to_proto(arg, out->add_args());
  to_proto(x.resources, out->mutable_resources());
  out->set_max_concurrency(x.max_concurrency);
  out->set_detached(x.detached);
  out->set_max_restarts(x.max_restarts);
  out->set_max_task_retries(x.max_task_retries);
  out->set_num_restarts(x.num_restarts);
  out->set_scheduling(static_cast<uint32_t>(x.scheduling));
  if (!x.affinity_node.nil())
    out->set_affinity_node(to_bytes(x.affinity_node));
  out->set_affinity_soft(x.affinity_soft);
  out->set_job(x.job);
}

void from_proto(const rpc::ActorSpec& x, actor_spec& out) {
  out.id = from_bytes(x.id());
  out.class_name = x.class_name();
  out.name = x.name();
  out.ns = x.ns();
  out.ctor_key.assign(x.ctor_key().begin(), x.ctor_key().end());
  out.args.clear();
  for (auto& arg : x.args())
    out.args.emplace_back(from_proto(arg));
  out.resources = from_proto(x.resources());
  out.max_concurrency = x.max_concurrency();
  out.detached = x.detached();
  out.max_restarts = x.max_restarts();
  out.max_task_retries = x.max_task_retries();
  out.num_restarts = x.num_restarts();
  out.scheduling = strategy_from(x.scheduling());
  out.affinity_node = from_bytes(x.affinity_node());
  out.affinity_soft = x.affinity_soft();
  out.job = x.job();
}

void to_proto(const actor_info& x, rpc::ActorInfo* out) {
  out->set_id(to_bytes(x.id));
  out->set_class_name(x.class_name);
  out->set_name(x.name);
  out->set_ns(x.ns);
  out->set_state(static_cast<uint32_t>(x.state));
  to_proto(x.death, out->mutable_death());
  out->set_num_restarts(x.num_restarts);
  out->set_max_task_retries(x.max_task_retries);
  out->set_address(x.address);
  if (!x.node.nil())
    out->set_node(to_bytes(x.node));
  out->set_job(x.job);
  out->set_pid(x.pid);
}

void from_proto(const rpc::ActorInfo& x, actor_info& out) {
  out.id = from_bytes(x.id());
  out.class_name = x.class_name();
  out.name = x.name();
  out.ns = x.ns();
  out.state = static_cast<actor_state>(x.state());
  out.death = from_proto(x.death());
  out.num_restarts = x.num_restarts();
  out.max_task_retries = x.max_task_retries();
  out.address = x.address();
  out.node = from_bytes(x.node());
  out.job = x.job();
  out.pid = x.pid();
}

void to_proto(const node_info& x, rpc::NodeInfo* out) {
  out->set_id(to_bytes(x.id));
  out->set_address(x.address);
  to_proto(x.total, out->mutable_total());
  to_proto(x.available, out->mutable_available());
  out->set_pending_tasks(x.pending_tasks);
  out->set_object_store_used(x.object_store_used);
  out->set_object_store_capacity(x.object_store_capacity);
  out->set_alive(x.alive);
}

void from_proto(const rpc::NodeInfo& x, node_info& out) {
  out.id = from_bytes(x.id());
  out.address = x.address();
  out.total = from_proto(x.total());
  out.available = from_proto(x.available());
  out.pending_tasks = x.pending_tasks();
  out.object_store_used = x.object_store_used();
  out.object_store_capacity = x.object_store_capacity();
  out.alive = x.alive();
}

void to_proto(const placement_group_info& x, rpc::PlacementGroupInfo* out) {
  out->set_id(to_bytes(x.id));
  out->set_name(x.name);
  out->set_ns(x.ns);
  out->set_strategy(static_cast<uint32_t>(x.strategy));
  for (auto& bundle : x.bundles)
    to_proto(bundle, out->add_bundles()->mutable_resources());
  for (auto& node : x.nodes)
    out->add_nodes(to_bytes(node));
  out->set_state(static_cast<uint32_t>(x.state));
  out->set_why(x.why);
}

void from_proto(const rpc::PlacementGroupInfo& x, placement_group_info& out) {
  out.id = from_bytes(x.id());
  out.name = x.name();
  out.ns = x.ns();
  out.strategy = x.strategy() <= static_cast<uint32_t>(
                                   placement_strategy::strict_spread)
                   ? static_cast<placement_strategy>(x.strategy())
                   : placement_strategy::pack;
  out.bundles.clear();
  for (auto& bundle : x.bundles())
    out.bundles.emplace_back(from_proto(bundle.resources()));
  out.nodes.clear();
  for (auto& node : x.nodes())
    out.nodes.emplace_back(from_bytes(node));
  out.state = x.state() <= static_cast<uint32_t>(
                             placement_group_state::rescheduling)
                ? static_cast<placement_group_state>(x.state())
                : placement_group_state::pending;
  out.why = x.why();
}

void from_proto(const rpc::ErrorInfo& x, error_info& out) {
  out = from_proto(x);
}

// Writes the record's Protobuf bytes, then any actor handles it carries.
template <class Proto, class T, class... Handles>
caf::error save(caf::serializer& f, const T& x, Handles&... handles) {
  Proto msg;
  to_proto(x, &msg);
  std::string bytes;
  if (!msg.SerializeToString(&bytes))
    return caf::make_error(caf::sec::invalid_argument,
                           "cannot serialize record");
  return f(bytes, handles...);
}

template <class Proto, class T, class... Handles>
caf::error load(caf::deserializer& f, T& x, Handles&... handles) {
  std::string bytes;
  if (auto err = f(bytes, handles...))
    return err;
  Proto msg;
  if (!msg.ParseFromString(bytes))
    return caf::make_error(caf::sec::invalid_argument, "malformed record");
  from_proto(msg, x);
  return caf::none;
}

} // namespace

caf::error inspect(caf::serializer& f, error_info& x) {
  return save<rpc::ErrorInfo>(f, x);
}

caf::error inspect(caf::deserializer& f, error_info& x) {
  return load<rpc::ErrorInfo>(f, x);
}

caf::error inspect(caf::serializer& f, task_spec& x) {
  return save<rpc::TaskSpec>(f, x, x.owner);
}

caf::error inspect(caf::deserializer& f, task_spec& x) {
  return load<rpc::TaskSpec>(f, x, x.owner);
}

caf::error inspect(caf::serializer& f, task_result& x) {
  return save<rpc::TaskResult>(f, x, x.store, x.sender);
}

caf::error inspect(caf::deserializer& f, task_result& x) {
  return load<rpc::TaskResult>(f, x, x.store, x.sender);
}

caf::error inspect(caf::serializer& f, actor_spec& x) {
  return save<rpc::ActorSpec>(f, x, x.owner);
}

caf::error inspect(caf::deserializer& f, actor_spec& x) {
  return load<rpc::ActorSpec>(f, x, x.owner);
}

caf::error inspect(caf::serializer& f, actor_info& x) {
  return save<rpc::ActorInfo>(f, x, x.host);
}

caf::error inspect(caf::deserializer& f, actor_info& x) {
  return load<rpc::ActorInfo>(f, x, x.host);
}

caf::error inspect(caf::serializer& f, node_info& x) {
  return save<rpc::NodeInfo>(f, x);
}

caf::error inspect(caf::deserializer& f, node_info& x) {
  return load<rpc::NodeInfo>(f, x);
}

void to_proto(const task_info& x, rpc::TaskInfo* out) {
  out->set_id(to_bytes(x.id));
  out->set_function(x.function);
  out->set_state(static_cast<uint32_t>(x.state));
  if (!x.node.nil())
    out->set_node(to_bytes(x.node));
  out->set_error(x.error);
  out->set_submitted_ns(x.submitted_ns);
  out->set_scheduled_ns(x.scheduled_ns);
  out->set_ended_ns(x.ended_ns);
  out->set_attempts(x.attempts);
  out->set_started_ns(x.started_ns);
  out->set_ran_until_ns(x.ran_until_ns);
  out->set_pid(x.pid);
}

void from_proto(const rpc::TaskInfo& x, task_info& out) {
  out.id = from_bytes(x.id());
  out.function = x.function();
  out.state = x.state() <= static_cast<uint32_t>(task_state::running)
                ? static_cast<task_state>(x.state())
                : task_state::pending;
  out.node = from_bytes(x.node());
  out.error = x.error();
  out.submitted_ns = x.submitted_ns();
  out.scheduled_ns = x.scheduled_ns();
  out.ended_ns = x.ended_ns();
  out.attempts = x.attempts();
  out.started_ns = x.started_ns();
  out.ran_until_ns = x.ran_until_ns();
  out.pid = x.pid();
}

caf::error inspect(caf::serializer& f, task_info& x) {
  return save<rpc::TaskInfo>(f, x);
}

caf::error inspect(caf::deserializer& f, task_info& x) {
  return load<rpc::TaskInfo>(f, x);
}

void to_proto(const object_info& x, rpc::ObjectInfo* out) {
  out->set_id(to_bytes(x.id));
  out->set_state(static_cast<uint32_t>(x.state));
  out->set_size(x.size);
  out->set_job(x.job);
  out->set_pid(x.pid);
  if (!x.owner_node.nil())
    out->set_owner_node(to_bytes(x.owner_node));
  out->set_in_store(x.in_store);
  if (!x.node.nil())
    out->set_node(to_bytes(x.node));
  out->set_copies(x.copies);
  out->set_put(x.put);
  out->set_function(x.function);
  out->set_error(x.error);
  out->set_local_refs(x.local_refs);
  out->set_submitted_refs(x.submitted_refs);
  out->set_contained_refs(x.contained_refs);
  out->set_borrowers(x.borrowers);
}

void from_proto(const rpc::ObjectInfo& x, object_info& out) {
  out.id = from_bytes(x.id());
  out.state = x.state() <= static_cast<uint32_t>(object_state::failed)
                ? static_cast<object_state>(x.state())
                : object_state::pending;
  out.size = x.size();
  out.job = x.job();
  out.pid = x.pid();
  out.owner_node = from_bytes(x.owner_node());
  out.in_store = x.in_store();
  out.node = from_bytes(x.node());
  out.copies = x.copies();
  out.put = x.put();
  out.function = x.function();
  out.error = x.error();
  out.local_refs = x.local_refs();
  out.submitted_refs = x.submitted_refs();
  out.contained_refs = x.contained_refs();
  out.borrowers = x.borrowers();
}

caf::error inspect(caf::serializer& f, object_info& x) {
  return save<rpc::ObjectInfo>(f, x);
}

caf::error inspect(caf::deserializer& f, object_info& x) {
  return load<rpc::ObjectInfo>(f, x);
}

void to_proto(const metric_sample& x, rpc::MetricSample* out) {
  out->set_name(x.name);
  out->set_help(x.help);
  out->set_kind(static_cast<uint32_t>(x.kind));
  for (auto& [key, value] : x.labels) {
    out->add_label_keys(key);
    out->add_label_values(value);
  }
  out->set_value(x.value);
  for (auto bound : x.bounds)
    out->add_bounds(bound);
  for (auto n : x.buckets)
    out->add_buckets(n);
  out->set_sum(x.sum);
}

void from_proto(const rpc::MetricSample& x, metric_sample& out) {
  out.name = x.name();
  out.help = x.help();
  out.kind = x.kind() <= static_cast<uint32_t>(metric_kind::histogram)
               ? static_cast<metric_kind>(x.kind())
               : metric_kind::gauge;
  // Unpaired keys or values are dropped.
  auto pairs = std::min(x.label_keys_size(), x.label_values_size());
  out.labels.clear();
  for (int i = 0; i < pairs; ++i)
    out.labels.emplace_back(x.label_keys(i), x.label_values(i));
  out.value = x.value();
  out.bounds.assign(x.bounds().begin(), x.bounds().end());
  out.buckets.assign(x.buckets().begin(), x.buckets().end());
  // One bucket more than bounds, whatever the sender claimed.
  out.buckets.resize(out.bounds.size() + 1);
  out.sum = x.sum();
}

caf::error inspect(caf::serializer& f, metric_sample& x) {
  return save<rpc::MetricSample>(f, x);
}

caf::error inspect(caf::deserializer& f, metric_sample& x) {
  return load<rpc::MetricSample>(f, x);
}

void to_proto(const worker_info& x, rpc::WorkerInfo* out) {
  out->set_pid(x.pid);
  out->set_job(x.job);
  out->set_alive(x.alive);
  out->set_log(x.log);
  out->set_out_bytes(x.out_bytes);
  out->set_err_bytes(x.err_bytes);
}

void from_proto(const rpc::WorkerInfo& x, worker_info& out) {
  out.pid = x.pid();
  out.job = x.job();
  out.alive = x.alive();
  out.log = x.log();
  out.out_bytes = x.out_bytes();
  out.err_bytes = x.err_bytes();
}

caf::error inspect(caf::serializer& f, worker_info& x) {
  return save<rpc::WorkerInfo>(f, x);
}

caf::error inspect(caf::deserializer& f, worker_info& x) {
  return load<rpc::WorkerInfo>(f, x);
}

caf::error inspect(caf::serializer& f, placement_group_info& x) {
  return save<rpc::PlacementGroupInfo>(f, x);
}

caf::error inspect(caf::deserializer& f, placement_group_info& x) {
  return load<rpc::PlacementGroupInfo>(f, x);
}

std::string encode(const gcs_record& x) {
  rpc::GcsRecord msg;
  if (auto actor = std::get_if<stored_actor>(&x)) {
    auto out = msg.mutable_actor();
    to_proto(actor->spec, out->mutable_spec());
    to_proto(actor->info, out->mutable_info());
    if (!actor->node.nil())
      out->set_node(to_bytes(actor->node));
  } else if (auto node = std::get_if<stored_node>(&x)) {
    to_proto(node->info, msg.mutable_node()->mutable_info());
    msg.mutable_node()->set_with_gcs(node->with_gcs);
  } else if (auto job = std::get_if<stored_job>(&x)) {
    auto out = msg.mutable_job();
    out->set_id(job->id);
    out->set_driver(job->driver);
    out->set_owner(job->owner);
    out->set_running(job->running);
    for (auto& path : job->libraries)
      out->add_libraries(path);
  } else if (auto owner = std::get_if<stored_owner>(&x)) {
    msg.mutable_owner()->set_worker(owner->worker);
    msg.mutable_owner()->set_gone(owner->gone);
  } else if (auto group = std::get_if<stored_group>(&x)) {
    to_proto(group->info, msg.mutable_group());
  }
  return msg.SerializeAsString();
}

bool decode(const char* data, size_t size, gcs_record& out) {
  rpc::GcsRecord msg;
  if (size > static_cast<size_t>(std::numeric_limits<int>::max())
      || !msg.ParseFromArray(data, static_cast<int>(size)))
    return false;
  switch (msg.row_case()) {
    case rpc::GcsRecord::kActor: {
      stored_actor x;
      from_proto(msg.actor().spec(), x.spec);
      from_proto(msg.actor().info(), x.info);
      x.node = from_bytes(msg.actor().node());
      out = std::move(x);
      return !std::get<stored_actor>(out).spec.id.nil();
    }
    case rpc::GcsRecord::kNode: {
      stored_node x;
      from_proto(msg.node().info(), x.info);
      x.with_gcs = msg.node().with_gcs();
      out = std::move(x);
      return !std::get<stored_node>(out).info.id.nil();
    }
    case rpc::GcsRecord::kJob: {
      auto& in = msg.job();
      out = stored_job{in.id(), in.driver(), in.owner(), in.running(),
                       {in.libraries().begin(), in.libraries().end()}};
      return in.id() != 0;
    }
    case rpc::GcsRecord::kOwner:
      out = stored_owner{msg.owner().worker(), msg.owner().gone()};
      return msg.owner().worker() != 0;
    case rpc::GcsRecord::kGroup: {
      stored_group x;
      from_proto(msg.group(), x.info);
      out = std::move(x);
      return !std::get<stored_group>(out).info.id.nil();
    }
    default:
      return false;
  }
}

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<unique_id>("caraway::unique_id");
  cfg.add_message_type<std::vector<unique_id>>("caraway::unique_ids");
  cfg.add_message_type<std::vector<uint32_t>>("caraway::u32s");
  cfg.add_message_type<error_info>("caraway::error_info");
  cfg.add_message_type<task_spec>("caraway::task_spec");
  cfg.add_message_type<std::vector<task_spec>>("caraway::task_specs");
  cfg.add_message_type<task_result>("caraway::task_result");
  cfg.add_message_type<actor_spec>("caraway::actor_spec");
  cfg.add_message_type<actor_info>("caraway::actor_info");
  cfg.add_message_type<node_info>("caraway::node_info");
  cfg.add_message_type<std::vector<node_info>>("caraway::node_infos");
  cfg.add_message_type<std::vector<actor_info>>("caraway::actor_infos");
  cfg.add_message_type<resource_set>("caraway::resource_set");
  cfg.add_message_type<task_info>("caraway::task_info");
  cfg.add_message_type<std::vector<task_info>>("caraway::task_infos");
  cfg.add_message_type<worker_info>("caraway::worker_info");
  cfg.add_message_type<std::vector<worker_info>>("caraway::worker_infos");
  cfg.add_message_type<object_info>("caraway::object_info");
  cfg.add_message_type<std::vector<object_info>>("caraway::object_infos");
  cfg.add_message_type<metric_sample>("caraway::metric_sample");
  cfg.add_message_type<std::vector<metric_sample>>("caraway::metric_samples");
  cfg.add_message_type<placement_group_info>("caraway::placement_group_info");
  cfg.add_message_type<std::vector<placement_group_info>>(
    "caraway::placement_group_infos");
  cfg.add_message_type<std::map<uint64_t, std::string>>("caraway::job_table");
  cfg.add_message_type<gcs_actor>("caraway::gcs_actor");
  cfg.add_message_type<raylet_actor>("caraway::raylet_actor");
  cfg.add_message_type<owner_actor>("caraway::owner_actor");
  cfg.add_message_type<executor_actor>("caraway::executor_actor");
  cfg.add_message_type<actor_host_actor>("caraway::actor_host_actor");
  cfg.add_message_type<object_store_actor>("caraway::object_store_actor");
  cfg.add_error_category(caf::atom("caraway"),
                         [](uint8_t code, caf::atom_value,
                            const caf::message& ctx) {
                           auto text = to_string(static_cast<errc>(code));
                           if (ctx.match_elements<std::string>())
                             text += ": " + ctx.get_as<std::string>(0);
                           return text;
                         });
}

} // namespace caraway::wire
