// Reading a snapshot (snapshot.hpp) through the process's debug table (src/debug/
// debug_table.hpp). Every pointer followed is checked: a read that fails, a list longer than
// any real one, a task whose links or loop do not agree, a string over 4 KiB, all mean that
// the process changed under the reader, and so does a change of the loops' counters or of the
// table's generation between the start and the end of a read. Then the reader starts again.
#include "snapshot.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "debug/debug_table.hpp"
#include "elf_tables.hpp"
#include "remote_memory.hpp"

namespace aio::ps {

namespace {

constexpr std::uint64_t ps_max_tasks = 10'000'000;
constexpr std::size_t ps_max_loops = 100'000;
constexpr std::size_t ps_max_depth = 10'000;
constexpr std::size_t ps_max_waiters = 10'000'000;
constexpr std::uint64_t ps_unknown = detail::debug_offset_unknown;

// The process moved while it was being read: start again.
struct PsRetry {};

// What the reader compares before and after a snapshot: each table's generation; each loop's
// address, thread, task-list head and counters of steps and tasks.
struct PsMarks {
  std::vector<std::uint64_t> generations;
  std::vector<std::uint64_t> loops;
  bool operator==(const PsMarks&) const = default;
};

struct PsExtras {
  std::string name;
  bool named = false;
  std::vector<std::uint64_t> awaited_by;
};

std::string ps_demangle(std::string mangled) {
  if (!mangled.empty() && mangled[0] == '*') mangled.erase(0, 1);
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> text(
      abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), &std::free);
  return status == 0 && text ? std::string(text.get()) : mangled;
}

// "aio::detail::FutureAwaiter<int, false>" -> "FutureAwaiter".
std::string ps_short_type(const std::string& type) {
  std::string base = type.substr(0, type.find('<'));
  const auto colon = base.rfind("::");
  return colon == std::string::npos ? base : base.substr(colon + 2);
}

std::string ps_hex(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "%#jx", static_cast<std::uintmax_t>(value));
  return text;
}

class PsReader {
 public:
  PsReader(RemoteMemory& memory, std::vector<std::pair<std::uint64_t, aio_debug_table>> tables)
      : mem_(memory), tables_(std::move(tables)) {}

  // One attempt; throws PsRetry when the process moved.
  std::vector<LoopInfo> read() {
    std::vector<LoopInfo> loops;
    const PsMarks before = marks();
    // The list of loops read with the table is the one the marks describe.
    for (std::size_t i = 0; i < tables_.size(); ++i) {
      if (before.generations[i] != tables_[i].second.generation) throw PsRetry{};
    }
    for (const auto& [at, table] : tables_) read_table(table, loops);
    link_waiters(loops);
    if (marks() != before) throw PsRetry{};
    return loops;
  }

 private:
  template <class T>
  T get(std::uint64_t address) {
    T value;
    if (!address || !mem_.get(address, value)) throw PsRetry{};
    return value;
  }
  std::uint64_t pointer(std::uint64_t address) { return get<std::uint64_t>(address); }
  template <class T>
  T fresh(std::uint64_t address) {
    T value;
    if (!mem_.read_fresh(address, &value, sizeof value)) throw PsRetry{};
    return value;
  }
  std::string c_string(std::uint64_t address) {
    std::string text;
    if (address && !mem_.read_c_string(address, text)) throw PsRetry{};
    return text;
  }
  std::string std_string(const aio_debug_table& t, std::uint64_t address) {
    const std::uint64_t data = pointer(address + t.string_data);
    const auto size = get<std::uint64_t>(address + t.string_size);
    if (size > RemoteMemory::max_string) throw PsRetry{};
    std::string text(size, '\0');
    if (size && !mem_.read(data, text.data(), size)) throw PsRetry{};
    return text;
  }

  // The tables' generations, and each loop's task list head, thread and counters, read fresh.
  PsMarks marks() {
    PsMarks out;
    for (const auto& [at, table] : tables_) {
      out.generations.push_back(fresh<std::uint64_t>(at + offsetof(aio_debug_table, generation)));
      std::uint64_t record = fresh<std::uint64_t>(at + offsetof(aio_debug_table, loops));
      for (std::size_t n = 0; record; ++n) {
        if (n > ps_max_loops) throw PsRetry{};
        const auto r = fresh<aio_debug_loop>(record);
        const auto loop = reinterpret_cast<std::uint64_t>(r.loop);
        const auto c = fresh<detail::LoopCounters>(loop + table.loop_counters);
        for (std::uint64_t v : {loop, r.tid, fresh<std::uint64_t>(loop + table.loop_tasks), c.runs,
                                c.steps, c.tasks_created, c.iterations})
          out.loops.push_back(v);
        record = reinterpret_cast<std::uint64_t>(r.next);
      }
    }
    return out;
  }

  void read_extras(const aio_debug_table& t) {
    if (!t.extras_map || t.map_first_node == ps_unknown) return;
    std::uint64_t node = pointer(reinterpret_cast<std::uint64_t>(t.extras_map) + t.map_first_node);
    for (std::uint64_t n = 0; node; ++n) {
      if (n > ps_max_tasks) throw PsRetry{};
      const std::uint64_t key = pointer(node + t.node_key);
      const std::uint64_t e = node + t.node_extras;
      PsExtras x;
      if (t.extras_name != ps_unknown) {
        if (const std::uint64_t s = pointer(e + t.extras_name)) {
          x.name = std_string(t, s);
          x.named = true;
        }
      }
      if (t.extras_awaited_by_begin != ps_unknown && t.extras_awaited_by_end != ps_unknown) {
        const std::uint64_t begin = pointer(e + t.extras_awaited_by_begin);
        const std::uint64_t end = pointer(e + t.extras_awaited_by_end);
        if (end < begin || (end - begin) % 8 || (end - begin) / 8 > ps_max_waiters) throw PsRetry{};
        x.awaited_by.resize((end - begin) / 8);
        if (begin != end && !mem_.read(begin, x.awaited_by.data(), end - begin)) throw PsRetry{};
      }
      extras_[key] = std::move(x);
      node = pointer(node + t.node_next);
    }
  }

  std::string type_of(std::uint64_t object) {
    const std::uint64_t vptr = pointer(object);
    if (auto it = types_.find(vptr); it != types_.end()) return it->second;
    // The Itanium ABI: the type_info's address just before the virtual functions, its name
    // (mangled) just after its own vtable pointer.
    const std::uint64_t type_info = pointer(vptr - 8);
    std::string name = ps_demangle(c_string(pointer(type_info + 8)));
    return types_[vptr] = name;
  }

  void read_table(const aio_debug_table& t, std::vector<LoopInfo>& loops) {
    read_extras(t);
    std::vector<aio_debug_loop> records;
    for (auto* r = t.loops; r; r = records.back().next) {
      if (records.size() > ps_max_loops) throw PsRetry{};
      records.push_back(get<aio_debug_loop>(reinterpret_cast<std::uint64_t>(r)));
    }
    std::reverse(records.begin(), records.end());  // oldest first
    for (const aio_debug_loop& r : records) {
      LoopInfo info;
      info.address = reinterpret_cast<std::uint64_t>(r.loop);
      info.tid = r.tid;
      info.counters = get<detail::LoopCounters>(info.address + t.loop_counters);
      std::uint64_t current = 0;
      if (r.thread_state) {
        current = pointer(reinterpret_cast<std::uint64_t>(r.thread_state) + t.thread_current_task);
      }
      std::uint64_t previous = 0;
      std::uint64_t task = pointer(info.address + t.loop_tasks);
      for (std::uint64_t n = 0; task; ++n) {
        if (n > ps_max_tasks || pointer(task + t.future_prev_task) != previous ||
            pointer(task + t.future_loop) != info.address ||
            get<std::uint8_t>(task + t.future_state) > 2)
          throw PsRetry{};
        info.tasks.push_back(read_task(t, task, task == current));
        previous = task;
        task = pointer(task + t.future_next_task);
      }
      std::sort(info.tasks.begin(), info.tasks.end(),
                [](const TaskInfo& a, const TaskInfo& b) { return a.id < b.id; });
      loops.push_back(std::move(info));
    }
  }

  TaskInfo read_task(const aio_debug_table& t, std::uint64_t task, bool running) {
    TaskInfo info;
    info.address = task;
    info.id = get<std::uint64_t>(task + t.future_id);
    info.running = running;
    auto e = extras_.find(task);
    info.name =
        e != extras_.end() && e->second.named ? e->second.name : "Task-" + std::to_string(info.id);
    std::uint64_t frame = task + t.future_frame;
    for (std::size_t depth = 0; frame; ++depth) {
      if (depth > ps_max_depth) throw PsRetry{};
      Frame f;
      f.function = c_string(pointer(frame + t.frame_function));
      f.file = c_string(pointer(frame + t.frame_file));
      f.line = get<std::uint32_t>(frame + t.frame_line);
      info.stack.push_back(std::move(f));
      frame = pointer(frame + t.frame_awaiting);
    }
    std::reverse(info.stack.begin(), info.stack.end());
    Pending p{task, &t, 0, pointer(task + t.future_callbacks), 0};
    if (const std::uint64_t hook = pointer(task + t.future_hook)) {
      const std::string type = type_of(hook);
      const std::string kind = ps_short_type(type);
      if (kind == "FutureAwaiter" && type.rfind("aio::detail::", 0) == 0) {
        p.awaited = pointer(hook + t.future_awaiter_future);
      } else if (kind == "DoneAwaiter" && type.rfind("aio::detail::", 0) == 0) {
        p.awaited = pointer(hook + t.done_awaiter_future);
      } else if (type == "aio::detail::Waiter") {
        const std::uint64_t queue = pointer(hook + t.waiter_queue);
        info.awaiting = c_string(pointer(queue + t.wait_queue_what));
        if (info.awaiting.empty()) info.awaiting = "Waiter";
        // A lock names the task holding it: the waiter waits on that task (a cycle of such
        // waits is a deadlock).
        if (const std::uint64_t describer = pointer(queue + t.wait_queue_describer);
            describer && type_of(describer) == "aio::Lock::Holder") {
          p.lock_holder = pointer(describer + t.lock_holder_task);
        }
      } else if (kind.rfind("Sleep", 0) == 0) {
        info.awaiting = "sleep()";
      } else {
        info.awaiting = kind;
      }
    }
    pending_.push_back(p);
    return info;
  }

  // Who awaits whom, once every task is known: a task in another's callback list waits on
  // it; a gather watching a task is awaited by the tasks awaiting the gather; the extras name
  // the waiters that hold no callback (a TaskGroup's parent, shield's caller).
  void link_waiters(std::vector<LoopInfo>& loops) {
    std::unordered_map<std::uint64_t, TaskInfo*> tasks;
    for (LoopInfo& loop : loops) {
      for (TaskInfo& task : loop.tasks) tasks[task.address] = &task;
    }
    std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> on_future;  // future -> tasks
    std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> on_lock;    // holder -> tasks
    for (const Pending& p : pending_) {
      if (p.lock_holder && tasks.count(p.lock_holder) && p.lock_holder != p.task) {
        TaskInfo* waiting = tasks.at(p.task);
        waiting->awaiting += " (held by " + tasks.at(p.lock_holder)->name + ")";
        on_lock[p.lock_holder].push_back(p.task);
      }
      if (!p.awaited) continue;
      TaskInfo* waiting = tasks.at(p.task);
      auto awaited = tasks.find(p.awaited);
      waiting->awaiting = awaited != tasks.end() ? "Task(name='" + awaited->second->name + "')"
                                                 : "Future(id=" + ps_hex(p.awaited) + ")";
      on_future[p.awaited].push_back(p.task);
    }
    for (const Pending& p : pending_) {
      TaskInfo* task = tasks.at(p.task);
      std::set<std::uint64_t> by;
      auto add = [&](std::uint64_t waiter) {
        if (tasks.count(waiter)) {
          by.insert(waiter);
        } else if (auto it = on_future.find(waiter); it != on_future.end()) {
          by.insert(it->second.begin(), it->second.end());
        }
      };
      const aio_debug_table& t = *p.table;
      if (p.callbacks & 1) {
        add(pointer(p.callbacks - 1 + t.gather_watcher_outer));
      } else if (p.callbacks) {
        std::uint64_t node = p.callbacks;
        std::size_t n = 0;
        do {
          if (++n > ps_max_waiters) throw PsRetry{};
          node = pointer(node + t.node_next_callback);
          add(node);
        } while (node != p.callbacks);
      }
      if (auto e = extras_.find(p.task); e != extras_.end()) {
        for (std::uint64_t w : e->second.awaited_by) add(w);
      }
      if (auto l = on_lock.find(p.task); l != on_lock.end())
        by.insert(l->second.begin(), l->second.end());
      by.erase(p.task);
      task->awaited_by.assign(by.begin(), by.end());
    }
  }

  struct Pending {
    std::uint64_t task;
    const aio_debug_table* table;
    std::uint64_t awaited;          // the future its hook waits on, if known
    std::uint64_t callbacks;        // its callbacks_ word
    std::uint64_t lock_holder = 0;  // the task holding the lock it waits for, if it does
  };

  RemoteMemory& mem_;
  std::vector<std::pair<std::uint64_t, aio_debug_table>> tables_;
  std::unordered_map<std::uint64_t, PsExtras> extras_;
  std::unordered_map<std::uint64_t, std::string> types_;
  std::vector<Pending> pending_;
};

}  // namespace

const TaskInfo* Snapshot::task_at(std::uint64_t address) const {
  for (const LoopInfo& loop : loops) {
    for (const TaskInfo& task : loop.tasks) {
      if (task.address == address) return &task;
    }
  }
  return nullptr;
}

std::string short_function(const std::string& function) {
  const auto angle = function.find('<');
  if (angle == std::string::npos || angle == 0 || function.rfind("operator", 0) == 0)
    return function;
  return function.substr(0, angle);
}

std::string format_frame(const Frame& frame) {
  const auto slash = frame.file.rfind('/');
  const std::string file = slash == std::string::npos ? frame.file : frame.file.substr(slash + 1);
  return short_function(frame.function) + " (" + file + ":" + std::to_string(frame.line) + ")";
}

Snapshot snapshot(pid_t pid, SnapshotOptions options) {
  const std::vector<Mapping> maps = read_mappings(pid);
  const std::string no_runtime = "no aio runtime in PID " + std::to_string(pid);
  RemoteMemory memory(pid);
  std::vector<std::uint64_t> places = find_sections(pid, maps, detail::debug_table_section);
  std::vector<std::pair<std::uint64_t, aio_debug_table>> found;
  for (std::uint64_t at : places) {
    struct {
      char magic[16];
      std::uint32_t version;
      std::uint32_t size;
    } head{};
    if (!memory.read_fresh(at, &head, sizeof head)) continue;
    if (std::memcmp(head.magic, detail::debug_table_magic, sizeof head.magic) != 0) continue;
    if (head.version != detail::debug_table_version || head.size != sizeof(aio_debug_table)) {
      throw Error("version mismatch: PID " + std::to_string(pid) + " has aio debug table version " +
                  std::to_string(head.version) + ", this aio-ps reads " +
                  std::to_string(detail::debug_table_version));
    }
    found.emplace_back(at, aio_debug_table{});
  }
  if (found.empty()) throw Error(no_runtime);

  for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
    memory.clear();
    try {
      for (auto& [at, table] : found) {
        if (!memory.read_fresh(at, &table, sizeof table)) throw PsRetry{};
        if (table.loops && table.counters_size != sizeof(detail::LoopCounters)) {
          throw Error("version mismatch: PID " + std::to_string(pid) + " has loop counters of " +
                      std::to_string(table.counters_size) + " bytes, this aio-ps reads " +
                      std::to_string(sizeof(detail::LoopCounters)));
        }
      }
      PsReader reader(memory, found);
      Snapshot s;
      s.pid = pid;
      s.loops = reader.read();
      s.attempts = attempt;
      s.syscalls = memory.syscalls();
      return s;
    } catch (const PsRetry&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  throw Error("PID " + std::to_string(pid) +
              " never held still: its tasks changed during each of " +
              std::to_string(options.max_attempts) + " reads");
}

}  // namespace aio::ps
