// Test support: a temporary file with given contents, open for reading (the file descriptor a
// sendfile test sends), removed when it goes; where a descriptor's position is; what the
// sendfile tests send.
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

/// test_sendfile's DATA (256 KiB and one byte, here a pattern so that order shows).
inline const std::string& sendfile_data() {
  static const std::string d = [] {
    std::string s(256 * 1024 + 1, '\0');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + i * 7 % 26);
    return s;
  }();
  return d;
}
/// test_sendfile's BUF_SIZE: small socket buffers, so that sending takes many rounds.
inline constexpr int sendfile_buf_size = 4 * 1024;

/// The descriptor's file position (file.tell()).
inline long tell(int fd) {
  return static_cast<long>(::lseek(fd, 0, SEEK_CUR));
}

}  // namespace aio::testing
