// io/read_file.hpp — reading a whole input file with a size bound.
//
// Every reader of outside data (datasets, vocabularies, corpora, logs,
// images) reads its file whole and then parses the bytes in memory. The bound
// is what keeps a wrong path harmless: a multi-gigabyte file, or an endless
// one such as /dev/zero or a pipe that never closes, is refused with a
// message naming it instead of being read until memory runs out. A regular
// file is refused from its size before any byte is read; anything else
// (a pipe, a character device) is read until one byte past the bound.
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "../error.hpp"

namespace deepgen::io {

/// The largest text file a reader accepts (datasets, corpora, logs): 256 MiB,
/// about 300 times the lecture's pixel_color.txt.
constexpr uint64_t MAX_TEXT_FILE_BYTES = uint64_t(256) << 20;

/// The whole file at `path`, at most `max_bytes` long. Throws deepgen::Error
/// naming the file when it cannot be opened or read, is a directory, or is
/// longer than `max_bytes`; `expected` (e.g. "a colormap: one line 'R G B'
/// per colour") ends each message, so it says what the file should have been.
inline std::string read_file_limited(const std::string& path, uint64_t max_bytes, const std::string& expected) {
  errno = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    const int e = errno;
    throw Error(deepgen::detail::str("cannot open '", path, "': ", std::strerror(e), "; expected ", expected));
  }
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  struct stat info {};
  if (::fstat(::fileno(f), &info) == 0) {
    if (S_ISDIR(info.st_mode))
      throw Error(deepgen::detail::str("cannot read '", path, "': it is a directory; expected ", expected));
    if (S_ISREG(info.st_mode) && uint64_t(info.st_size) > max_bytes)
      throw Error(deepgen::detail::str("'", path, "' is ", uint64_t(info.st_size), " bytes, more than the ",
                                       max_bytes, " this reader accepts; expected ", expected,
                                       " (is this the right file?)"));
  }
  std::string text;
  if (S_ISREG(info.st_mode) && info.st_size > 0) text.reserve(size_t(info.st_size));
  char buf[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (text.size() + n > max_bytes)  // not a regular file (or one that grows): stop at the bound
      throw Error(deepgen::detail::str("'", path, "' is longer than the ", max_bytes,
                                       " bytes this reader accepts (an endless stream such as /dev/zero?); "
                                       "expected ", expected));
    text.append(buf, n);
  }
  if (std::ferror(f)) {
    const int e = errno;
    throw Error(deepgen::detail::str("cannot read '", path, "': ", std::strerror(e ? e : EIO), "; expected ",
                                     expected));
  }
  return text;
}

}  // namespace deepgen::io
