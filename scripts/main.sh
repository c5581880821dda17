#!/usr/bin/env bash
# The main job, from a fresh Debian machine: install, build, train the
# PixelRNN on the Pokémon sprites for 20 minutes, then draw completions of
# unseen Pokémon and new ones from scratch.
#   bash scripts/main.sh [DATA_DIR] [OUT_DIR]
# DATA_DIR holds pixel_color.txt and colormap.txt (the lecture's format);
# by default ../shared/data/pokemon, then data/pokemon.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-}
OUT=${2:-runs/pixelrnn}
MINUTES=${MINUTES:-20}
if [ -z "$DATA" ]; then
  for d in ../shared/data/pokemon data/pokemon; do
    if [ -f "$d/pixel_color.txt" ] && [ -f "$d/colormap.txt" ]; then DATA=$d; break; fi
  done
fi
if [ -z "$DATA" ] || [ ! -f "$DATA/pixel_color.txt" ]; then
  echo "main.sh: no Pokémon data found. Put the lecture's pixel_color.txt and colormap.txt" >&2
  echo "(course page: speech.ee.ntu.edu.tw/~tlkagk/courses/ML_2016/Pokemon_creation/) in data/pokemon/," >&2
  echo "or pass their folder: bash scripts/main.sh DIR" >&2
  exit 1
fi
start=$(date +%s)
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEEPGEN_BUILD_TESTS=OFF -DDEEPGEN_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target pixelrnn_pokemon
BIN=build/examples/pixelrnn_pokemon
mkdir -p "$OUT"
$BIN train --data "$DATA" --out "$OUT" --minutes "$MINUTES"
$BIN eval --data "$DATA" --weights "$OUT/model.safetensors"
$BIN complete --data "$DATA" --weights "$OUT/model.safetensors" --keep 0.5 --count 8 --samples 4 --temperature 0.8 --out "$OUT/complete_half.png"
$BIN complete --data "$DATA" --weights "$OUT/model.safetensors" --keep 0.25 --count 8 --samples 4 --temperature 0.8 --out "$OUT/complete_quarter.png"
$BIN sample --data "$DATA" --weights "$OUT/model.safetensors" --count 16 --temperature 0.5 --out "$OUT/sample_t0.5.png"
$BIN sample --data "$DATA" --weights "$OUT/model.safetensors" --count 16 --temperature 1.0 --out "$OUT/sample_t1.0.png"
echo "main.sh: done in $(( ($(date +%s) - start) / 60 )) min; pictures and model in $OUT/"
