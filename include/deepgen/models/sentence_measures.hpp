// models/sentence_measures.hpp — how much of a sentence its code carries:
// reconstruction scores (token accuracy, corpus BLEU-4) of sentences decoded
// from their posterior means, and two properties of the code itself, the
// mutual information between sentence and code (He et al. 2019's estimate)
// and the number of active units (Burda et al. 2016).
//
//   token accuracy = Σ_i #{t : hyp_i[t] = ref_i[t]} / Σ_i (|ref_i| + 1), each
//                    sentence followed by `<eos>` (so a reconstruction of the
//                    right words but the wrong length loses the `<eos>`)
//   BLEU-4         = BP · exp(¼ Σ_{n=1..4} log p_n), corpus level (Papineni et
//                    al. 2002): p_n = (m_n + 1) / (c_n + 1) with m_n the
//                    clipped n-gram matches and c_n the hypotheses' n-grams
//                    summed over all sentences (add-one smoothing, Lin & Och
//                    2004, so a corpus without a matching 4-gram is not 0);
//                    BP = min(1, exp(1 − r/c)), r and c the summed reference
//                    and hypothesis lengths. Scores in [0, 1], `<eos>` not counted.
//   MI             = E_x E_{z~q(z|x)} [log q(z|x) − log q(z)], q(z) the
//                    aggregate posterior (1/N) Σ_j q(z|x_j) over the N
//                    sentences scored; at most log N.
//   active units   = code dimensions d with Var_x(m_d(x)) > 0.01.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <vector>

#include "sentence_vae.hpp"

namespace deepgen::models {

/// Positions where hypothesis and reference agree, and the reference's
/// tokens, `<eos>` included on both sides.
struct TokenMatches {
  int64_t matched = 0;  ///< Σ #{t : hyp[t] = ref[t]}
  int64_t total = 0;    ///< Σ (|ref| + 1)
  /// matched / total (0 for no tokens).
  double accuracy() const { return total > 0 ? double(matched) / double(total) : 0.0; }
};

/// Token accuracy of `hyps` against `refs` (same count), at the same positions.
inline TokenMatches token_accuracy(const std::vector<data::TokenIds>& refs, const std::vector<data::TokenIds>& hyps) {
  DEEPGEN_CHECK(refs.size() == hyps.size(), "token_accuracy: ", refs.size(), " references but ", hyps.size(),
                " hypotheses; give one hypothesis per reference");
  TokenMatches m;
  for (size_t i = 0; i < refs.size(); ++i) {
    const data::TokenIds& r = refs[i];
    const data::TokenIds& h = hyps[i];
    for (size_t t = 0; t <= r.size(); ++t) {
      const int32_t rt = t < r.size() ? r[t] : data::Vocabulary::EOS;
      const int32_t ht = t < h.size() ? h[t] : (t == h.size() ? data::Vocabulary::EOS : -1);
      m.matched += rt == ht;
    }
    m.total += int64_t(r.size()) + 1;
  }
  return m;
}

/// Corpus BLEU-4 with add-one smoothing of every n-gram precision (see the
/// top of this header), in [0, 1].
inline double corpus_bleu(const std::vector<data::TokenIds>& refs, const std::vector<data::TokenIds>& hyps,
                          int max_n = 4) {
  DEEPGEN_CHECK(refs.size() == hyps.size(), "corpus_bleu: ", refs.size(), " references but ", hyps.size(),
                " hypotheses; give one hypothesis per reference");
  DEEPGEN_CHECK(max_n >= 1, "corpus_bleu: max_n = ", max_n, " must be >= 1");
  std::vector<double> matches(size_t(max_n), 0), counts(size_t(max_n), 0);
  double ref_len = 0, hyp_len = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    const data::TokenIds& r = refs[i];
    const data::TokenIds& h = hyps[i];
    ref_len += double(r.size());
    hyp_len += double(h.size());
    for (int n = 1; n <= max_n; ++n) {
      std::map<std::vector<int32_t>, int64_t> ref_grams;
      for (size_t t = 0; t + size_t(n) <= r.size(); ++t) ++ref_grams[{r.begin() + int64_t(t), r.begin() + int64_t(t) + n}];
      for (size_t t = 0; t + size_t(n) <= h.size(); ++t) {
        auto it = ref_grams.find({h.begin() + int64_t(t), h.begin() + int64_t(t) + n});
        if (it != ref_grams.end() && it->second > 0) {  // clipped: each reference n-gram matches once
          --it->second;
          matches[size_t(n - 1)] += 1;
        }
        counts[size_t(n - 1)] += 1;
      }
    }
  }
  if (hyp_len == 0) return 0.0;
  double log_p = 0;
  for (int n = 0; n < max_n; ++n) log_p += std::log((matches[size_t(n)] + 1) / (counts[size_t(n)] + 1));
  const double bp = hyp_len >= ref_len ? 1.0 : std::exp(1.0 - ref_len / hyp_len);
  return bp * std::exp(log_p / max_n);
}

/// The mutual information between sentence and code, He et al. 2019's
/// estimate over the N rows of `post` = [m | s] (N, 2D): for each sentence
/// `samples` draws z ~ q(z|x) (sentence i's draw j from Philox(seed, j·2³² +
/// i)), MI = mean of log q(z|x) − log((1/N) Σ_j q(z|x_j)). Nats; ≤ log N.
template <typename T>
double mutual_information(const Tensor<T>& post, int64_t samples = 1, uint64_t seed = 0) {
  DEEPGEN_CHECK(post.rank() == 2 && post.dim(0) >= 1 && post.dim(1) >= 2 && post.dim(1) % 2 == 0,
                "mutual_information: give [m | s] (N, 2D) but got ", post.shape());
  DEEPGEN_CHECK(samples >= 1, "mutual_information: samples = ", samples, " must be >= 1");
  const int64_t N = post.dim(0), D = post.dim(1) / 2;
  const double half_log_2pi = 0.5 * std::log(2 * M_PI);
  auto m = [&](int64_t i, int64_t d) { return double(post[i * 2 * D + d]); };
  auto s = [&](int64_t i, int64_t d) { return double(post[i * 2 * D + D + d]); };
  // log N(z; m_j, exp s_j), summed over d.
  auto log_q = [&](const std::vector<double>& z, int64_t j) {
    double l = 0;
    for (int64_t d = 0; d < D; ++d) {
      const double dev = z[size_t(d)] - m(j, d);
      l -= 0.5 * dev * dev * std::exp(-s(j, d)) + 0.5 * s(j, d) + half_log_2pi;
    }
    return l;
  };
  double total = 0;
  std::vector<double> z(static_cast<size_t>(D)), logs(static_cast<size_t>(N));
  for (int64_t k = 0; k < samples; ++k)
    for (int64_t i = 0; i < N; ++i) {
      Philox rng(seed, (uint64_t(k) << 32) + uint64_t(i));
      for (int64_t d = 0; d < D; ++d) z[size_t(d)] = m(i, d) + std::exp(0.5 * s(i, d)) * rng.normal<double>();
      for (int64_t j = 0; j < N; ++j) logs[size_t(j)] = log_q(z, j);
      const double mx = *std::max_element(logs.begin(), logs.end());
      double sum = 0;
      for (double l : logs) sum += std::exp(l - mx);
      total += logs[size_t(i)] - (mx + std::log(sum) - std::log(double(N)));
    }
  return total / double(N * samples);
}

/// The variance across the N rows of each of the first D columns of `post`
/// ([m | s], (N, 2D)): how much each dimension's posterior mean moves.
template <typename T>
std::vector<double> mean_variances(const Tensor<T>& post) {
  DEEPGEN_CHECK(post.rank() == 2 && post.dim(0) >= 1 && post.dim(1) % 2 == 0, "mean_variances: give [m | s] (N, 2D) "
                "but got ", post.shape());
  const int64_t N = post.dim(0), D = post.dim(1) / 2;
  std::vector<double> out(static_cast<size_t>(D));
  for (int64_t d = 0; d < D; ++d) {
    double mean = 0, sq = 0;
    for (int64_t i = 0; i < N; ++i) mean += double(post[i * 2 * D + d]);
    mean /= double(N);
    for (int64_t i = 0; i < N; ++i) sq += (double(post[i * 2 * D + d]) - mean) * (double(post[i * 2 * D + d]) - mean);
    out[size_t(d)] = sq / double(N);
  }
  return out;
}

/// Active units: the dimensions whose posterior mean has variance above `threshold` across the rows of `post`.
template <typename T>
int64_t active_units(const Tensor<T>& post, double threshold = 0.01) {
  const std::vector<double> v = mean_variances(post);
  return int64_t(std::count_if(v.begin(), v.end(), [&](double x) { return x > threshold; }));
}

/// What the code of a VAE carries, measured on a set of sentences.
struct CodeReport {
  TokenMatches greedy;                 ///< token accuracy of greedy reconstructions from the posterior mean
  TokenMatches beam;                   ///< token accuracy of beam-search reconstructions from the posterior mean
  double bleu_greedy = 0;              ///< corpus BLEU-4 of the greedy reconstructions
  double bleu_beam = 0;                ///< corpus BLEU-4 of the beam-search reconstructions
  double mi = 0;                       ///< mutual_information, nats
  int64_t active = 0;                  ///< active_units
};

/// Decodes every sentence from its posterior mean, greedily and by beam
/// search of width `beam`, and scores the reconstructions against the
/// sentences (ids as the model reads them, rare words as `<unk>`, so `<unk>`
/// may be written); MI with `mi_samples` draws per sentence.
template <typename T>
CodeReport measure_code(const SentenceVAE<T>& model, const std::vector<data::TokenIds>& sentences, int64_t beam,
                        int64_t max_length, int64_t mi_samples = 1, uint64_t seed = 0) {
  DEEPGEN_CHECK(model.variational(), "measure_code: a language model has no code to measure");
  const Tensor<T> post = model.posterior(sentences);
  const int64_t N = post.dim(0), D = model.latent();
  Tensor<T> means(Shape{N, D});
  for (int64_t i = 0; i < N; ++i) std::copy_n(post.data() + i * 2 * D, D, means.data() + i * D);
  CodeReport r;
  const auto greedy = model.generate(means, SamplingOptions{0.0, 0}, max_length);
  const auto beamed = model.beam_search_rows(means, beam, max_length);
  r.greedy = token_accuracy(sentences, greedy);
  r.beam = token_accuracy(sentences, beamed);
  r.bleu_greedy = corpus_bleu(sentences, greedy);
  r.bleu_beam = corpus_bleu(sentences, beamed);
  r.mi = mutual_information(post, mi_samples, seed);
  r.active = active_units(post);
  return r;
}

}  // namespace deepgen::models
