#pragma once

// The process-wide table of registered functions and actor classes.

#include <map>
#include <mutex>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "caraway/detail/registry.hpp"

namespace caraway::core {

struct actor_class {
  std::string name;
  detail::actor_deleter deleter = nullptr;
  std::map<std::vector<std::string>, detail::actor_factory> ctors;
  std::map<std::string, detail::method_invoker> methods; // by name
  std::map<std::string, std::string> method_names;       // key -> name
};

class registry {
public:
  static registry& instance();

  void add_function(const std::string& name, const void* key,
                    detail::function_invoker invoker);

  /// Null if no function has this name.
  const detail::function_invoker* find_function(const std::string& name) const;

  const std::string* function_name(const void* key) const;

  actor_class& add_class(const std::string& name, std::type_index type,
                         detail::actor_deleter deleter);

  actor_class* find_class(std::type_index type);

  const actor_class* find_class(const std::string& name) const;

  /// Registration mistakes found so far (duplicate names and the like).
  std::vector<std::string> problems() const;

  void add_problem(std::string what);

private:
  mutable std::mutex mtx_;
  std::unordered_map<std::string, detail::function_invoker> functions_;
  std::unordered_map<const void*, std::string> function_names_;
  std::unordered_map<std::type_index, actor_class> classes_;
  std::unordered_map<std::string, std::type_index> class_types_;
  std::vector<std::string> problems_;
};

} // namespace caraway::core
