// The part of Python's `argparse` the examples use: an ArgumentParser of int options, each with
// a short and a long name and a default — add_argument("-p", "--nprod", type=int, default=5).
//
// parse_args() takes what argparse takes for such options: "-p 2", "-p2", "-p=2", "--nprod 2",
// "--nprod=2", a unique prefix of the long name ("--np 2"), a negative value ("-p -3"), int()'s
// spellings (" 7 ", "+4", "1_0"); the last of repeated options wins. -h/--help prints the help
// and exits 0; anything else fails as argparse fails: the usage line and "prog: error: ..." on
// stderr, exit status 2. The program name is argv[0]'s last component (asyncq, not asyncq.py).
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace py::argparse {

/// What parse_args() returns: ns.at("nprod") is Python's ns.nprod.
using Namespace = std::map<std::string, int>;

class ArgumentParser {
 public:
  explicit ArgumentParser(std::string_view argv0) {
    const std::size_t slash = argv0.rfind('/');
    prog_ = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  }

  /// add_argument(short_name, long_name, type=int, default=default_value); the destination is
  /// the long name without its dashes, the metavar that in upper case.
  void add_argument(std::string short_name, std::string long_name, int default_value) {
    std::string dest = long_name.substr(2);
    std::string metavar;
    for (char ch : dest) metavar += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    options_.push_back({std::move(short_name), std::move(long_name), dest, metavar, default_value});
  }

  Namespace parse_args(int argc, char** argv) const {
    Namespace ns;
    for (const Option& option : options_) ns[option.dest] = option.default_value;
    std::vector<std::string> unrecognized;
    for (int k = 1; k < argc; ++k) {
      const std::string arg = argv[k];
      const Option* option = nullptr;
      std::optional<std::string> value;
      if (arg.size() > 2 && arg.starts_with("--")) {
        const std::size_t equals = arg.find('=');
        const std::string name = arg.substr(0, equals);
        if (equals != std::string::npos) value = arg.substr(equals + 1);
        if (std::string("--help").starts_with(name) && name != "--") help();
        option = find_long(name);
      } else if (arg.size() > 1 && arg[0] == '-' && !is_negative_number(arg)) {
        if (arg == "-h") help();
        for (const Option& o : options_) {
          if (arg.compare(0, 2, o.short_name) == 0) option = &o;
        }
        if (option != nullptr && arg.size() > 2) value = arg.substr(arg[2] == '=' ? 3 : 2);
      }
      if (option == nullptr) {
        unrecognized.push_back(arg);
        continue;
      }
      const std::string what = "argument " + option->short_name + "/" + option->long_name;
      if (!value) {
        if (k + 1 >= argc || looks_like_option(argv[k + 1]))
          error(what + ": expected one argument");
        value = argv[++k];
      }
      const std::optional<int> number = parse_int(*value);
      if (!number) error(what + ": invalid int value: '" + *value + "'");
      ns[option->dest] = *number;
    }
    if (!unrecognized.empty()) {
      std::string message = "unrecognized arguments:";
      for (const std::string& arg : unrecognized) message += " " + arg;
      error(message);
    }
    return ns;
  }

 private:
  struct Option {
    std::string short_name;
    std::string long_name;
    std::string dest;
    std::string metavar;
    int default_value;
  };

  std::string usage() const {
    std::string line = "usage: " + prog_ + " [-h]";
    for (const Option& o : options_) line += " [" + o.short_name + " " + o.metavar + "]";
    return line + "\n";
  }

  [[noreturn]] void help() const {
    std::printf("%s\noptions:\n  %-22sshow this help message and exit\n", usage().c_str(),
                "-h, --help");
    for (const Option& o : options_) {
      std::printf("  %s %s, %s %s\n", o.short_name.c_str(), o.metavar.c_str(), o.long_name.c_str(),
                  o.metavar.c_str());
    }
    std::exit(0);
  }

  [[noreturn]] void error(const std::string& message) const {
    std::fprintf(stderr, "%s%s: error: %s\n", usage().c_str(), prog_.c_str(), message.c_str());
    std::exit(2);
  }

  // The long option named `name` exactly, else the only one it is a prefix of.
  const Option* find_long(const std::string& name) const {
    std::vector<const Option*> matches;
    for (const Option& o : options_) {
      if (o.long_name == name) return &o;
      if (o.long_name.starts_with(name)) matches.push_back(&o);
    }
    if (matches.size() > 1) {
      std::string message = "ambiguous option: " + name + " could match";
      for (std::size_t i = 0; i < matches.size(); ++i) {
        message += (i == 0 ? " " : ", ") + matches[i]->long_name;
      }
      error(message);
    }
    return matches.empty() ? nullptr : matches.front();
  }

  // argparse takes "-3" or "-.5" for a value, not an option (no option here looks like one).
  static bool is_negative_number(std::string_view arg) {
    if (arg.size() < 2 || arg[0] != '-') return false;
    bool digits = false;
    bool point = false;
    for (char ch : arg.substr(1)) {
      if (ch == '.' && !point) {
        point = true;
      } else if (std::isdigit(static_cast<unsigned char>(ch))) {
        digits = true;
      } else {
        return false;
      }
    }
    return digits;
  }

  static bool looks_like_option(std::string_view arg) {
    return arg.size() > 1 && arg[0] == '-' && !is_negative_number(arg);
  }

  // int(text): surrounding whitespace, a sign, digits with single underscores between them.
  static std::optional<int> parse_int(std::string_view text) {
    constexpr std::string_view space = " \t\n\r\f\v";
    const std::size_t first = text.find_first_not_of(space);
    if (first == std::string_view::npos) return std::nullopt;
    text = text.substr(first, text.find_last_not_of(space) - first + 1);
    bool negative = false;
    if (text[0] == '+' || text[0] == '-') {
      negative = text[0] == '-';
      text.remove_prefix(1);
    }
    long long magnitude = 0;
    bool digit_before = false;
    for (char ch : text) {
      if (ch == '_' && digit_before) {
        digit_before = false;
        continue;
      }
      if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
      magnitude = magnitude * 10 + (ch - '0');
      if (magnitude > static_cast<long long>(std::numeric_limits<int>::max()) + 1) {
        return std::nullopt;  // Python's ints have no limit; these do
      }
      digit_before = true;
    }
    if (!digit_before) return std::nullopt;  // empty, or ending with '_'
    const long long value = negative ? -magnitude : magnitude;
    if (value > std::numeric_limits<int>::max()) return std::nullopt;
    return static_cast<int>(value);
  }

  std::string prog_;
  std::vector<Option> options_;
};

}  // namespace py::argparse
