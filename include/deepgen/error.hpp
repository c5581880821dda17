// error.hpp — the library's exceptions and the checks that raise them.
//
// Bad input from a user (a wrong shape, a malformed file, an out-of-range
// index) throws deepgen::Error with what went wrong, where, and how to fix it.
// Library code never calls exit() or abort(): a library must let the caller
// decide. DEEPGEN_ASSERT guards internal invariants only; it stays on in
// release builds because the cost is a branch and the payoff is a message
// instead of silent memory corruption.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace deepgen {

/// Any error the library reports: bad arguments, bad files, numerical failure.
class Error : public std::runtime_error {
 public:
  /// An error with the message `what`.
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// An error from the CUDA runtime, cuBLAS or cuRAND (see cuda/check.hpp).
class CudaError : public Error {
 public:
  /// A CUDA error with the message `what`.
  explicit CudaError(const std::string& what) : Error(what) {}
};

namespace detail {

// Concatenate anything streamable into one string: str("shape ", a, " vs ", b).
template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

[[noreturn]] inline void throw_error(const char* file, int line, const std::string& msg) {
  throw Error(str(msg, " [", file, ":", line, "]"));
}

}  // namespace detail
}  // namespace deepgen

/// Throw deepgen::Error with a message built from the remaining arguments
/// unless `cond` holds. Use for user-facing argument validation.
#define DEEPGEN_CHECK(cond, ...)                                                \
  do {                                                                          \
    if (!(cond)) ::deepgen::detail::throw_error(__FILE__, __LINE__,             \
                                                ::deepgen::detail::str(__VA_ARGS__)); \
  } while (0)

/// Internal invariant: a failure here is a bug in deepgen, not in the caller.
#define DEEPGEN_ASSERT(cond)                                                    \
  do {                                                                          \
    if (!(cond)) ::deepgen::detail::throw_error(__FILE__, __LINE__,             \
        "internal error: assertion '" #cond "' failed; please report this bug"); \
  } while (0)
