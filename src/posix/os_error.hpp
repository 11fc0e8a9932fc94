// OS errors as asyncio shows them: std::system_error whose what() names the operation and the
// address ("connect to 127.0.0.1:9: Connection refused"), with errno as its code so callers can
// test for std::errc::connection_refused and the like.
#pragma once

#include <string>
#include <system_error>

namespace aio::detail {

inline std::system_error os_error(int err, const std::string& what) {
  return std::system_error(err, std::system_category(), what);
}

}  // namespace aio::detail
