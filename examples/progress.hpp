// progress.hpp — small pieces the training programs share for their
// progress lines.
#pragma once

#include <cstdio>
#include <string>

/// Seconds as m:ss, for the ETA of a progress line.
inline std::string fmt_duration(double seconds) {
  const int s = static_cast<int>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
  return buf;
}
