// io/atomic_file.hpp — writing a file so that it is either the old file or the
// whole new one, never half of each: the bytes go to a fresh temporary file
// in the same directory (O_EXCL, pid + counter, so concurrent writers never
// share one), which is flushed (fsync) and renamed over the target; rename is
// atomic on POSIX file systems. On any failure the temporary is removed and
// the file at the path is untouched. Checkpoints, datasets and pictures all
// go through here, so a crash or a full disk never destroys saved work.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "../error.hpp"

namespace deepgen {
namespace io {

/// A run of bytes to write; parts are written in order, without copying them together.
struct ByteSpan {
  const void* data;  ///< the first byte
  uint64_t size;  ///< the number of bytes
};

namespace detail {

// A file descriptor that closes itself; destructors never throw.
class Fd {
 public:
  explicit Fd(int fd = -1) : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (m_fd >= 0) ::close(m_fd);
  }
  int get() const { return m_fd; }
  void reset(int fd) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
  }
  // Close now and report the result (a delayed write error may surface here).
  int close() {
    int rc = ::close(m_fd);
    m_fd = -1;
    return rc;
  }

 private:
  int m_fd;
};

inline bool write_all(int fd, const void* buf, uint64_t n) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, uint64_t(1) << 30));
    const ssize_t put = ::write(fd, p, chunk);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    p += put;
    n -= static_cast<uint64_t>(put);
  }
  return true;
}

// Numbers the temporary files of this process (with the pid, a unique name per write).
inline std::atomic<unsigned>& temp_counter() {
  static std::atomic<unsigned> counter{0};
  return counter;
}

}  // namespace detail

/// Writes `parts` one after another as the file `path`, atomically (see the
/// top of this header). `where` starts every error message (e.g.
/// "safetensors file 'x': "); errors say what failed and that the previous
/// file at the path is unchanged.
inline void write_file_atomically(const std::string& path, const std::vector<ByteSpan>& parts,
                                  const std::string& where) {
  // 1. A temporary file no other writer can share.
  std::string tmp;
  detail::Fd fd;
  for (int attempt = 0;; ++attempt) {
    tmp = deepgen::detail::str(path, ".tmp.", ::getpid(), ".", detail::temp_counter()++);
    int raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (raw >= 0) {
      fd.reset(raw);
      break;
    }
    DEEPGEN_CHECK(errno == EEXIST && attempt < 100, where, "cannot create the temporary file '", tmp,
                  "': ", std::strerror(errno), "; check that the directory exists and is writable");
  }

  // 2. Write, flush to disk, rename. The guard removes the temporary on failure.
  struct RemoveUnlessCommitted {
    const std::string& name;
    bool committed = false;
    ~RemoveUnlessCommitted() {
      if (!committed) ::unlink(name.c_str());
    }
  } guard{tmp};
  auto fail = [&](const char* what) {
    const int err = errno;
    deepgen::detail::throw_error(
        __FILE__, __LINE__,
        deepgen::detail::str(where, what, " the temporary file '", tmp, "' failed: ", std::strerror(err),
                             "; the previous file at this path is unchanged (check free disk space "
                             "and permissions)"));
  };
  for (const ByteSpan& part : parts)
    if (!detail::write_all(fd.get(), part.data, part.size)) fail("writing");
  if (::fsync(fd.get()) != 0) fail("flushing (fsync)");
  if (fd.close() != 0) fail("closing");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    deepgen::detail::throw_error(
        __FILE__, __LINE__,
        deepgen::detail::str(where, "cannot rename the temporary file '", tmp, "' over it: ",
                             std::strerror(err),
                             "; the previous file at this path is unchanged (is the path a directory?)"));
  }
  guard.committed = true;

  // 3. Make the rename itself durable; best effort, the data is already safe.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  detail::Fd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) (void)::fsync(dfd.get());
}

/// `text` as the file `path`, atomically.
inline void write_text_atomically(const std::string& path, const std::string& text,
                                  const std::string& where) {
  write_file_atomically(path, {ByteSpan{text.data(), text.size()}}, where);
}

}  // namespace io
}  // namespace deepgen
