// Names for code addresses of this process, for the stall detector's native stacks.
#pragma once

#include <string>

namespace aio::detail {

/// "function+0x1c (object)" from the object's symbol table (exported or not), else
/// "object(+0x1234)" (addr2line -f -C -e object 0x1234 names it from the debug information).
/// Thread-safe; not async-signal-safe.
std::string symbolize(const void* address);

}  // namespace aio::detail
