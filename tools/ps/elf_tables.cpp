// Finding a named ELF section in the files a process maps (see elf_tables.hpp). A section of
// initialised data (PROGBITS) is loaded from the file as it is: it lives at the address of the
// mapping that holds its file offset, plus its distance into that mapping. No symbol table is
// needed, so stripped programs work too.
#include "elf_tables.hpp"

#include <elf.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "remote_memory.hpp"

namespace aio::ps {

namespace {

struct PsSection {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

// The file offsets of the sections called `name` (ELF64, as on every 64-bit Linux).
std::vector<PsSection> ps_sections_named(const std::string& file, const std::string& name) {
  std::vector<PsSection> found;
  std::ifstream in(file, std::ios::binary);
  Elf64_Ehdr header{};
  if (!in.read(reinterpret_cast<char*>(&header), sizeof header)) return found;
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64)
    return found;
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shnum == 0 ||
      header.e_shstrndx >= header.e_shnum)
    return found;
  std::vector<Elf64_Shdr> sections(header.e_shnum);
  in.seekg(static_cast<std::streamoff>(header.e_shoff));
  if (!in.read(reinterpret_cast<char*>(sections.data()),
               static_cast<std::streamsize>(sections.size() * sizeof(Elf64_Shdr))))
    return found;
  const Elf64_Shdr& names = sections[header.e_shstrndx];
  if (names.sh_size > (1u << 24)) return found;
  std::string strings(names.sh_size, '\0');
  in.seekg(static_cast<std::streamoff>(names.sh_offset));
  if (!in.read(strings.data(), static_cast<std::streamsize>(strings.size()))) return found;
  for (const Elf64_Shdr& s : sections) {
    if (s.sh_name >= strings.size() || s.sh_type != SHT_PROGBITS) continue;
    if (name == strings.c_str() + s.sh_name) found.push_back({s.sh_offset, s.sh_size});
  }
  return found;
}

}  // namespace

std::vector<Mapping> read_mappings(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/maps";
  std::ifstream in(path);
  if (!in) {
    if (errno == EACCES || errno == EPERM) throw Error(permission_message(pid));
    throw Error("no process " + std::to_string(pid));
  }
  std::vector<Mapping> maps;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Mapping m;
    std::string range, device;
    std::uint64_t inode = 0;
    fields >> range >> m.perms >> std::hex >> m.offset >> device >> std::dec >> inode;
    const auto dash = range.find('-');
    if (dash == std::string::npos) continue;
    m.start = std::stoull(range.substr(0, dash), nullptr, 16);
    m.end = std::stoull(range.substr(dash + 1), nullptr, 16);
    std::getline(fields >> std::ws, m.path);
    maps.push_back(std::move(m));
  }
  if (maps.empty() && !std::ifstream("/proc/" + std::to_string(pid) + "/status"))
    throw Error("no process " + std::to_string(pid));
  return maps;
}

std::vector<std::uint64_t> find_sections(pid_t pid, const std::vector<Mapping>& maps,
                                         const std::string& section) {
  std::vector<std::uint64_t> addresses;
  std::set<std::string> seen;
  const std::string root = "/proc/" + std::to_string(pid) + "/root";
  for (const Mapping& m : maps) {
    if (m.path.empty() || m.path[0] != '/' || !seen.insert(m.path).second) continue;
    // Through the process's root (it may live in another mount namespace), else as named.
    std::vector<PsSection> found = ps_sections_named(root + m.path, section);
    if (found.empty()) found = ps_sections_named(m.path, section);
    for (const PsSection& s : found) {
      // The mapping of this file that holds the section's first byte; the writable one when
      // the page is mapped twice (the last page of the code is often also the first of data).
      const Mapping* best = nullptr;
      for (const Mapping& c : maps) {
        if (c.path != m.path || s.offset < c.offset || s.offset >= c.offset + (c.end - c.start))
          continue;
        if (!best || c.perms.find('w') != std::string::npos) best = &c;
      }
      if (best) addresses.push_back(best->start + (s.offset - best->offset));
    }
  }
  return addresses;
}

}  // namespace aio::ps
