#!/usr/bin/env bash
# End-to-end checks of examples/vae_pokemon on small generated data: bad
# input gives a clear error and exit status 1 (never a crash), the output
# lines keep their form, pictures have the right size, the last good
# checkpoint survives a diverging run, and a resumed run repeats an
# uninterrupted one.
# Usage: vae_cli.sh PATH/TO/vae_pokemon WORKDIR
set -uo pipefail
BIN=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK"
export OMP_NUM_THREADS=2   # bitwise repeatability holds for a fixed thread count
source "$(dirname "$0")/lib.sh"




D=$WORK/data
make_data "$D" 60 5
SMALL=(--data "$D" --encoder 16 --decoder 16 --latent 3 --batch 8 --seed 3)

# ---- bad data files -------------------------------------------------------------------
bad() { rm -rf "$WORK/bad" && cp -r "$D" "$WORK/bad"; }
bad; sed -i '2s/ [0-9]*$//' "$WORK/bad/pixel_color.txt"
expect_error "ragged pixel_color.txt" "line 2 has 24 values" "$BIN" train --data "$WORK/bad" --out "$WORK/o" --epochs 1
bad; sed -i '4s/^[0-9]*/6/' "$WORK/bad/pixel_color.txt"
expect_error "index >= K" "index 6 is out of range for a palette of 6 colours" "$BIN" train --data "$WORK/bad" --out "$WORK/o" --epochs 1
bad; rm "$WORK/bad/colormap.txt"
expect_error "missing colormap" "cannot open" "$BIN" train --data "$WORK/bad" --out "$WORK/o" --epochs 1
expect_error "bad --encoder widths" "--encoder '16,x'" "$BIN" train --data "$D" --encoder 16,x --out "$WORK/o" --epochs 1

# ---- a VAE and an AE, eval lines ------------------------------------------------------------
for mode in vae ae; do
  if "$BIN" train "${SMALL[@]}" --mode $mode --out "$WORK/$mode" --epochs 2 >"$WORK/$mode.out" 2>&1 &&
     [ -s "$WORK/$mode/model.safetensors" ] &&
     grep -qE '^epoch=2\.00 step=[0-9]+ minutes=[0-9.]+ beta=[0-9.]+ train_loss=[0-9.]+ valid_neg_elbo_nats_per_image=[0-9.]+ valid_recon=[0-9.]+ valid_kl=[0-9.]+ test_neg_elbo_nats_per_image=[0-9.]+ test_recon=[0-9.]+ test_kl=[0-9.]+$' "$WORK/$mode.out"; then
    pass "train $mode"; else fail "train $mode: $(cat "$WORK/$mode.out")"; fi
done
V=$WORK/vae/model.safetensors
A=$WORK/ae/model.safetensors
line=$("$BIN" eval --data "$D" --weights "$V")
if grep -qE '^neg_elbo_nats_per_image=[0-9.]+ recon=[0-9.]+ kl=[0-9.]+$' <<<"$line" && ! grep -q 'kl=0.0000$' <<<"$line"; then
  pass "eval vae: $line"; else fail "eval vae: $line"; fi
# eval and train report the same TEST figure for the same checkpoint.
train_fig=$(grep '^epoch=2.00' "$WORK/vae.out" | sed -E 's/.*test_neg_elbo_nats_per_image=([0-9.]+).*/\1/')
eval_fig=$(sed -E 's/^neg_elbo_nats_per_image=([0-9.]+).*/\1/' <<<"$line")
if python3 -c "import sys; sys.exit(abs($train_fig - $eval_fig) > 0.01)"; then pass "train and eval agree ($eval_fig)"; else
  fail "train reported $train_fig, eval $eval_fig"; fi
line=$("$BIN" eval --data "$D" --weights "$A")
if grep -qE '^neg_elbo_nats_per_image=([0-9.]+) recon=\1 kl=0\.0000$' <<<"$line"; then pass "eval ae: $line"; else fail "eval ae: $line"; fi

# ---- pictures of the right size ---------------------------------------------------------------
# 20x20 cells (5 px × scale 4) with 2 px separators: N cells span 2 + N·22 px.
"$BIN" walk --data "$D" --weights "$V" --dims 0,2 --grid 4 --out "$WORK/walk.png" >/dev/null
if [ "$(png_size "$WORK/walk.png")" = "90x90" ]; then pass "walk 4x4"; else fail "walk 4x4: $(png_size "$WORK/walk.png")"; fi
"$BIN" walk --data "$D" --weights "$V" --dims 2,1 --grid 3 --base test:1 --decode mean --out "$WORK/walk3.png" >/dev/null
if [ "$(png_size "$WORK/walk3.png")" = "68x68" ]; then pass "walk 3x3 from a TEST code"; else fail "walk 3x3: $(png_size "$WORK/walk3.png")"; fi
if "$BIN" walk --data "$D" --weights "$V" --all --grid 5 --out "$WORK/all.png" | grep -q '^wrote' &&
   [ "$(png_size "$WORK/all.png" | cut -dx -f2)" = "68" ]; then pass "walk --all: one row per dimension"; else fail "walk --all"; fi
for m in vae ae; do
  if "$BIN" sample --data "$D" --weights "$WORK/$m/model.safetensors" --count 3 --decode sample --out "$WORK/s_$m.png" | grep -q '^wrote' &&
     [ "$(png_size "$WORK/s_$m.png")" = "68x24" ]; then pass "sample $m"; else fail "sample $m"; fi
done
if "$BIN" reconstruct --data "$D" --weights "$V" --count 3 --out "$WORK/r.png" | grep -q '^wrote' &&
   [ "$(png_size "$WORK/r.png")" = "68x46" ]; then pass "reconstruct"; else fail "reconstruct"; fi
if "$BIN" interpolate --data "$D" --weights "$A" --from 0 --to 2 --steps 4 --out "$WORK/i.png" | grep -q '^wrote' &&
   [ "$(png_size "$WORK/i.png")" = "134x24" ]; then pass "interpolate"; else fail "interpolate"; fi

# ---- bad arguments and checkpoints --------------------------------------------------------------
W=(--data "$D" --weights "$V" --out "$WORK/x.png")
expect_error "--dims equal" "must differ" "$BIN" walk "${W[@]}" --dims 1,1
expect_error "--dims out of range" "dimension 3 does not exist" "$BIN" walk "${W[@]}" --dims 0,3
expect_error "--dims negative" "dimension -1 does not exist" "$BIN" walk "${W[@]}" --dims=-1,0
expect_error "--dims not numbers" "'a' is not a number" "$BIN" walk "${W[@]}" --dims a,1
expect_error "--dims one number" "separated by a comma" "$BIN" walk "${W[@]}" --dims 1
expect_error "--dims and --all" "either --dims I,J or --all" "$BIN" walk "${W[@]}" --dims 0,1 --all
expect_error "--base bad" "expected zero or test:K" "$BIN" walk "${W[@]}" --dims 0,1 --base test:x
expect_error "--base past TEST" "not a TEST image" "$BIN" walk "${W[@]}" --dims 0,1 --base test:99
expect_error "--from past TEST" "--from 99 is not a TEST image" "$BIN" interpolate "${W[@]}" --from 99 --to 0
expect_error "resume with the other mode" "holds a model of mode vae but --mode is ae" \
  "$BIN" train "${SMALL[@]}" --mode ae --out "$WORK/vae" --epochs 3 --resume
expect_error "resume with another latent size" "has a 3-dimensional code but --latent is 4" \
  "$BIN" train --data "$D" --encoder 16 --decoder 16 --latent 4 --batch 8 --seed 3 --out "$WORK/vae" --epochs 3 --resume
head -c 100 "$V" >"$WORK/truncated.safetensors"
expect_error "truncated checkpoint" "safetensors" "$BIN" eval --data "$D" --weights "$WORK/truncated.safetensors"
expect_error "missing checkpoint" "cannot open" "$BIN" eval --data "$D" --weights "$WORK/nothing.safetensors"
python3 - "$V" "$WORK" <<'PY'
import struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = raw[8:8 + n].decode()
# Same length, so the header size stays right: only the names are wrong.
open(sys.argv[2] + "/renamed.safetensors", "wb").write(raw[:8] + header.replace("encoder.", "encodex.").encode() + raw[8 + n:])
PY
expect_error "not a VAE checkpoint" "not a VAE or AE checkpoint" "$BIN" eval --data "$D" --weights "$WORK/renamed.safetensors"
make_data "$WORK/other" 40 6
expect_error "checkpoint for other images" "reads images of 25 pixels but the data has 36" \
  "$BIN" eval --data "$WORK/other" --weights "$V"

# ---- every numeric option: negative, zero (where 0 means nothing), NaN, infinite and absurd values are
# refused with exit 1 and the option named, before any work: the earlier checkpoint and PNG stay byte-identical.
P=$WORK/walk.png   # an earlier picture at the output path
refuse_table "$V" "$BIN" train --data "$D" --out "$WORK/vae" <<'EOF'
--epochs -1 0 nan inf 1.5 99999999999
--minutes -1 0 nan inf 1e300
--patience -1 nan inf 99999999999
--batch -1 0 nan inf 99999999999
--lr -1 0 nan inf 1e300
--clip -1 nan inf 1e300
--seed -1 nan inf 99999999999999999999999
--latent -1 0 nan inf 99999999999
--beta -1 nan inf 1e300
--warmup -1 nan inf 1e300
--colour-dim -1 nan inf 99999999999
--weight-decay -1 nan inf 1e300
--encoder -1 0 nan 16,inf 99999999999
--decoder -1 0 nan 16,-3 99999999999
--out ''
EOF
refuse_table "" "$BIN" eval --data "$D" --weights "$V" <<'EOF'
--samples -1 0 nan inf 99999999999
--seed -1 nan 99999999999999999999999
EOF
refuse_table "$P" "$BIN" sample --data "$D" --weights "$V" --out "$P" <<'EOF'
--count -1 0 nan inf 99999999999
--seed -1 nan 99999999999999999999999
EOF
refuse_table "$P" "$BIN" walk --data "$D" --weights "$V" --dims 0,1 --out "$P" <<'EOF'
--grid -1 0 1 nan inf 99999999999
--range -1 0 nan inf 1e300
EOF
refuse_table "$P" "$BIN" reconstruct --data "$D" --weights "$V" --out "$P" <<'EOF'
--count -1 0 nan inf 4 99999999999
EOF
refuse_table "$P" "$BIN" interpolate --data "$D" --weights "$V" --from 0 --to 1 --out "$P" <<'EOF'
--steps -1 0 1 nan inf 99999999999
EOF
refuse_table "$P" "$BIN" interpolate --data "$D" --weights "$V" --to 1 --out "$P" <<'EOF'
--from -1 nan inf 3 99999999999999999999999
EOF
refuse_values "$P" --out "'' $WORK $WORK/no/such/folder/w.png" "$BIN" sample --data "$D" --weights "$V"

# ---- divergence: NaN stops training with a message; the last checkpoint stays ----------------------
expect_error_keeps "$V" "NaN in training" "training diverged" \
  "$BIN" train "${SMALL[@]}" --out "$WORK/vae" --epochs 4 --resume --lr 1e38 --clip 0

# ---- --device cuda: where it works, the GPU trains and the checkpoint scores the same on both devices;
# where it cannot (no GPU, or a build without CUDA), a clear error and the checkpoint untouched ------------
mode=$(cuda_mode "$BIN" eval --data "$D" --weights "$V" --device cuda)
if [ "$mode" = works ]; then
  if "$BIN" train "${SMALL[@]}" --out "$WORK/gpu" --epochs 2 --device cuda >"$WORK/gpu.out" 2>&1 &&
     "$BIN" train "${SMALL[@]}" --out "$WORK/gpu" --epochs 3 --resume >>"$WORK/gpu.out" 2>&1; then
    pass "train 2 epochs on the GPU, a third resumed on the CPU"; else fail "GPU train: $(cat "$WORK/gpu.out")"; fi
  cpu_fig=$("$BIN" eval --data "$D" --weights "$WORK/gpu/model.safetensors" | sed -E 's/^neg_elbo_nats_per_image=([0-9.]+).*/\1/')
  gpu_fig=$("$BIN" eval --data "$D" --weights "$WORK/gpu/model.safetensors" --device cuda |
            sed -E 's/^neg_elbo_nats_per_image=([0-9.]+).*/\1/')
  if python3 -c "import sys; sys.exit(not ($cpu_fig > 0 and abs($cpu_fig - $gpu_fig) <= 1e-3 * $cpu_fig))"; then
    pass "eval on the GPU equals the CPU's ($gpu_fig vs $cpu_fig)"; else fail "GPU eval $gpu_fig vs CPU $cpu_fig"; fi
elif [ "$mode" != refused ]; then
  fail "a GPU is visible but eval --device cuda failed: ${mode#broken: }"
else
  expect_error_keeps "$V" "train --device cuda without a GPU" "--device cuda:" \
    "$BIN" train "${SMALL[@]}" --out "$WORK/vae" --epochs 4 --resume --device cuda
  expect_error "eval --device cuda without a GPU" "--device cuda:" "$BIN" eval --data "$D" --weights "$V" --device cuda
fi

# ---- resume repeats an uninterrupted run ---------------------------------------------------------
strip() { grep '^epoch=' "$1" | sed -E 's/ minutes=[0-9.]+//'; }
"$BIN" train "${SMALL[@]}" --warmup 2 --out "$WORK/straight" --epochs 3 >"$WORK/straight.out" 2>/dev/null
"$BIN" train "${SMALL[@]}" --warmup 2 --out "$WORK/split" --epochs 1 >"$WORK/split1.out" 2>/dev/null
"$BIN" train "${SMALL[@]}" --warmup 2 --out "$WORK/split" --epochs 3 --resume >"$WORK/split2.out" 2>/dev/null
if [ "$(strip "$WORK/straight.out" | wc -l)" -eq 3 ] &&
   diff <(strip "$WORK/straight.out") <(cat <(strip "$WORK/split1.out") <(strip "$WORK/split2.out")) >/dev/null; then
  pass "1 epoch + resume to 3 repeats 3 straight epochs"; else
  fail "resume:"; diff <(strip "$WORK/straight.out") <(cat <(strip "$WORK/split1.out") <(strip "$WORK/split2.out")); fi

finish
