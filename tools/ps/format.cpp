// Printing a snapshot (format.hpp). The tree and the cycle search follow the shape of Python
// 3.14's asyncio tools: a task awaiting another is drawn over the chain of its own Coros, from
// its outermost down to the one that awaits, and the awaited task hangs under that frame.
#include "format.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <unordered_map>
#include <utility>

namespace aio::ps {

namespace {

std::string ps_join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

std::string ps_loop_name(std::uint64_t address) {
  char text[24];
  std::snprintf(text, sizeof text, "%#jx", static_cast<std::uintmax_t>(address));
  return text;
}

// The await graph: who awaits whom, in the order of the tasks.
struct PsGraph {
  std::vector<const TaskInfo*> tasks;  // loop by loop, by id
  std::unordered_map<std::uint64_t, const TaskInfo*> by_address;
  // (awaiting task, awaited task), in the order of the awaited tasks.
  std::vector<std::pair<const TaskInfo*, const TaskInfo*>> awaits;

  explicit PsGraph(const Snapshot& s) {
    for (const LoopInfo& loop : s.loops) {
      for (const TaskInfo& task : loop.tasks) {
        tasks.push_back(&task);
        by_address[task.address] = &task;
      }
    }
    for (const TaskInfo* task : tasks) {
      for (std::uint64_t parent : task->awaited_by) {
        if (auto it = by_address.find(parent); it != by_address.end())
          awaits.emplace_back(it->second, task);
      }
    }
  }
};

// A node of the tree: a task, or a frame of the task above it.
struct PsNode {
  std::string label;
  std::vector<std::size_t> children;
  std::map<std::string, std::size_t> frames;  // frame nodes under this one, by label
};

void ps_render(const std::vector<PsNode>& nodes, std::size_t node, const std::string& prefix,
               bool last, std::string& out) {
  out += prefix + (last ? "└── " : "├── ") + nodes[node].label + "\n";
  const std::string deeper = prefix + (last ? "    " : "│   ");
  const auto& kids = nodes[node].children;
  for (std::size_t i = 0; i < kids.size(); ++i) {
    ps_render(nodes, kids[i], deeper, i + 1 == kids.size(), out);
  }
}

}  // namespace

std::string format_table(const Snapshot& s) {
  const PsGraph graph(s);
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"tid", "loop", "task id", "task name", "coroutine stack", "awaiter chain",
                  "awaiter name", "awaiter id", "awaiting"});
  for (const LoopInfo& loop : s.loops) {
    for (const TaskInfo& task : loop.tasks) {
      std::vector<std::string> frames;
      for (const Frame& f : task.stack) frames.push_back(format_frame(f));
      const std::string awaiting = task.running ? "(running)" : task.awaiting;
      std::vector<std::string> row{std::to_string(loop.tid), ps_loop_name(loop.address),
                                   std::to_string(task.id), task.name, ps_join(frames, " <- ")};
      if (task.awaited_by.empty()) {
        rows.push_back(row);
        rows.back().insert(rows.back().end(), {"", "", "", awaiting});
      }
      for (std::uint64_t parent : task.awaited_by) {
        auto it = graph.by_address.find(parent);
        if (it == graph.by_address.end()) continue;
        std::vector<std::string> chain;
        for (const Frame& f : it->second->stack) chain.push_back(short_function(f.function));
        rows.push_back(row);
        rows.back().insert(rows.back().end(), {ps_join(chain, " <- "), it->second->name,
                                               std::to_string(it->second->id), awaiting});
      }
    }
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  std::size_t total = 0;
  for (std::size_t w : width) total += w + 2;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (std::size_t i = 0; i < rows[r].size(); ++i) {
      line += rows[r][i];
      if (i + 1 < rows[r].size()) line.append(width[i] + 2 - rows[r][i].size(), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (r == 0) out += std::string(total - 2, '-') + "\n";
  }
  return out;
}

std::vector<std::vector<std::uint64_t>> find_cycles(const Snapshot& s) {
  const PsGraph graph(s);
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> edges;  // awaiting -> awaited
  std::vector<std::uint64_t> order;
  for (const auto& [parent, child] : graph.awaits) {
    if (!edges.count(parent->address)) order.push_back(parent->address);
    edges[parent->address].push_back(child->address);
  }
  enum Colour { white, grey, black };
  std::unordered_map<std::uint64_t, Colour> colour;
  std::vector<std::uint64_t> path;
  std::vector<std::vector<std::uint64_t>> cycles;
  // Depth first, without recursion (a chain of awaits may be long): a stack of (node, next
  // edge to follow).
  for (std::uint64_t start : order) {
    if (colour[start] != white) continue;
    std::vector<std::pair<std::uint64_t, std::size_t>> stack{{start, 0}};
    colour[start] = grey;
    path.push_back(start);
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      const auto it = edges.find(node);
      if (it == edges.end() || next == it->second.size()) {
        colour[node] = black;
        path.pop_back();
        stack.pop_back();
        continue;
      }
      const std::uint64_t to = it->second[next++];
      if (colour[to] == white) {
        colour[to] = grey;
        path.push_back(to);
        stack.emplace_back(to, 0);
      } else if (colour[to] == grey) {
        auto from = std::find(path.begin(), path.end(), to);
        std::vector<std::uint64_t> cycle(from, path.end());
        cycle.push_back(to);
        cycles.push_back(std::move(cycle));
      }
    }
  }
  return cycles;
}

std::string format_cycles(const Snapshot& s,
                          const std::vector<std::vector<std::uint64_t>>& cycles) {
  std::string out = "ERROR: await-graph contains cycles - cannot print a tree!\n\n";
  for (const auto& cycle : cycles) {
    std::vector<std::string> names;
    for (std::uint64_t address : cycle) {
      const TaskInfo* task = s.task_at(address);
      names.push_back(task ? task->name : ps_loop_name(address));
    }
    out += "cycle: " + ps_join(names, " → ") + "\n";
  }
  return out;
}

std::string format_tree(const Snapshot& s) {
  const PsGraph graph(s);
  std::vector<PsNode> nodes;
  std::unordered_map<std::uint64_t, std::size_t> task_node;
  for (const TaskInfo* task : graph.tasks) {
    task_node[task->address] = nodes.size();
    nodes.push_back({"(T) " + task->name, {}, {}});
  }
  std::vector<bool> is_child(nodes.size(), false);
  auto frame_node = [&nodes, &is_child](std::size_t parent, const std::string& label) {
    if (auto it = nodes[parent].frames.find(label); it != nodes[parent].frames.end())
      return it->second;
    const std::size_t node = nodes.size();
    nodes.push_back({label, {}, {}});
    is_child.push_back(true);
    nodes[parent].frames[label] = node;
    nodes[parent].children.push_back(node);
    return node;
  };
  // Under the awaiting task: its frames, outermost first, then the task it awaits.
  auto descend = [&](const TaskInfo& task) {
    std::size_t at = task_node.at(task.address);
    for (auto f = task.stack.rbegin(); f != task.stack.rend(); ++f) {
      at = frame_node(at, format_frame(*f));
    }
    return at;
  };
  std::unordered_map<std::uint64_t, bool> awaits_something;
  for (const auto& [parent, child] : graph.awaits) {
    const std::size_t at = descend(*parent);
    const std::size_t kid = task_node.at(child->address);
    auto& kids = nodes[at].children;
    if (std::find(kids.begin(), kids.end(), kid) == kids.end()) kids.push_back(kid);
    is_child[kid] = true;
    awaits_something[parent->address] = true;
  }
  for (const TaskInfo* task : graph.tasks) {
    if (!awaits_something.count(task->address)) descend(*task);
  }
  std::string out;
  for (std::size_t n = 0; n < graph.tasks.size(); ++n) {
    if (!is_child[n]) ps_render(nodes, n, "", true, out);
  }
  return out;
}

std::string format_metrics(const Snapshot& s) {
  std::string out;
  for (const LoopInfo& loop : s.loops) {
    const detail::LoopCounters& c = loop.counters;
    out += "loop " + ps_loop_name(loop.address) + " (thread " + std::to_string(loop.tid) + ")\n";
    const std::pair<const char*, std::uint64_t> fields[] = {{"iterations", c.iterations},
                                                            {"tasks_created", c.tasks_created},
                                                            {"runs", c.runs},
                                                            {"steps", c.steps},
                                                            {"ready_max", c.ready_max},
                                                            {"timers_armed", c.timers_armed},
                                                            {"timers_fired", c.timers_fired},
                                                            {"idle_ns", c.idle_ns},
                                                            {"born_ns", c.born_ns},
                                                            {"slowest_step_ns", c.slowest_step_ns},
                                                            {"stalls", c.stalls},
                                                            {"executor_jobs", c.executor_jobs},
                                                            {"wakeups", c.wakeups}};
    for (const auto& [name, value] : fields) {
      out += "  " + std::string(name) + ": " + std::to_string(value) + "\n";
    }
    for (const auto& [name, values] :
         {std::pair{"io_started", c.io_started}, std::pair{"io_completed", c.io_completed}}) {
      // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict) on " " + std::to_string(...).
      out += "  ";
      out += name;
      out += ':';
      for (std::uint32_t k = 0; k < detail::LoopCounters::io_kinds; ++k) {
        out += ' ';
        out += std::to_string(values[k]);
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace aio::ps
