// A program with an aio debug table of another layout version (and no aio in it), for aio-ps's
// "version mismatch" (tests/tools/ps_test.cpp): it waits to be read, then to be killed.
#include <unistd.h>

#include <cstdio>

#include "debug/debug_table.hpp"

namespace {

aio_debug_table ps_table_of_version(std::uint32_t version) {
  aio_debug_table table;
  table.version = version;
  return table;
}

}  // namespace

extern "C" {
__attribute__((section("aio_debug"), used, retain)) aio_debug_table aio_debug_table_v1 =
    ps_table_of_version(aio::detail::debug_table_version + 1);
}

int main() {
  std::puts("ready");
  std::fflush(stdout);
  sleep(60);
}
