#!/usr/bin/env bash
# End-to-end checks of the command lines of the small tools: examples/plot_training,
# examples/make_sentence_corpus and examples/lstm_toy. Every value out of range (negative,
# zero where 0 means nothing, NaN, infinite, absurd, junk) is refused with exit 1 and the
# option named, before any work, and an earlier output at the same path stays byte-identical.
# Usage: tools_cli.sh PLOT_TRAINING MAKE_SENTENCE_CORPUS LSTM_TOY WORKDIR
set -uo pipefail
PLOT=$1
CORPUS=$2
TOY=$3
WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK"
source "$(dirname "$0")/lib.sh"

# ---- plot_training -----------------------------------------------------------------------------
printf 'epoch,step,minutes,test_nll_nats_per_pixel\n1,10,0.5,1.25\n2,20,1.0,1.10\n' >"$WORK/log.csv"
run_case "plot_training writes a PNG" 0 "" "$PLOT" --out "$WORK/curve.png" --hline 1.2:baseline "$WORK/log.csv"
[ -s "$WORK/curve.png" ] && pass "curve.png written" || fail "curve.png missing"
# A reference line may sit at any finite height, negative included.
run_case "plot_training: a negative --hline" 0 "" "$PLOT" --out "$WORK/neg.png" --hline=-1:zero "$WORK/log.csv"
for v in nan inf -inf 1e400 x 1.2x ''; do
  expect_error_keeps "$WORK/curve.png" "plot_training: --hline '$v:label'" "--hline" \
    "$PLOT" --out "$WORK/curve.png" "$WORK/log.csv" "--hline=$v:label"
done
for out in "" "$WORK" "$WORK/no/such/folder/c.png"; do
  expect_error "plot_training: --out '$out'" "--out" "$PLOT" "$WORK/log.csv" --out "$out"
done
run_case "plot_training: unknown option" 1 "--bogus" "$PLOT" --out "$WORK/x.png" --bogus "$WORK/log.csv"

# ---- make_sentence_corpus --------------------------------------------------------------------------
# An earlier corpus at --out: refused runs leave it as it was. --wordnet names an existing folder, so a
# value that slipped through would fail later with another message, not the option's.
mkdir -p "$WORK/corpus" && echo "an earlier sentence" >"$WORK/corpus/train.txt"
refuse_table "$WORK/corpus/train.txt" "$CORPUS" --out "$WORK/corpus" --wordnet "$WORK" <<'EOF'
--min-words -1 0 nan inf 1.5 1001 99999999999
--max-words -1 0 nan inf 1.5 1001 99999999999
EOF
expect_error_keeps "$WORK/corpus/train.txt" "make_sentence_corpus: --min-words above --max-words" \
  "--min-words 10 is more than --max-words 5" "$CORPUS" --out "$WORK/corpus" --wordnet "$WORK" --min-words 10 --max-words 5
refuse_values "$WORK/corpus/train.txt" --out "'' $WORK/corpus/train.txt" "$CORPUS" --wordnet "$WORK"
refuse_values "$WORK/corpus/train.txt" --wordnet "'' $WORK/nope" "$CORPUS" --out "$WORK/corpus"

# ---- lstm_toy takes no arguments ----------------------------------------------------------------
expect_error "lstm_toy: an argument" "takes no arguments" "$TOY" --steps 5

finish
