#!/usr/bin/env bash
# The main job, from a fresh Debian machine: install, build, get the Pokémon
# data, train the PixelRNN for a few minutes, then draw completions of unseen
# Pokémon and new ones from scratch.
#   bash scripts/main.sh [DATA_DIR] [OUT_DIR]
# DATA_DIR (default data/pokemon) is filled by scripts/get_pokemon_data.sh
# when it holds no pixel_color.txt + colormap.txt: the lecture's files from
# the course page, or else a set built from the npm sprites. MINUTES sets the
# training time (default 5; the documented runs use 20). CONTEXT=previous
# trains the lecture's PixelRNN instead of the default that also sees the row
# above (docs/pixelrnn.md). DEVICE=cuda trains and draws on the GPU (default
# cpu; see docs/cuda.md).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/pokemon}
OUT=${2:-runs/pixelrnn}
MINUTES=${MINUTES:-5}
DEVICE=${DEVICE:-cpu}
CONTEXT=${CONTEXT:-above+position}
start=$(date +%s)
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEEPGEN_BUILD_TESTS=ON -DDEEPGEN_BUILD_BENCHMARKS=ON -DDEEPGEN_BUILD_EXAMPLES=ON >/dev/null
cmake --build build -j"$(nproc)" --target pixelrnn_pokemon make_pokemon_dataset
BUILD_DIR=build bash scripts/get_pokemon_data.sh "$DATA"
BIN=build/examples/pixelrnn_pokemon
mkdir -p "$OUT"
$BIN train --data "$DATA" --out "$OUT" --minutes "$MINUTES" --device "$DEVICE" --context "$CONTEXT"
$BIN eval --device "$DEVICE" --data "$DATA" --weights "$OUT/best.safetensors"
$BIN complete --device "$DEVICE" --data "$DATA" --weights "$OUT/best.safetensors" --keep 0.5 --count 8 --samples 4 --temperature 0.8 --out "$OUT/complete_half.png"
$BIN complete --device "$DEVICE" --data "$DATA" --weights "$OUT/best.safetensors" --keep 0.25 --count 8 --samples 4 --temperature 0.8 --out "$OUT/complete_quarter.png"
$BIN sample --device "$DEVICE" --data "$DATA" --weights "$OUT/best.safetensors" --count 16 --temperature 0.8 --out "$OUT/sample_t0.8.png"
$BIN sample --device "$DEVICE" --data "$DATA" --weights "$OUT/best.safetensors" --count 64 --seed 1 --temperature 1.0 --out "$OUT/sample_t1.0.png" --out-indices "$OUT/sample_t1.0.txt"
$BIN stats --data "$DATA" --images "$OUT/sample_t1.0.txt"  # background share, components, colours beside TEST's
echo "main.sh: done in $(( ($(date +%s) - start) / 60 )) min; pictures and model in $OUT/:"
ls "$OUT"/*.png
