// Names for code addresses of this process (the stall detector's native stacks): dladdr finds
// the object and its exported symbols; the object's own symbol table (.symtab, which a
// program keeps unless stripped) names the rest, static and inline-expanded functions
// included. Read with mmap and the ELF structures of <elf.h>: the core library takes no
// dependency for a report (libdw would symbolise line numbers too, at the price of one).
#include "core/symbolize.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace aio::detail {

namespace {

struct Symbol {
  std::uintptr_t start;
  std::uintptr_t size;
  std::string name;
};

// One object's function symbols, sorted by address (empty when it has no .symtab).
struct ObjectSymbols {
  bool absolute = false;  // ET_EXEC: addresses are not relative to the load address
  std::vector<Symbol> symbols;
};

ObjectSymbols read_symbols(const char* path) {
  ObjectSymbols out;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    close(fd);
    return out;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return out;
  const auto* base = static_cast<const unsigned char*>(map);
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
  const bool elf64 = std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
                     eh->e_ident[EI_CLASS] == ELFCLASS64 && eh->e_shoff != 0 &&
                     eh->e_shoff + std::size_t{eh->e_shnum} * sizeof(Elf64_Shdr) <= size;
  if (elf64) {
    out.absolute = eh->e_type == ET_EXEC;
    const auto* sections = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; ++i) {
      const Elf64_Shdr& s = sections[i];
      if (s.sh_type != SHT_SYMTAB || s.sh_link >= eh->e_shnum) continue;
      const Elf64_Shdr& strings = sections[s.sh_link];
      if (s.sh_offset + s.sh_size > size || strings.sh_offset + strings.sh_size > size) continue;
      const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + s.sh_offset);
      const std::size_t count = s.sh_size / sizeof(Elf64_Sym);
      const char* names = reinterpret_cast<const char*>(base + strings.sh_offset);
      for (std::size_t k = 0; k < count; ++k) {
        if (ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC || syms[k].st_value == 0) continue;
        if (syms[k].st_name >= strings.sh_size) continue;
        out.symbols.push_back({syms[k].st_value, syms[k].st_size, names + syms[k].st_name});
      }
    }
  }
  munmap(map, size);
  std::sort(out.symbols.begin(), out.symbols.end(),
            [](const Symbol& a, const Symbol& b) { return a.start < b.start; });
  return out;
}

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                           std::free);
  return status == 0 && d ? std::string(d.get()) : std::string(name);
}

}  // namespace

std::string symbolize(const void* address) {
  static std::mutex mutex;
  static auto* objects = new std::map<std::string, ObjectSymbols>;  // never freed: see ~
  char line[1024];
  Dl_info info{};
  if (!dladdr(address, &info) || !info.dli_fname) {
    std::snprintf(line, sizeof line, "%p", address);
    return line;
  }
  const auto addr = reinterpret_cast<std::uintptr_t>(address);
  const auto load = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  std::string name;
  std::uintptr_t offset = 0;
  {
    std::lock_guard lock(mutex);
    auto it = objects->find(info.dli_fname);
    if (it == objects->end()) {
      it = objects->emplace(info.dli_fname, read_symbols(info.dli_fname)).first;
    }
    const ObjectSymbols& table = it->second;
    const std::uintptr_t key = table.absolute ? addr : addr - load;
    auto next = std::upper_bound(table.symbols.begin(), table.symbols.end(), key,
                                 [](std::uintptr_t k, const Symbol& s) { return k < s.start; });
    if (next != table.symbols.begin()) {
      const Symbol& s = *std::prev(next);
      if (key < s.start + std::max<std::uintptr_t>(s.size, 1)) {
        name = demangle(s.name.c_str());
        offset = key - s.start;
      }
    }
  }
  if (name.empty() && info.dli_sname) {  // exported, from the dynamic symbol table
    name = demangle(info.dli_sname);
    offset = addr - reinterpret_cast<std::uintptr_t>(info.dli_saddr);
  }
  const char* file = std::strrchr(info.dli_fname, '/');
  file = file ? file + 1 : info.dli_fname;
  if (name.empty()) {
    std::snprintf(line, sizeof line, "%s(+%#jx)", file, static_cast<std::uintmax_t>(addr - load));
  } else {
    std::snprintf(line, sizeof line, "%s+%#jx (%s)", name.c_str(),
                  static_cast<std::uintmax_t>(offset), file);
  }
  return line;
}

}  // namespace aio::detail
