#!/usr/bin/env bash
# End-to-end checks of examples/pixelrnn_pokemon on small generated data:
# bad input gives a clear error and exit status 1 (never a crash), the last
# good checkpoint survives a diverging run, and a run killed mid-epoch and
# resumed reports the same losses as one that was never interrupted.
# Usage: pixelrnn_cli.sh PATH/TO/pixelrnn_pokemon WORKDIR
set -uo pipefail
BIN=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK"
export OMP_NUM_THREADS=2   # bitwise repeatability holds for a fixed thread count
source "$(dirname "$0")/lib.sh"



D=$WORK/data
make_data "$D" 40 5
TRAIN=(--data "$D" --hidden 8 --batch 8 --seed 3)

# ---- bad data files -------------------------------------------------------------------
bad() { rm -rf "$WORK/bad" && cp -r "$D" "$WORK/bad"; }
bad; sed -i '2s/ [0-9]*$//' "$WORK/bad/pixel_color.txt"
expect_error "ragged pixel_color.txt" "line 2 has 24 values" "$BIN" train --data "$WORK/bad" --out "$WORK/o" --epochs 1
bad; sed -i '3s/^[0-9]*/x7/' "$WORK/bad/pixel_color.txt"
expect_error "non-numeric token" 'pixel_color.txt:3:1' "$BIN" train --data "$WORK/bad" --out "$WORK/o" --epochs 1
bad; sed -i '4s/^[0-9]*/6/' "$WORK/bad/pixel_color.txt"
expect_error "index >= K" "index 6 is out of range for a palette of 6 colours" "$BIN" train --data "$WORK/bad" --out "$WORK/o" --epochs 1
bad; : >"$WORK/bad/pixel_color.txt"
expect_error "empty pixel_color.txt" "holds no images" "$BIN" train --data "$WORK/bad" --out "$WORK/o" --epochs 1
bad; sed -i '2s/.*/0 0/' "$WORK/bad/colormap.txt"
expect_error "colormap with a bad line" "colormap.txt:2" "$BIN" train --data "$WORK/bad" --out "$WORK/o" --epochs 1
bad; rm "$WORK/bad/colormap.txt"
expect_error "missing colormap" "cannot open" "$BIN" train --data "$WORK/bad" --out "$WORK/o" --epochs 1

# ---- a good run, then bad checkpoints -------------------------------------------------------
OUT=$WORK/run
if "$BIN" train "${TRAIN[@]}" --out "$OUT" --epochs 1 >"$WORK/run.out" 2>&1 && [ -s "$OUT/model.safetensors" ]; then
  pass "train one epoch"; else fail "train one epoch: $(cat "$WORK/run.out")"; fi
M=$OUT/model.safetensors
if "$BIN" eval --data "$D" --weights "$M" | grep -qE '^nll_nats_per_pixel=[0-9.]+$'; then pass "eval prints nll"; else fail "eval output"; fi
head -c 100 "$M" >"$WORK/truncated.safetensors"
expect_error "truncated safetensors" "safetensors" "$BIN" eval --data "$D" --weights "$WORK/truncated.safetensors"
python3 - "$M" "$WORK" <<'PY'
import struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = raw[8:8 + n].decode()
w = sys.argv[2]
open(w + "/past_end.safetensors", "wb").write(struct.pack("<Q", len(raw) * 2) + raw[8:])
open(w + "/broken_json.safetensors", "wb").write(raw[:8] + header.replace("{", "[", 1).encode() + raw[8 + n:])
open(w + "/wrong_dtype.safetensors", "wb").write(raw[:8] + header.replace('"F32"', '"I32"', 1).encode() + raw[8 + n:])
# A same-length rename keeps the header length in the prefix valid.
open(w + "/renamed.safetensors", "wb").write(raw[:8] + header.replace("fc.bias", "fc.bIas").encode() + raw[8 + n:])
PY
expect_error "header length past the end" "header" "$BIN" eval --data "$D" --weights "$WORK/past_end.safetensors"
expect_error "broken JSON header" "header" "$BIN" eval --data "$D" --weights "$WORK/broken_json.safetensors"
expect_error "wrong dtype" "I32" "$BIN" eval --data "$D" --weights "$WORK/wrong_dtype.safetensors"
expect_error "missing tensor" "'fc.bias' is missing" "$BIN" eval --data "$D" --weights "$WORK/renamed.safetensors"
expect_error "missing weights file" "cannot open" "$BIN" eval --data "$D" --weights "$WORK/nothing.safetensors"
expect_error "hidden size that does not match" "has hidden size 8 but --hidden is 16" \
  "$BIN" train --data "$D" --hidden 16 --batch 8 --seed 3 --out "$OUT" --epochs 2 --resume
expect_error "keep out of range" "--keep" "$BIN" complete --data "$D" --weights "$M" --keep 1.5 --out "$WORK/c.png"

# ---- the model's configuration travels in the checkpoint (pixel_context.hpp) -----------------
# The default context sees the row above; the lecture model is --context previous. eval, complete and
# sample take neither: they read it from the file, and resume refuses another.
LECTURE=$WORK/lecture
if "$BIN" train "${TRAIN[@]}" --context previous --out "$LECTURE" --epochs 1 >"$WORK/lecture.out" 2>&1 &&
   "$BIN" eval --data "$D" --weights "$LECTURE/model.safetensors" | grep -qE '^nll_nats_per_pixel=[0-9.]+$'; then
  pass "train and eval the lecture model (--context previous)"; else fail "lecture model: $(cat "$WORK/lecture.out")"; fi
expect_error_keeps "$M" "resume with another context" "has context 'above+position' but --context is 'previous'" \
  "$BIN" train "${TRAIN[@]}" --context previous --out "$OUT" --epochs 2 --resume
run_case "unknown context (a usage error: exit status 1)" 1 "--context: diagonal not in" "$BIN" train "${TRAIN[@]}" --context diagonal --out "$WORK/o" --epochs 1
python3 - "$M" "$WORK" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
def write(name, key, value):
    h = json.loads(json.dumps(header))
    h["__metadata__"][key] = value
    text = json.dumps(h).encode()
    open(sys.argv[2] + "/" + name, "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
write("meta_context.safetensors", "pixelrnn.context", "diagonal")
write("meta_hidden.safetensors", "pixelrnn.hidden_size", "12x")
write("meta_width.safetensors", "pixelrnn.width", "4")
PY
expect_error "metadata: unknown context" "unknown PixelRNN context 'diagonal'" \
  "$BIN" eval --data "$D" --weights "$WORK/meta_context.safetensors"
expect_error "metadata: not a number" "'pixelrnn.hidden_size' is '12x'" \
  "$BIN" sample --data "$D" --weights "$WORK/meta_hidden.safetensors" --out "$WORK/s.png"
expect_error "metadata disagrees with the tensors" "metadata says" \
  "$BIN" complete --data "$D" --weights "$WORK/meta_width.safetensors" --keep 0.5 --count 2 --out "$WORK/c.png"

# Hand-edited training-loop metadata: --resume names the file and the key, and never indexes with it.
for edit in batch=-1 epoch=1x step=nan minutes=-5 train_sums=1,x since_best=; do
  rm -rf "$WORK/meta_run" && cp -r "$OUT" "$WORK/meta_run"
  python3 - "$OUT/model.safetensors" "$WORK/meta_run/model.safetensors" "${edit%%=*}" "${edit#*=}" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n])
h["__metadata__"][sys.argv[3]] = sys.argv[4]
text = json.dumps(h).encode()
open(sys.argv[2], "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
PY
  expect_error "resume from metadata $edit" "metadata '${edit%%=*}' = '${edit#*=}' is not a number in range" \
    "$BIN" train "${TRAIN[@]}" --out "$WORK/meta_run" --epochs 3 --resume
done

# ---- drawn images as indices, and their sprite figures beside TEST's -----------------------------
if "$BIN" sample --data "$D" --weights "$M" --count 4 --out "$WORK/s.png" --out-indices "$WORK/s.txt" | grep -q "wrote $WORK/s.txt" &&
   [ "$(wc -l <"$WORK/s.txt")" -eq 4 ] &&
   "$BIN" stats --data "$D" --images "$WORK/s.txt" >"$WORK/stats.out" &&
   grep -qE '^set=images images=4 background_share=[0-9.]+ components_median=[0-9.]+ components_mean=[0-9.]+ colours_median=[0-9.]+ colours_mean=[0-9.]+$' "$WORK/stats.out" &&
   grep -qE '^set=test images=2 ' "$WORK/stats.out" &&
   "$BIN" eval --data "$D" --weights "$M" --images "$WORK/s.txt" | grep -qE '^nll_nats_per_pixel=[0-9.]+$'; then
  pass "sample --out-indices, stats and eval --images read the drawn images"
else fail "--out-indices/stats: $(cat "$WORK/stats.out" 2>/dev/null)"; fi
if "$BIN" complete --data "$D" --weights "$M" --keep 0.5 --count 2 --samples 3 --out "$WORK/c.png" \
     --out-indices "$WORK/c.txt" >/dev/null && [ "$(wc -l <"$WORK/c.txt")" -eq 6 ] &&
   diff <(head -n 1 "$WORK/c.txt" | cut -d' ' -f1-15) <(sed -n 8p "$D/pixel_color.txt" | cut -d' ' -f1-15) >/dev/null; then
  pass "complete --out-indices keeps the top 3 rows of TEST image 0 (file row 7)"; else fail "complete --out-indices"; fi
make_data "$WORK/other" 40 4
expect_error "stats of images of another size" "images are 4 × 4 but the data's are 5 × 5" \
  "$BIN" stats --data "$D" --images "$WORK/other/pixel_color.txt"
expect_error "a 2-D model on images of another size" "5 × 5 images" \
  "$BIN" eval --data "$D" --weights "$M" --images "$WORK/other/pixel_color.txt"

# ---- divergence: NaN stops training with a message; the last checkpoint stays ------------------------
expect_error_keeps "$M" "NaN in training" "training diverged" \
  "$BIN" train "${TRAIN[@]}" --out "$OUT" --epochs 3 --resume --lr 1e38 --clip 0

# ---- pictures ------------------------------------------------------------------------------
for k in 0.5 0.25; do
  if "$BIN" complete --data "$D" --weights "$M" --keep $k --count 2 --samples 2 --out "$WORK/c$k.png" | grep -q '^wrote' &&
     [ -s "$WORK/c$k.png" ]; then pass "complete --keep $k"; else fail "complete --keep $k"; fi
done
if "$BIN" sample --data "$D" --weights "$M" --count 3 --temperature 0.5 --out "$WORK/s.png" | grep -q '^wrote'; then
  pass "sample"; else fail "sample"; fi

# ---- --bf16: the sampler's 16-bit weights (CPU): same kinds of output, an NLL within 0.01 of float32's ----------
if "$BIN" sample --data "$D" --weights "$M" --count 4 --bf16 --out "$WORK/s16.png" --out-indices "$WORK/s16.txt" |
     grep -q '^wrote' && [ "$(wc -l <"$WORK/s16.txt")" -eq 4 ] &&
   "$BIN" complete --data "$D" --weights "$M" --keep 0.5 --count 2 --samples 1 --bf16 --out "$WORK/c16.png" \
     --out-indices "$WORK/c16.txt" >/dev/null &&
   diff <(head -n 1 "$WORK/c16.txt" | cut -d' ' -f1-15) <(sed -n 8p "$D/pixel_color.txt" | cut -d' ' -f1-15) >/dev/null
then pass "sample and complete --bf16 (the kept rows stay)"; else fail "sample/complete --bf16"; fi
nll32=$("$BIN" eval --data "$D" --weights "$M" | sed -n 's/^nll_nats_per_pixel=//p')
nll16=$("$BIN" eval --data "$D" --weights "$M" --bf16 | sed -n 's/^nll_nats_per_pixel=//p')
if [ -n "$nll16" ] && awk -v a="$nll32" -v b="$nll16" 'BEGIN { d = a - b; exit !(d < 0.01 && d > -0.01 && a != b) }'; then
  pass "eval --bf16: $nll16 beside float32's $nll32"; else fail "eval --bf16: '$nll16' beside '$nll32'"; fi
expect_error "--bf16 with --device cuda" "--bf16 is an option of the CPU sampler" \
  "$BIN" sample --data "$D" --weights "$M" --bf16 --device cuda --out "$WORK/s16.png"

# ---- every numeric option: negative, zero (where 0 means nothing), NaN, infinite and absurd values are
# refused with exit 1 and the option named, before any work: the earlier checkpoint and PNG stay byte-identical.
# (examples/cli_checks.hpp holds the bounds; docs/reliability.md lists them.)
P=$WORK/s.png   # an earlier picture at the output path
refuse_table "$M" "$BIN" train --data "$D" --out "$OUT" <<'EOF'
--epochs -1 0 nan inf 1.5 99999999999
--minutes -1 0 nan inf -inf 1e300
--patience -1 nan inf 99999999999
--batch -1 0 nan inf 99999999999
--lr -1 0 nan inf 1e300
--clip -1 nan inf 1e300
--seed -1 nan inf 1.5 1e300 99999999999999999999999
--dropout -1 nan inf 0.99 1e300
--hidden -1 0 nan inf 99999999999
--out ''
EOF
refuse_values "$M" --out "$M" "$BIN" train --data "$D" --epochs 1   # a file where a folder belongs
# A budget that runs out before the first step trains nothing: refused, the checkpoint kept, the log not cut.
cp "$OUT/train_log.csv" "$WORK/log.before"
expect_error_keeps "$M" "a budget spent before the first step" "ran out before the first step" \
  "$BIN" train "${TRAIN[@]}" --out "$OUT" --minutes 1e-12
cmp -s "$OUT/train_log.csv" "$WORK/log.before" && pass "train_log.csv untouched" || fail "train_log.csv changed"
refuse_table "$P" "$BIN" complete --data "$D" --weights "$M" --out "$P" <<'EOF'
--keep -1 0 1 nan inf 1e300 0.01 0.95
EOF
refuse_table "$P" "$BIN" complete --data "$D" --weights "$M" --keep 0.5 --out "$P" <<'EOF'
--count -1 0 nan inf 3 99999999999
--samples -1 0 nan inf 99999999999
--temperature -1 nan inf 1e300
--seed -1 nan 99999999999999999999999
EOF
refuse_table "$P" "$BIN" sample --data "$D" --weights "$M" --out "$P" <<'EOF'
--count -1 0 nan inf 99999999999
--temperature -1 nan inf 1e300
--seed -1 nan 99999999999999999999999
--out-indices '' /
EOF
refuse_values "$P" --out "'' $WORK $WORK/no/such/folder/s.png" "$BIN" sample --data "$D" --weights "$M"
run_case "--help exits 0" 0 "" "$BIN" sample --help

# ---- --device cuda: where it works, the GPU trains, scores and draws, and the checkpoint scores the
# same on both devices; where it cannot (no GPU, or a build without CUDA), a clear error ----------------
mode=$(cuda_mode "$BIN" eval --data "$D" --weights "$M" --device cuda)
if [ "$mode" = works ]; then
  if "$BIN" train "${TRAIN[@]}" --out "$WORK/gpu" --epochs 2 --device cuda >"$WORK/gpu.out" 2>&1 &&
     "$BIN" train "${TRAIN[@]}" --out "$WORK/gpu" --epochs 3 --resume >>"$WORK/gpu.out" 2>&1; then
    pass "train 2 epochs on the GPU, a third resumed on the CPU"; else fail "GPU train: $(cat "$WORK/gpu.out")"; fi
  cpu_nll=$("$BIN" eval --data "$D" --weights "$WORK/gpu/model.safetensors" | sed 's/.*=//')
  gpu_nll=$("$BIN" eval --data "$D" --weights "$WORK/gpu/model.safetensors" --device cuda | sed 's/.*=//')
  if awk -v a="$cpu_nll" -v b="$gpu_nll" 'BEGIN { d = a - b; exit !(a > 0 && d < 1e-4 && d > -1e-4) }'; then
    pass "eval on the GPU equals the CPU's ($gpu_nll vs $cpu_nll)"; else fail "GPU eval $gpu_nll vs CPU $cpu_nll"; fi
  if "$BIN" complete --data "$D" --weights "$M" --keep 0.5 --count 2 --samples 2 --out "$WORK/gc.png" --device cuda |
       grep -q '^wrote' && "$BIN" sample --data "$D" --weights "$M" --count 3 --out "$WORK/gs.png" --device cuda |
       grep -q '^wrote'; then pass "complete and sample on the GPU"; else fail "complete/sample --device cuda"; fi
elif [ "$mode" != refused ]; then
  fail "a GPU is visible but eval --device cuda failed: ${mode#broken: }"
else
  expect_error_keeps "$M" "train --device cuda without a GPU" "--device cuda:" \
    "$BIN" train "${TRAIN[@]}" --out "$OUT" --epochs 3 --resume --device cuda
  expect_error "sample --device cuda without a GPU" "--device cuda:" \
    "$BIN" sample --data "$D" --weights "$M" --count 2 --out "$WORK/s.png" --device cuda
fi

# ---- kill mid-epoch, resume, compare with an uninterrupted run ---------------------------------
# Epochs of about a second, so the kill lands inside a run of four. Under the
# sanitizers (DEEPGEN_SANITIZED, tests/CMakeLists.txt) a quarter of the rows and
# half the cells give epochs of a few seconds instead of 50.
if [ -n "${DEEPGEN_SANITIZED:-}" ]; then
  make_data "$WORK/big" 200 12
  LONG=(--data "$WORK/big" --hidden 64 --batch 16 --seed 5 --epochs 4)
else
  make_data "$WORK/big" 800 12
  LONG=(--data "$WORK/big" --hidden 128 --batch 16 --seed 5 --epochs 4)
fi
"$BIN" train "${LONG[@]}" --out "$WORK/straight" >"$WORK/straight.out" 2>/dev/null
done_before=$(kill_after_first_epoch "$WORK/killed.out" "$BIN" train "${LONG[@]}" --out "$WORK/killed")
"$BIN" train "${LONG[@]}" --out "$WORK/killed" --resume >"$WORK/resumed.out" 2>"$WORK/resumed.err"
saved=$(resumed_epochs "$WORK/resumed.err")
# Every epoch line after the kill must equal the uninterrupted run's (minutes aside).
strip() { sed -E 's/ minutes=[0-9.]+//' "$1"; }
if [ "$done_before" -ge 1 ] && [ -n "$saved" ] && [ "$saved" -ge "$done_before" ] &&
   [ "$saved" -le $((done_before + 1)) ] && [ "$saved" -lt 4 ] && [ -s "$WORK/resumed.out" ] &&
   epochs_after_match "$WORK/straight.out" "$WORK/resumed.out" "$saved"; then
  pass "killed after $done_before epoch(s) ($saved saved) and resumed: next epochs match the uninterrupted run"
else
  fail "resume after kill (killed after $done_before epochs, $saved saved): $(tail -3 "$WORK/resumed.err")"; diff <(strip "$WORK/straight.out") <(strip "$WORK/resumed.out")
fi

# ---- Ctrl-C mid-epoch: the step finishes, the checkpoint is saved, exit 130; resume matches ----------
"$BIN" train "${LONG[@]}" --out "$WORK/sigint" >"$WORK/sigint.out" 2>"$WORK/sigint.err" &
pid=$!
while [ "$(epochs_in "$WORK/sigint.out")" -lt 1 ] && kill -0 $pid 2>/dev/null; do sleep 0.01; done
sleep 0.2
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
lines_before=$(grep -c '^epoch=' "$WORK/sigint.out")
if [ $rc -eq 130 ] && grep -q "interrupted by SIGINT" "$WORK/sigint.err" && grep -q -- "--resume" "$WORK/sigint.err"; then
  pass "SIGINT: exit 130 with a message"; else fail "SIGINT: exit $rc, stderr: $(cat "$WORK/sigint.err")"; fi
"$BIN" train "${LONG[@]}" --out "$WORK/sigint" --resume >"$WORK/sigint2.out" 2>/dev/null
if [ "$lines_before" -ge 1 ] && [ "$lines_before" -lt 4 ] &&
   epochs_after_match "$WORK/straight.out" "$WORK/sigint2.out" "$lines_before"; then
  pass "SIGINT after $lines_before epoch(s), resumed: next epochs match the uninterrupted run"
else
  fail "resume after SIGINT:"; diff <(strip "$WORK/straight.out") <(strip "$WORK/sigint2.out")
fi

finish
