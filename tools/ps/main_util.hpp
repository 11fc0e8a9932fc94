// What the two programs share: reading the PID argument, and turning errors into a message
// ("aio-ps: no process 42") and exit status 1.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "remote_memory.hpp"

namespace aio::ps {

/// The PID in `text`, or 0 when it is not one.
inline pid_t parse_pid(const char* text) {
  if (!text || !*text) return 0;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  return *end == '\0' && value > 0 ? static_cast<pid_t>(value) : 0;
}

template <class F>
int run_tool(const char* program, F body) {
  try {
    return body();
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", program, e.what());
  }
  return 1;
}

}  // namespace aio::ps
