#include "object_directory.hpp"

namespace caraway::owner {

void object_directory::set_primary(const wire::object_id& id,
                                   std::string address,
                                   wire::object_store_actor store) {
  auto& loc = entries_[id];
  loc.address = std::move(address);
  loc.primary = std::move(store);
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
