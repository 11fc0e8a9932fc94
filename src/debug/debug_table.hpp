// The debug table: what aio-ps and aio-pstree (tools/ps/) read out of a running process without
// running any code in it (docs/design.md, "Introspection"). The library keeps one, in an ELF
// section of its own (`aio_debug`), so that a reader finds it from the section headers of the
// files the process maps: a magic string, a layout version, the offsets of the fields it follows
// (computed here from the real types) and the list of live loops. Plain C layout, fixed-width
// fields: the reader need not be built with the same compiler or options as its target.
#pragma once

#include <cstdint>

namespace aio::detail {

inline constexpr char debug_table_magic[16] = "aio debug table";
inline constexpr std::uint32_t debug_table_version = 1;
inline constexpr std::uint32_t debug_offset_unknown = 0xffffffff;
/// The name of the ELF section that holds the table.
inline constexpr const char* debug_table_section = "aio_debug";

}  // namespace aio::detail

extern "C" {

/// One live loop. Records are made with the loop and freed with it, under the table's lock.
struct aio_debug_loop {
  aio_debug_loop* next = nullptr;  // the next live loop (newest first), null at the end
  const void* loop = nullptr;      // the EventLoop
  // While the loop runs: the running thread's detail::ThreadState, and its gettid(); null
  // and 0 otherwise.
  const void* thread_state = nullptr;
  std::uint64_t tid = 0;
  std::uint64_t runs_started = 0;  // how many times the loop started running
};

/// The table (one per process, or one per copy of the library). Offsets are in bytes, from the
/// start of the object named by their prefix; 0xffffffff when unknown (the reader does without).
struct aio_debug_table {
  // debug_table_magic; debug_table_version, the layout of this struct and of what its
  // offsets lead to; the size of this struct.
  char magic[16] = "aio debug table";
  std::uint32_t version = aio::detail::debug_table_version;
  std::uint32_t size = sizeof(aio_debug_table);
  std::uint64_t generation = 0;     // bumped whenever the list of loops or a record changes
  aio_debug_loop* loops = nullptr;  // the live loops, newest first; null until the first one
  // The futures' extras (src/task/future_extras.hpp): null if its layout is not known.
  const void* extras_map = nullptr;

  // EventLoop: its list of unfinished tasks (FutureBase*, newest first) and its counters.
  std::uint32_t loop_tasks = 0;
  std::uint32_t loop_counters = 0;
  std::uint32_t counters_size = 0;  // sizeof(detail::LoopCounters), fields in its declared order
  std::uint32_t thread_current_task = 0;  // ThreadState::current_task: the task stepping now

  // FutureBase (a task is one; its CallbackNode base is at offset 0).
  std::uint32_t future_state = 0;      // uint8: 0 pending, 1 finished, 2 cancelled
  std::uint32_t future_loop = 0;       // EventLoop*
  std::uint32_t future_callbacks = 0;  // CallbackNode*: the last of a circular list, or a Watcher|1
  std::uint32_t future_hook = 0;  // CancelHook*: what a suspended task waits on, null when running
  std::uint32_t future_id = 0;    // uint64: the N of "Task-N"
  std::uint32_t future_prev_task = 0;
  std::uint32_t future_next_task = 0;
  std::uint32_t future_frame = 0;        // CoroFrame: the task's own coroutine
  std::uint32_t node_next_callback = 0;  // CallbackNode::next_callback
  std::uint32_t frame_function = 0;      // CoroFrame: const char*, const char*, CoroFrame*, uint32
  std::uint32_t frame_file = 0;
  std::uint32_t frame_awaiting = 0;
  std::uint32_t frame_line = 0;

  // What a task waits on, by the type of its CancelHook (found from the object's RTTI).
  std::uint32_t future_awaiter_future = 0;  // FutureAwaiter<T, M>::core_ (the same for every T)
  std::uint32_t done_awaiter_future = 0;    // DoneAwaiter::future_
  std::uint32_t waiter_queue = 0;           // Waiter::queue_ (a lock, event, queue... waiting)
  std::uint32_t wait_queue_what = 0;        // WaitQueue::what_: "Lock.acquire()"
  std::uint32_t wait_queue_describer = 0;   // WaitQueue::describer_ (a Lock's Lock::Holder)
  std::uint32_t lock_holder_task = 0;       // Lock::Holder::task: the task holding the lock
  std::uint32_t gather_watcher_outer = 0;   // a gather's Watcher -> the gather's own future

  // The extras map (std::unordered_map<const FutureBase*, FutureExtras>): singly linked nodes,
  // the first reached from the map, each node's next pointer at its start.
  std::uint32_t map_first_node = 0;
  std::uint32_t node_next = 0;
  std::uint32_t node_key = 0;     // const FutureBase*
  std::uint32_t node_extras = 0;  // FutureExtras
  std::uint32_t extras_name = 0;  // a pointer to std::string, null for an unnamed task
  // std::vector<FutureBase*> awaited_by: its first and end pointers.
  std::uint32_t extras_awaited_by_begin = 0;
  std::uint32_t extras_awaited_by_end = 0;
  std::uint32_t string_data = 0;  // std::string: its character pointer and its length
  std::uint32_t string_size = 0;
};

}  // extern "C"
