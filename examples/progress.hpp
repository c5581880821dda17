// progress.hpp — small pieces the example programs share for their
// progress lines and logs.
#pragma once

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

/// The cells of one line of a CSV log (or any `sep`-separated line).
inline std::vector<std::string> split(const std::string& line, char sep = ',') {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, sep);) out.push_back(cell);
  return out;
}

/// Seconds as m:ss, for the ETA of a progress line.
inline std::string fmt_duration(double seconds) {
  const int s = static_cast<int>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
  return buf;
}
