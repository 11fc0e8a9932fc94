// The debug table aio-ps reads (src/debug/debug_table.hpp; docs/design.md, "Introspection"):
// the table itself, in its ELF section, the offsets it publishes, and the loops' records.
#include "debug/debug_table.hpp"

#include <unistd.h>

#include <bit>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <mutex>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "aio/detail/gather.hpp"
#include "aio/detail/loop_counters.hpp"
#include "aio/detail/thread_state.hpp"
#include "aio/detail/wait_queue.hpp"
#include "aio/future.hpp"
#include "aio/locks.hpp"
#include "aio/loop.hpp"
#include "core/loop_registry.hpp"
#include "task/future_extras.hpp"

extern "C" {
// Constant-initialised (magic, version and size are there before any code runs); the offsets are
// filled in before the first loop is linked. `retain` keeps the section through --gc-sections.
__attribute__((section("aio_debug"), used, retain)) aio_debug_table aio_debug_table_v1;
}

namespace aio::detail {

struct DebugTableAccess {
  // The Itanium C++ ABI (GCC and Clang on Linux) represents a pointer to data member as the
  // member's offset in its class.
  template <class C, class M>
  static std::uint32_t offset(M C::*member) noexcept {
    static_assert(sizeof member == sizeof(std::ptrdiff_t));
    return static_cast<std::uint32_t>(std::bit_cast<std::ptrdiff_t>(member));
  }
  // The offset of the word of `object` equal to `value`, or unknown.
  template <class T>
  static std::uint32_t word_equal(const T& object, std::uintptr_t value) noexcept {
    std::uintptr_t words[sizeof(T) / sizeof(std::uintptr_t)];
    std::memcpy(words, &object, sizeof words);
    for (std::size_t i = 0; i < std::size(words); ++i) {
      if (words[i] == value) return static_cast<std::uint32_t>(i * sizeof(std::uintptr_t));
    }
    return debug_offset_unknown;
  }
  // An example object built in zeroed storage: the bytes its constructor leaves alone (padding,
  // an unused small-string buffer) read as zero, not as uninitialised memory.
  template <class T>
  struct Example {
    alignas(T) unsigned char storage[sizeof(T)] = {};
    T* object;
    template <class... A>
    explicit Example(A&&... args) : object(new (storage) T(std::forward<A>(args)...)) {}
    ~Example() { object->~T(); }
    Example(const Example&) = delete;
    Example& operator=(const Example&) = delete;
  };

  static std::uint32_t distance(const void* from, const void* to) noexcept {
    return static_cast<std::uint32_t>(static_cast<const char*>(to) -
                                      static_cast<const char*>(from));
  }

  static void fill(aio_debug_table& t) {
    t.loop_tasks = offset(&EventLoop::tasks_);
    t.loop_counters = offset(&EventLoop::counters_);
    t.counters_size = sizeof(LoopCounters);
    t.thread_current_task = offsetof(ThreadState, current_task);
    t.future_state = offset(&FutureBase::state_);
    t.future_loop = offset(&FutureBase::loop_);
    t.future_callbacks = offset(&FutureBase::callbacks_);
    t.future_hook = offset(&FutureBase::hook_);
    t.future_id = offset(&FutureBase::id_);
    t.future_prev_task = offset(&FutureBase::prev_task_);
    t.future_next_task = offset(&FutureBase::next_task_);
    t.future_frame = offset(&FutureBase::frame_);
    t.node_next_callback = offset(&CallbackNode::next_callback);
    t.frame_function = offsetof(CoroFrame, function);
    t.frame_file = offsetof(CoroFrame, file);
    t.frame_awaiting = offsetof(CoroFrame, awaiting);
    t.frame_line = offsetof(CoroFrame, line);
    t.future_awaiter_future = offset(&FutureAwaiter<void, false>::core_);
    t.done_awaiter_future = offset(&DoneAwaiter::future_);
    t.waiter_queue = offset(&Waiter::queue_);
    t.wait_queue_what = offset(&WaitQueue::what_);
    t.wait_queue_describer = offset(&WaitQueue::describer_);
    // From the describer pointer: a Holder's WaitDescriber base is at its start (one base).
    t.lock_holder_task = offset(&Lock::Holder::task);
    t.gather_watcher_outer = offset(&GatherCore::outer_);  // its Watcher base is at offset 0
    fill_containers(t);
  }

  // The standard library's containers, laid out as this build has them: found on examples.
  static void fill_containers(aio_debug_table& t) {
    Example<std::string> example_text(64, 'x');
    const std::string& text = *example_text.object;
    t.string_data = word_equal(text, reinterpret_cast<std::uintptr_t>(text.data()));
    t.string_size = word_equal(text, text.size());

    FutureExtras extras;
    extras.name = std::make_unique<std::string>("n");
    extras.awaited_by.assign(3, nullptr);
    const auto& by = extras.awaited_by;
    t.extras_name = sizeof(std::unique_ptr<std::string>) == sizeof(void*)
                        ? distance(&extras, &extras.name)
                        : debug_offset_unknown;
    if (word_equal(extras.name, reinterpret_cast<std::uintptr_t>(extras.name.get())) != 0)
      t.extras_name = debug_offset_unknown;
    const std::uint32_t begin = word_equal(by, reinterpret_cast<std::uintptr_t>(by.data()));
    const std::uint32_t end = word_equal(by, reinterpret_cast<std::uintptr_t>(by.data() + 3));
    const std::uint32_t vector_at = distance(&extras, &by);
    t.extras_awaited_by_begin = begin == debug_offset_unknown ? begin : vector_at + begin;
    t.extras_awaited_by_end = end == debug_offset_unknown ? end : vector_at + end;

    // Two entries: the word of the map that leads to one of them, whose first word leads to
    // the other, whose first word is null; each value at the same distance from its node.
    Example<ExtrasMap> example_map;
    ExtrasMap& map = *example_map.object;
    const FutureBase* keys[2] = {nullptr, reinterpret_cast<const FutureBase*>(&map)};
    const void* values[2] = {&*map.try_emplace(keys[0]).first, &*map.try_emplace(keys[1]).first};
    t.map_first_node = t.node_next = t.node_key = t.node_extras = debug_offset_unknown;
    std::uintptr_t words[sizeof(ExtrasMap) / sizeof(std::uintptr_t)];
    std::memcpy(words, &map, sizeof words);
    for (std::size_t i = 0; i < std::size(words); ++i) {
      for (int first = 0; first < 2; ++first) {
        const auto node = words[i];
        const auto value = reinterpret_cast<std::uintptr_t>(values[first]);
        if (node == 0 || node > value || value - node > 64) continue;
        const std::uintptr_t at = value - node;
        const auto* second = *reinterpret_cast<const char* const*>(node);
        if (!second || reinterpret_cast<std::uintptr_t>(values[1 - first]) !=
                           reinterpret_cast<std::uintptr_t>(second) + at)
          continue;
        if (*reinterpret_cast<const void* const*>(second) != nullptr) continue;
        using Entry = ExtrasMap::value_type;
        const auto& entry = *static_cast<const Entry*>(values[first]);
        t.map_first_node = static_cast<std::uint32_t>(i * sizeof(std::uintptr_t));
        t.node_next = 0;
        t.node_key = static_cast<std::uint32_t>(at) + distance(&entry, &entry.first);
        t.node_extras = static_cast<std::uint32_t>(at) + distance(&entry, &entry.second);
      }
    }
    if (t.map_first_node != debug_offset_unknown) t.extras_map = &extras_map();
  }
};

namespace {

struct DebugLoopList {
  std::mutex mutex;
  bool filled = false;
};
DebugLoopList& debug_loop_list() {
  static auto* loops = new DebugLoopList;  // never destroyed: loops may outlive static destruction
  return *loops;
}

aio_debug_loop* debug_find_record(const EventLoop* loop) noexcept {
  for (aio_debug_loop* r = aio_debug_table_v1.loops; r; r = r->next) {
    if (r->loop == loop) return r;
  }
  return nullptr;
}

}  // namespace

void debug_add_loop(const EventLoop* loop) {
  DebugLoopList& loops = debug_loop_list();
  auto* record = new aio_debug_loop{nullptr, loop, nullptr, 0, 0};
  std::lock_guard lock(loops.mutex);
  if (!loops.filled) {
    DebugTableAccess::fill(aio_debug_table_v1);
    loops.filled = true;
  }
  record->next = aio_debug_table_v1.loops;
  ++aio_debug_table_v1.generation;
  aio_debug_table_v1.loops = record;
}

void debug_remove_loop(const EventLoop* loop) noexcept {
  DebugLoopList& loops = debug_loop_list();
  aio_debug_loop* found = nullptr;
  {
    std::lock_guard lock(loops.mutex);
    for (aio_debug_loop** link = &aio_debug_table_v1.loops; *link; link = &(*link)->next) {
      if ((*link)->loop == loop) {
        found = *link;
        *link = found->next;
        ++aio_debug_table_v1.generation;
        break;
      }
    }
  }
  delete found;
}

void debug_loop_running(const EventLoop* loop, bool running) noexcept {
  DebugLoopList& loops = debug_loop_list();
  std::lock_guard lock(loops.mutex);
  aio_debug_loop* r = debug_find_record(loop);
  if (!r) return;
  ++aio_debug_table_v1.generation;
  r->thread_state = running ? &this_thread : nullptr;
  r->tid = running ? static_cast<std::uint64_t>(gettid()) : 0;
  if (running) ++r->runs_started;
}

}  // namespace aio::detail
