#!/usr/bin/env bash
# The sentence VAE end to end, from a fresh Debian machine: install (WordNet
# included), build, extract the corpus, then train four models on it —
#   runs/sentences/vae       the VAE with the defaults: autoencoder steps, free
#                            bits, bag-of-words loss, code 32 fed at every step
#   runs/sentences/previous  the previous defaults: KL annealing and word dropout
#   runs/sentences/plain     the VAE without any of these (the KL collapses)
#   runs/sentences/lm        the plain LSTM language model of the same size
# — and print their TEST figures (with the reconstruction measures),
# reconstructions, samples and the interpolations of docs/sentence_vae.md,
# and draw its training curves. ALL=1 also trains the variants of its tables.
#   bash scripts/sentence_vae.sh [OUT_DIR]
# EPOCHS (default 20) and MINUTES (default 30) bound each training run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/sentences}
EPOCHS=${EPOCHS:-20}
MINUTES=${MINUTES:-30}
DATA=data/sentences
start=$(date +%s)
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEEPGEN_BUILD_TESTS=ON -DDEEPGEN_BUILD_BENCHMARKS=ON -DDEEPGEN_BUILD_EXAMPLES=ON >/dev/null
cmake --build build -j"$(nproc)" --target sentence_vae make_sentence_corpus plot_training
build/examples/make_sentence_corpus --out "$DATA"
BIN=build/examples/sentence_vae
train() {  # NAME ARGS...: train unless a finished run is there already
  local name=$1
  shift
  if [ -s "$OUT/$name/best.safetensors" ] && [ -s "$OUT/$name/train.out" ] && grep -q '^wrote' "$OUT/$name/train.out"; then
    echo "sentence_vae.sh: $OUT/$name is trained; delete it to train again"
  else
    mkdir -p "$OUT/$name"
    $BIN train --data "$DATA" --out "$OUT/$name" --epochs "$EPOCHS" --minutes "$MINUTES" "$@" | tee "$OUT/$name/train.out"
  fi
}
# The previous defaults, and the VAE without any remedy, spelled out.
PREVIOUS=(--latent 16 --no-feed-code --bow 0 --free-bits 0 --ae-steps 0 --anneal logistic --anneal-steps 4000)
train vae
train previous "${PREVIOUS[@]}" --word-dropout 0.3
train plain "${PREVIOUS[@]}" --anneal none --word-dropout 0
train lm --model lm --word-dropout 0
names=(vae previous plain lm)
if [ "${ALL:-0}" = 1 ]; then
  # The screening runs of docs/sentence_vae.md (there with --minutes 9-18).
  train fb1 --latent 32 --no-feed-code --bow 0 --free-bits 1 --ae-steps 0 --anneal none --word-dropout 0
  train ae_fb1 --latent 32 --no-feed-code --bow 0 --free-bits 1 --ae-steps 1714 --anneal linear --anneal-steps 857 \
    --word-dropout 0
  train lm_dropout --model lm --word-dropout 0.3
  names+=(fb1 ae_fb1 lm_dropout)
fi
for name in "${names[@]}"; do
  echo "$name (best validation checkpoint) on TEST: $($BIN eval --weights "$OUT/$name/best.safetensors" --data "$DATA")"
done
W=(--weights "$OUT/vae/best.safetensors")
$BIN reconstruct "${W[@]}" --beam 5 --no-unk "i went to the store to buy some groceries" "don't worry about it, she said" \
  "the children came late to school" "he put her to the torture"
echo "samples (codes from N(0, I), greedy, no <unk>):"
$BIN sample "${W[@]}" --count 8 --seed 1 --no-unk
interpolate() {
  echo "interpolation: $1 → $2"
  $BIN interpolate "${W[@]}" --from "$1" --to "$2" --steps 7 --beam 5 --no-unk
}
interpolate "i went to the store to buy some groceries" "don't worry about it, she said"
interpolate "the children came late to school" "he was not interested in politics"
interpolate "she wore a red dress to the party" "the river flooded the town"
P=build/examples/plot_training
$P --out "$OUT/kl.png" --x step --y train_kl --title "KL term per sentence, training batches (mean of 100 steps)" \
  "$OUT/vae/steps.csv=defaults: autoencoder steps, free bits, bag of words" \
  "$OUT/previous/steps.csv=previous: KL annealing + word dropout 0.3" "$OUT/plain/steps.csv=neither"
$P --out "$OUT/valid_nll.png" --x epoch --y valid_nll --title "validation NLL (VAE: bound recon + KL) per sentence" \
  "$OUT/vae/train_log.csv=VAE, defaults" "$OUT/previous/train_log.csv=VAE, annealing + word dropout" \
  "$OUT/plain/train_log.csv=VAE, neither" \
  "$OUT/lm/train_log.csv=language model"
echo "sentence_vae.sh: done in $(( ($(date +%s) - start) / 60 )) min; models and curves in $OUT/"
