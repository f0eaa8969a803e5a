#pragma once

// The process-wide table of registered functions and actor classes.
//
// A node loads libraries while executors run tasks, and a library registers
// as it loads: every access goes through the lock. Entries are never
// removed, so pointers to them stay valid after the lock is released.

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
  // Read and written only by the registry, under its lock.
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

  /// Adds a constructor taking arguments of these types to a class.
  void add_constructor(std::type_index type, std::vector<std::string> key,
                       detail::actor_factory factory);

  /// Adds a method to a class; `key` identifies its member pointer.
  void add_method(std::type_index type, const std::string& name,
                  std::string key, detail::method_invoker invoker);

  /// Null if the class has no constructor taking these argument types.
  const detail::actor_factory*
  find_constructor(const actor_class& cls,
                   const std::vector<std::string>& key) const;

  /// The argument types of every constructor of the class.
  std::vector<std::vector<std::string>>
  constructor_keys(const actor_class& cls) const;

  /// Null if the class has no method of this name.
  const detail::method_invoker* find_method(const actor_class& cls,
                                            const std::string& name) const;

  /// The name of the method with this key; null if none.
  const std::string* method_name(const actor_class& cls,
                                 const std::string& key) const;

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
