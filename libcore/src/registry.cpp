#include "registry.hpp"

#include <cxxabi.h>
#include <dlfcn.h>

#include <cstdlib>
#include <memory>

#include "caraway/error.hpp"

namespace caraway::core {

registry& registry::instance() {
  static registry result;
  return result;
}

void registry::add_function(const std::string& name, const void* key,
                            detail::function_invoker invoker) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = function_names_.find(key);
  if (i != function_names_.end() && i->second == name)
    return; // the same registration seen from another translation unit
  if (functions_.count(name) > 0) {
    problems_.emplace_back("the function name '" + name
                           + "' is registered twice");
    return;
  }
  functions_.emplace(name, std::move(invoker));
  function_names_.emplace(key, name);
}

const detail::function_invoker*
registry::find_function(const std::string& name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = functions_.find(name);
  return i != functions_.end() ? &i->second : nullptr;
}

const std::string* registry::function_name(const void* key) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = function_names_.find(key);
  return i != function_names_.end() ? &i->second : nullptr;
}

actor_class& registry::add_class(const std::string& name, std::type_index type,
                                 detail::actor_deleter deleter) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = classes_.find(type);
  if (i != classes_.end()) {
    problems_.emplace_back("the actor class '" + name
                           + "' is registered twice");
    return i->second;
  }
  if (class_types_.count(name) > 0)
    problems_.emplace_back("two actor classes are registered as '" + name
                           + "'");
  class_types_.emplace(name, type);
  auto& result = classes_[type];
  result.name = name;
  result.deleter = deleter;
  return result;
}

actor_class* registry::find_class(std::type_index type) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = classes_.find(type);
  return i != classes_.end() ? &i->second : nullptr;
}

const actor_class* registry::find_class(const std::string& name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = class_types_.find(name);
  if (i == class_types_.end())
    return nullptr;
  return &classes_.at(i->second);
}

void registry::add_constructor(std::type_index type,
                               std::vector<std::string> key,
                               detail::actor_factory factory) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& cls = classes_.at(type);
  if (cls.ctors.count(key) > 0) {
    problems_.emplace_back("a constructor of '" + cls.name
                           + "' is registered twice");
    return;
  }
  cls.ctors.emplace(std::move(key), std::move(factory));
}

void registry::add_method(std::type_index type, const std::string& name,
                          std::string key, detail::method_invoker invoker) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& cls = classes_.at(type);
  if (cls.methods.count(name) > 0) {
    problems_.emplace_back("the method '" + cls.name + "::" + name
                           + "' is registered twice");
    return;
  }
  cls.methods.emplace(name, std::move(invoker));
  cls.method_names.emplace(std::move(key), name);
}

const detail::actor_factory*
registry::find_constructor(const actor_class& cls,
                           const std::vector<std::string>& key) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = cls.ctors.find(key);
  return i != cls.ctors.end() ? &i->second : nullptr;
}

std::vector<std::vector<std::string>>
registry::constructor_keys(const actor_class& cls) const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::vector<std::string>> result;
  for (auto& kvp : cls.ctors)
    result.emplace_back(kvp.first);
  return result;
}

const detail::method_invoker*
registry::find_method(const actor_class& cls, const std::string& name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = cls.methods.find(name);
  return i != cls.methods.end() ? &i->second : nullptr;
}

const std::string* registry::method_name(const actor_class& cls,
                                         const std::string& key) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = cls.method_names.find(key);
  return i != cls.method_names.end() ? &i->second : nullptr;
}

std::vector<std::string> registry::problems() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return problems_;
}

void registry::add_problem(std::string what) {
  std::lock_guard<std::mutex> guard{mtx_};
  problems_.emplace_back(std::move(what));
}

namespace {

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out{
    abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free};
  return status == 0 && out ? std::string{out.get()} : std::string{name};
}

std::string trim(const std::string& x) {
  auto first = x.find_first_not_of(" \t\n");
  if (first == std::string::npos)
    return {};
  auto last = x.find_last_not_of(" \t\n");
  return x.substr(first, last - first + 1);
}

// "CARAWAY_FUNC(add, int, int)" -> "add(int, int)";
// "&counter::increment" -> "increment"; "fib" -> "fib".
std::string entry_name(const std::string& entry) {
  static const std::string func = "CARAWAY_FUNC(";
  if (entry.compare(0, func.size(), func) == 0 && entry.back() == ')') {
    auto inner = entry.substr(func.size(), entry.size() - func.size() - 1);
    auto comma = inner.find(',');
    if (comma == std::string::npos)
      return trim(inner);
    return trim(inner.substr(0, comma)) + "(" + trim(inner.substr(comma + 1))
           + ")";
  }
  auto result = entry;
  if (!result.empty() && result[0] == '&')
    result.erase(0, 1);
  auto colons = result.rfind("::");
  if (colons != std::string::npos && result.find('<') == std::string::npos)
    result.erase(0, colons + 2);
  return trim(result);
}

} // namespace

} // namespace caraway::core

namespace caraway::detail {

using core::registry;

std::vector<std::string> split_names(const char* text) {
  std::vector<std::string> result;
  std::string current;
  int depth = 0;
  for (auto p = text; *p != '\0'; ++p) {
    auto c = *p;
    if (c == '(' || c == '<' || c == '[' || c == '{')
      ++depth;
    else if (c == ')' || c == '>' || c == ']' || c == '}')
      --depth;
    if (c == ',' && depth == 0) {
      result.emplace_back(core::entry_name(core::trim(current)));
      current.clear();
    } else {
      current += c;
    }
  }
  result.emplace_back(core::entry_name(core::trim(current)));
  return result;
}

const void* function_key(void (*fn)()) {
  return reinterpret_cast<const void*>(fn);
}

void register_function(const std::string& name, const void* key,
                       function_invoker invoker) {
  registry::instance().add_function(name, key, std::move(invoker));
}

const std::string& function_name(const void* key, const std::type_info& sig) {
  if (auto name = registry::instance().function_name(key))
    return *name;
  std::string what = "function";
  Dl_info info;
  if (dladdr(key, &info) != 0 && info.dli_sname != nullptr)
    what += " '" + core::demangle(info.dli_sname) + "'";
  else
    what += " of type '" + core::demangle(sig.name()) + "'";
  throw registration_error(what
                           + " is not registered; add CARAWAY_REMOTE for it");
}

void register_actor_class(const std::string& name, std::type_index type,
                          actor_deleter deleter) {
  registry::instance().add_class(name, type, deleter);
}

void register_constructor(std::type_index type, std::vector<std::string> key,
                          actor_factory factory) {
  registry::instance().add_constructor(type, std::move(key),
                                       std::move(factory));
}

void register_method(std::type_index type, const std::string& name,
                     std::string key, method_invoker invoker) {
  registry::instance().add_method(type, name, std::move(key),
                                  std::move(invoker));
}

const std::string& actor_class_name(std::type_index type) {
  if (auto cls = registry::instance().find_class(type))
    return cls->name;
  throw registration_error("actor class '" + core::demangle(type.name())
                           + "' is not registered; add CARAWAY_ACTOR for it");
}

const std::string& method_name(std::type_index type, const std::string& key,
                               const std::type_info& sig) {
  auto cls = registry::instance().find_class(type);
  if (cls == nullptr)
    throw registration_error("actor class '" + core::demangle(type.name())
                             + "' is not registered; add CARAWAY_ACTOR for it");
  auto name = registry::instance().method_name(*cls, key);
  if (name == nullptr)
    throw registration_error("a method of type '" + core::demangle(sig.name())
                             + "' of actor class '" + cls->name
                             + "' is not registered in CARAWAY_ACTOR");
  return *name;
}

std::string type_key(const std::type_info& ti) {
  return core::demangle(ti.name());
}

void throw_arity_error(size_t expected, size_t got) {
  throw invalid_argument_error("expected " + std::to_string(expected)
                               + " arguments, got " + std::to_string(got));
}

} // namespace caraway::detail
