// Readable names for C++ types, callables and exceptions: the "(target)" in a default
// thread name and the "Type: message" line of every error report.
#pragma once

#include <exception>
#include <string>
#include <type_traits>
#include <typeinfo>

namespace pyconc::detail {

std::string demangle(const char* mangled);
// The function's own name ("worker"), found through the dynamic symbol table; empty
// when the symbol is not exported (link with -rdynamic / ENABLE_EXPORTS to get names).
std::string function_symbol_name(const void* address);
// The short name Python would show for a callable: "<lambda>" for a lambda, the class
// name without namespaces for a function object.
std::string short_type_name(const std::type_info& type);
// Python's exception class name for an exception being handled: type_name() for pyconc
// errors, the demangled C++ type otherwise.
std::string current_exception_type_name();
// An exception's message (what(); empty when it has none or is not a std::exception).
std::string exception_message(const std::exception_ptr& e);
// "Type: message" (just "Type" when the message is empty): the one format of every
// report pyconc prints (excepthook, unread futures, failing callbacks, initializers).
std::string describe_exception(const std::exception_ptr& e);
std::string describe_exception(const std::string& type, const std::exception_ptr& e);

template <class F>
std::string callable_name(const F& f) {
  if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) {
    return function_symbol_name(reinterpret_cast<const void*>(f));
  } else if constexpr (std::is_function_v<F>) {
    return function_symbol_name(reinterpret_cast<const void*>(&f));
  } else {
    return short_type_name(typeid(F));
  }
}

}  // namespace pyconc::detail
