// Fuzz target: data::load_pixel_colors (pixel_color.txt) for a palette of
// 200 colours. An accepted file holds at least one square image, every line
// the same side × side indices, each in 0..199.
#include <deepgen/data/pokemon.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::MemFile file("pixel_color");
  const std::string& path = file.write(data, size);
  constexpr int PALETTE = 200;
  deepgen::ImageSet set;
  if (!fuzz::accepted([&] { set = deepgen::data::load_pixel_colors(path, PALETTE); })) return 0;
  FUZZ_REQUIRE(set.count >= 1 && set.side >= 1, "count ", set.count, " side ", set.side);
  FUZZ_REQUIRE(int64_t(set.pixels.size()) == set.count * set.side * set.side, "pixels ", set.pixels.size());
  // Every index takes at least one digit and one separator (or the end).
  FUZZ_REQUIRE(set.pixels.size() <= size / 2 + 1, set.pixels.size(), " indices from ", size, " bytes");
  for (int32_t v : set.pixels) FUZZ_REQUIRE(v >= 0 && v < PALETTE, "index ", v);
  // Reserved memory stays proportional to the file (the reservation is at
  // most size / 2 + 1 indices; growth past it at most doubles).
  FUZZ_REQUIRE(set.pixels.capacity() <= size + 2, "capacity ", set.pixels.capacity(), " for ", size, " bytes");
  return 0;
}
