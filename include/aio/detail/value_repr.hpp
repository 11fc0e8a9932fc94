// aio/detail/value_repr.hpp — Python's repr() of a result, for Future/Task repr().
//
// asyncio shows a finished future as "<Future finished result=4>", with the result's repr():
// numbers as Python prints them, strings quoted, None for no value. Values of other types have
// no repr in C++ and show as "<object>". Exceptions show as Python shows them.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <variant>

namespace aio::detail {

/// A type's demangled name: "aio::RuntimeError".
std::string demangled_name(const std::type_info& type);
/// Without its namespaces, as Python names a class: "RuntimeError".
std::string short_type_name(const std::type_info& type);
/// An exception as Python's repr() shows one: "RuntimeError('boom')", "CancelledError()".
std::string exception_repr(const std::exception_ptr& e);

/// Python's repr() of a str: single quotes unless the text has one and no double quote.
std::string quoted_repr(std::string_view text);
/// Python's repr() of a float: the shortest text that reads back as the same value, with ".0"
/// when it would look like an integer; "nan", "inf", "-inf".
std::string float_repr(float value);
std::string float_repr(double value);
std::string float_repr(long double value);

template <class T>
std::string value_repr(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "True" : "False";
  } else if constexpr (std::is_same_v<T, char>) {
    return quoted_repr(std::string_view(&value, 1));
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(value);
  } else if constexpr (std::is_floating_point_v<T>) {
    return float_repr(value);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return quoted_repr(std::string_view(value));
  } else if constexpr (std::is_same_v<T, std::monostate>) {
    return "None";
  } else {
    return "<object>";
  }
}

}  // namespace aio::detail
