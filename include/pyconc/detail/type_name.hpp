// Readable names for C++ types and callables: the "(target)" in a default thread name and
// the exception type in excepthook reports.
#pragma once

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
