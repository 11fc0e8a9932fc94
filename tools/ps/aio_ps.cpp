// aio-ps PID: the tasks of a running aio program, one row each (Python 3.14's
// `python -m asyncio ps PID`), read from outside it; --metrics prints each loop's counters.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "format.hpp"
#include "main_util.hpp"
#include "snapshot.hpp"

int main(int argc, char** argv) {
  bool metrics = false;
  const char* pid_arg = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--metrics") == 0) {
      metrics = true;
    } else if (!pid_arg) {
      pid_arg = argv[i];
    } else {
      pid_arg = nullptr;
      break;
    }
  }
  const pid_t pid = aio::ps::parse_pid(pid_arg);
  if (pid <= 0) {
    std::fputs("usage: aio-ps [--metrics] PID\n", stderr);
    return 2;
  }
  return aio::ps::run_tool("aio-ps", [&] {
    const aio::ps::Snapshot s = aio::ps::snapshot(pid);
    const std::string out = metrics ? aio::ps::format_metrics(s) : aio::ps::format_table(s);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  });
}
