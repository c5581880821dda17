// The LSTM sequence op: forward against a second, naive implementation
// written here from the equations (scalar loops, no shared code with the
// library), a one-unit case worked by hand, and gradient checks over several
// time steps (a single-step check misses backpropagation-through-time bugs).
#include <deepgen/ops/lstm.hpp>
#include <deepgen/ops/matmul.hpp>

#include "support/gradcheck.hpp"

using namespace deepgen;
using deepgen::test::check_gradients;
using deepgen::test::random_tensor;
using deepgen::test::weighted_sum;
using Catch::Contains;
using V = Var<double>;

namespace {

double sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// PyTorch's LSTM equations, written out with scalar loops.
// x (B,T,I), Wih (4H,I), Whh (4H,H), biases (4H), h0/c0 (B,H) → y (B,T,H), hT, cT.
void naive_lstm(const Tensor<double>& x, const Tensor<double>& Wih, const Tensor<double>& Whh,
                const Tensor<double>& bih, const Tensor<double>& bhh, const Tensor<double>& h0,
                const Tensor<double>& c0, Tensor<double>& y, Tensor<double>& hT, Tensor<double>& cT) {
  const int64_t B = x.dim(0), T = x.dim(1), I = x.dim(2), H = Whh.dim(1);
  y = Tensor<double>(Shape{B, T, H});
  hT = h0;
  cT = c0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> h(H), c(H);
    for (int64_t j = 0; j < H; ++j) {
      h[j] = h0.at(b, j);
      c[j] = c0.at(b, j);
    }
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> a(4 * H);
      for (int64_t r = 0; r < 4 * H; ++r) {
        double s = bih[r] + bhh[r];
        for (int64_t k = 0; k < I; ++k) s += Wih.at(r, k) * x.at(b, t, k);
        for (int64_t k = 0; k < H; ++k) s += Whh.at(r, k) * h[k];
        a[r] = s;
      }
      for (int64_t j = 0; j < H; ++j) {
        const double i = sig(a[j]), f = sig(a[H + j]), g = std::tanh(a[2 * H + j]), o = sig(a[3 * H + j]);
        c[j] = f * c[j] + i * g;
        h[j] = o * std::tanh(c[j]);
        y.at(b, t, j) = h[j];
      }
    }
    for (int64_t j = 0; j < H; ++j) {
      hT.at(b, j) = h[j];
      cT.at(b, j) = c[j];
    }
  }
}

struct Params {
  V wih, whh, bih, bhh;
  Params(int64_t I, int64_t H)
      : wih(random_tensor({4 * H, I}), true), whh(random_tensor({4 * H, H}), true),
        bih(random_tensor({4 * H}), true), bhh(random_tensor({4 * H}), true) {}
};

}  // namespace

TEST_CASE("lstm_sequence: one unit, one step, worked by hand", "[lstm]") {
  // H = 1, I = 1: a = [0.5, 1, −0.5, 2] + x·[1, 0, 1, 0] with x = 1, h0 = 0, c0 = 0.5.
  V xproj(Tensor<double>({1, 1, 4}, {1, 0, 1, 0}));
  V whh(Tensor<double>({4, 1}, {3, 3, 3, 3}));  // h0 = 0: no effect
  V bih(Tensor<double>({4}, {0.5, 1, -0.5, 2}));
  V bhh(Tensor<double>(Shape{4}));
  V c0(Tensor<double>({1, 1}, 0.5));
  const auto out = lstm_sequence(xproj, whh, bih, bhh, V(), c0);
  const double i = sig(1.5), f = sig(1.0), g = std::tanh(0.5), o = sig(2.0);
  const double c = f * 0.5 + i * g;
  CHECK(out.c_n.value()[0] == Approx(c).epsilon(1e-15));
  CHECK(out.h_n.value()[0] == Approx(o * std::tanh(c)).epsilon(1e-15));
  CHECK(out.output.value()[0] == out.h_n.value()[0]);
}

TEST_CASE("lstm_sequence: forward equals a naive implementation", "[lstm]") {
  const int64_t B = GENERATE(1, 3), T = GENERATE(1, 4), I = 5, H = GENERATE(1, 7);
  SECTION("B=" + std::to_string(B) + " T=" + std::to_string(T) + " H=" + std::to_string(H)) {
    Params p(I, H);
    const Tensor<double> x = random_tensor({B, T, I}), h0 = random_tensor({B, H}), c0 = random_tensor({B, H});
    Tensor<double> y, hT, cT;
    naive_lstm(x, p.wih.value(), p.whh.value(), p.bih.value(), p.bhh.value(), h0, c0, y, hT, cT);
    const auto out = lstm_sequence(linear(V(x), p.wih), p.whh, p.bih, p.bhh, V(h0), V(c0));
    CHECK(deepgen::test::relative_error(out.output.value(), y) < 1e-14);
    CHECK(deepgen::test::relative_error(out.h_n.value(), hT) < 1e-14);
    CHECK(deepgen::test::relative_error(out.c_n.value(), cT) < 1e-14);
  }
}

TEST_CASE("lstm_sequence: gradients through time", "[lstm][gradcheck]") {
  const int64_t B = 2, I = 3, H = 4;
  const int64_t T = GENERATE(3, 6);
  SECTION("T=" + std::to_string(T)) {
    Params p(I, H);
    V x(random_tensor({B, T, I}), true), h0(random_tensor({B, H}), true), c0(random_tensor({B, H}), true);
    std::vector<V> all{x, p.wih, p.whh, p.bih, p.bhh, h0, c0};
    SECTION("loss on every output") {
      check_gradients([&] { return weighted_sum(lstm_sequence(linear(x, p.wih), p.whh, p.bih, p.bhh, h0, c0).output); }, all);
    }
    SECTION("loss on outputs, h_n and c_n together") {
      check_gradients([&] {
        const auto o = lstm_sequence(linear(x, p.wih), p.whh, p.bih, p.bhh, h0, c0);
        return add(add(weighted_sum(o.output, 1), weighted_sum(o.h_n, 2)), weighted_sum(o.c_n, 3));
      }, all);
    }
    SECTION("loss on c_n only") {
      check_gradients([&] { return weighted_sum(lstm_sequence(linear(x, p.wih), p.whh, p.bih, p.bhh, h0, c0).c_n); }, all);
    }
  }
}

TEST_CASE("lstm_sequence: bad shapes name the problem", "[lstm][errors]") {
  Params p(3, 4);
  V x(random_tensor({2, 5, 16}));
  REQUIRE_THROWS_WITH(lstm_sequence(V(random_tensor({2, 5, 12})), p.whh, p.bih, p.bhh),
                      Contains("(B, T, 4H)") && Contains("[2, 5, 12]"));
  REQUIRE_THROWS_WITH(lstm_sequence(x, V(random_tensor({16, 3})), p.bih, p.bhh), Contains("(4H, H)") && Contains("[16, 3]"));
  REQUIRE_THROWS_WITH(lstm_sequence(x, p.whh, V(random_tensor({15})), p.bhh), Contains("bias_ih") && Contains("[15]"));
  REQUIRE_THROWS_WITH(lstm_sequence(x, p.whh, p.bih, p.bhh, V(random_tensor({3, 4}))), Contains("h0") && Contains("[3, 4]"));
}

TEST_CASE("lstm step: the vectorised CPU path equals the shared DEEPGEN_HD unit math", "[lstm]") {
  // The CUDA kernel calls detail::lstm_unit_fwd/bwd; the CPU path works on
  // whole blocks with Eigen. Both must be the same equations.
  const int64_t B = GENERATE(1, 3), H = GENERATE(1, 5, 17), G = 4 * H;
  SECTION("B=" + std::to_string(B) + " H=" + std::to_string(H)) {
    const Tensor<double> pre = random_tensor({B, G}, -3, 3), c_prev = random_tensor({B, H});
    const Tensor<double> h_prev(Shape{B, H}), bias(Shape{G});  // zeros: the step reduces to `pre`
    Tensor<double> act(Shape{B, G}), c(Shape{B, H}), h(Shape{B, H});
    detail::StepInput<double> in;
    in.x = pre.data();
    in.x_stride = G;
    const MatrixRM<double> whh = MatrixRM<double>::Zero(G, H);
    detail::lstm_step_forward<double>(in, h_prev.data(), c_prev.data(), whh, bias.data(), act.data(), c.data(), h.data(), B, H);
    const Tensor<double> dh = random_tensor({B, H}), dc_next = random_tensor({B, H});
    MatrixRM<double> dc = dc_next.matrix();
    Tensor<double> da(Shape{B, G});
    detail::lstm_step_backward<double>(act.data(), c_prev.data(), c.data(), dh.matrix(), dc, da.data(), B, H);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) {
        std::vector<double> unit_act(G), unit_da(G);
        double uc, uh, udc;
        detail::lstm_unit_fwd(pre.data() + b * G, unit_act.data(), H, j, c_prev.at(b, j), &uc, &uh);
        detail::lstm_unit_bwd(unit_act.data(), H, j, c_prev.at(b, j), uc, dh.at(b, j), dc_next.at(b, j),
                              unit_da.data(), &udc);
        CHECK(c.at(b, j) == Approx(uc).epsilon(1e-14));
        CHECK(h.at(b, j) == Approx(uh).epsilon(1e-14));
        CHECK(dc(b, j) == Approx(udc).epsilon(1e-13));
        for (int gate = 0; gate < 4; ++gate) {
          CHECK(act.at(b, gate * H + j) == Approx(unit_act[gate * H + j]).epsilon(1e-14));
          CHECK(da.at(b, gate * H + j) == Approx(unit_da[gate * H + j]).epsilon(1e-13).margin(1e-15));
        }
      }
  }
}

TEST_CASE("lstm_sequence_onehot: equals the dense path; bad tokens throw", "[lstm][gradcheck]") {
  const int64_t B = 2, T = 4, I = 5, H = 3;
  Params p(I, H);
  Tensor<int32_t> tokens = deepgen::test::random_indices({B, T}, 0, I);
  tokens.at(0, 0) = NO_INPUT;
  Tensor<double> onehot(Shape{B, T, I});
  for (int64_t n = 0; n < B * T; ++n)
    if (tokens[n] != NO_INPUT) onehot[n * I + tokens[n]] = 1;
  const auto dense = lstm_sequence(linear(V(onehot), p.wih), p.whh, p.bih, p.bhh);
  const auto sparse = lstm_sequence_onehot(tokens, p.wih, p.whh, p.bih, p.bhh);
  CHECK(deepgen::test::relative_error(sparse.output.value(), dense.output.value()) < 1e-15);
  V h0(random_tensor({B, H}), true), c0(random_tensor({B, H}), true);
  check_gradients([&] {
    const auto o = lstm_sequence_onehot(tokens, p.wih, p.whh, p.bih, p.bhh, h0, c0);
    return add(weighted_sum(o.output, 1), weighted_sum(o.c_n, 2));
  }, {p.wih, p.whh, p.bih, p.bhh, h0, c0});
  REQUIRE_THROWS_WITH(lstm_sequence_onehot(Tensor<int32_t>({1, 2}, {0, 5}), p.wih, p.whh, p.bih, p.bhh),
                      Contains("index 5") && Contains("[0, 5)"));
  REQUIRE_THROWS_WITH(lstm_sequence_onehot(tokens, V(random_tensor({8, I})), p.whh, p.bih, p.bhh),
                      Contains("weight_ih") && Contains("[8, 5]"));
}

TEST_CASE("lstm_sequence_onehot: S tokens per step equal the dense multi-hot path", "[lstm][gradcheck]") {
  // (B, T, S) tokens, as the PixelRNN's 2-D contexts use: one token from each
  // block of columns, a repeated token counting twice, NO_INPUT adding nothing.
  const int64_t B = 3, T = 4, S = 3, I = 7, H = 3;
  Params p(I, H);
  Tensor<int32_t> tokens = deepgen::test::random_indices({B, T, S}, 0, I);
  tokens.at(0, 0, 1) = NO_INPUT;
  tokens.at(1, 2, 0) = tokens.at(1, 2, 2);  // the same column twice
  Tensor<double> multihot(Shape{B, T, I});
  for (int64_t n = 0; n < B * T * S; ++n)
    if (tokens[n] != NO_INPUT) multihot[(n / S) * I + tokens[n]] += 1;
  const auto dense = lstm_sequence(linear(V(multihot), p.wih), p.whh, p.bih, p.bhh);
  const auto sparse = lstm_sequence_onehot(tokens, p.wih, p.whh, p.bih, p.bhh);
  CHECK(deepgen::test::relative_error(sparse.output.value(), dense.output.value()) < 1e-14);
  check_gradients([&] {
    const auto o = lstm_sequence_onehot(tokens, p.wih, p.whh, p.bih, p.bhh);
    return add(weighted_sum(o.output, 1), weighted_sum(o.h_n, 2));
  }, {p.wih, p.whh, p.bih, p.bhh});
  REQUIRE_THROWS_WITH(lstm_sequence_onehot(Tensor<int32_t>(Shape{1, 2, 0}), p.wih, p.whh, p.bih, p.bhh),
                      Contains("S ≥ 1"));
}

TEST_CASE("lstm_sequence: rows are independent (batch slices across threads give the same rows)", "[lstm]") {
  // With OpenMP the batch is cut into slices that run in parallel; every row
  // must come out as if it ran alone, forward and backward.
  const int64_t B = 37, T = 5, I = 4, H = 6;
  Params p(I, H);
  const Tensor<int32_t> tokens = deepgen::test::random_indices({B, T}, 0, I);
  const Tensor<double> r = random_tensor({B, T, H});
  const auto all = lstm_sequence_onehot(tokens, p.wih, p.whh, p.bih, p.bhh);
  backward(sum(mul(all.output, V(r))));
  const Tensor<double> dwhh_all = p.whh.grad();
  p.whh.zero_grad();
  for (int64_t b = 0; b < B; ++b) {
    const Tensor<int32_t> row({1, T}, std::vector<int32_t>(tokens.data() + b * T, tokens.data() + (b + 1) * T));
    const Tensor<double> r_row({1, T, H}, std::vector<double>(r.data() + b * T * H, r.data() + (b + 1) * T * H));
    const auto one = lstm_sequence_onehot(row, p.wih, p.whh, p.bih, p.bhh);
    for (int64_t k = 0; k < T * H; ++k)
      REQUIRE(one.output.value()[k] == Approx(all.output.value()[b * T * H + k]).epsilon(1e-13));
    backward(sum(mul(one.output, V(r_row))));  // accumulates over rows
  }
  CHECK(deepgen::test::relative_error(p.whh.grad(), dwhh_all) < 1e-13);
}

TEST_CASE("lstm_sequence: the units split across threads (H >= 128) give the one-thread results", "[lstm]") {
  // H = 130: two slices of 64 and 66 units where OpenMP has two threads or
  // more; the reference is the same call on one thread (one slice, no split).
  const int64_t B = 5, T = 9, I = 6, H = 130;  // T >= MIN_STEPS_FOR_UNIT_SLICES
  REQUIRE(T >= detail::MIN_STEPS_FOR_UNIT_SLICES);
  REQUIRE(detail::unit_slice_bounds(H).front() == 0);
  REQUIRE(detail::unit_slice_bounds(H).back() == H);
  Params p(I, H);
  V x(random_tensor({B, T, I}), true), h0(random_tensor({B, H}), true), c0(random_tensor({B, H}), true);
  Tensor<int32_t> tokens = deepgen::test::random_indices({B, T, 2}, 0, int32_t(I));
  tokens.at(1, 0, 1) = NO_INPUT;
  std::vector<V> all{x, p.wih, p.whh, p.bih, p.bhh, h0, c0};
  // Runs both the dense and the one-hot (two tokens a step) sequence, with a
  // loss on every output, h_n and c_n, and returns their values and gradients.
  auto run = [&] {
    for (V& v : all) v.zero_grad();
    const auto dense = lstm_sequence(linear(x, p.wih), p.whh, p.bih, p.bhh, h0, c0);
    const auto onehot = lstm_sequence_onehot(tokens, p.wih, p.whh, p.bih, p.bhh, h0, c0);
    backward(add(add(add(weighted_sum(dense.output, 1), weighted_sum(dense.h_n, 2)), weighted_sum(dense.c_n, 3)),
                 weighted_sum(onehot.output, 4)));
    std::vector<Tensor<double>> out{dense.output.value(), dense.c_n.value(), onehot.output.value()};
    for (V& v : all) out.push_back(v.grad());
    return out;
  };
  const auto split = run();
#if defined(_OPENMP)
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto single = run();
  omp_set_num_threads(threads);
  INFO(threads << " threads, " << detail::unit_slice_bounds(H).size() - 1 << " slices");
  for (size_t k = 0; k < split.size(); ++k) {
    INFO("tensor " << k << " (outputs, c_n, one-hot outputs, then the gradients of x, W_ih, W_hh, b_ih, b_hh, h0, c0)");
    CHECK(deepgen::test::relative_error(split[k], single[k]) < 1e-13);
  }
#endif
  // And the forward against PyTorch's equations written out.
  Tensor<double> y, hT, cT;
  naive_lstm(x.value(), p.wih.value(), p.whh.value(), p.bih.value(), p.bhh.value(), h0.value(), c0.value(), y, hT, cT);
  CHECK(deepgen::test::relative_error(split[0], y) < 1e-13);
  CHECK(deepgen::test::relative_error(split[1], cT) < 1e-13);
}
