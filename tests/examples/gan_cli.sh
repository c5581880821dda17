#!/usr/bin/env bash
# End-to-end checks of examples/gan_pokemon (and examples/evaluate_samples) on
# small generated data: both output designs train and write the report lines,
# sample/interpolate/eval work and draw pictures of the right size, bad
# input gives a clear error and exit status 1 (damaged checkpoints, another
# model's file, bad option values), and a run killed mid-way and resumed
# repeats an uninterrupted one.
# Usage: gan_cli.sh PATH/TO/gan_pokemon PATH/TO/evaluate_samples PATH/TO/vae_pokemon WORKDIR
set -uo pipefail
BIN=$1
EVAL=$2
VAE=$3
WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK"
export OMP_NUM_THREADS=1   # bitwise repeatability holds for a fixed thread count
source "$(dirname "$0")/lib.sh"


D=$WORK/data
make_data "$D" 300 5   # enough rows for a TEST and a VALIDATION of more than 3 images (the k-NN radii)
SMALL=(--data "$D" --generator 16 --discriminator 16 --noise 4 --batch 8 --passes 2 --seed 3)

# ---- the feature model and the yardstick ---------------------------------------------------------
F=$WORK/features.safetensors
if "$EVAL" make-features --data "$D" --out "$F" --epochs 2 >"$WORK/f.out" 2>&1 && grep -q '^epoch=2 loss=' "$WORK/f.out"; then
  pass "make-features"; else fail "make-features: $(cat "$WORK/f.out")"; fi
LINE='^images=[0-9]+ fd=[0-9.]+ precision=[0-9.]+ recall=[0-9.]+ judge_nll=(none|[0-9.]+) nearest_train=[0-9.]+ copies=[0-9.]+ background=[0-9.]+ components=[0-9.]+ colours=[0-9.]+$'
line=$("$EVAL" reference --data "$D" --features "$F")
if grep -qE "$LINE" <<<"$line"; then pass "reference: $line"; else fail "reference: $line"; fi
head -8 "$D/pixel_color.txt" >"$WORK/copies.txt"
line=$("$EVAL" score --data "$D" --features "$F" --images "$WORK/copies.txt")
if grep -qE "$LINE" <<<"$line" && grep -q ' copies=1.0000 ' <<<"$line"; then pass "data rows are copies: $line"; else
  fail "copies: $line"; fi
head -c 100 "$F" >"$WORK/bad_f.safetensors"
expect_error "truncated feature model" "safetensors" "$EVAL" score --data "$D" --features "$WORK/bad_f.safetensors" --images "$WORK/copies.txt"
head -3 "$D/pixel_color.txt" >"$WORK/three.txt"
expect_error "too few samples" "more than 3 samples" "$EVAL" score --data "$D" --features "$F" --images "$WORK/three.txt"
"$VAE" train --data "$D" --encoder 8 --decoder 8 --latent 2 --batch 8 --epochs 1 --out "$WORK/vae" >/dev/null 2>&1
expect_error "VAE file as the feature model" "not a yardstick feature model" \
  "$EVAL" score --data "$D" --features "$WORK/vae/model.safetensors" --images "$WORK/copies.txt"

# ---- both designs train; report lines; pictures -----------------------------------------------------
for out in rgb gumbel; do
  if "$BIN" train "${SMALL[@]}" --output $out --features "$F" --out "$WORK/$out" --epochs 2 >"$WORK/$out.out" 2>&1 &&
     [ -s "$WORK/$out/model.safetensors" ] && [ -s "$WORK/$out/best.safetensors" ] &&
     grep -qE '^epoch=2\.00 step=[0-9]+ minutes=[0-9.]+ d_loss=[0-9.]+ g_loss=[0-9.]+ d_real=[0-9.]+ d_fake=[0-9.]+ tau=[0-9.]+ sigma=[0-9.]+ valid_fd=[0-9.]+ valid_precision=[0-9.]+ valid_recall=[0-9.]+$' "$WORK/$out.out"; then
    pass "train $out"; else fail "train $out: $(cat "$WORK/$out.out")"; fi
done
M=$WORK/rgb/model.safetensors
if "$BIN" sample --data "$D" --weights "$M" --count 3 --out "$WORK/s.png" --out-indices "$WORK/s.txt" | grep -q '^wrote' &&
   [ "$(png_size "$WORK/s.png")" = "68x24" ] && [ "$(wc -l <"$WORK/s.txt")" -eq 3 ]; then pass "sample"; else fail "sample"; fi
if "$BIN" interpolate --data "$D" --weights "$WORK/gumbel/model.safetensors" --rows 2 --steps 4 --out "$WORK/i.png" | grep -q '^wrote' &&
   [ "$(png_size "$WORK/i.png")" = "90x46" ]; then pass "interpolate"; else fail "interpolate: $(png_size "$WORK/i.png")"; fi
line=$("$BIN" eval --data "$D" --weights "$M" --features "$F" --count 8)
if grep -qE "$LINE" <<<"$line"; then pass "eval: $line"; else fail "eval: $line"; fi
# eval scores exactly what sample writes.
"$BIN" sample --data "$D" --weights "$M" --count 8 --seed 4 --out "$WORK/s8.png" --out-indices "$WORK/s8.txt" >/dev/null
a=$("$BIN" eval --data "$D" --weights "$M" --features "$F" --count 8 --seed 4)
b=$("$EVAL" score --data "$D" --features "$F" --images "$WORK/s8.txt")
if [ "$a" = "$b" ]; then pass "eval = score of sample --out-indices"; else fail "eval '$a' vs score '$b'"; fi

# ---- bad checkpoints and data -----------------------------------------------------------------------
head -c 100 "$M" >"$WORK/truncated.safetensors"
expect_error "truncated checkpoint" "safetensors" "$BIN" sample --data "$D" --weights "$WORK/truncated.safetensors" --out "$WORK/x.png"
expect_error "missing checkpoint" "cannot open" "$BIN" sample --data "$D" --weights "$WORK/none.safetensors" --out "$WORK/x.png"
expect_error "a VAE checkpoint" "not a GAN checkpoint" "$BIN" sample --data "$D" --weights "$WORK/vae/model.safetensors" --out "$WORK/x.png"
python3 - "$M" "$WORK" <<'PY'
import struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = raw[8:8 + n].decode()
def write(name, h):
    open(sys.argv[2] + "/" + name, "wb").write(raw[:8] + h.encode() + raw[8 + n:])
write("renamed.safetensors", header.replace("generator_ema.", "generator_emx."))   # same length
write("edited.safetensors", header.replace('"gan.noise":"4"', '"gan.noise":"5"'))  # same length
PY
expect_error "a tensor renamed" "generator_ema" "$BIN" sample --data "$D" --weights "$WORK/renamed.safetensors" --out "$WORK/x.png"
expect_error "metadata that disagrees with the tensors" "shape" "$BIN" sample --data "$D" --weights "$WORK/edited.safetensors" --out "$WORK/x.png"
make_data "$WORK/other" 40 6
expect_error "checkpoint for other images" "the data has 36 pixels" "$BIN" sample --data "$WORK/other" --weights "$M" --out "$WORK/x.png"
expect_error_keeps "$M" "resume with another design" "holds a GAN with --output rgb" \
  "$BIN" train "${SMALL[@]}" --output gumbel --features "$F" --out "$WORK/rgb" --epochs 3 --resume
expect_error_keeps "$M" "resume with another --lr-d" "--lr-d" \
  "$BIN" train "${SMALL[@]}" --lr-d 1e-3 --features "$F" --out "$WORK/rgb" --epochs 3 --resume
cp "$WORK/rgb/model.optim.safetensors" "$WORK/optim.keep"
cp "$WORK/gumbel/model.optim.safetensors" "$WORK/rgb/model.optim.safetensors"
expect_error_keeps "$M" "optimizer file of another run" "optim" \
  "$BIN" train "${SMALL[@]}" --features "$F" --out "$WORK/rgb" --epochs 3 --resume
cp "$WORK/optim.keep" "$WORK/rgb/model.optim.safetensors"

# ---- every numeric option refused when negative, zero (where meaningless), NaN, infinite or absurd -----
refuse_table "$M" "$BIN" train "${SMALL[@]}" --out "$WORK/rgb" <<'EOF'
--epochs -1 0 nan inf 99999999999
--minutes -1 0 nan inf 1e300
--batch -1 0 nan 99999999999
--lr -1 0 nan inf
--lr-d -1 0 nan inf 1e300
--beta1 -1 nan inf 1
--noise -1 0 nan 99999999999
--colour-dim -1 0 nan 99999999999
--label-smoothing -1 0 nan inf 1.5
--instance-noise -1 nan inf 1e300
--noise-passes -1 0 nan 99999999999
--tau-start -1 0 nan inf 1e300
--tau-end -1 0 nan inf
--tau-passes -1 0 nan 99999999999
--ema -1 nan inf 1
--passes -1 0 nan 99999999999
--clip -1 nan inf
--seed -1 nan 99999999999999999999999
--generator -1 0 nan 16,inf
--discriminator -1 0 16,-3
--output pixels
EOF
P=$WORK/s.png
refuse_table "$P" "$BIN" sample --data "$D" --weights "$M" --out "$P" <<'EOF'
--count -1 0 nan inf 99999999999
--seed -1 nan 99999999999999999999999
EOF
refuse_table "$P" "$BIN" interpolate --data "$D" --weights "$M" --out "$P" <<'EOF'
--rows -1 0 nan 99999999999
--steps -1 0 1 nan 99999999999
EOF
refuse_table "" "$BIN" eval --data "$D" --weights "$M" --features "$F" <<'EOF'
--count -1 0 3 nan 99999999999
EOF
refuse_table "" "$EVAL" make-features --data "$D" --out "$WORK/f2.safetensors" <<'EOF'
--epochs -1 0 nan inf 99999999999
--seed -1 nan
--input grey RGB+
EOF
refuse_table "" "$EVAL" speckle --data "$D" --out "$WORK/sp.txt" <<'EOF'
--share -0.1 1.5 nan inf x
--seed -1 nan
EOF
# speckle: TEST (rows i % 20 == 7) with pixels replaced; share 0 is TEST itself, share 1 replaces about all.
awk 'NR % 20 == 8' "$D/pixel_color.txt" >"$WORK/test_rows.txt"
if "$EVAL" speckle --data "$D" --share 0 --out "$WORK/sp0.txt" >/dev/null && cmp -s "$WORK/sp0.txt" "$WORK/test_rows.txt" &&
   "$EVAL" speckle --data "$D" --share 1 --seed 2 --out "$WORK/sp1.txt" | grep -q '^wrote' &&
   [ "$(wc -l <"$WORK/sp1.txt")" -eq "$(wc -l <"$WORK/test_rows.txt")" ] && ! cmp -s "$WORK/sp1.txt" "$WORK/test_rows.txt"; then
  pass "speckle: share 0 writes TEST, share 1 changes it"; else fail "speckle"; fi
if "$EVAL" make-features --data "$D" --out "$WORK/f_rgb.safetensors" --epochs 1 --input rgb+edges >/dev/null &&
   "$EVAL" score --data "$D" --features "$WORK/f_rgb.safetensors" --images "$WORK/copies.txt" | grep -qE "$LINE"; then
  pass "make-features --input rgb+edges, and score with it"; else fail "make-features --input rgb+edges"; fi

# ---- divergence: the NaN guard stops the run; the last checkpoint stays ------------------------------
expect_error "NaN in training" "training diverged" \
  "$BIN" train "${SMALL[@]}" --out "$WORK/nan" --epochs 2 --lr 1e38 --lr-d 1e38
if [ ! -e "$WORK/nan/model.safetensors" ]; then pass "a diverged run saves nothing"; else fail "a diverged run saved"; fi

# ---- kill mid-run, resume, compare with an uninterrupted run -------------------------------------------
make_data "$WORK/big" 400 8
LONG=(--data "$WORK/big" --generator 64,64 --discriminator 64 --batch 8 --passes 3 --seed 5 --epochs 5)
"$BIN" train "${LONG[@]}" --out "$WORK/straight" >"$WORK/straight.out" 2>/dev/null
done_before=$(kill_after_first_epoch "$WORK/killed.out" "$BIN" train "${LONG[@]}" --out "$WORK/killed")
"$BIN" train "${LONG[@]}" --out "$WORK/killed" --resume >"$WORK/resumed.out" 2>"$WORK/resumed.err"
saved=$(resumed_epochs "$WORK/resumed.err")
strip() { sed -E 's/ minutes=[0-9.]+//' "$1"; }
# same_tensors A B: the two safetensors files hold the same tensor bytes (their metadata differ: minutes).
same_tensors() { python3 -c 'import struct,sys
def body(p):
    raw = open(p, "rb").read(); n = struct.unpack("<Q", raw[:8])[0]; return raw[8 + n:]
sys.exit(body(sys.argv[1]) != body(sys.argv[2]))' "$1" "$2"; }
if [ "$done_before" -ge 1 ] && [ -n "$saved" ] && [ "$saved" -ge "$done_before" ] &&
   [ "$saved" -le $((done_before + 1)) ] && [ "$saved" -lt 5 ] && [ -s "$WORK/resumed.out" ] &&
   epochs_after_match "$WORK/straight.out" "$WORK/resumed.out" "$saved" &&
   same_tensors "$WORK/straight/model.safetensors" "$WORK/killed/model.safetensors"; then
  pass "killed after $done_before epoch(s) ($saved saved) and resumed: the next epochs and the final weights match"
else
  fail "resume after kill (killed after $done_before epochs, $saved saved): $(tail -3 "$WORK/resumed.err")"; diff <(strip "$WORK/straight.out") <(strip "$WORK/resumed.out")
fi

finish
