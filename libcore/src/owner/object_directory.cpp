#include "object_directory.hpp"

namespace caraway::owner {

void object_directory::set_primary(const wire::object_id& id,
                                   std::string address,
                                   wire::object_store_actor store,
                                   wire::unique_id node) {
  auto& loc = entries_[id];
  loc.address = std::move(address);
  loc.primary = std::move(store);
  loc.node = node;
}

std::vector<wire::object_id>
object_directory::on_node(const wire::unique_id& node) const {
  std::vector<wire::object_id> result;
  for (auto& [id, loc] : entries_)
    if (!loc.node.nil() && loc.node == node)
      result.push_back(id);
  return result;
}

void object_directory::add_copy(const wire::object_id& id,
                                wire::object_store_actor store) {
  entries_[id].copies.emplace_back(std::move(store));
}

const object_location* object_directory::find(const wire::object_id& id) const {
  auto i = entries_.find(id);
  return i != entries_.end() ? &i->second : nullptr;
}

object_location object_directory::take(const wire::object_id& id) {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return {};
  auto result = std::move(i->second);
  entries_.erase(i);
  return result;
}

} // namespace caraway::owner
