#include "reference_counter.hpp"

#include <caf/actor_addr.hpp>

namespace caraway::owner {

namespace {

int64_t& slot(ref_counts& refs, ref_kind kind) {
  return refs.by_kind[static_cast<size_t>(kind)];
}

} // namespace

bool reference_counter::has(const wire::object_id& id) const {
  return entries_.count(id) > 0;
}

void reference_counter::add_owned(const wire::object_id& id, ref_kind kind,
                                  bool put) {
  auto& e = entries_[id];
  slot(e.refs, kind) += 1;
  e.put = e.put || put;
}

bool reference_counter::add_borrowed(const wire::object_id& id) {
  auto [i, fresh] = entries_.try_emplace(id);
  if (fresh)
    i->second.borrowed = true;
  slot(i->second.refs, ref_kind::local) += 1;
  return fresh;
}

bool reference_counter::add(const wire::object_id& id, ref_kind kind) {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return false;
  slot(i->second.refs, kind) += 1;
  return true;
}

bool reference_counter::remove(const wire::object_id& id, ref_kind kind,
                               std::vector<freed_object>& freed) {
  auto i = entries_.find(id);
  if (i == entries_.end() || slot(i->second.refs, kind) <= 0)
    return false;
  slot(i->second.refs, kind) -= 1;
  // Contained objects cascade; a loop instead of recursion keeps a long
  // chain of nested objects off the stack.
  std::vector<wire::object_id> todo;
  auto drop = [&](decltype(entries_)::iterator j) {
    if (j->second.refs.total() > 0)
      return;
    auto& e = j->second;
    freed.push_back({j->first, e.borrowed, std::move(e.owner)});
    todo.insert(todo.end(), e.contains.begin(), e.contains.end());
    entries_.erase(j);
  };
  drop(i);
  while (!todo.empty()) {
    auto inner = todo.back();
    todo.pop_back();
    auto j = entries_.find(inner);
    if (j == entries_.end() || slot(j->second.refs, ref_kind::contained) <= 0)
      continue;
    slot(j->second.refs, ref_kind::contained) -= 1;
    drop(j);
  }
  return true;
}

void reference_counter::convert(const wire::object_id& id, ref_kind from,
                                ref_kind to) {
  auto i = entries_.find(id);
  if (i == entries_.end() || slot(i->second.refs, from) <= 0)
    return;
  slot(i->second.refs, from) -= 1;
  slot(i->second.refs, to) += 1;
}

void reference_counter::set_contains(const wire::object_id& id,
                                     std::vector<wire::object_id> contains) {
  auto i = entries_.find(id);
  if (i != entries_.end())
    i->second.contains = std::move(contains);
}

std::vector<wire::object_id>
reference_counter::contains(const wire::object_id& id) const {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return {};
  return i->second.contains;
}

bool reference_counter::set_owner(const wire::object_id& id,
                                  wire::owner_actor owner) {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return false;
  i->second.owner = std::move(owner);
  return true;
}

std::vector<wire::object_id>
reference_counter::borrowed_from(const caf::actor_addr& owner) const {
  std::vector<wire::object_id> result;
  for (auto& [id, e] : entries_)
    if (e.borrowed && e.owner && e.owner.address() == owner)
      result.push_back(id);
  return result;
}

bool reference_counter::owned_put(const wire::object_id& id) const {
  auto i = entries_.find(id);
  return i != entries_.end() && !i->second.borrowed && i->second.put;
}

ref_counts reference_counter::counts(const wire::object_id& id) const {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return {};
  return i->second.refs;
}

} // namespace caraway::owner
