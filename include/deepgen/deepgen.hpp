// deepgen.hpp — the whole CPU library in one include.
// Each header can also be included on its own; the comment says what it gives.
#pragma once

#include "config.hpp"    // DEEPGEN_HD: __host__ __device__ under nvcc
#include "error.hpp"     // deepgen::Error, DEEPGEN_CHECK
#include "tensor.hpp"    // Shape, Tensor<T>: owning, row-major, Eigen views
#include "random.hpp"    // Philox4x32-10: seeded, counter-based, same streams on CPU and GPU
#include "sampling.hpp"  // sample_logits: temperature / top-k draws from a row of logits

#include "autograd.hpp"                   // Var<T>, backward(), NoGradGuard
#include "ops/elementwise.hpp"            // add (row broadcast), add_per_sequence, mul, scale, relu, tanh, sigmoid
#include "ops/embedding.hpp"              // embedding (row gather), gather_columns (one-hot input)
#include "ops/gaussian.hpp"               // reparameterize, gaussian_kl
#include "ops/lstm.hpp"                   // lstm_sequence: the whole recurrence as one op
#include "ops/matmul.hpp"                 // matmul, linear
#include "ops/onehot_linear.hpp"          // onehot_linear: a one-hot image times Wᵀ as a sum of gathered columns
#include "ops/reduce.hpp"                 // sum, mean
#include "ops/reshape.hpp"                // reshape
#include "ops/slice.hpp"                  // slice_columns (the VAE's mean / log-variance), select_steps
#include "ops/softmax_cross_entropy.hpp"  // fused, stable softmax + cross-entropy

#include "nn/embedding.hpp"  // nn::Embedding
#include "nn/linear.hpp"     // nn::Linear
#include "nn/lstm.hpp"       // nn::LSTM (sequence), nn::LSTMCell (step), PyTorch names
#include "nn/mlp.hpp"        // nn::MLP
#include "nn/module.hpp"     // nn::Module: named parameters, load_parameters

#include "optim/adam.hpp"  // optim::Adam (PyTorch's rule)
#include "optim/clip.hpp"  // optim::clip_grad_norm, global_grad_norm (throws on NaN)
#include "optim/step.hpp"  // optim::backward_and_step: backward, clip, Adam, no step on NaN
#include "optim/sgd.hpp"   // optim::SGD with momentum

#include "models/pixelrnn.hpp"      // models::PixelRNN: train, nll, complete, sample
#include "models/sentence_vae.hpp"  // models::SentenceVAE: sentence VAE and LSTM language model
#include "models/vae.hpp"           // models::VAE: autoencoder and VAE, train, evaluate, encode, decode
