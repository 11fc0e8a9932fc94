// Python's repr() of what futures hold and of exceptions (aio/detail/value_repr.hpp): what
// Future and Task repr() show.
#include "aio/detail/value_repr.hpp"

#include <cxxabi.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>

#include "aio/errors.hpp"

namespace aio::detail {

/// Python's repr() of a str: single quotes unless the text has one and no double quote.
std::string quoted_repr(std::string_view text) {
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

namespace {
template <class T>
std::string shortest_repr(T value) {
  if (value != value) return "nan";
  if (value == static_cast<T>(1) / 0) return "inf";
  if (value == static_cast<T>(-1) / 0) return "-inf";
  char buf[64];
  const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  std::string text(buf, end);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";  // Python's 4.0, not 4
  return text;
}
}  // namespace

std::string float_repr(float value) {
  return shortest_repr(value);
}
std::string float_repr(double value) {
  return shortest_repr(value);
}
std::string float_repr(long double value) {
  return shortest_repr(value);
}

std::string demangled_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 ? name.get() : type.name();
}

std::string short_type_name(const std::type_info& type) {
  const std::string name = demangled_name(type);
  std::size_t depth = 0;  // "(anonymous namespace)::X", "ns::T<a::b>": cut at the last
  std::size_t cut = 0;    // top-level "::"
  for (std::size_t i = 0; i + 1 < name.size(); ++i) {
    if (name[i] == '<' || name[i] == '(') ++depth;
    if ((name[i] == '>' || name[i] == ')') && depth > 0) --depth;
    if (depth == 0 && name[i] == ':' && name[i + 1] == ':') cut = i + 2;
  }
  return name.substr(cut);
}

std::string exception_repr(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const BaseException& b) {
    return std::string(b.name()) + "(" + (b.message().empty() ? "" : quoted_repr(b.message())) +
           ")";
  } catch (const std::exception& x) {
    const std::string_view what = x.what();
    return short_type_name(typeid(x)) + "(" + (what.empty() ? "" : quoted_repr(what)) + ")";
  } catch (...) {
    return "<unknown exception>";
  }
}

}  // namespace aio::detail
