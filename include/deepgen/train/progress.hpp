// train/progress.hpp — the one progress line of a training run, on stderr.
//
// On a terminal the line rewrites itself after every step ("\r"); piped into
// a file it would then be one enormous line, so there it prints a plain line
// at most every `plain_every_seconds` and at the end of each epoch.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace deepgen::train {

/// Seconds as m:ss (h:mm:ss past an hour), for an ETA.
inline std::string format_duration(double seconds) {
  const long s = seconds > 0 ? static_cast<long>(seconds + 0.5) : 0;
  char buf[40];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

/// What one progress line shows.
struct ProgressState {
  long long epoch = 0;        ///< 1-based, as people count
  long long batch = 0;        ///< batches done in this epoch
  long long batches = 0;      ///< batches in this epoch
  double loss = 0;            ///< of the last step
  std::string detail;         ///< what the model adds, e.g. "recon 140.2  kl 9.1"
  double items_per_second = 0;  ///< speed over this epoch's steps so far
  const char* unit = "items";   ///< what items_per_second counts: images, px, sentences
  double eta_seconds = 0;     ///< to the end of the epoch
};

/// Prints ProgressState lines to `out` (stderr by default).
class ProgressLine {
 public:
  /// `plain_every_seconds`: how often a line is printed when `out` is not a terminal.
  explicit ProgressLine(std::FILE* out = stderr, double plain_every_seconds = 30)
      : m_out(out), m_tty(isatty(fileno(out)) != 0), m_every(plain_every_seconds) {}

  /// Show `s`; `last_of_epoch` forces a line (and ends the terminal's line).
  void update(const ProgressState& s, bool last_of_epoch) {
    const auto now = std::chrono::steady_clock::now();
    const bool due = std::chrono::duration<double>(now - m_last).count() >= m_every;
    if (!m_tty && !due && !last_of_epoch) return;
    m_last = now;
    std::fprintf(m_out, "%sepoch %lld  step %lld/%lld  loss %.4f%s%s  %.0f %s/s  ETA %s%s", m_tty ? "\r" : "",
                 s.epoch, s.batch, s.batches, s.loss, s.detail.empty() ? "" : "  ", s.detail.c_str(),
                 s.items_per_second, s.unit, format_duration(s.eta_seconds).c_str(),
                 m_tty && !last_of_epoch ? "   " : "\n");
    std::fflush(m_out);
    m_open = m_tty && !last_of_epoch;
  }

  /// End a half-written terminal line before something else is printed.
  void break_line() {
    if (m_open) std::fputc('\n', m_out);
    m_open = false;
  }

  /// Whether lines rewrite themselves (the output is a terminal).
  bool terminal() const { return m_tty; }

 private:
  std::FILE* m_out;
  bool m_tty;
  double m_every;
  bool m_open = false;
  std::chrono::steady_clock::time_point m_last{};
};

}  // namespace deepgen::train
