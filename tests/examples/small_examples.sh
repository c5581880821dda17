#!/usr/bin/env bash
# End-to-end checks of the small tutorial programs (examples/complete_pokemon,
# examples/walk_latent, examples/train_vae) on tiny generated data and tiny checkpoints trained by
# the full programs: each writes a valid PNG, and bad input (a missing or
# wrong file, a bad argument) gives "error: …" and exit status 1, never a crash.
# Usage: small_examples.sh COMPLETE WALK PIXELRNN_POKEMON VAE_POKEMON TRAIN_VAE WORKDIR
set -uo pipefail
COMPLETE=$1
WALK=$2
PIXELRNN=$3
VAE=$4
TRAIN_VAE=$5
WORK=$6
rm -rf "$WORK" && mkdir -p "$WORK"
export OMP_NUM_THREADS=2
source "$(dirname "$0")/lib.sh"

# is_png NAME FILE: FILE is non-empty, starts with the PNG signature, and its
# IHDR gives a non-zero width and height.
is_png() {
  local sig size
  sig=$(head -c 8 "$2" 2>/dev/null | od -An -tx1 | tr -d ' \n')
  size=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]))' "$2" 2>/dev/null)
  if [ -s "$2" ] && [ "$sig" = 89504e470d0a1a0a ] && [[ $size =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]]; then
    pass "$1 ($size)"; else fail "$1: not a PNG (signature '$sig', size '$size')"; fi
}

D=$WORK/data
make_data "$D" 40 5

# ---- tiny checkpoints from the full programs -------------------------------------------------
if "$PIXELRNN" train --data "$D" --out "$WORK/pixelrnn" --hidden 8 --batch 8 --epochs 1 --seed 3 >"$WORK/p.out" 2>&1 &&
   [ -s "$WORK/pixelrnn/model.safetensors" ]; then pass "train a tiny PixelRNN"; else
  fail "train a tiny PixelRNN: $(cat "$WORK/p.out")"; fi
if "$VAE" train --data "$D" --out "$WORK/vae" --encoder 16 --decoder 16 --latent 3 --batch 8 --epochs 1 --seed 3 \
     >"$WORK/v.out" 2>&1 && [ -s "$WORK/vae/model.safetensors" ]; then pass "train a tiny VAE"; else
  fail "train a tiny VAE: $(cat "$WORK/v.out")"; fi
PM=$WORK/pixelrnn/model.safetensors
VM=$WORK/vae/model.safetensors

# ---- complete_pokemon -------------------------------------------------------------------------
run_case "complete_pokemon writes its grid" 0 "" "$COMPLETE" "$D" "$PM" "$WORK/complete.png"
grep -qF "wrote $WORK/complete.png" "$WORK/stdout" && pass "complete_pokemon says what it wrote" ||
  fail "complete_pokemon stdout: $(cat "$WORK/stdout")"
is_png "complete_pokemon's PNG" "$WORK/complete.png"
expect_error "complete_pokemon: usage" "usage: complete_pokemon" "$COMPLETE" "$D"
expect_error "complete_pokemon: missing checkpoint" "error: " "$COMPLETE" "$D" "$WORK/none.safetensors" "$WORK/x.png"
expect_error "complete_pokemon: missing data" "error: " "$COMPLETE" "$WORK/nodata" "$PM" "$WORK/x.png"
expect_error "complete_pokemon: a VAE checkpoint" "is this a PixelRNN checkpoint" "$COMPLETE" "$D" "$VM" "$WORK/x.png"
[ -e "$WORK/x.png" ] && fail "a failed run left x.png" || pass "a failed run writes no PNG"

# ---- walk_latent ------------------------------------------------------------------------------
run_case "walk_latent writes its grid" 0 "" "$WALK" "$D" "$VM" "$WORK/walk.png"
is_png "walk_latent's PNG" "$WORK/walk.png"
run_case "walk_latent with dimensions 2 0" 0 "" "$WALK" "$D" "$VM" "$WORK/walk20.png" 2 0
is_png "walk_latent's PNG for dimensions 2 0" "$WORK/walk20.png"
cmp -s "$WORK/walk.png" "$WORK/walk20.png" && fail "walks over other dimensions drew the same picture" ||
  pass "walks over other dimensions differ"
expect_error "walk_latent: usage" "usage: walk_latent" "$WALK" "$D" "$VM" "$WORK/x.png" 0
expect_error "walk_latent: missing checkpoint" "error: " "$WALK" "$D" "$WORK/none.safetensors" "$WORK/x.png"
expect_error "walk_latent: a PixelRNN checkpoint" "error: " "$WALK" "$D" "$PM" "$WORK/x.png"
expect_error "walk_latent: a dimension the code lacks" "must be two different ones of 0 … 2" \
  "$WALK" "$D" "$VM" "$WORK/x.png" 0 3
# Each argument that is a number: negative, NaN, infinite, absurd and junk are refused naming it; an
# earlier PNG at OUT.png stays byte-identical.
for v in x -1 nan inf 1.5 99999999999; do
  expect_error_keeps "$WORK/walk.png" "walk_latent: DIM_J '$v'" "DIM_J: " "$WALK" "$D" "$VM" "$WORK/walk.png" 0 "$v"
  expect_error_keeps "$WORK/walk.png" "walk_latent: DIM_I '$v'" "DIM_I: " "$WALK" "$D" "$VM" "$WORK/walk.png" "$v" 1
done
for out in "" "$WORK" "$WORK/no/such/folder/x.png"; do
  expect_error "walk_latent: OUT.png '$out'" "OUT.png: " "$WALK" "$D" "$VM" "$out"
  expect_error "complete_pokemon: OUT.png '$out'" "OUT.png: " "$COMPLETE" "$D" "$PM" "$out"
done
[ -e "$WORK/x.png" ] && fail "a failed walk left x.png" || pass "a failed walk writes no PNG"

# ---- train_vae: the training loop from a user's side -------------------------------------------
if "$TRAIN_VAE" "$D" "$WORK/tv" 2 >"$WORK/tv.out" 2>&1 && [ "$(grep -c '^epoch=' "$WORK/tv.out")" -eq 2 ] &&
   [ -s "$WORK/tv/best.safetensors" ] && [ "$(wc -l <"$WORK/tv/train_log.csv")" -eq 3 ]; then
  pass "train_vae: two epochs, best.safetensors, a log of two rows"; else fail "train_vae: $(cat "$WORK/tv.out")"; fi
# Run again with a larger budget: it resumes at epoch 3 instead of starting over.
if "$TRAIN_VAE" "$D" "$WORK/tv" 3 >"$WORK/tv2.out" 2>&1 && grep -q "resuming .* at epoch 3" "$WORK/tv2.out" &&
   [ "$(grep -c '^epoch=' "$WORK/tv2.out")" -eq 1 ] && grep -q '^epoch=3.00 ' "$WORK/tv2.out"; then
  pass "train_vae: a second run resumes"; else fail "train_vae resume: $(cat "$WORK/tv2.out")"; fi
expect_error "train_vae: no data" "error: " "$TRAIN_VAE" "$WORK/nothing" "$WORK/tv3"
for v in -1 0 nan inf 1.5 x 99999999999; do
  expect_error_keeps "$WORK/tv/model.safetensors" "train_vae: EPOCHS '$v'" "EPOCHS: " "$TRAIN_VAE" "$D" "$WORK/tv" "$v"
done
expect_error_keeps "$WORK/tv/model.safetensors" "train_vae: OUT_DIR a file" "OUT_DIR: " \
  "$TRAIN_VAE" "$D" "$WORK/tv/model.safetensors" 3

finish
