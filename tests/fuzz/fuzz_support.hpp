// tests/fuzz/fuzz_support.hpp — what every fuzz target shares.
//
// A target feeds one input to one parser and checks the parser's promise:
// the input is accepted with values inside the documented limits, or refused
// with deepgen::Error. Anything else is a bug and aborts, so libFuzzer (or the
// replay in the ordinary test suite) reports it with the input: another
// exception type (std::bad_alloc from an unchecked size, std::out_of_range
// from map::at, std::invalid_argument from stoll), an "internal error"
// (a DEEPGEN_ASSERT), a violated limit, and of course any crash or sanitizer
// report.
#pragma once

#include <deepgen/error.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace fuzz {

/// Stops the run: `what` is a bug in deepgen, not a refusal.
[[noreturn]] inline void bug(const std::string& what) {
  std::fprintf(stderr, "FUZZ BUG: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

/// A promise of the parser that an accepted input must keep.
#define FUZZ_REQUIRE(cond, ...)                                                             \
  do {                                                                                      \
    if (!(cond)) ::fuzz::bug(::deepgen::detail::str(__FILE__, ":", __LINE__, ": '" #cond "' failed: ", \
                                                    __VA_ARGS__));                          \
  } while (0)

/// Runs `f`; deepgen::Error is a refusal (fine), anything else a bug.
/// Returns whether `f` completed (the input was accepted).
template <typename F>
bool accepted(F&& f) {
  try {
    f();
    return true;
  } catch (const deepgen::Error& e) {
    // DEEPGEN_ASSERT's message starts so; a refusal's starts with the file
    // or the function, never with text from the input (libFuzzer learns the
    // strings a target compares with and writes them into inputs).
    if (std::strncmp(e.what(), "internal error: assertion '", 27) == 0) bug(std::string("DEEPGEN_ASSERT: ") + e.what());
    return false;
  } catch (const std::exception& e) {
    bug(std::string("an exception other than deepgen::Error: ") + typeid(e).name() + ": " + e.what());
  } catch (...) {
    bug("an exception of unknown type");
  }
}

/// An in-memory file (memfd) whose contents each input replaces: the file
/// readers open it by path (/proc/self/fd/N) as they would a real file,
/// without a disk write per input.
class MemFile {
 public:
  explicit MemFile(const char* name) : m_fd(::memfd_create(name, 0)) {
    if (m_fd < 0) bug(std::string("memfd_create failed: ") + std::strerror(errno));
    m_path = "/proc/self/fd/" + std::to_string(m_fd);
  }
  ~MemFile() { ::close(m_fd); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  /// Replaces the contents with `data` and returns the path to open.
  const std::string& write(const uint8_t* data, size_t size) {
    if (::ftruncate(m_fd, 0) != 0) bug("ftruncate failed");
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pwrite(m_fd, data + done, size - done, off_t(done));
      if (n <= 0) bug("pwrite failed");
      done += size_t(n);
    }
    return m_path;
  }

 private:
  int m_fd;
  std::string m_path;
};

}  // namespace fuzz
