// What aio-ps and aio-pstree print from a snapshot (snapshot.hpp), as Python 3.14's
// `python -m asyncio ps` and `pstree` do: a table of the tasks, the tree of who awaits whom, or
// the cycles that make that tree impossible (a deadlock); and, for aio-ps --metrics, the
// loops' counters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "snapshot.hpp"

namespace aio::ps {

/// One row per task and task awaiting it: tid, loop, task id, task name, coroutine stack,
/// awaiter chain, awaiter name, awaiter id, awaiting.
std::string format_table(const Snapshot& s);

/// The cycles of the await graph (each a list of task addresses, first repeated last); empty
/// when there is none.
std::vector<std::vector<std::uint64_t>> find_cycles(const Snapshot& s);

/// "ERROR: await-graph contains cycles - cannot print a tree!" and each cycle, by task name.
std::string format_cycles(const Snapshot& s, const std::vector<std::vector<std::uint64_t>>& cycles);

/// The await tree from each root task (one nobody awaits): "└── (T) Task-1", the frames of the
/// task down to the one awaiting, and the tasks it awaits under it.
std::string format_tree(const Snapshot& s);

/// Each loop's counters, one per line.
std::string format_metrics(const Snapshot& s);

}  // namespace aio::ps
