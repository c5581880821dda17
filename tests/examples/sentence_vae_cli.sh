#!/usr/bin/env bash
# End-to-end checks of examples/make_sentence_corpus and examples/sentence_vae
# on a small generated corpus: output lines keep their form, train and eval
# agree, a resumed run repeats an uninterrupted one, and bad input (an empty
# sentence, only unknown words, a sentence longer than the model reads, a
# checkpoint read with another vocabulary, …) gives a clear error and exit
# status 1, never a crash, with the saved checkpoint untouched.
# Usage: sentence_vae_cli.sh PATH/TO/sentence_vae PATH/TO/make_sentence_corpus WORKDIR
set -uo pipefail
BIN=$1
CORPUS_BIN=$2
WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK"
export OMP_NUM_THREADS=2   # bitwise repeatability holds for a fixed thread count
source "$(dirname "$0")/lib.sh"

# ---- a fake WordNet: glosses quoting generated sentences ------------------------------------
WN=$WORK/wordnet
mkdir -p "$WN"
awk 'BEGIN { srand(11);
  split("the a", det, " "); split("cat dog bird man woman child teacher farmer", noun, " ");
  split("saw liked chased found helped called", verb, " "); split("old small happy quiet red", adj, " ");
  print "  1 This software is provided \"as is\" and the license says so here";
  for (i = 0; i < 1500; i++) {
    s = det[1 + int(rand() * 2)] " " adj[1 + int(rand() * 5)] " " noun[1 + int(rand() * 8)] " " verb[1 + int(rand() * 6)] " the " noun[1 + int(rand() * 8)];
    if (rand() < 0.5) s = s " in the " adj[1 + int(rand() * 5)] " house";
    printf "%08d 05 n 01 thing 0 000 | a gloss; \"%s\"; \"too short\"\n", i, s } }' >"$WN/data.noun"
for pos in verb adj adv; do echo "00000001 00 v 00 | nothing quoted here" >"$WN/data.$pos"; done
D=$WORK/corpus
if "$CORPUS_BIN" --wordnet "$WN" --out "$D" >"$WORK/corpus.out" 2>&1 &&
   grep -qE '^sentences=[0-9]+ train=[0-9]+ valid=[0-9]+ test=[0-9]+ tokens=[0-9]+ distinct_words=2[0-9]$' "$WORK/corpus.out" &&
   [ -s "$D/train.txt" ] && [ -s "$D/valid.txt" ] && [ -s "$D/test.txt" ]; then
  pass "make_sentence_corpus: $(head -1 "$WORK/corpus.out")"; else fail "make_sentence_corpus: $(cat "$WORK/corpus.out")"; fi
expect_error "corpus: no WordNet" "wordnet-base" "$CORPUS_BIN" --wordnet "$WORK/nowhere" --out "$WORK/c2"

# ---- train a VAE and a language model -------------------------------------------------------
SIZES=(--data "$D" --embedding 8 --hidden 16 --latent 4 --batch 16 --anneal-steps 50)
SMALL=("${SIZES[@]}" --seed 3)
EPOCH_LINE='^epoch=2\.00 step=[0-9]+ minutes=[0-9.]+ beta=[0-9.]+ train_recon=[0-9.]+ train_kl=[0-9.]+ valid_nll=[0-9.]+ valid_recon=[0-9.]+ valid_kl=[0-9.]+ valid_ppl=[0-9.]+$'
# all_files DIR: every file training writes is there and not empty.
all_files() {
  local f
  for f in vocab.txt model.safetensors model.optim.safetensors best.safetensors train_log.csv steps.csv; do
    [ -s "$1/$f" ] || return 1
  done
}
for model in vae lm; do
  if "$BIN" train "${SMALL[@]}" --model $model --out "$WORK/$model" --epochs 2 >"$WORK/$model.out" 2>"$WORK/$model.err" &&
     grep -qE "$EPOCH_LINE" "$WORK/$model.out" && all_files "$WORK/$model"; then
    pass "train $model"; else fail "train $model: $(cat "$WORK/$model.out" "$WORK/$model.err")"; fi
done
V=$WORK/vae/model.safetensors
L=$WORK/lm/model.safetensors

line=$("$BIN" eval --weights "$V" --data "$D")
if grep -qE '^nll_per_sentence=[0-9.]+ kl=[0-9.]+ ppl=[0-9.]+ recon=[0-9.]+ sentences=[0-9]+ tokens=[0-9]+$' <<<"$line" &&
   ! grep -q ' kl=0.000 ' <<<"$line"; then pass "eval vae: $line"; else fail "eval vae: $line"; fi
line=$("$BIN" eval --weights "$L" --data "$D")
if grep -qE '^nll_per_sentence=([0-9.]+) kl=0\.000 ppl=[0-9.]+ recon=\1 ' <<<"$line"; then pass "eval lm: $line"; else fail "eval lm: $line"; fi
# train's validation figure and eval's, for the same checkpoint and the same file.
train_fig=$(sed -nE 's/^epoch=2\.00 .* valid_nll=([0-9.]+) .*/\1/p' "$WORK/vae.out")
eval_fig=$("$BIN" eval --weights "$V" --sentences "$D/valid.txt" | head -1 | sed -E 's/^nll_per_sentence=([0-9.]+) .*/\1/')
if python3 -c "import sys; sys.exit(abs($train_fig - $eval_fig) > 0.01)"; then pass "train and eval agree ($eval_fig)"; else
  fail "train reported $train_fig, eval $eval_fig"; fi

# ---- reconstruct, sample, interpolate ----------------------------------------------------------
out=$("$BIN" reconstruct --weights "$V" "The old cat saw the DOG" "a small bird helped the farmer" 2>&1)
if [ "$(grep -c '^input: ' <<<"$out")" = 2 ] && [ "$(grep -c '^reconstruction: ' <<<"$out")" = 2 ] &&
   grep -q '^input: the old cat saw the dog$' <<<"$out"; then pass "reconstruct"; else fail "reconstruct: $out"; fi
out=$("$BIN" reconstruct --weights "$V" --beam 3 "the zebra saw the dog" 2>&1)
if grep -q 'warning: not in the vocabulary, read as <unk>: zebra' <<<"$out" && grep -q '^reconstruction: ' <<<"$out"; then
  pass "reconstruct with an unknown word, beam 3"; else fail "reconstruct unknown word: $out"; fi
if [ "$("$BIN" sample --weights "$V" --count 5 | wc -l)" = 5 ] &&
   [ "$("$BIN" sample --weights "$L" --count 3 --temperature 1 --seed 4 | wc -l)" = 3 ]; then pass "sample vae and lm"; else
  fail "sample"; fi
out=$("$BIN" interpolate --weights "$V" --from "the old cat saw the dog" --to "a happy man called the child" --steps 4 --no-unk)
if [ "$(grep -cE '^(0\.00|0\.33|0\.67|1\.00)  ' <<<"$out")" = 4 ]; then pass "interpolate"; else fail "interpolate: $out"; fi

# ---- bad input ---------------------------------------------------------------------------------------
expect_error "empty sentence" "is empty" "$BIN" reconstruct --weights "$V" ""
expect_error "only unknown words" "every word of 'zebras graze quietly' is outside" "$BIN" reconstruct --weights "$V" "zebras graze quietly"
long=$(printf 'the cat %.0s' {1..15})
expect_error "longer than the model reads" "has 30 tokens but the model reads at most" "$BIN" interpolate --weights "$V" --from "$long" --to "the cat"
# Another vocabulary of the same size: two words swapped.
awk 'NR == 5 { a = $0; next } NR == 6 { print; print a; next } { print }' "$WORK/vae/vocab.txt" >"$WORK/swapped.txt"
expect_error "another vocabulary (same size)" "was trained with another vocabulary" "$BIN" eval --weights "$V" --data "$D" --vocab "$WORK/swapped.txt"
head -n 10 "$WORK/vae/vocab.txt" >"$WORK/short.txt"
expect_error "another vocabulary (size)" "but $WORK/short.txt has 10" "$BIN" sample --weights "$V" --vocab "$WORK/short.txt"
expect_error "not a vocabulary" "vocabulary" "$BIN" sample --weights "$V" --vocab "$D/test.txt"
expect_error "language model has no code" "is a language model" "$BIN" interpolate --weights "$L" --from "the cat" --to "the dog"
expect_error "eval needs one source" "not both" "$BIN" eval --weights "$V" --data "$D" --sentences "$D/test.txt"
expect_error "beam and temperature" "does not combine" "$BIN" sample --weights "$V" --beam 2 --temperature 1
expect_error "missing corpus" "cannot open" "$BIN" train --data "$WORK/none" --out "$WORK/x"
expect_error "not a checkpoint" "not a safetensors file" "$BIN" eval --weights "$D/test.txt" --data "$D"
expect_error_keeps "$V" "resume with another seed" "--seed 3" \
  "$BIN" train "${SIZES[@]}" --seed 4 --out "$WORK/vae" --epochs 3 --resume

expect_error "resume with another word dropout" "--word-dropout 0 but this run has 0.5" "$BIN" train "${SMALL[@]}" --word-dropout 0.5 --out "$WORK/vae" --epochs 3 --resume
expect_error "resume with nothing left to do" "has already trained 2 epochs" "$BIN" train "${SMALL[@]}" --out "$WORK/vae" --epochs 2 --resume
expect_error "feed-code on a language model" "a language model (--model lm) has none" "$BIN" train "${SMALL[@]}" --model lm --feed-code --out "$WORK/x"
expect_error "beam on a language model, many sentences" "pass --count 1" "$BIN" sample --weights "$L" --beam 3 --count 2

# ---- every numeric option refuses negative, zero, NaN, infinite and absurd values ------------------------
# (the checkpoint is left untouched)
refuse_table "$V" "$BIN" train --data "$D" --out "$WORK/vae" <<'EOF'
--epochs -1 0 nan inf 1.5 99999999999
--minutes -1 0 nan inf 1e300
--max-steps -1 nan inf 1.5 99999999999999
--batch -1 0 nan inf 99999999999
--lr -1 0 nan inf 1e300
--clip -1 nan inf 1e300
--seed -1 nan inf 99999999999999999999999
--latent -1 0 nan inf 99999999999
--embedding -1 0 nan inf 99999999999
--hidden -1 0 nan inf 99999999999
--min-count -1 0 nan inf 99999999999
--anneal-steps -1 0 nan inf 99999999999
--ae-steps -1 nan inf 1.5 99999999999
--free-bits -1 nan inf 1e300
--bow -1 nan inf 1e300
--word-dropout -1 nan inf 1.5
--anneal '' sigmoid
EOF
refuse_table "" "$BIN" eval --weights "$V" --data "$D" <<'EOF'
--samples -1 0 nan inf 99999999999
--beam -1 0 nan inf 101 99999999999
EOF
refuse_table "" "$BIN" sample --weights "$V" <<'EOF'
--count -1 0 nan inf 1001 99999999999
--temperature -1 nan inf 1e300
--beam -1 0 nan inf 101 99999999999
--seed -1 nan 99999999999999999999999
EOF
refuse_table "" "$BIN" interpolate --weights "$V" --from "the old cat" --to "a dog" <<'EOF'
--steps -1 0 1 nan inf 1001 99999999999
--beam -1 0 nan inf 99999999999
EOF
expect_error "usage errors exit 1" "--no-such-option" "$BIN" sample --weights "$V" --no-such-option
# Beam search is bounded by its total work (width × sentences × length × (4H + V) × H; refused up front past
# MAX_DECODE_WORK, tests/models/sentence_vae_measures.test.cpp): the largest options on this small model finish.
start=$(date +%s)
if [ "$(timeout 60 "$BIN" interpolate --weights "$V" --from "the old cat" --to "a dog" --steps 1000 --beam 100 | wc -l)" = 1000 ] &&
   [ $(( $(date +%s) - start )) -lt 30 ]; then pass "the largest decode on a small model: $(( $(date +%s) - start )) s"; else
  fail "--steps 1000 --beam 100 took $(( $(date +%s) - start )) s"; fi

# ---- eval's reconstruction measures -------------------------------------------------------------------
line=$("$BIN" eval --weights "$V" --data "$D" --beam 3 | tail -1)
if grep -qE '^mi=-?[0-9.]+ active_units=[0-9]+/4 token_accuracy_greedy=[0-9.]+ bleu_greedy=[0-9.]+ token_accuracy=[0-9.]+ bleu=[0-9.]+$' <<<"$line"; then
  pass "eval measures: $line"; else fail "eval measures: $line"; fi
if [ "$("$BIN" eval --weights "$L" --data "$D" | wc -l)" = 1 ]; then pass "eval of a language model: no code measures"; else
  fail "eval lm printed measures"; fi

strip() { grep '^epoch=2\.00' "$1" | sed -E 's/ minutes=[0-9.]+//'; }

# ---- the remedies (free bits, bag of words, autoencoder steps, cyclical annealing) resume exactly ---------
REM=("${SMALL[@]}" --free-bits 0.3 --bow 0.5 --ae-steps 40 --anneal cyclical --feed-code)
"$BIN" train "${REM[@]}" --out "$WORK/rem" --epochs 2 >"$WORK/rem.out" 2>"$WORK/rem.err"
"$BIN" train "${REM[@]}" --out "$WORK/rem2" --epochs 2 --max-steps 30 >/dev/null 2>&1
"$BIN" train "${REM[@]}" --out "$WORK/rem2" --epochs 2 --resume >"$WORK/rem2.out" 2>/dev/null
if [ -n "$(strip "$WORK/rem.out")" ] && [ "$(strip "$WORK/rem2.out")" = "$(strip "$WORK/rem.out")" ]; then
  pass "free bits + bag of words + autoencoder steps + cyclical: stopped within the autoencoder steps, resumed, same run"; else
  fail "remedies resume: $(strip "$WORK/rem2.out") vs $(strip "$WORK/rem.out"); $(tail -3 "$WORK/rem.err")"; fi
expect_error "resume with other free bits" "--free-bits" "$BIN" train "${REM[@]}" --free-bits 0.4 --out "$WORK/rem" --epochs 3 --resume
expect_error "resume without the bag-of-words layer" "--bow" "$BIN" train "${SMALL[@]}" --free-bits 0.3 --ae-steps 40 \
  --anneal cyclical --feed-code --out "$WORK/rem" --epochs 3 --resume
expect_error "free bits on a language model" "has no code" "$BIN" train "${SMALL[@]}" --model lm --free-bits 1 --out "$WORK/x"

# ---- resume repeats an uninterrupted run, at an epoch's end and within one ---------------------------
"$BIN" train "${SMALL[@]}" --out "$WORK/m" --epochs 2 --max-steps 100 >"$WORK/m1.out" 2>/dev/null
"$BIN" train "${SMALL[@]}" --out "$WORK/m" --epochs 2 --resume >"$WORK/m2.out" 2>/dev/null
if grep -q '^epoch=1\.[0-9]* step=100 ' "$WORK/m1.out" && [ -n "$(strip "$WORK/m2.out")" ] &&
   [ "$(strip "$WORK/m2.out")" = "$(strip "$WORK/vae.out")" ]; then
  pass "a run stopped within its second epoch (--max-steps 100) and resumed repeats the uninterrupted one"; else
  fail "mid-epoch resume: $(cat "$WORK/m1.out") / $(strip "$WORK/m2.out") vs $(strip "$WORK/vae.out")"; fi
"$BIN" train "${SMALL[@]}" --out "$WORK/r" --epochs 1 >"$WORK/r1.out" 2>/dev/null
# A run killed after its checkpoint logged a row that the resumed run takes again.
echo "1.5,99999,0.1,1,1,1,1,1,1,1" >>"$WORK/r/train_log.csv"
"$BIN" train "${SMALL[@]}" --out "$WORK/r" --epochs 2 --resume >"$WORK/r2.out" 2>/dev/null
if ! grep -q ',99999,' "$WORK/r/train_log.csv" && [ "$(wc -l <"$WORK/r/train_log.csv")" = 3 ]; then
  pass "resume drops log rows past the checkpoint"; else fail "train_log after resume: $(cat "$WORK/r/train_log.csv")"; fi
if [ -n "$(strip "$WORK/r2.out")" ] && [ "$(strip "$WORK/r2.out")" = "$(strip "$WORK/vae.out")" ]; then
  pass "resume repeats the uninterrupted run"; else
  fail "resume: $(strip "$WORK/r2.out") vs $(strip "$WORK/vae.out")"; fi

finish
