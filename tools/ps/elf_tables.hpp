// Where the debug tables are in a process: the files it maps (/proc/PID/maps), the ELF section
// `aio_debug` in each (the executable, or a shared libaiocpp), and the address it is loaded at.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace aio::ps {

struct Mapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint64_t offset = 0;  // in the file
  std::string perms;         // "rw-p"
  std::string path;          // empty for anonymous memory
};

/// The process's mappings; throws ps::Error when the process is gone or forbidden.
std::vector<Mapping> read_mappings(pid_t pid);

/// The addresses, in the process, of every section named `section` of the ELF files it maps.
std::vector<std::uint64_t> find_sections(pid_t pid, const std::vector<Mapping>& maps,
                                         const std::string& section);

}  // namespace aio::ps
