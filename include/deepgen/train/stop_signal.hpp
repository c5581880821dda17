// train/stop_signal.hpp — SIGINT and SIGTERM as a request to stop, not a kill.
//
// While a StopSignalGuard lives, Ctrl-C or `kill` only sets a flag; the
// training loop finishes the step under way, saves a checkpoint and returns,
// so an interrupted run loses nothing. The guard restores the handlers that
// were there before, so a second guard, or none, behaves as usual.
#pragma once

#include <signal.h>

#include <atomic>
#include <cstring>

namespace deepgen::train {

namespace detail {
/// The signal that asked to stop, or 0. A lock-free atomic is safe to write in a handler.
inline std::atomic<int>& stop_requested() {
  static std::atomic<int> signal_number{0};
  return signal_number;
}
inline void request_stop(int signal_number) { stop_requested().store(signal_number); }
}  // namespace detail

/// Turns SIGINT and SIGTERM into a stop request for its lifetime.
class StopSignalGuard {
 public:
  StopSignalGuard() {
    detail::stop_requested().store(0);
    struct sigaction action;
    std::memset(&action, 0, sizeof action);
    action.sa_handler = detail::request_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &m_old_int);
    sigaction(SIGTERM, &action, &m_old_term);
  }
  ~StopSignalGuard() {
    sigaction(SIGINT, &m_old_int, nullptr);
    sigaction(SIGTERM, &m_old_term, nullptr);
  }
  StopSignalGuard(const StopSignalGuard&) = delete;
  StopSignalGuard& operator=(const StopSignalGuard&) = delete;

  /// The signal received since construction (SIGINT or SIGTERM), or 0.
  int received() const { return detail::stop_requested().load(); }

 private:
  struct sigaction m_old_int, m_old_term;
};

}  // namespace deepgen::train
