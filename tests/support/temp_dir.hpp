// support/temp_dir.hpp — a fresh directory under the system temp dir for a
// test's files, removed with everything in it when the test ends.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace deepgen::test {

struct TempDir {
  std::filesystem::path path;

  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path = std::filesystem::temp_directory_path() /
           ("deepgen_test_" + std::to_string(stamp) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// Writes `content` byte for byte to `name` and returns the full path.
  std::string write(const std::string& name, const std::string& content) const {
    const std::filesystem::path p = path / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
};

}  // namespace deepgen::test
