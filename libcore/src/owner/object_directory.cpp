#include "object_directory.hpp"

#include <algorithm>

namespace caraway::owner {

void object_directory::set_primary(const wire::object_id& id,
                                   std::string address,
                                   wire::object_store_actor store,
                                   wire::unique_id node, uint64_t size) {
  auto& loc = entries_[id];
  loc.address = std::move(address);
  loc.primary = std::move(store);
  loc.node = node;
  loc.size = size;
}

wire::unique_id
object_directory::heaviest(const std::vector<wire::object_id>& ids,
                           const wire::unique_id& local,
                           uint64_t local_bytes) const {
  std::vector<std::pair<wire::unique_id, uint64_t>> bytes;
  for (auto& id : ids) {
    auto i = entries_.find(id);
    if (i == entries_.end() || i->second.node.nil() || i->second.size == 0)
      continue;
    auto& node = i->second.node;
    auto at = std::find_if(bytes.begin(), bytes.end(),
                           [&](auto& x) { return x.first == node; });
    if (at == bytes.end())
      bytes.emplace_back(node, i->second.size);
    else
      at->second += i->second.size;
  }
  wire::unique_id best;
  uint64_t most = local_bytes;
  for (auto& [node, n] : bytes) {
    if (node == local)
      n += local_bytes;
    if (n > most) {
      best = node;
      most = n;
    }
  }
  return best == local ? wire::unique_id{} : best;
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
