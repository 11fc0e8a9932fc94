// Another process's memory, read with process_vm_readv (no ptrace attach: the target never
// stops), through a cache of pages that lasts one snapshot. A read that fails (an address not
// mapped) answers false; a process that is gone or forbidden throws ps::Error.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace aio::ps {

/// What the reader cannot get past: the message says why ("no process 42").
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The message of a read refused by the kernel (EPERM), naming kernel.yama.ptrace_scope.
std::string permission_message(pid_t pid);

class RemoteMemory {
 public:
  static constexpr std::size_t page_size = 4096;
  static constexpr std::size_t max_string = 4096;

  explicit RemoteMemory(pid_t pid) : pid_(pid) {}

  /// Through the cache; false if any byte is not mapped.
  bool read(std::uint64_t address, void* out, std::size_t size);
  /// Straight from the process, for what must be fresh (the counters read after a snapshot).
  bool read_fresh(std::uint64_t address, void* out, std::size_t size);
  template <class T>
  bool get(std::uint64_t address, T& out) {
    return read(address, &out, sizeof out);
  }
  /// A NUL-terminated string of at most max_string bytes (cached by address); false if it is
  /// longer or not mapped.
  bool read_c_string(std::uint64_t address, std::string& out);
  /// Forgets what was read (a new snapshot).
  void clear() {
    pages_.clear();
    strings_.clear();
  }
  std::size_t syscalls() const noexcept { return syscalls_; }

 private:
  using Page = std::unique_ptr<char[]>;  // null: not mapped
  const char* page(std::uint64_t number);
  pid_t pid_;
  std::unordered_map<std::uint64_t, Page> pages_;
  std::unordered_map<std::uint64_t, std::string> strings_;
  std::size_t syscalls_ = 0;
};

}  // namespace aio::ps
