// The command table and the commands; commands.hpp lists them. Argument checks run in Redis
// 7.0's order (arity, then options, then numbers, then the key), so that a command with several
// faults gets the error Redis would give.
#include "commands.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mini_redis {

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

constexpr std::string_view not_an_integer = "ERR value is not an integer or out of range";
constexpr std::string_view syntax_error = "ERR syntax error";

/// One command being run: its arguments, the time, and where its reply goes.
struct Call {
  Store& store;
  Session& session;
  const Command& args;
  UnixMillis now;
  std::string& out;
  std::string_view name;  // lower case, as error messages spell it
};

using Handler = void (*)(Call&);

/// A command or subcommand: arity as Redis counts it (n: exactly n words with the command's
/// name; -n: at least n).
struct Spec {
  std::string_view name;
  int arity;
  Handler run;
};

// Command names are ASCII: folding case inline keeps the lookup (run for every command) clear
// of a libc call per character.
constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string upper(std::string_view text) {
  std::string s(text);
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// What printf's "%.<max>s" prints of `text`: Redis formats its messages from C strings.
std::string_view c_prefix(std::string_view text, std::size_t max = std::string_view::npos) {
  return text.substr(0, std::min(max, text.find('\0')));
}

bool arity_ok(int arity, std::size_t argc) {
  return arity > 0 ? argc == static_cast<std::size_t>(arity)
                   : argc >= static_cast<std::size_t>(-arity);
}

bool add_overflows(std::int64_t a, std::int64_t b) {
  return (b > 0 && a > int64_max - b) || (b < 0 && a < int64_min - b);
}

void ok(std::string& out) {
  resp::simple_string(out, "OK");
}

void wrong_arity(std::string& out, std::string_view full_name) {
  resp::error(out, "ERR wrong number of arguments for '" + std::string(full_name) + "' command");
}

void invalid_expire_time(Call& c) {
  resp::error(c.out, "ERR invalid expire time in '" + std::string(c.name) + "' command");
}

void unknown_command(std::string& out, const Command& args) {
  std::string words;
  for (std::size_t i = 1; i < args.size() && words.size() < 128; ++i) {
    const std::size_t room = 128 - words.size();  // "'%.*s' " with the room left
    words += '\'';
    words += c_prefix(args[i], room);
    words += "' ";
  }
  resp::error(out, "ERR unknown command '" + std::string(c_prefix(args[0], 128)) +
                       "', with args beginning with: " + words);
}

/// addReplyHelp: the usage line, the subcommands' lines, then HELP's own.
void help(Call& c, std::initializer_list<std::string_view> lines) {
  resp::array_header(c.out, lines.size() + 3);
  resp::simple_string(
      c.out, upper(c.args[0]) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (std::string_view line : lines) resp::simple_string(c.out, line);
  resp::simple_string(c.out, "HELP");
  resp::simple_string(c.out, "    Print this help.");
}

/// Runs the subcommand args[1] of a container command (CONFIG, CLIENT, COMMAND).
void run_subcommand(Call& c, std::span<const Spec> subcommands) {
  const std::string_view sub = c.args[1];
  for (const Spec& spec : subcommands) {
    if (!iequals(sub, spec.name)) continue;
    const std::string full_name = std::string(c.name) + "|" + std::string(spec.name);
    if (!arity_ok(spec.arity, c.args.size())) return wrong_arity(c.out, full_name);
    Call call{c.store, c.session, c.args, c.now, c.out, full_name};
    return spec.run(call);
  }
  resp::error(c.out, "ERR unknown subcommand '" + std::string(c_prefix(sub, 128)) + "'. Try " +
                         upper(c.args[0]) + " HELP.");
}

// --- connection ---------------------------------------------------------------------------

void ping(Call& c) {
  if (c.args.size() > 2) return wrong_arity(c.out, c.name);
  if (c.args.size() == 1) return resp::simple_string(c.out, "PONG");
  resp::bulk_string(c.out, c.args[1]);
}

void echo(Call& c) {
  resp::bulk_string(c.out, c.args[1]);
}

void quit(Call& c) {
  c.session.quit = true;
  ok(c.out);
}

void client_setname(Call& c) {
  for (const char ch : c.args[2]) {
    if (static_cast<unsigned char>(ch) < '!' || static_cast<unsigned char>(ch) > '~') {
      return resp::error(c.out,
                         "ERR Client names cannot contain spaces, newlines or special characters.");
    }
  }
  c.session.name = c.args[2];  // "" removes the name
  ok(c.out);
}

void client_getname(Call& c) {
  if (c.session.name.empty()) return resp::null_bulk(c.out);
  resp::bulk_string(c.out, c.session.name);
}

void client_id(Call& c) {
  resp::integer(c.out, c.session.id);
}

void client_setinfo(Call& c) {  // Redis 7.2's, which newer client libraries send
  if (!iequals(c.args[2], "lib-name") && !iequals(c.args[2], "lib-ver")) {
    return resp::error(c.out,
                       "ERR Unrecognized option '" + std::string(c_prefix(c.args[2], 128)) + "'");
  }
  ok(c.out);
}

void client_help(Call& c) {
  help(c, {"GETNAME", "    Return the name of the current connection.", "ID",
           "    Return the ID of the current connection.", "SETINFO <option> <value>",
           "    Set client meta attr (lib-name or lib-ver); accepted and ignored.",
           "SETNAME <name>", "    Assign the name <name> to the current connection."});
}

void client(Call& c) {
  static constexpr std::array subcommands{
      Spec{"setname", 3, client_setname}, Spec{"getname", 2, client_getname},
      Spec{"id", 2, client_id},           Spec{"setinfo", 4, client_setinfo},
      Spec{"help", 2, client_help},
  };
  run_subcommand(c, subcommands);
}

// --- strings --------------------------------------------------------------------------------

void get(Call& c) {
  const std::string* value = c.store.find(c.args[1], c.now);
  if (value == nullptr) return resp::null_bulk(c.out);
  resp::bulk_string(c.out, *value);
}

void set(Call& c) {
  enum class Unit { none, ex, px, exat, pxat };
  bool nx = false, xx = false, get = false, keepttl = false;
  Unit unit = Unit::none;
  const std::string* expire = nullptr;
  for (std::size_t j = 3; j < c.args.size(); ++j) {
    const std::string& option = c.args[j];
    const bool has_next = j + 1 < c.args.size();
    // An expiry option may repeat (the last wins) but not mix with another or with KEEPTTL.
    auto expiry_option = [&](std::string_view name, Unit kind) {
      if (!iequals(option, name) || keepttl || (unit != Unit::none && unit != kind) || !has_next) {
        return false;
      }
      unit = kind;
      expire = &c.args[++j];
      return true;
    };
    if (iequals(option, "nx") && !xx) {
      nx = true;
    } else if (iequals(option, "xx") && !nx) {
      xx = true;
    } else if (iequals(option, "get")) {
      get = true;
    } else if (iequals(option, "keepttl") && unit == Unit::none) {
      keepttl = true;
    } else if (!expiry_option("ex", Unit::ex) && !expiry_option("px", Unit::px) &&
               !expiry_option("exat", Unit::exat) && !expiry_option("pxat", Unit::pxat)) {
      return resp::error(c.out, syntax_error);
    }
  }
  UnixMillis deadline = keepttl ? Store::keep_expiry : Store::no_expiry;
  if (expire != nullptr) {
    std::int64_t ms = 0;
    if (!parse_int64(*expire, ms)) return resp::error(c.out, not_an_integer);
    const bool seconds = unit == Unit::ex || unit == Unit::exat;
    if (ms <= 0 || (seconds && ms > int64_max / 1000)) return invalid_expire_time(c);
    if (seconds) ms *= 1000;
    if (unit == Unit::ex || unit == Unit::px) {
      if (add_overflows(ms, c.now)) return invalid_expire_time(c);
      ms += c.now;
      if (ms <= 0) return invalid_expire_time(c);
    }
    deadline = ms;
  }
  const std::string* current = c.store.find(c.args[1], c.now);
  if (get) {  // the reply is the old value, whether or not the key is then set
    if (current != nullptr) {
      resp::bulk_string(c.out, *current);
    } else {
      resp::null_bulk(c.out);
    }
  }
  if ((nx && current != nullptr) || (xx && current == nullptr)) {
    if (!get) resp::null_bulk(c.out);
    return;
  }
  c.store.set(c.args[1], c.args[2], deadline);
  if (!get) ok(c.out);
}

void increment(Call& c, std::int64_t by) {
  std::string* value = c.store.find(c.args[1], c.now);
  std::int64_t old = 0;
  if (value != nullptr && !parse_int64(*value, old)) return resp::error(c.out, not_an_integer);
  if (add_overflows(old, by)) {
    return resp::error(c.out, "ERR increment or decrement would overflow");
  }
  const std::int64_t result = old + by;
  if (value != nullptr) {
    *value = std::to_string(result);  // the key keeps its expiry
  } else {
    c.store.set(c.args[1], std::to_string(result));
  }
  resp::integer(c.out, result);
}

void incr(Call& c) {
  increment(c, 1);
}

void decr(Call& c) {
  increment(c, -1);
}

void incrby(Call& c) {
  std::int64_t by = 0;
  if (!parse_int64(c.args[2], by)) return resp::error(c.out, not_an_integer);
  increment(c, by);
}

void decrby(Call& c) {
  std::int64_t by = 0;
  if (!parse_int64(c.args[2], by)) return resp::error(c.out, not_an_integer);
  if (by == int64_min) return resp::error(c.out, "ERR decrement would overflow");
  increment(c, -by);
}

// --- keys -----------------------------------------------------------------------------------

void del(Call& c) {
  std::int64_t deleted = 0;
  for (std::size_t i = 1; i < c.args.size(); ++i) deleted += c.store.erase(c.args[i], c.now);
  resp::integer(c.out, deleted);
}

void exists(Call& c) {
  std::int64_t found = 0;  // a key named twice counts twice, as in Redis
  for (std::size_t i = 1; i < c.args.size(); ++i)
    found += c.store.find(c.args[i], c.now) != nullptr;
  resp::integer(c.out, found);
}

void expire_generic(Call& c, std::int64_t unit_ms) {
  bool nx = false, xx = false, gt = false, lt = false;
  for (std::size_t j = 3; j < c.args.size(); ++j) {
    const std::string& option = c.args[j];
    if (iequals(option, "nx")) {
      nx = true;
    } else if (iequals(option, "xx")) {
      xx = true;
    } else if (iequals(option, "gt")) {
      gt = true;
    } else if (iequals(option, "lt")) {
      lt = true;
    } else {
      return resp::error(c.out, "ERR Unsupported option " + std::string(c_prefix(option)));
    }
  }
  if (nx && (xx || gt || lt)) {
    return resp::error(c.out,
                       "ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (gt && lt) {
    return resp::error(c.out, "ERR GT and LT options at the same time are not compatible");
  }
  std::int64_t when = 0;
  if (!parse_int64(c.args[2], when)) return resp::error(c.out, not_an_integer);
  if (when > int64_max / unit_ms || when < int64_min / unit_ms) return invalid_expire_time(c);
  when *= unit_ms;
  if (add_overflows(when, c.now)) return invalid_expire_time(c);
  when += c.now;
  const std::optional<UnixMillis> current = c.store.expiry(c.args[1], c.now);
  if (!current) return resp::integer(c.out, 0);
  // A key without a deadline counts as one infinitely far away for GT and LT.
  const bool none = *current == Store::no_expiry;
  if ((nx && !none) || (xx && none) || (gt && (none || when <= *current)) ||
      (lt && !none && when >= *current)) {
    return resp::integer(c.out, 0);
  }
  if (when <= c.now) {
    c.store.erase(c.args[1], c.now);  // a deadline already past deletes the key
  } else {
    c.store.set_expiry(c.args[1], when);
  }
  resp::integer(c.out, 1);
}

void expire(Call& c) {
  expire_generic(c, 1000);
}

void pexpire(Call& c) {
  expire_generic(c, 1);
}

void ttl_generic(Call& c, bool milliseconds) {
  const std::optional<UnixMillis> deadline = c.store.expiry(c.args[1], c.now);
  if (!deadline) return resp::integer(c.out, -2);
  if (*deadline == Store::no_expiry) return resp::integer(c.out, -1);
  const std::int64_t left = std::max<std::int64_t>(*deadline - c.now, 0);
  resp::integer(c.out, milliseconds ? left : (left + 500) / 1000);  // seconds, rounded
}

void ttl(Call& c) {
  ttl_generic(c, false);
}

void pttl(Call& c) {
  ttl_generic(c, true);
}

// --- server ---------------------------------------------------------------------------------

void dbsize(Call& c) {
  resp::integer(c.out, static_cast<std::int64_t>(c.store.size()));
}

void flushall(Call& c) {
  if (c.args.size() > 2 ||
      (c.args.size() == 2 && !iequals(c.args[1], "async") && !iequals(c.args[1], "sync"))) {
    return resp::error(c.out, syntax_error);
  }
  c.store.clear();
  ok(c.out);
}

/// The configuration mini_redis reports: it never writes to disk.
struct Parameter {
  std::string_view name;
  std::string_view value;
};
constexpr std::array<Parameter, 2> parameters{Parameter{"save", ""}, Parameter{"appendonly", "no"}};

void config_get(Call& c) {
  // Redis 7: each argument is a name (answered as spelled) or a glob pattern; no duplicates.
  std::vector<std::string> reply;  // name, value, name, value, ...
  std::vector<bool> taken(parameters.size(), false);
  for (std::size_t i = 2; i < c.args.size(); ++i) {
    const std::string& pattern = c.args[i];
    const bool glob = pattern.find_first_of("[*?") != std::string::npos;
    for (std::size_t p = 0; p < parameters.size(); ++p) {
      const bool match = glob ? glob_match(pattern, parameters[p].name, true)
                              : iequals(pattern, parameters[p].name);
      if (!match || taken[p]) continue;
      taken[p] = true;
      reply.emplace_back(glob ? std::string(parameters[p].name) : pattern);
      reply.emplace_back(parameters[p].value);
    }
  }
  resp::array(c.out, reply);
}

void config_help(Call& c) {
  help(c, {"GET <pattern>",
           "    Return parameters matching the glob-like <pattern> and their values."});
}

void config(Call& c) {
  static constexpr std::array subcommands{Spec{"get", -3, config_get},
                                          Spec{"help", 2, config_help}};
  run_subcommand(c, subcommands);
}

void command_list(Call& c) {  // COMMAND, COMMAND DOCS: there are no docs to give
  resp::array_header(c.out, 0);
}

void command_count(Call& c);

void command_help(Call& c) {
  help(c, {"(no subcommand)", "    Return an empty array: mini_redis keeps no command details.",
           "COUNT", "    Return the total number of commands in this server.",
           "DOCS [<command-name> ...]", "    Return an empty array: no documentation."});
}

void command(Call& c) {
  if (c.args.size() == 1) return command_list(c);
  static constexpr std::array subcommands{Spec{"count", 2, command_count},
                                          Spec{"docs", -2, command_list},
                                          Spec{"help", 2, command_help}};
  run_subcommand(c, subcommands);
}

constexpr std::array commands{
    Spec{"get", 2, get},          Spec{"set", -3, set},
    Spec{"ping", -1, ping},       Spec{"echo", 2, echo},
    Spec{"del", -2, del},         Spec{"exists", -2, exists},
    Spec{"incr", 2, incr},        Spec{"decr", 2, decr},
    Spec{"incrby", 3, incrby},    Spec{"decrby", 3, decrby},
    Spec{"expire", -3, expire},   Spec{"pexpire", -3, pexpire},
    Spec{"ttl", 2, ttl},          Spec{"pttl", 2, pttl},
    Spec{"dbsize", 1, dbsize},    Spec{"flushall", -1, flushall},
    Spec{"quit", -1, quit},       Spec{"config", -2, config},
    Spec{"command", -1, command}, Spec{"client", -2, client},
};

void command_count(Call& c) {
  resp::integer(c.out, static_cast<std::int64_t>(commands.size()));
}

}  // namespace

void execute(Store& store, Session& session, const Command& command, double now, std::string& out) {
  for (const Spec& spec : commands) {
    if (!iequals(command[0], spec.name)) continue;
    if (!arity_ok(spec.arity, command.size())) return wrong_arity(out, spec.name);
    Call call{store, session, command, store.unix_ms(now), out, spec.name};
    return spec.run(call);
  }
  unknown_command(out, command);
}

bool glob_match(std::string_view pattern, std::string_view text, bool nocase) {
  auto same = [nocase](char a, char b) {
    if (!nocase) return a == b;
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  std::size_t p = 0, t = 0;
  while (p < pattern.size() && t < text.size()) {
    switch (pattern[p]) {
      case '*': {
        while (p + 1 < pattern.size() && pattern[p + 1] == '*') ++p;
        if (p + 1 == pattern.size()) return true;
        for (std::size_t rest = t; rest <= text.size(); ++rest) {
          if (glob_match(pattern.substr(p + 1), text.substr(rest), nocase)) return true;
        }
        return false;
      }
      case '?':
        break;
      case '[': {
        ++p;
        const bool negate = p < pattern.size() && pattern[p] == '^';
        if (negate) ++p;
        bool match = false;
        while (p < pattern.size() && pattern[p] != ']') {
          if (pattern[p] == '\\' && p + 1 < pattern.size()) {
            ++p;
            match = match || same(pattern[p], text[t]);
          } else if (p + 2 < pattern.size() && pattern[p + 1] == '-') {
            char lo = pattern[p], hi = pattern[p + 2], ch = text[t];
            if (lo > hi) std::swap(lo, hi);
            if (nocase) {
              lo = static_cast<char>(std::tolower(static_cast<unsigned char>(lo)));
              hi = static_cast<char>(std::tolower(static_cast<unsigned char>(hi)));
              ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            }
            match = match || (ch >= lo && ch <= hi);
            p += 2;
          } else {
            match = match || same(pattern[p], text[t]);
          }
          ++p;
        }
        if (p == pattern.size()) --p;  // an unterminated class ends the pattern
        if (match == negate) return false;
        break;
      }
      case '\\':
        if (p + 1 < pattern.size()) ++p;
        [[fallthrough]];
      default:
        if (!same(pattern[p], text[t])) return false;
        break;
    }
    ++p;
    ++t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size() && t == text.size();
}

}  // namespace mini_redis
