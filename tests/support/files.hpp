// Test support: a temporary file with given contents, open for reading (the file descriptor a
// sendfile test sends), removed when it goes; and where a descriptor's position is.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aio::testing {

class TempFile {
 public:
  explicit TempFile(std::string_view contents) {
    char name[] = "/tmp/aio-file-XXXXXX";
    fd_ = ::mkstemp(name);
    if (fd_ < 0) throw std::runtime_error("mkstemp failed");
    ::unlink(name);  // gone when closed
    for (std::size_t done = 0; done < contents.size();) {
      const ssize_t n = ::write(fd_, contents.data() + done, contents.size() - done);
      if (n <= 0) throw std::runtime_error("writing the temporary file failed");
      done += static_cast<std::size_t>(n);
    }
    ::lseek(fd_, 0, SEEK_SET);
  }
  ~TempFile() { ::close(fd_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
};

/// The descriptor's file position (file.tell()).
inline long tell(int fd) {
  return static_cast<long>(::lseek(fd, 0, SEEK_CUR));
}

}  // namespace aio::testing
