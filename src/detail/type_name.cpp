#include "pyconc/detail/type_name.hpp"

#include <cxxabi.h>
#include <dlfcn.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string_view>

#include "pyconc/errors.hpp"

namespace pyconc::detail {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

namespace {
// "ns::worker(std::string)" -> "worker"; "ns::Outer::Fn" -> "Fn".
std::string last_component(std::string name) {
  static constexpr std::string_view kAnonymous = "(anonymous namespace)::";
  for (auto at = name.find(kAnonymous); at != std::string::npos; at = name.find(kAnonymous))
    name.erase(at, kAnonymous.size());
  if (auto paren = name.find('('); paren != std::string::npos) name.resize(paren);
  if (auto angle = name.find('<'); angle != std::string::npos && angle > 0) name.resize(angle);
  if (auto colon = name.rfind("::"); colon != std::string::npos) name.erase(0, colon + 2);
  return name;
}
}  // namespace

std::string function_symbol_name(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) == 0 || info.dli_sname == nullptr || info.dli_saddr != address)
    return {};
  return last_component(demangle(info.dli_sname));
}

std::string short_type_name(const std::type_info& type) {
  const std::string name = demangle(type.name());
  // GCC spells a lambda's type "f()::{lambda()#1}", Clang "f()::$_1" (or "'lambda'()").
  if (name.find("{lambda") != std::string::npos || name.find("'lambda") != std::string::npos)
    return "<lambda>";
  const auto colon = name.rfind("::");
  if (name.compare(colon == std::string::npos ? 0 : colon + 2, 2, "$_") == 0) return "<lambda>";
  return last_component(name);
}

std::string current_exception_type_name() {
  try {
    throw;
  } catch (const pyconc::Error& e) {
    return e.type_name();
  } catch (const std::exception& e) {
    return demangle(typeid(e).name());
  } catch (const pyconc::BaseException& e) {
    return e.type_name();
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return type ? demangle(type->name()) : "unknown exception";
  }
}

}  // namespace pyconc::detail

namespace pyconc::detail {

std::string exception_message(const std::exception_ptr& e) {
  if (!e) return "";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (const pyconc::BaseException& ex) {
    return ex.what();
  } catch (...) {
    return "";
  }
}

std::string describe_exception(const std::string& type, const std::exception_ptr& e) {
  const std::string message = exception_message(e);
  return message.empty() ? type : type + ": " + message;
}

std::string describe_exception(const std::exception_ptr& e) {
  if (!e) return "";
  try {
    std::rethrow_exception(e);
  } catch (...) {
    return describe_exception(current_exception_type_name(), e);
  }
}

}  // namespace pyconc::detail
