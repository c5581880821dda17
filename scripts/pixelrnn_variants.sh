#!/usr/bin/env bash
# The PixelRNN variants of docs/pixelrnn.md, trained 20 minutes each and
# compared on VALIDATION; the TEST NLL of each at its best validation epoch;
# the sample figures of the chosen default beside the lecture model's; the
# side-by-side pictures and the curves.
#   bash scripts/pixelrnn_variants.sh DATA_DIR [OUT_DIR]
# About 60 minutes on a 2-core machine: the four variants run two at a time,
# one thread each (the conditions of the documented runs), then the dropout
# variant. Needs the build of the README's test command (build/examples/…).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: pixelrnn_variants.sh DATA_DIR [OUT_DIR]}
OUT=${2:-runs/pixelrnn_variants}
BIN=build/examples/pixelrnn_pokemon
PLOT=build/examples/plot_training
MINUTES=${MINUTES:-20}
mkdir -p "$OUT"

train() {  # NAME ARGS...: one 20-minute run into $OUT/NAME
  local name=$1
  shift
  $BIN train --data "$DATA" --out "$OUT/$name" --minutes "$MINUTES" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
}
pair() {  # two runs at once, one thread each
  OMP_NUM_THREADS=1 train "$1" $2 &
  OMP_NUM_THREADS=1 train "$3" $4 &
  wait
}
pair lecture "--context previous --hidden 512" above_position_h512 "--context above+position --hidden 512"
pair above_h512 "--context above --hidden 512" default ""  # default: above+position, hidden 256, dropout 0.5
OMP_NUM_THREADS=1 train default_dropout0.65 --dropout 0.65

# Best VALIDATION epoch of each run, and the TEST NLL there (best.safetensors).
for run in lecture above_h512 above_position_h512 default default_dropout0.65; do
  awk -F, -v run=$run 'NR > 1 && (best == "" || $5 < best) { best = $5; test = $6; epoch = $1; min = $3 }
    END { printf "%-22s best_valid=%.4f test=%.4f epoch=%s minutes=%.1f\n", run, best, test, epoch, min }' \
    "$OUT/$run/train_log.csv"
done

# Sample figures at T 1.0 (64 images, seed 1) and the pictures, same seeds for both models.
for run in lecture default; do
  M=$OUT/$run/best.safetensors
  $BIN eval --data "$DATA" --weights "$M"
  $BIN sample --data "$DATA" --weights "$M" --count 64 --seed 1 --temperature 1.0 \
    --out "$OUT/${run}_sample_t1.0.png" --out-indices "$OUT/${run}_sample_t1.0.txt"
  $BIN stats --data "$DATA" --images "$OUT/${run}_sample_t1.0.txt"
  $BIN sample --data "$DATA" --weights "$M" --count 16 --seed 1 --temperature 0.8 --out "$OUT/${run}_sample_t0.8.png"
  for keep in 0.5 0.25; do
    $BIN complete --data "$DATA" --weights "$M" --keep $keep --count 8 --samples 4 --temperature 0.8 --seed 1 \
      --out "$OUT/${run}_complete_keep$keep.png"
  done
done
$PLOT --out "$OUT/valid_curve.png" --x minutes --y valid_nll_nats_per_pixel \
  --title "VALIDATION NLL (nats/pixel) against training minutes" --hline "1.70:1.70 (the TEST goal)" \
  "$OUT/lecture/train_log.csv=lecture model (previous pixel, H 512)" \
  "$OUT/above_h512/train_log.csv=above (H 512)" \
  "$OUT/above_position_h512/train_log.csv=above+position (H 512)" \
  "$OUT/default/train_log.csv=above+position, H 256 (default)" \
  "$OUT/default_dropout0.65/train_log.csv=above+position, H 256, dropout 0.65"
echo "pixelrnn_variants.sh: runs, pictures and curves in $OUT/"
