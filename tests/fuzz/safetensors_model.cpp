// Fuzz target: a safetensors file through the model loaders, which check
// names, shapes, metadata and finite weights: models::load_pixelrnn (the
// lecture model, sizes from shapes, or a configuration in the metadata) and
// models::load_vae (sizes from shapes). An accepted file gives a model whose
// parameters are all finite and of the sizes the loader promises.
#include <deepgen/models/pixelrnn_sprites.hpp>
#include <deepgen/models/vae_sprites.hpp>

#include <cmath>

#include "fuzz_support.hpp"

namespace {
template <typename Model>
void require_finite(const Model& m, const char* which) {
  for (const auto& [name, p] : m.named_parameters())
    for (int64_t i = 0; i < p.value().numel(); ++i)
      FUZZ_REQUIRE(std::isfinite(p.value()[i]), which, " parameter '", name, "' is ", p.value()[i]);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::MemFile file("model");
  const std::string& path = file.write(data, size);
  constexpr int64_t PALETTE = 4;
  fuzz::accepted([&] {
    const auto model = deepgen::models::load_pixelrnn<float>(path, PALETTE);
    FUZZ_REQUIRE(model.config().palette_size == PALETTE, "palette ", model.config().palette_size);
    FUZZ_REQUIRE(model.parameter_count() * 4 <= int64_t(size), "a ", size, "-byte file gave ",
                 model.parameter_count(), " parameters");
    require_finite(model, "PixelRNN");
  });
  fuzz::accepted([&] {
    const auto model = deepgen::models::load_vae(path, 4, int(PALETTE));
    FUZZ_REQUIRE(model.pixels() == 4, "pixels ", model.pixels());
    FUZZ_REQUIRE(model.parameter_count() * 4 <= int64_t(size), "a ", size, "-byte file gave ",
                 model.parameter_count(), " parameters");
    require_finite(model, "VAE");
  });
  return 0;
}
