// Tests for io/read_file.hpp: the size bound that keeps a wrong path (a huge
// file, /dev/zero, a directory) from being read until memory runs out.
#include <deepgen/io/read_file.hpp>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace deepgen;
using Catch::Contains;

TEST_CASE("io::read_file_limited: whole files up to the bound, a clear error past it", "[io][errors]") {
  test::TempDir dir;
  const std::string path = dir.write("a.txt", std::string("ab\0cd", 5));
  CHECK(io::read_file_limited(path, 5, "text") == std::string("ab\0cd", 5));
  CHECK(io::read_file_limited(dir.write("e.txt", ""), 0, "text").empty());
  // A regular file is refused from its size, before it is read.
  REQUIRE_THROWS_WITH(io::read_file_limited(path, 4, "a colormap"),
                      Contains("'" + path + "' is 5 bytes, more than the 4 this reader accepts") &&
                          Contains("expected a colormap"));
  // An endless character device is read up to the bound, then refused.
  REQUIRE_THROWS_WITH(io::read_file_limited("/dev/zero", 1 << 20, "a log"),
                      Contains("'/dev/zero' is longer than the 1048576 bytes") && Contains("expected a log"));
  REQUIRE_THROWS_WITH(io::read_file_limited(dir.path.string(), 100, "a log"), Contains("is a directory"));
  REQUIRE_THROWS_WITH(io::read_file_limited((dir.path / "nope").string(), 100, "a log"),
                      Contains("cannot open") && Contains("No such file"));
}
