// eval/yardstick.hpp — one set of figures for samples of any generative
// model of palette images (PixelRNN, VAE, GAN), scored against the data:
//
//   fd             Fréchet distance between the reference images (TEST) and
//                  the samples in the feature space of eval/features.hpp
//   precision      share of samples inside TEST's k-NN feature manifold (k = 3)
//   recall         share of TEST inside the samples' manifold (eval/manifold.hpp)
//   judge_nll      the samples' NLL in nats per pixel under a PixelRNN trained
//                  on TRAIN: a sample no sprite model finds plausible scores high
//   nearest_train  median Hamming distance (pixels whose palette index differs)
//                  from a sample to its nearest TRAIN image, and `copies`, the
//                  share of samples within 5 % of the pixels of one
//   background, components, colours: data/sprite_stats.hpp (share of pixels
//                  in TRAIN's background colour; medians per image)
//
// TRAIN here is every image outside TEST (the training and validation rows of
// docs/data.md), since every model saw at least the training rows.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../data/pokemon.hpp"
#include "../data/sprite_stats.hpp"
#include "../models/pixelrnn_sprites.hpp"
#include "features.hpp"
#include "frechet.hpp"
#include "manifold.hpp"

namespace deepgen::eval {

/// The k of the k-NN manifolds (Kynkäänniemi et al. use 3).
inline constexpr int MANIFOLD_K = 3;
/// A sample within this share of the pixels of a TRAIN image counts as a copy.
inline constexpr double COPY_SHARE = 0.05;

/// For each image of `samples`, the Hamming distance (differing pixels) to its nearest image of `train`.
inline std::vector<int64_t> nearest_distances(const ImageSet& samples, const ImageSet& train) {
  DEEPGEN_CHECK(samples.pixels_per_image() == train.pixels_per_image(), "nearest_distances: samples of ",
                samples.pixels_per_image(), " pixels against TRAIN images of ", train.pixels_per_image());
  DEEPGEN_CHECK(train.count > 0, "nearest_distances: TRAIN is empty");
  const int64_t P = samples.pixels_per_image();
  std::vector<int64_t> out;
  for (int64_t i = 0; i < samples.count; ++i) {
    const int32_t* s = samples.image(i);
    int64_t best = P;
    for (int64_t j = 0; j < train.count && best > 0; ++j) {
      const int32_t* t = train.image(j);
      int64_t d = 0;
      for (int64_t p = 0; p < P && d < best; ++p) d += s[p] != t[p];
      best = std::min(best, d);
    }
    out.push_back(best);
  }
  return out;
}

/// Every figure of the yardstick for one set of samples.
struct Scores {
  int64_t images = 0;        ///< samples scored
  double fd = 0;             ///< Fréchet distance to the reference, in feature space
  double precision = 0;      ///< k-NN precision
  double recall = 0;         ///< k-NN recall
  double judge_nll = std::numeric_limits<double>::quiet_NaN();  ///< nats per pixel; NaN without a judge
  double nearest_train = 0;  ///< median Hamming distance to the nearest TRAIN image, pixels
  double copies = 0;         ///< share of samples within COPY_SHARE of a TRAIN image
  data::SpriteStats stats;   ///< background share, components, colours

  /// The figures as one line of name=value pairs (judge_nll=none without a judge).
  std::string line() const {
    char judge[32];
    if (std::isnan(judge_nll))
      std::snprintf(judge, sizeof judge, "none");
    else
      std::snprintf(judge, sizeof judge, "%.4f", judge_nll);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "images=%lld fd=%.4f precision=%.4f recall=%.4f judge_nll=%s nearest_train=%.1f copies=%.4f "
                  "background=%.4f components=%.1f colours=%.1f",
                  (long long)images, fd, precision, recall, judge, nearest_train, copies, stats.background_share,
                  stats.components_median, stats.colours_median);
    return buf;
  }
};

/// The first `n` images of `set` (from = 0) or the images from `from` on (n < 0: to the end).
inline ImageSet image_range(const ImageSet& set, int64_t from, int64_t n = -1) {
  if (n < 0) n = set.count - from;
  DEEPGEN_CHECK(from >= 0 && n >= 0 && from + n <= set.count, "image_range: images ", from, " … ", from + n - 1,
                " of a set of ", set.count);
  ImageSet out;
  out.side = set.side;
  out.count = n;
  out.pixels.assign(set.pixels.begin() + from * set.pixels_per_image(),
                    set.pixels.begin() + (from + n) * set.pixels_per_image());
  return out;
}

/// `a` followed by `b` (same image size).
inline ImageSet concatenate(const ImageSet& a, const ImageSet& b) {
  DEEPGEN_CHECK(a.side == b.side, "concatenate: images of side ", a.side, " and ", b.side);
  ImageSet out = a;
  out.count += b.count;
  out.pixels.insert(out.pixels.end(), b.pixels.begin(), b.pixels.end());
  return out;
}

/// The data and the models every score needs, loaded once.
class Yardstick {
 public:
  /// `reference`: the images samples are compared with in feature space
  /// (TEST); `train`: the images a copy would come from; `judge`: a PixelRNN
  /// (may be null: judge_nll is then NaN).
  Yardstick(ImageSet reference, ImageSet train, Palette palette, FeatureEncoder encoder,
            std::shared_ptr<const models::PixelRNN<float>> judge = nullptr)
      : m_reference(std::move(reference)), m_train(std::move(train)), m_palette(std::move(palette)),
        m_encoder(std::move(encoder)), m_judge(std::move(judge)) {
    DEEPGEN_CHECK(m_reference.count > MANIFOLD_K, "Yardstick: the reference set needs more than ", MANIFOLD_K,
                  " images, has ", m_reference.count);
    m_reference_features = m_encoder.embed(m_reference, m_palette);
    m_reference_moments = moments(m_reference_features);
    m_background = data::background_colour(m_train);
  }

  /// The reference images.
  const ImageSet& reference() const { return m_reference; }
  /// The TRAIN images.
  const ImageSet& train() const { return m_train; }
  /// The palette.
  const Palette& palette() const { return m_palette; }
  /// The feature model.
  const FeatureEncoder& encoder() const { return m_encoder; }

  /// Every figure for `samples` (more than MANIFOLD_K images of the reference's size).
  Scores score(const ImageSet& samples) const {
    DEEPGEN_CHECK(samples.pixels_per_image() == m_reference.pixels_per_image(), "the samples have ",
                  samples.pixels_per_image(), " pixels per image but the data has ", m_reference.pixels_per_image(),
                  "; pass images of the data's size (", m_reference.side, "×", m_reference.side, ")");
    DEEPGEN_CHECK(samples.count > MANIFOLD_K, "the yardstick needs more than ", MANIFOLD_K,
                  " samples (k-NN radii), got ", samples.count);
    for (int32_t c : samples.pixels)
      DEEPGEN_CHECK(c >= 0 && c < m_palette.size(), "the samples hold colour ", c, " but the palette has ",
                    m_palette.size(), " colours (0 … ", m_palette.size() - 1, ")");
    Scores s;
    s.images = samples.count;
    const Tensor<float> f = m_encoder.embed(samples, m_palette);
    s.fd = frechet_distance(m_reference_moments, moments(f));
    const PrecisionRecall pr = precision_recall(m_reference_features, f, MANIFOLD_K);
    s.precision = pr.precision;
    s.recall = pr.recall;
    if (m_judge) s.judge_nll = m_judge->nll(samples.pixels.data(), samples.count, samples.pixels_per_image());
    std::vector<int64_t> d = nearest_distances(samples, m_train);
    const double limit = COPY_SHARE * double(samples.pixels_per_image());
    s.copies = double(std::count_if(d.begin(), d.end(), [&](int64_t x) { return double(x) <= limit; })) /
               double(d.size());
    s.nearest_train = data::detail::median_of(d);
    s.stats = data::sprite_stats(samples, m_background);
    return s;
  }

 private:
  ImageSet m_reference, m_train;
  Palette m_palette;
  FeatureEncoder m_encoder;
  std::shared_ptr<const models::PixelRNN<float>> m_judge;
  Tensor<float> m_reference_features;
  Moments m_reference_moments;
  int32_t m_background = 0;
};

namespace detail {
/// The PixelRNN judge in `path` ("" : none).
inline std::shared_ptr<const models::PixelRNN<float>> load_judge(const std::string& path, int64_t palette_size) {
  if (path.empty()) return nullptr;
  return std::make_shared<const models::PixelRNN<float>>(models::load_pixelrnn<float>(path, palette_size));
}
}  // namespace detail

/// The yardstick of the data in folder `data_dir` (reference TEST, TRAIN every
/// other image), the feature model in `features`, and the PixelRNN in `judge`
/// ("" : none).
inline Yardstick load_yardstick(const data::PokemonSplit& s, const std::string& features, const std::string& judge) {
  return Yardstick(s.test, concatenate(s.train, s.valid), s.data.palette,
                   load_feature_model(features, s.test.pixels_per_image(), s.data.palette.size()),
                   detail::load_judge(judge, s.data.palette.size()));
}

/// The reference row: TEST's first half scored against a yardstick of its
/// second half, the figures real images get.
inline Scores reference_scores(const data::PokemonSplit& s, const std::string& features, const std::string& judge) {
  const int64_t half = s.test.count / 2;
  const Yardstick y(image_range(s.test, half), concatenate(s.train, s.valid), s.data.palette,
                    load_feature_model(features, s.test.pixels_per_image(), s.data.palette.size()),
                    detail::load_judge(judge, s.data.palette.size()));
  return y.score(image_range(s.test, 0, half));
}

/// `set` with each pixel replaced, with probability `share`, by a uniformly
/// random colour of a palette of `palette_size`: the speckle probe of what a
/// feature space sees (`evaluate_samples speckle`, docs/gan.md).
inline ImageSet speckled(const ImageSet& set, int64_t palette_size, double share, uint64_t seed) {
  ImageSet out = set;
  Philox rng(seed);
  for (auto& v : out.pixels)
    if (rng.uniform<double>() < share) v = int32_t(rng.uniform_int(palette_size));
  return out;
}

}  // namespace deepgen::eval
