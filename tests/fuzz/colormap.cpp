// Fuzz target: data::load_colormap (colormap.txt). An accepted file has one
// colour per non-blank line, at least one.
#include <deepgen/data/pokemon.hpp>

#include <algorithm>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::MemFile file("colormap");
  const std::string& path = file.write(data, size);
  deepgen::Palette palette;
  if (!fuzz::accepted([&] { palette = deepgen::data::load_colormap(path); })) return 0;
  const auto lines = std::count(data, data + size, uint8_t('\n')) + 1;
  FUZZ_REQUIRE(palette.size() >= 1 && palette.size() <= lines, palette.size(), " colours from ", lines, " lines");
  // "R G B" needs at least 6 bytes per colour.
  FUZZ_REQUIRE(size_t(palette.size()) * 6 <= size + 1, palette.size(), " colours from ", size, " bytes");
  return 0;
}
