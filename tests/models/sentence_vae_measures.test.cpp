// What a sentence VAE's code carries (models/sentence_measures.hpp): token
// accuracy and corpus BLEU-4 on worked examples, He et al.'s mutual
// information at its two extremes, active units, and beam search over many
// codes agreeing with one code at a time.
#include <deepgen/models/sentence_io.hpp>
#include <deepgen/models/sentence_measures.hpp>

#include <catch2/catch.hpp>

using namespace deepgen;
using data::TokenIds;
using data::Vocabulary;
using Catch::Contains;

TEST_CASE("token_accuracy: same positions, <eos> included on both sides", "[models][measures]") {
  // Reference a b c <eos> (4 tokens); hypothesis a x c d <eos>: a and c match, <eos> is late.
  const models::TokenMatches m = models::token_accuracy({{4, 5, 6}}, {{4, 9, 6, 7}});
  CHECK(m.matched == 2);
  CHECK(m.total == 4);
  CHECK(m.accuracy() == 0.5);
  // A hypothesis that stops early gets its <eos> compared with the reference's word there.
  const models::TokenMatches both = models::token_accuracy({{4, 5, 6}, {7, 8}}, {{4, 5}, {7, 8}});
  CHECK(both.matched == 2 + 3);
  CHECK(both.total == 4 + 3);
  REQUIRE_THROWS_WITH(models::token_accuracy({{4}}, {}), Contains("one hypothesis per reference"));
}

TEST_CASE("corpus_bleu: BLEU-4 with add-one smoothing on a worked example", "[models][measures]") {
  // the cat sat on the mat  vs  the cat is on the mat (ids: the 4, cat 5, sat 6, on 7, mat 8, is 9):
  //   1-grams 5 of 6 match (the, cat, on, the, mat), 2-grams 3 of 5 (the cat, on the, the mat),
  //   3-grams 1 of 4 (on the mat), 4-grams 0 of 3; equal lengths, BP = 1.
  const TokenIds hyp{4, 5, 6, 7, 4, 8}, ref{4, 5, 9, 7, 4, 8};
  const double expected = std::pow((6.0 / 7) * (4.0 / 6) * (2.0 / 5) * (1.0 / 4), 0.25);
  CHECK(models::corpus_bleu({ref}, {hyp}) == Approx(expected).epsilon(1e-12));
  CHECK(expected == Approx(0.48890).epsilon(1e-4));
  // Clipping: "the the the" matches "the" once per occurrence in the reference.
  // 1-grams 2 of 3 (ref has two 'the'), 2-grams 0 of 2, 3-grams 0 of 1, 4-grams 0 of 0.
  const double clipped = std::pow((3.0 / 4) * (1.0 / 3) * (1.0 / 2) * (1.0 / 1), 0.25);
  // Brevity: hypothesis 3 words, reference 4: BP = exp(1 − 4/3).
  CHECK(models::corpus_bleu({{4, 5, 4, 8}}, {{4, 4, 4}}) == Approx(std::exp(1 - 4.0 / 3) * clipped).epsilon(1e-12));
  // Perfect long reconstructions approach 1; corpus counts are summed over sentences.
  const TokenIds longer{4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  CHECK(models::corpus_bleu({longer, ref}, {longer, ref}) > 0.95);
  CHECK(models::corpus_bleu({ref}, {{}}) == 0.0);
}

TEST_CASE("mutual_information: 0 when every sentence has the same posterior, log N when they are far apart",
          "[models][measures]") {
  const int64_t N = 6, D = 2;
  Tensor<double> same(Shape{N, 2 * D}), apart(Shape{N, 2 * D});
  for (int64_t i = 0; i < N; ++i)
    for (int64_t d = 0; d < D; ++d) {
      same.at(i, d) = 0.3, same.at(i, D + d) = -0.5;
      apart.at(i, d) = 100.0 * double(i) * (d + 1), apart.at(i, D + d) = -2.0;  // σ ≈ 0.37, means 100 apart
    }
  CHECK(std::abs(models::mutual_information(same, 3, 1)) < 1e-12);
  CHECK(models::mutual_information(apart, 3, 1) == Approx(std::log(double(N))).epsilon(1e-9));
  CHECK(models::active_units(same) == 0);
  CHECK(models::active_units(apart) == 2);
  const std::vector<double> v = models::mean_variances(apart);
  CHECK(v[0] == Approx(10000.0 * 35.0 / 12.0).epsilon(1e-12));  // 100²·Var(0, 1, …, 5)
  REQUIRE_THROWS_WITH(models::mutual_information(Tensor<double>(Shape{3, 3})), Contains("(N, 2D)"));
}

TEST_CASE("beam_search_rows: each row's best sentence as beam_search gives it alone", "[models][measures]") {
  models::SentenceVAEConfig c;
  c.vocab_size = 11, c.embedding = 3, c.encoder_hidden = 5, c.decoder_hidden = 4, c.latent = 2;
  Philox init(12);
  const models::SentenceVAE<float> m(c, init);
  Tensor<float> codes(Shape{4, 2});
  Philox rng(3);
  fill_normal(codes, rng, 0.0f, 2.0f);
  const auto rows = m.beam_search_rows(codes, 3, 6);
  REQUIRE(rows.size() == 4);
  for (int64_t r = 0; r < 4; ++r) {
    Tensor<float> one(Shape{1, 2});
    std::copy_n(codes.data() + r * 2, 2, one.data());
    CHECK(rows[size_t(r)] == m.beam_search(one, 3, 6).front().ids);
  }
  // measure_code: the figures are in range and the counts cover every sentence.
  const std::vector<TokenIds> s{{4, 5, 6}, {7, 8}, {9, 10, 4, 5}};
  const models::CodeReport r = models::measure_code(m, s, 3, 6);
  CHECK(r.greedy.total == 4 + 3 + 5);
  CHECK(r.beam.total == 12);
  CHECK(r.bleu_beam >= 0.0);
  CHECK(r.bleu_beam <= 1.0);
  CHECK(std::isfinite(r.mi));  // a Monte-Carlo estimate: it may fall a little below 0
  CHECK(r.mi <= std::log(3.0) + 1e-9);
  CHECK(r.active <= 2);
}

TEST_CASE("check_decode_work: a decode past MAX_DECODE_WORK is refused before it starts", "[models][errors]") {
  models::SentenceVAEConfig c;
  c.vocab_size = 20000, c.embedding = 2, c.encoder_hidden = 2, c.decoder_hidden = 4, c.latent = 2;
  Philox init(1);
  models::SentenceCheckpoint<float> m{models::SentenceVAE<float>(c, init), data::Vocabulary(), {}, 200};
  // 7 codes × beam 5 × 201 words × 4 × (16 + 20000) multiply-adds: well inside.
  models::check_decode_work(m, 7, 5, models::MAX_DECODE_WORK, "fix");
  // 1000 codes × beam 100: 1.6e12, past the bound; the message says how much and what to change.
  REQUIRE_THROWS_WITH(models::check_decode_work(m, 1000, 100, models::MAX_DECODE_WORK, "use a smaller --beam"),
                      Contains("beam width 100") && Contains("G multiply-adds") && Contains("use a smaller --beam"));
  Tensor<float> codes(Shape{1000, 2});
  models::Decoding d;
  d.beam = 100;
  REQUIRE_THROWS_WITH(models::decode_text(m, codes, 0, d), Contains("use a smaller --beam, --count or --steps"));
}
