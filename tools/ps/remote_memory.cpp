// Reading another process's memory in pages (see remote_memory.hpp).
#include "remote_memory.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace aio::ps {

namespace {

// Pages fetched per system call on a miss: tasks sit close together in the frame arena.
constexpr std::size_t ps_pages_per_read = 16;

[[noreturn]] void ps_throw_read_error(pid_t pid, int error) {
  if (error == EPERM || error == EACCES) throw Error(permission_message(pid));
  if (error == ESRCH) throw Error("no process " + std::to_string(pid));
  throw Error("reading PID " + std::to_string(pid) + ": " + std::strerror(error));
}

}  // namespace

std::string permission_message(pid_t pid) {
  std::string scope = "unknown";
  std::ifstream in("/proc/sys/kernel/yama/ptrace_scope");
  if (in) in >> scope;
  return "permission denied reading PID " + std::to_string(pid) + " (ptrace_scope is " + scope +
         ": run as the same user with kernel.yama.ptrace_scope=0, or as root / CAP_SYS_PTRACE)";
}

const char* RemoteMemory::page(std::uint64_t number) {
  if (auto it = pages_.find(number); it != pages_.end()) return it->second.get();
  // A run of pages in one call; the kernel stops at the first that is not mapped.
  std::size_t count = ps_pages_per_read;
  while (count > 1 && pages_.count(number + count - 1)) --count;
  auto buffer = std::make_unique<char[]>(count * page_size);
  iovec local{buffer.get(), count * page_size};
  iovec remote[ps_pages_per_read];
  for (std::size_t i = 0; i < count; ++i) {
    remote[i] = {reinterpret_cast<void*>((number + i) * page_size), page_size};
  }
  ++syscalls_;
  const ssize_t n = process_vm_readv(pid_, &local, 1, remote, count, 0);
  if (n < 0 && errno != EFAULT && errno != EIO) ps_throw_read_error(pid_, errno);
  const std::size_t whole = n < 0 ? 0 : static_cast<std::size_t>(n) / page_size;
  for (std::size_t i = 0; i < whole; ++i) {
    auto p = std::make_unique<char[]>(page_size);
    std::memcpy(p.get(), buffer.get() + i * page_size, page_size);
    pages_.emplace(number + i, std::move(p));
  }
  if (whole == 0) pages_.emplace(number, nullptr);
  return pages_[number].get();
}

bool RemoteMemory::read(std::uint64_t address, void* out, std::size_t size) {
  auto* to = static_cast<char*>(out);
  while (size > 0) {
    const std::uint64_t number = address / page_size;
    const std::size_t at = address % page_size;
    const std::size_t n = std::min(size, page_size - at);
    const char* p = page(number);
    if (!p) return false;
    std::memcpy(to, p + at, n);
    to += n;
    address += n;
    size -= n;
  }
  return true;
}

bool RemoteMemory::read_fresh(std::uint64_t address, void* out, std::size_t size) {
  iovec local{out, size};
  iovec remote{reinterpret_cast<void*>(address), size};
  ++syscalls_;
  const ssize_t n = process_vm_readv(pid_, &local, 1, &remote, 1, 0);
  if (n < 0 && errno != EFAULT && errno != EIO) ps_throw_read_error(pid_, errno);
  return n == static_cast<ssize_t>(size);
}

bool RemoteMemory::read_c_string(std::uint64_t address, std::string& out) {
  if (auto it = strings_.find(address); it != strings_.end()) {
    out = it->second;
    return true;
  }
  std::string text;
  std::uint64_t at = address;
  while (text.size() <= max_string) {
    const char* p = page(at / page_size);
    if (!p) return false;
    const char* begin = p + at % page_size;
    const char* end = p + page_size;
    const char* nul = std::find(begin, end, '\0');
    text.append(begin, nul);
    if (nul != end) {
      if (text.size() > max_string) return false;
      out = strings_.emplace(address, std::move(text)).first->second;
      return true;
    }
    at += static_cast<std::uint64_t>(end - begin);
  }
  return false;
}

}  // namespace aio::ps
