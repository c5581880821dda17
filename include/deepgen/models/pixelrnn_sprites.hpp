// models/pixelrnn_sprites.hpp — a PixelRNN of palette images as the picture
// commands use it: loaded from a checkpoint whose metadata (or, for the
// lecture model, whose shapes) give its configuration, and
// completions of images from their top rows laid out as cells of a grid.
//
// A completion keeps whole rows: the model reads pixels in raster order, so
// "the top half" is simply the first half of the sequence, and the model
// continues it pixel by pixel (PixelRNN::complete).
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "../data/pokemon.hpp"
#include "../io/figures.hpp"
#include "../io/safetensors.hpp"
#include "pixelrnn.hpp"

namespace deepgen::models {

/// The PixelRNN in checkpoint `path` for a palette of `palette_size` colours.
/// Its configuration comes from the file's metadata (pixelrnn_metadata);
/// a file without it is the lecture model, its hidden size H read from the
/// shape of lstm.weight_hh_l0 (4H, H) — PyTorch's files are such. The
/// file's metadata goes to `meta` when given. Throws deepgen::Error on a
/// missing file, a file of another model, another palette size, or metadata
/// that disagrees with the tensors' shapes.
template <typename T = float>
PixelRNN<T> load_pixelrnn(const std::string& path, int64_t palette_size,
                          std::map<std::string, std::string>* meta = nullptr) {
  std::map<std::string, std::string> file_meta;
  const auto tensors = io::load_safetensors<T>(path, &file_meta);
  const auto hh = tensors.find("lstm.weight_hh_l0");
  const auto ih = tensors.find("lstm.weight_ih_l0");
  DEEPGEN_CHECK(hh != tensors.end() && hh->second.rank() == 2 && ih != tensors.end() && ih->second.rank() == 2, path,
                ": no 'lstm.weight_hh_l0' and 'lstm.weight_ih_l0' of rank 2; is this a PixelRNN checkpoint?");
  // (4H, H) and (4H, ·) before a model of hidden size H is built: the sizes
  // then come from weights the file holds, so a header such as
  // lstm.weight_hh_l0 (0, 16000000) cannot make the model allocate 4H².
  DEEPGEN_CHECK(hh->second.dim(1) >= 1 && hh->second.dim(0) == 4 * hh->second.dim(1) &&
                    ih->second.dim(0) == hh->second.dim(0),
                path, ": lstm.weight_hh_l0 has shape ", hh->second.shape(), " and lstm.weight_ih_l0 ",
                ih->second.shape(), "; an LSTM of H cells has (4H, H) and (4H, inputs): the file is damaged");
  PixelRNNConfig config = pixelrnn_config_from(file_meta, path);
  if (file_meta.count("pixelrnn.context") == 0) {  // the lecture model: load_parameters checks the shapes
    config.palette_size = palette_size;
    config.hidden_size = hh->second.dim(1);
  } else {
    DEEPGEN_CHECK(config.palette_size == palette_size, path, ": the model was trained on a palette of ",
                  config.palette_size, " colours but the data has ", palette_size,
                  "; use the colormap.txt it was trained with");
    DEEPGEN_CHECK(hh->second.dim(1) == config.hidden_size && ih->second.dim(1) == config.input_size(), path,
                  ": metadata says a '", context_name(config.context), "' PixelRNN of hidden size ", config.hidden_size,
                  " (lstm.weight_ih_l0 (", 4 * config.hidden_size, ", ", config.input_size(),
                  ")), but the file's lstm.weight_hh_l0 is ", hh->second.shape(), " and lstm.weight_ih_l0 is ",
                  ih->second.shape(), "; the file was edited or damaged");
  }
  Philox unused(0);  // every weight is overwritten by the file's
  PixelRNN<T> model(config, unused);
  model.load_parameters(tensors, path);
  if (meta) *meta = std::move(file_meta);
  return model;
}

/// The pixels a completion keeps of a side × side image: the top
/// round(fraction · side) whole rows. Throws unless 0 < fraction < 1 and
/// the rounding keeps at least one row and hides at least one: a fraction
/// that rounds to no rows (or to all) would draw a picture of something
/// other than a completion, so it is refused like 0 (or 1).
inline int64_t kept_pixels(double fraction, int64_t side) {
  DEEPGEN_CHECK(fraction > 0 && fraction < 1, "--keep ", fraction,
                " must be a fraction between 0 and 1, e.g. 0.5 (top half) or 0.25 (top quarter)");
  DEEPGEN_CHECK(side >= 2, "--keep: images of ", side, " × ", side, " pixels have no rows to complete");
  const int64_t rows = int64_t(std::lround(fraction * double(side)));
  DEEPGEN_CHECK(rows >= 1 && rows < side, "--keep ", fraction, " keeps ", rows, " of the ", side,
                " rows of a ", side, " × ", side, " image; give a fraction that keeps between 1 and ", side - 1,
                " rows (from ", 0.5 / double(side), " to below ", 1 - 0.5 / double(side), ")");
  return rows * side;
}

/// Images 0 … count−1 of `set`, each repeated `samples` times: (count·samples, P),
/// row i·samples + k is image i, so one PixelRNN::complete call draws every
/// completion of every image.
inline Tensor<int32_t> repeat_images(const ImageSet& set, int64_t count, int64_t samples) {
  DEEPGEN_CHECK(count >= 1 && count <= set.count, "repeat_images: count ", count, " must be between 1 and ",
                set.count, " (the images in the set)");
  DEEPGEN_CHECK(samples >= 1, "repeat_images: samples ", samples, " must be at least 1");
  std::vector<int64_t> items;
  for (int64_t i = 0; i < count; ++i) items.insert(items.end(), size_t(samples), i);
  return set.batch(items);
}

/// The cells of a completion grid, samples + 2 per image of `set` that
/// `completed` (count·samples, P; as from repeat_images) completes: what the
/// model saw (the first `keep` pixels, the rest in grey), each completion,
/// and the original. Lay them out with io::grid(cells, samples + 2).
inline std::vector<io::RgbImage> completion_cells(const ImageSet& set, const Tensor<int32_t>& completed,
                                                  int64_t keep, int64_t samples, const Palette& palette,
                                                  int scale) {
  const int64_t P = set.pixels_per_image();
  DEEPGEN_CHECK(samples >= 1, "completion_cells: samples ", samples, " must be at least 1");
  DEEPGEN_CHECK(completed.rank() == 2 && completed.dim(1) == P && completed.dim(0) % samples == 0 &&
                    completed.dim(0) / samples <= set.count,
                "completion_cells: completed is ", completed.shape(), " but wanted (count · ", samples, ", ", P,
                ") with count at most ", set.count, "; pass what PixelRNN::complete returned for repeat_images");
  DEEPGEN_CHECK(keep >= 0 && keep <= P, "completion_cells: keep ", keep, " must be between 0 and ", P);
  const int side = int(set.side);
  std::vector<io::RgbImage> cells;
  std::vector<int32_t> visible(size_t(P), 0);
  for (int64_t i = 0; i < completed.dim(0) / samples; ++i) {
    for (int64_t p = 0; p < P; ++p) visible[size_t(p)] = p < keep ? set.image(i)[p] : -1;
    cells.push_back(io::render_palette_image(visible.data(), side, palette, scale, io::Hidden::grey));
    for (int64_t k = 0; k < samples; ++k)
      cells.push_back(io::render_palette_image(completed.data() + (i * samples + k) * P, side, palette, scale));
    cells.push_back(io::render_image(set, i, palette, scale));
  }
  return cells;
}

}  // namespace deepgen::models
