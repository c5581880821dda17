// The sentence VAE and its language-model case: finite-difference gradients
// of the masked sequence loss, padding that changes nothing, configuration
// from parameter shapes, decoding (greedy, sampled, beam), evaluation that
// does not depend on the batch size, training that learns, and bad input.
#include <deepgen/io/safetensors.hpp>
#include <deepgen/models/sentence_vae.hpp>

#include "support/gradcheck.hpp"

using namespace deepgen;
using models::SentenceVAE;
using models::SentenceVAEConfig;
using data::SentenceBatch;
using data::TokenIds;
using data::Vocabulary;
using Catch::Contains;

namespace {

SentenceVAEConfig tiny(int64_t latent, bool feed_code = false, bool bow = false) {
  SentenceVAEConfig c;
  c.bag_of_words = bow;
  c.vocab_size = 11;
  c.embedding = 3;
  c.encoder_hidden = 5;
  c.decoder_hidden = 4;
  c.latent = latent;
  c.feed_code = feed_code;
  return c;
}

// Sentences of different lengths over words 4..10, so batches are padded.
std::vector<TokenIds> sentences() { return {{4, 5, 6, 7}, {8}, {9, 10, 4}, {5, 5}}; }

std::vector<int64_t> all_rows(size_t n) {
  std::vector<int64_t> r(n);
  for (size_t i = 0; i < n; ++i) r[i] = int64_t(i);
  return r;
}

template <typename T>
Tensor<T> noise(int64_t B, int64_t D, uint64_t seed = 9) {
  Tensor<T> e(Shape{B, D});
  Philox rng(seed);
  fill_normal(e, rng, T(0), T(1));
  return e;
}

template <typename T>
Var<T> parameter(const SentenceVAE<T>& m, const std::string& name) {
  for (const auto& [n, p] : m.named_parameters())
    if (n == name) return p;
  FAIL("no parameter " << name);
  return {};
}

std::vector<Var<double>> parameters(const SentenceVAE<double>& m) {
  std::vector<Var<double>> out;
  for (const auto& [name, p] : m.named_parameters()) out.push_back(p);
  return out;
}

}  // namespace

TEST_CASE("SentenceVAE: gradients of the masked sequence loss match finite differences", "[models][gradcheck]") {
  const auto s = sentences();
  const SentenceBatch b = data::make_batch(s, all_rows(s.size()));
  for (const auto& [latent, feed] : std::vector<std::pair<int64_t, bool>>{{2, false}, {2, true}, {0, false}}) {
    INFO("latent " << latent << (feed ? ", code fed at every step" : ""));
    Philox init(3);
    const SentenceVAE<double> m(tiny(latent, feed), init);
    const Tensor<double> e = latent > 0 ? noise<double>(b.size(), latent) : Tensor<double>();
    Tensor<int32_t> input = b.decoder;
    input.at(0, 2) = Vocabulary::UNK;  // a dropped word
    test::check_gradients([&] { return m.loss(b, input, e, 0.7).loss; }, parameters(m), 1e-5);
  }
}

TEST_CASE("SentenceVAE: gradients with free bits and the bag-of-words loss match finite differences",
          "[models][gradcheck]") {
  const auto s = sentences();
  const SentenceBatch b = data::make_batch(s, all_rows(s.size()));
  Philox init(13);
  const SentenceVAE<double> m(tiny(3, false, true), init);
  const Tensor<double> e = noise<double>(b.size(), 3);
  // λ between the dimensions' KLs (and away from each, where max(λ, KL_d) has its kink), so the check covers
  // dimensions above the floor (gradient) and below it (none).
  const Tensor<double> post = m.posterior(s);
  std::vector<double> kl(3, 0.0);
  for (int64_t i = 0; i < b.size(); ++i)
    for (int64_t d = 0; d < 3; ++d) kl[size_t(d)] += deepgen::detail::kl_term(post.at(i, d), post.at(i, 3 + d)) / 4.0;
  std::sort(kl.begin(), kl.end());
  REQUIRE(kl[1] - kl[0] > 1e-3);
  const double lambda = 0.5 * (kl[0] + kl[1]);
  Tensor<int32_t> input = b.decoder;
  input.at(1, 1) = Vocabulary::UNK;
  test::check_gradients([&] { return m.loss(b, input, e, 0.6, models::KLControl{lambda, 0.8}).loss; }, parameters(m),
                        1e-5);
  // The reported KL is the true one; the loss adds β·Σ_d max(λ, KL_d) and w·bow.
  const models::SentenceLoss<double> t = m.loss(b, b.decoder, e, 0.6, models::KLControl{lambda, 0.8});
  const double floor = lambda + kl[1] + kl[2];
  CHECK(t.kl.value()[0] == Approx(kl[0] + kl[1] + kl[2]).epsilon(1e-9));
  CHECK(t.loss.value()[0] == Approx(t.recon.value()[0] + 0.6 * floor + 0.8 * t.bow.value()[0]).epsilon(1e-9));
}

TEST_CASE("free_bits_kl: Σ_d max(λ, batch-mean KL_d); λ = 0 is the KL, a high floor has no gradient",
          "[models][gradcheck]") {
  const Var<double> m(test::random_tensor(Shape{5, 4}), true), s(test::random_tensor(Shape{5, 4}), true);
  CHECK(models::free_bits_kl(m, s, 0.0).value()[0] == Approx(gaussian_kl(m, s).value()[0]).epsilon(1e-12));
  test::check_gradients([&] { return models::free_bits_kl(m, s, 0.0); }, {m, s});
  const Var<double> m2(m.value(), true), s2(s.value(), true);  // fresh leaves: the check above left gradients
  const Var<double> high = models::free_bits_kl(m2, s2, 50.0);
  CHECK(high.value()[0] == 4 * 50.0);
  backward(high);
  const Tensor<double>& dm = m2.grad();
  CHECK(std::all_of(dm.begin(), dm.end(), [](double g) { return g == 0.0; }));
  REQUIRE_THROWS_WITH(models::free_bits_kl(m, s, -1.0), Contains("lambda = -1"));
}

TEST_CASE("bag_of_words_loss: −Σ log softmax over each sentence's words, <eos> and padding skipped",
          "[models][gradcheck]") {
  const Var<double> z(test::random_tensor(Shape{2, 6}, -2, 2), true);
  Tensor<int32_t> targets(Shape{2, 4});
  const int32_t rows[2][4] = {{4, 5, 4, Vocabulary::EOS}, {5, Vocabulary::EOS, IGNORE_INDEX, IGNORE_INDEX}};
  for (int64_t i = 0; i < 8; ++i) targets[i] = rows[i / 4][i % 4];
  auto log_p = [&](int64_t b, int32_t k) {
    double sum = 0;
    for (int64_t j = 0; j < 6; ++j) sum += std::exp(z.value().at(b, j));
    return z.value().at(b, k) - std::log(sum);
  };
  const double expected = -(2 * log_p(0, 4) + log_p(0, 5) + log_p(1, 5)) / 2;
  CHECK(models::bag_of_words_loss(z, targets).value()[0] == Approx(expected).epsilon(1e-12));
  test::check_gradients([&] { return models::bag_of_words_loss(z, targets); }, {z});
}

TEST_CASE("kl_weight: autoencoder steps first, then the schedule; cyclical repeats", "[models]") {
  CHECK(models::kl_weight("none", 5, 100, 10) == 0.0);
  CHECK(models::kl_weight("none", 10, 100, 10) == 1.0);
  CHECK(models::kl_weight("linear", 60, 100, 10) == Approx(0.5));
  CHECK(models::kl_weight("cyclical", 25, 100) == Approx(0.5));
  CHECK(models::kl_weight("cyclical", 70, 100) == 1.0);
  CHECK(models::kl_weight("cyclical", 125, 100) == Approx(0.5));
  CHECK(models::kl_weight("cyclical", 100, 100) == 0.0);
  CHECK(models::kl_weight("logistic", 50, 100) == Approx(0.5));
}

TEST_CASE("SentenceVAE: padding changes nothing — a batch's loss is the sum of its sentences' alone",
          "[models]") {
  Philox init(4);
  const SentenceVAE<double> m(tiny(3, true, true), init);
  const auto s = sentences();
  const SentenceBatch b = data::make_batch(s, all_rows(s.size()));
  const Tensor<double> e = noise<double>(b.size(), 3);
  const models::KLControl bow{0.0, 1.0};
  const models::SentenceLoss<double> whole = m.loss(b, b.decoder, e, 1.0, bow);
  double recon = 0, kl = 0, words = 0;
  for (int64_t i = 0; i < b.size(); ++i) {
    const SentenceBatch one = data::make_batch(s, {i});
    Tensor<double> ei(Shape{1, 3});
    std::copy_n(e.data() + i * 3, 3, ei.data());
    const models::SentenceLoss<double> l = m.loss(one, one.decoder, ei, 1.0, bow);
    recon += l.recon.value()[0];
    kl += l.kl.value()[0];
    words += l.bow.value()[0];
  }
  CHECK(whole.bow.value()[0] * double(b.size()) == Approx(words).epsilon(1e-12));
  CHECK(whole.recon.value()[0] * double(b.size()) == Approx(recon).epsilon(1e-12));
  CHECK(whole.kl.value()[0] * double(b.size()) == Approx(kl).epsilon(1e-12));
  // β weighs only the KL.
  CHECK(m.loss(b, b.decoder, e, 0.25).loss.value()[0] ==
        Approx(whole.recon.value()[0] + 0.25 * whole.kl.value()[0]).epsilon(1e-12));
}

TEST_CASE("SentenceVAEConfig::from_parameters reads every size back; checkpoints round-trip", "[models]") {
  for (const SentenceVAEConfig& c : {tiny(2), tiny(3, true), tiny(0), tiny(2, false, true)}) {
    Philox init(1);
    const SentenceVAE<float> m(c, init);
    std::map<std::string, Tensor<float>> tensors;
    for (const auto& [name, p] : m.named_parameters()) tensors[name] = p.value();
    const SentenceVAEConfig back = SentenceVAEConfig::from_parameters(tensors, "test");
    CHECK(back.vocab_size == c.vocab_size);
    CHECK(back.embedding == c.embedding);
    CHECK(back.decoder_hidden == c.decoder_hidden);
    CHECK(back.latent == c.latent);
    CHECK(back.feed_code == c.feed_code);
    CHECK(back.bag_of_words == c.bag_of_words);
    if (c.latent > 0) CHECK(back.encoder_hidden == c.encoder_hidden);
    CHECK(tensors.count("encoder.lstm.weight_ih_l0") == (c.latent > 0 ? 1u : 0u));
    CHECK(tensors.at("decoder.lstm.weight_hh_l0").shape() == Shape({16, 4}));  // PyTorch's (4H, H)
  }
  std::map<std::string, Tensor<float>> not_a_model{{"fc.weight", Tensor<float>(Shape{2, 2})}};
  REQUIRE_THROWS_WITH(SentenceVAEConfig::from_parameters(not_a_model, "x.safetensors"),
                      Contains("x.safetensors") && Contains("not a sentence VAE"));
}

TEST_CASE("check_vocabulary: a checkpoint read with another vocabulary is refused", "[models][errors]") {
  const std::vector<data::Sentence> corpus{{"the", "cat", "sat"}, {"a", "dog", "ran", "off"}, {"we", "saw"}};
  const Vocabulary v = Vocabulary::build(corpus);
  SentenceVAEConfig c = tiny(2);
  c.vocab_size = v.size();
  const auto meta = models::vocabulary_metadata(v);
  models::check_vocabulary(c, meta, v, "model.safetensors", "vocab.txt");  // its own: fine
  models::check_vocabulary(c, {}, v, "model.safetensors", "vocab.txt");    // no fingerprint: size decides

  // Same size, other words.
  std::vector<data::Sentence> other = corpus;
  other[2] = {"we", "ate"};
  const Vocabulary w = Vocabulary::build(other);
  REQUIRE(w.size() == v.size());
  REQUIRE_THROWS_WITH(models::check_vocabulary(c, meta, w, "model.safetensors", "other.txt"),
                      Contains("model.safetensors was trained with another vocabulary") && Contains("other.txt") &&
                          Contains("vocab.txt written next to that checkpoint"));
  // Another size.
  const Vocabulary small = Vocabulary::build({{"the", "cat"}});
  REQUIRE_THROWS_WITH(models::check_vocabulary(c, {}, small, "model.safetensors", "small.txt"),
                      Contains("has " + std::to_string(v.size()) + " words") && Contains("small.txt has 6"));
}

TEST_CASE("SentenceVAE: ids outside the vocabulary and wrong noise are clear errors", "[models][errors]") {
  Philox init(2);
  const SentenceVAE<float> m(tiny(2), init);
  const SentenceBatch b = data::make_batch({{4, 11}}, {0});
  REQUIRE_THROWS_WITH(m.loss(b, b.decoder, noise<float>(1, 2)),
                      Contains("token id 11") && Contains("another vocabulary"));
  const SentenceBatch ok = data::make_batch({{4, 5}}, {0});
  REQUIRE_THROWS_WITH(m.loss(ok, ok.decoder, noise<float>(2, 2)), Contains("noise"));
  REQUIRE_THROWS_WITH(m.generate(noise<float>(1, 3), {}, 5), Contains("codes must be (B, 2)"));
  REQUIRE_THROWS_WITH(m.beam_search(noise<float>(1, 2), 0, 5), Contains("width 0"));
  SentenceVAEConfig bad = tiny(2);
  bad.vocab_size = 4;
  REQUIRE_THROWS_WITH(SentenceVAE<float>(bad, init), Contains("vocab_size = 4"));
}

TEST_CASE("SentenceVAE: generate gives valid words, ends at <eos> or max_length, repeats per seed", "[models]") {
  Philox init(5);
  const SentenceVAE<float> m(tiny(2), init);
  const Tensor<float> codes = noise<float>(6, 2);
  SamplingOptions warm;
  warm.temperature = 1.5;
  const auto a = m.generate(codes, warm, 7, 11);
  CHECK(a == m.generate(codes, warm, 7, 11));
  CHECK(a != m.generate(codes, warm, 7, 12));
  for (const TokenIds& s : a) {
    CHECK(s.size() <= 7);
    for (int32_t k : s) {
      CHECK(k >= 0);
      CHECK(k < 11);
      CHECK(k != Vocabulary::PAD);
      CHECK(k != Vocabulary::BOS);
      CHECK(k != Vocabulary::EOS);
    }
  }
  // allow_unk = false: never <unk>, sampled or in beam search.
  for (const TokenIds& s : m.generate(codes, warm, 7, 11, 0, false))
    CHECK(std::count(s.begin(), s.end(), Vocabulary::UNK) == 0);
  for (const models::Beam& beam : m.beam_search(noise<float>(1, 2), 3, 7, false))
    CHECK(std::count(beam.ids.begin(), beam.ids.end(), Vocabulary::UNK) == 0);
  // A language model has no code: count sentences.
  Philox init_lm(5);
  const SentenceVAE<float> lm(tiny(0), init_lm);
  CHECK(lm.generate(Tensor<float>(), warm, 7, 1, 3).size() == 3);
}

TEST_CASE("SentenceVAE: beam search — width 1 is greedy, scores are the model's log-probabilities",
          "[models]") {
  Philox init(6);
  SentenceVAEConfig c = tiny(2, true);
  const SentenceVAE<double> m(c, init);
  const Tensor<double> code = noise<double>(1, 2, 21);
  const auto greedy = m.generate(code, SamplingOptions{0.0, 0}, 6);
  const auto one = m.beam_search(code, 1, 6);
  REQUIRE(one.size() == 1);
  CHECK(one[0].ids == greedy[0]);

  const auto beams = m.beam_search(code, 4, 6);
  REQUIRE(!beams.empty());
  REQUIRE(beams.size() <= 4);
  for (size_t i = 1; i < beams.size(); ++i) CHECK(beams[i - 1].score() >= beams[i].score());
  int checked = 0;
  for (const models::Beam& beam : beams) {
    if (!beam.finished || beam.ids.empty()) continue;
    ++checked;
    // Teacher-forced log-probability of the same sentence under the same code.
    const SentenceBatch b = data::make_batch({beam.ids}, {0});
    const Var<double> logits = m.decoder_logits(b.decoder, Var<double>(code));
    const double nll = softmax_cross_entropy(logits, b.targets).value()[0] * double(b.predicted);
    CHECK(beam.log_prob == Approx(-nll).epsilon(1e-9));
  }
  CHECK(checked > 0);
}

TEST_CASE("SentenceVAE::evaluate does not depend on the batch size; the LM's KL is zero", "[models]") {
  Philox init(7);
  const SentenceVAE<float> m(tiny(3), init);
  const auto s = sentences();
  const models::SentenceValues a = m.evaluate(s, 3, 1, 64), b = m.evaluate(s, 3, 1, 1);
  CHECK(a.recon == Approx(b.recon).epsilon(1e-5));
  CHECK(a.kl == Approx(b.kl).epsilon(1e-5));
  CHECK(a.sentences == 4);
  CHECK(a.predicted == 5 + 2 + 4 + 3);  // words + one <eos> each
  CHECK(a.perplexity() == Approx(std::exp(a.nll() * 4 / double(a.predicted))));
  Philox init_lm(7);
  const SentenceVAE<float> lm(tiny(0), init_lm);
  CHECK(lm.evaluate(s).kl == 0);
}

TEST_CASE("SentenceVAE: training learns a small corpus well enough to reconstruct it", "[models][slow]") {
  // Eight short sentences over 20 words; a tiny model must bring the
  // reconstruction term far below the uniform-guess cost and greedily
  // decode most sentences back from their mean codes.
  std::vector<TokenIds> s;
  for (int i = 0; i < 8; ++i) {
    TokenIds t;
    for (int j = 0; j < 3 + i % 3; ++j) t.push_back(int32_t(4 + (i * 5 + j * 3) % 20));
    s.push_back(t);
  }
  SentenceVAEConfig c;
  c.vocab_size = 24;
  c.embedding = 16;
  c.encoder_hidden = c.decoder_hidden = 32;
  c.latent = 4;
  Philox init(1);
  const SentenceVAE<float> m(c, init);
  optim::Adam<float> adam(m.named_parameters(), optim::AdamOptions{1e-2, 0.9, 0.999, 1e-8, 0.0});
  const SentenceBatch b = data::make_batch(s, all_rows(s.size()));
  const double first = m.train_step(b, adam, 5.0, 0.0, 0.0, 1).recon;
  double last = first;
  for (int step = 0; step < 300; ++step) last = m.train_step(b, adam, 5.0, 0.1, 0.0, 1).recon;
  CHECK(first > 3.0 * std::log(24.0));
  CHECK(last < 0.1 * first);
  const auto decoded = m.generate(m.encode(s), SamplingOptions{0.0, 0}, 10);
  int exact = 0;
  for (size_t i = 0; i < s.size(); ++i) exact += decoded[i] == s[i];
  CHECK(exact >= 6);
}

TEST_CASE("SentenceVAE::train_step: a NaN loss throws and leaves the weights untouched", "[models][errors]") {
  Philox init(8);
  const SentenceVAE<float> m(tiny(2), init);
  optim::Adam<float> adam(m.named_parameters(), optim::AdamOptions{1e-3, 0.9, 0.999, 1e-8, 0.0});
  Var<float> bias = parameter(m, "decoder.fc.bias"), embedding = parameter(m, "embedding.weight");
  bias.value()[3] = std::numeric_limits<float>::quiet_NaN();
  const Tensor<float> before = embedding.value();
  const SentenceBatch b = data::make_batch(sentences(), {0, 1});
  REQUIRE_THROWS_WITH(m.train_step(b, adam, 5.0, 1.0, 0.0), Contains("diverged"));
  CHECK(std::equal(before.begin(), before.end(), embedding.value().begin()));
  CHECK(adam.steps() == 0);
}
