// asyncio's write-buffer water marks, shared by the transports' set_write_buffer_limits():
// high defaults to 64 KiB (or 4 x low when only low is given), low to high / 4, and anything
// but high >= low >= 0 is a ValueError (std::invalid_argument).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace aio::detail {

struct WaterMarks {
  std::size_t high;
  std::size_t low;
};

inline WaterMarks water_marks(std::optional<std::int64_t> high, std::optional<std::int64_t> low) {
  const std::int64_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
  const std::int64_t l = low ? *low : h / 4;
  if (!(h >= l && l >= 0)) {
    throw std::invalid_argument("high (" + std::to_string(h) + ") must be >= low (" +
                                std::to_string(l) + ") must be >= 0");
  }
  return {static_cast<std::size_t>(h), static_cast<std::size_t>(l)};
}

}  // namespace aio::detail
