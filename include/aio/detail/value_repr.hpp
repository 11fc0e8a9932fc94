// aio/detail/value_repr.hpp — Python's repr() of a result, for Future/Task repr().
//
// asyncio shows a finished future as "<Future finished result=4>", with the result's repr():
// numbers as Python prints them, strings quoted, None for no value. Values of other types have
// no repr in C++ and show as "<object>". Exceptions show as Python shows them.
#pragma once

#include <charconv>
#include <cstdio>
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
inline std::string quoted_repr(std::string_view text) {
  const bool double_quotes =
      text.find('\'') != std::string_view::npos && text.find('"') == std::string_view::npos;
  const char quote = double_quotes ? '"' : '\'';
  std::string out(1, quote);
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  out += quote;
  return out;
}

template <class T>
std::string value_repr(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "True" : "False";
  } else if constexpr (std::is_same_v<T, char>) {
    return quoted_repr(std::string_view(&value, 1));
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(value);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (value != value) return "nan";
    if (value == static_cast<T>(1) / 0) return "inf";
    if (value == static_cast<T>(-1) / 0) return "-inf";
    char buf[64];
    const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    std::string text(buf, end);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";  // Python's 4.0, not 4
    return text;
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return quoted_repr(std::string_view(value));
  } else if constexpr (std::is_same_v<T, std::monostate>) {
    return "None";
  } else {
    return "<object>";
  }
}

}  // namespace aio::detail
