// aio-pstree PID: the tree of who awaits whom in a running aio program (Python 3.14's
// `python -m asyncio pstree PID`), read from outside it. A cycle of awaits (a deadlock) has
// no tree: it is reported, and the exit status is 1.
#include <cstdio>
#include <string>

#include "format.hpp"
#include "main_util.hpp"
#include "snapshot.hpp"

int main(int argc, char** argv) {
  const pid_t pid = argc == 2 ? aio::ps::parse_pid(argv[1]) : 0;
  if (pid <= 0) {
    std::fputs("usage: aio-pstree PID\n", stderr);
    return 2;
  }
  return aio::ps::run_tool("aio-pstree", [&] {
    const aio::ps::Snapshot s = aio::ps::snapshot(pid);
    if (const auto cycles = aio::ps::find_cycles(s); !cycles.empty()) {
      const std::string err = aio::ps::format_cycles(s, cycles);
      std::fwrite(err.data(), 1, err.size(), stderr);
      return 1;
    }
    const std::string out = aio::ps::format_tree(s);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  });
}
