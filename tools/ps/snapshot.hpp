// A snapshot of the tasks of a running aio process, read from outside it (aio-ps, aio-pstree):
// every loop, the thread running it, each unfinished task with its name, its chain of Coros
// and what it waits on, and which tasks await which. docs/design.md ("Introspection") has the
// table it reads and the protocol that keeps a snapshot consistent while the target runs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aio/detail/loop_counters.hpp"

namespace aio::ps {

struct Frame {
  std::string function;
  std::string file;  // as the compiler named it (often a full path)
  std::uint32_t line = 0;
};

struct TaskInfo {
  std::uint64_t address = 0;
  std::uint64_t id = 0;
  std::string name;          // the task's name, or "Task-N"
  std::vector<Frame> stack;  // its chain of Coros, innermost first
  bool running = false;      // taking a step now
  std::string awaiting;      // what it waits on: "Task-3", "Lock.acquire()", "SleepWait"...
  std::vector<std::uint64_t> awaited_by;  // the tasks waiting on it (addresses)
};

struct LoopInfo {
  std::uint64_t address = 0;
  std::uint64_t tid = 0;  // the thread running it, 0 when not running
  detail::LoopCounters counters;
  std::vector<TaskInfo> tasks;  // by id
};

struct Snapshot {
  pid_t pid = 0;
  std::vector<LoopInfo> loops;
  int attempts = 0;  // reads it took to see the process hold still
  std::size_t syscalls = 0;

  const TaskInfo* task_at(std::uint64_t address) const;
};

struct SnapshotOptions {
  int max_attempts = 100;
};

/// Reads the process's loops and tasks. Throws ps::Error (remote_memory.hpp) with a message:
/// "no process N", "no aio runtime in PID N", the permission or version problem, or a
/// process whose tasks changed during every attempt.
Snapshot snapshot(pid_t pid, SnapshotOptions options = {});

/// "worker (file.cpp:12)": a frame as the tables show it (the file without its directories,
/// the function without the template arguments GCC names).
std::string format_frame(const Frame& frame);
/// The function's name without template arguments: "task_group<...>" -> "task_group".
std::string short_function(const std::string& function);

}  // namespace aio::ps
